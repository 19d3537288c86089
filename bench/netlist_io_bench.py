"""Time compiling, writing and parsing the digits network netlist (64-128-128).

Run: .venv/bin/python bench/netlist_io_bench.py   (prints a JSON line last)
Each figure is the median of --repeats runs in this one process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from neurosim.lower.mna import lower_dc
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import netlist_text, write_netlist
from neurosim.network.compile import compile_spec
from neurosim.network.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spec = load_spec(ROOT / "circuits/digits_flow.toml")
    compile_s, circuit = timed(lambda: compile_spec(spec), args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "digits_flow.cir"
        write_s, _ = timed(lambda: write_netlist(circuit, path), args.repeats)
        parse_s, parsed = timed(lambda: parse_netlist(path), args.repeats)
        size_mb = path.stat().st_size / 1e6
    lower_s, _ = timed(lambda: lower_dc(parsed), args.repeats)
    assert netlist_text(parsed) == netlist_text(circuit), "round trip changed the netlist"
    figures = {
        "elements": len(circuit.elements),
        "netlist_mb": round(size_mb, 2),
        "compile_s": round(compile_s, 3),
        "write_s": round(write_s, 3),
        "parse_s": round(parse_s, 3),
        "lower_dc_s": round(lower_s, 3),
    }
    for key, value in figures.items():
        print(f"{key:>12}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
