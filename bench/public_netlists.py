"""neurosim on public netlists nobody here wrote (README, "What the parser reads").

The list (``bench/data/public_netlists.txt``: repository, commit, path) holds 81 netlists
from ngspice's own ``tests/`` and ``examples/`` (GitHub mirror imr/ngspice), Xyce's
regression suite (Xyce/Xyce_Regression) and users' repositories. They are not part of
neurosim: the bench downloads each at its commit from raw.githubusercontent.com (with the
files it ``.include``s or ``.lib``s), or copies them from ``--from DIR`` laid out as
``DIR/OWNER+REPO/PATH``. For each file it

- reads it (``neurosim.load_netlist``; a refusal is one line, kept);
- runs ``neurosim.check`` (neurosim against ngspice on neurosim's re-written netlist);
- runs ngspice's ``.op`` on the **original** file (its own ``.control`` blocks and
  analysis cards removed, tight tolerances) and compares every node neurosim solved with
  ngspice's by name — ``check`` alone cannot see a misreading;

then prints one line per file, the counts and, last, one JSON line.

Run: .venv/bin/python bench/public_netlists.py [--cache runs/public_netlists] [--from DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "bench/data/public_netlists.txt"
RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
INCLUDE = re.compile(r"^\s*\.(?:include|inc|lib)\s+['\"]?([^\s'\"]+)", re.IGNORECASE | re.MULTILINE)
DROPPED = re.compile(
    r"\.(tran|ac|dc|op|pz|sens|noise|print|plot|probe|meas|measure|four|save|sp|step|disto|tf)\b"
)
RELATIVE, FLOOR_V = 1e-6, 1e-3  # a node agrees within 1e-6 of max(|V|, 1 mV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "runs/public_netlists")
    parser.add_argument("--from", dest="source", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("ngspice") is None:
        sys.exit("public_netlists: ngspice is not installed")
    rows = []
    for repo, commit, path in entries():
        local = fetch(repo, commit, path, args.cache, args.source)
        rows.append({"file": f"{repo}/{path}", **outcome(local)})
        print(f"{rows[-1]['result']:<12} {rows[-1]['file']}: {rows[-1]['detail']}", flush=True)
    counts = {}
    for row in rows:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    read = sum(row["result"] != "refused" for row in rows)
    print(f"{len(rows)} netlists: {read} read; " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    worst = max((row.get("max_abs_diff_v", 0.0) for row in rows), default=0.0)
    print(json.dumps({"counts": counts, "read": read, "max_abs_diff_v": worst, "rows": rows}))


def entries() -> list[tuple[str, str, str]]:
    lines = [line.split() for line in LIST.read_text().splitlines()]
    return [(r, c, p) for r, c, p in (line for line in lines if line and line[0][0] != "#")]


def fetch(repo: str, commit: str, path: str, cache: Path, source: Path | None) -> Path:
    """The file at ``cache/OWNER+REPO/PATH``, and the files it includes, beside it."""
    base = cache / repo.replace("/", "+")
    todo, done = [path], set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        target = base / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            if source is not None:
                origin = source / repo.replace("/", "+") / name
                if not origin.exists():
                    continue  # an include the file names but never uses
                shutil.copyfile(origin, target)
            else:
                try:
                    url = RAW.format(repo=repo, commit=commit, path=name)
                    target.write_bytes(urllib.request.urlopen(url, timeout=60).read())
                except OSError:
                    continue
        text = target.read_text(errors="replace")
        for included in INCLUDE.findall(text):
            if not included.startswith("/"):
                todo.append(str(Path(name).parent / included))
    return base / path


def outcome(path: Path) -> dict:
    import neurosim
    from neurosim.verify.crosscheck import neurosim_voltages

    try:
        circuit = neurosim.load_netlist(path)
    except neurosim.NeurosimError as exc:
        return {"result": "refused", "detail": str(exc).splitlines()[0]}
    try:
        ours = neurosim_voltages(circuit, [{}])[0][0]
        report = neurosim.check(circuit)
    except neurosim.NeurosimError as exc:
        return {"result": "no solution", "detail": str(exc).splitlines()[0]}
    theirs = original_op(path)
    if isinstance(theirs, str):
        return {"result": "ngspice fails", "detail": theirs}
    nodes = [n for n in ours if "#" not in n]
    missing = [n for n in nodes if n not in theirs]
    diffs = {n: abs(ours[n] - theirs[n]) for n in nodes if n in theirs}
    worst = max(diffs.values(), default=0.0)
    relative = max((d / max(abs(theirs[n]), FLOOR_V) for n, d in diffs.items()), default=0.0)
    agree = report.ok and not missing and relative <= RELATIVE
    detail = (
        f"{len(diffs)} nodes, max |dV| {worst:.2e} V against the original's .op "
        f"(check: {report.max_abs_diff_v:.2e} V)"
        + (f"; not in ngspice: {missing[:3]}" if missing else "")
    )
    return {
        "result": "agrees" if agree else "disagrees",
        "detail": detail,
        "max_abs_diff_v": worst,
    }


def original_op(path: Path) -> dict[str, float] | str:
    """ngspice's operating point of the file as written (node -> V), or why it failed."""
    kept, control, dropping = [], False, False
    for number, line in enumerate(path.read_text(errors="replace").splitlines()):
        low = line.strip().lower()
        if dropping and low.startswith("+"):
            continue
        dropping = False
        if number and low.startswith(".control"):
            control = True
        elif control:
            control = not low.startswith(".endc")
        elif number and re.fullmatch(r"\.end\s*", low):
            break
        elif number and DROPPED.match(low):
            dropping = True
        else:
            kept.append(line)
    kept += [
        "vzz_probe zz_probe 0 1",  # a second vector, so that ngspice prints names
        ".options reltol=1e-9 vntol=1e-14 abstol=1e-18",
        ".control", "set numdgt=15", "op", "print all", "quit", ".endc", ".end",
    ]  # fmt: skip
    deck = path.with_name(path.name + ".op.cir")
    deck.write_text("\n".join(kept) + "\n")
    try:
        run = subprocess.run(
            ["ngspice", "-b", deck.name], cwd=deck.parent, capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "ngspice ran over 120 s"
    printed = re.findall(r"^(\S+) = (\S+)$", run.stdout, re.MULTILINE)
    values = {}
    for name, value in printed:
        name = name.lower().removeprefix("v(").removesuffix(")")
        if "#branch" not in name:
            try:
                values[name] = float(value)
            except ValueError:
                continue
    return values or "no operating point printed"


if __name__ == "__main__":
    main()
