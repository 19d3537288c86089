"""A table of bad inputs and options over every command, as a new user would try them:
each ends in exactly one line ``neurosim: error: ...`` naming the problem, exit 2."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "netlists/xor.cir"
FLOW = ROOT / "netlists/digits_flow.cir"
RUN = ROOT / "tests/fixtures/v3_run"

NETWORK_EDITS = {
    "negative size": (('"name": "h", "size": 4', '"name": "h", "size": -4'), "size -4 is not in"),
    "fractional size": (('"name": "h", "size": 4', '"name": "h", "size": 4.5'), "whole number"),
    "string size": (('"name": "h", "size": 4', '"name": "h", "size": "4"'), "whole number"),
    "huge size": (('"name": "h", "size": 4', '"name": "h", "size": 1000000000'), "not in 1.."),
    "unknown layer": (('["h", "out"]]', '["h", "zz"]]'), "no layer 'zz'"),
    "missing law": (('"law": "scellier_bengio", ', ""), "'law'"),
    "bad JSON": (('"nudge": true', '"nudge": tru'), "JSONDecodeError"),
    "law not a string": (('"law": "scellier_bengio"', '"law": 5'), "unknown unit law '5'"),
    "NaN g_unit": (('"g_unit": 0.0001', '"g_unit": NaN'), "g_unit must be a finite number"),
    "unknown activation": (
        ('"activation": "rho", "kind": "hidden"', '"activation": "relu", "kind": "hidden"'),
        "unknown activation 'relu'",
    ),
}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("edit", sorted(NETWORK_EDITS))
@pytest.mark.parametrize("command", ["info", "check", "relax", "program", "evaluate"])
def test_a_hand_edited_network_line_is_one_line_naming_its_line(tmp_path, edit, command):
    (old, new), message = NETWORK_EDITS[edit]
    text = XOR.read_text()
    assert old in text
    bad = tmp_path / "bad.cir"
    bad.write_text(text.replace(old, new, 1))
    extra = {"relax": ("--out", tmp_path / "o.h5"), "program": ("-o", tmp_path / "o.cir")}
    result = run(command, bad, *extra.get(command, ()))
    assert_one_line_error(result, f"{bad}:3: bad network metadata", message)


def _files(tmp_path):
    np.savez(tmp_path / "archive.npz", x=np.zeros((2, 2)))
    (tmp_path / "archive.npy").write_bytes((tmp_path / "archive.npz").read_bytes())
    with open(tmp_path / "huge.npy", "wb") as handle:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**6)}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(b"\0" * 64)
    checkpoint = (RUN / "checkpoint.h5").read_bytes()
    (tmp_path / "truncated.h5").write_bytes(checkpoint[:3000])
    (tmp_path / "text.h5").write_text("not hdf5\n")
    (tmp_path / "empty.cir").write_text("")
    (tmp_path / "bv.cir").write_text("t\n.model dz d (bv=5)\nv1 1 0 1\nr1 1 2 1k\nd1 2 0 dz\n")
    (tmp_path / "dneg.cir").write_text("t\n.model dm d (is=-1)\nv1 1 0 1\nr1 1 2 1k\nd1 2 0 dm\n")
    nested = ["t"]  # 2^29 resistors once flattened
    for k in range(30):
        body = f"x1 a b s{k + 1}\nx2 a b s{k + 1}" if k < 29 else "r1 a b 1k"
        nested.append(f".subckt s{k} a b\n{body}\n.ends")
    (tmp_path / "nested.cir").write_text("\n".join([*nested, "v1 1 0 1\nx0 1 0 s0\n"]))


CASES = [
    (("relax", XOR, "--inputs", "{tmp}/archive.npy", "--out", "{tmp}/o.h5"), "a .npz archive"),
    (("relax", XOR, "--inputs", "{tmp}/huge.npy", "--out", "{tmp}/o.h5"), "GiB are available"),
    (("check", XOR, "--inputs", "{tmp}/huge.npy"), "GiB are available"),
    (("relax", XOR, "--tol", "nan", "--out", "{tmp}/o.h5"), "'nan' is not a finite number"),
    (("relax", XOR, "--step", "inf", "--out", "{tmp}/o.h5"), "'inf' is not a finite number"),
    (("relax", XOR, "--seed", "-1", "--out", "{tmp}/o.h5"), "--seed"),
    (("check", XOR, "--seed", "-1"), "--seed"),
    (("check", XOR, "--rtol", "inf"), "'inf' is not a finite number"),
    (("sample", FLOW, "--n", "10000000000000", "--out", "{tmp}/s.h5"), "GiB are available"),
    (("sample", FLOW, "--seed", "-1", "--out", "{tmp}/s.h5"), "--seed: must be"),
    (("sample", FLOW, "--dt", "1e-300", "--out", "{tmp}/s.h5"), "at most 1,000,000"),
    (("sample", FLOW, "--t1", "1e9", "--dt", "0.5", "--out", "{tmp}/s.h5"), "at most 1,000,000"),
    (("train", "--netlist", FLOW, "--out", "{tmp}/r", "--lr", "nan"), "--lr: must be a finite"),
    (("train", "--netlist", FLOW, "--out", "{tmp}/r", "--clip", "nan"), "--clip: must be"),
    (("train", "--netlist", FLOW, "--out", "{tmp}/r", "--seed", "-1"), "--seed: must be"),
    (("train", "--netlist", FLOW, "--out", "{tmp}/r", "--epochs", "0"), "--epochs: must be"),
    (
        ("train", "--netlist", FLOW, "--out", "{tmp}/r", "--batch-size", "4"),
        "an option of --objective classify",
    ),
    (
        ("train", "--netlist", FLOW, "--out", "{tmp}/r", "--device", "pcm", "--set", "x=1"),
        "x is not a setting",
    ),
    (("info", "{tmp}/truncated.h5"), "not a readable HDF5 file"),
    (("metrics", "{tmp}/truncated.h5"), "not a readable HDF5 file"),
    (("metrics", "{tmp}/text.h5"), "not a readable HDF5 file"),
    (
        ("export", ROOT / "circuits/xor.toml", "-o", "{tmp}/x.cir", "--params", "{tmp}/text.h5"),
        "text.h5",
    ),
    (("info", "{tmp}/empty.cir"), "empty.cir: no circuit elements (an empty file"),
    (("check", "{tmp}/text.h5"), "text.h5: no circuit elements"),
    (("program", XOR, "-o", "{tmp}/c.cir", "--time", "-1"), "must be >= 0 seconds"),
    (("check", "{tmp}/bv.cir"), "bv.cir:5: d1: diode breakdown (bv) is not modelled"),
    (("check", "{tmp}/dneg.cir"), "dneg.cir:2: .model dm: is must be > 0, not -1"),
    (("info", "{tmp}/nested.cir"), "would flatten to 536,870,913 elements"),
    (("evaluate", XOR, "--objective", "nope"), "Invalid value for '--objective'"),
    (("train", "--netlist", FLOW), "Missing option '--out'"),
    (("sample", "--n", "3"), "Missing argument 'SOURCE'"),
    (("relax", XOR, "--nope"), "No such option '--nope'"),
]


@pytest.mark.parametrize(
    ("args", "message"), CASES, ids=[" ".join(map(str, a[:1] + a[2:4])) for a, _ in CASES]
)
def test_bad_files_and_options_are_one_line(tmp_path, args, message):
    _files(tmp_path)
    result = run(*(str(a).replace("{tmp}", str(tmp_path)) for a in args))
    assert_one_line_error(result, message)
    assert not (tmp_path / "o.h5").exists() and not (tmp_path / "s.h5").exists()


def test_a_library_that_is_not_ngspice_is_named(tmp_path):
    """NGSPICE_LIBRARY_PATH pointing at another library (in a fresh process: the shared
    library loads once per process)."""
    import ctypes.util
    import os
    import subprocess
    import sys

    library = ctypes.util.find_library("z")
    assert library, "the test needs zlib (any non-ngspice shared library)"
    env = {**os.environ, "NGSPICE_LIBRARY_PATH": library}
    result = subprocess.run(
        [sys.executable, "-m", "neurosim", "check", str(XOR), "--backend", "shared"],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert f"{library} is not an ngspice library" in lines[0]
    assert "apt-get install libngspice0" in lines[0]
