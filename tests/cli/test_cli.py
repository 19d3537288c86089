import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim import __version__
from neurosim.cli.main import cli
from neurosim.io.params_h5 import read_params, write_params
from neurosim.network.model import init_params
from neurosim.network.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "circuits/xor.toml"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_help_and_version():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("export", "check", "info", "relax", "train"):
        assert command in result.output
        assert run(command, "--help").exit_code == 0
    assert __version__ in run("--version").output


def test_export_writes_a_netlist_that_info_describes(tmp_path):
    out = tmp_path / "x.cir"
    result = run("export", XOR, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_text() == (ROOT / "netlists/xor.cir").read_text()
    info = run("info", out, "--json")
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    assert summary["network"]["parameters"] == 17
    assert summary["elements"]["resistor"] == 47
    assert summary["roles"] == {"bias": 2, "input": 2, "hidden": 4, "output": 1}
    assert "42 elements" in summary["trainable"]


def test_export_with_params_file_and_h5_info(tmp_path):
    spec = load_spec(XOR)
    params = init_params(spec.meta, np.random.default_rng(5), 1.0)
    params["b_out"] = np.array([0.25])
    write_params(tmp_path / "p.h5", spec.meta, params)
    meta, back = read_params(tmp_path / "p.h5")
    assert meta == spec.meta and all(np.array_equal(back[k], params[k]) for k in params)
    result = run("export", XOR, "-o", tmp_path / "p.cir", "--params", tmp_path / "p.h5")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "p.cir").read_text()
    assert "rb_out_0_p bias_p out_0_c 38461.53846153846" in text  # 1/(1e-6 + 0.25e-4)
    info = run("info", tmp_path / "p.h5")
    assert info.exit_code == 0 and "params/w0: float64 (2, 4)" in info.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "nope.toml", "-o", "x.cir"), "nope.toml: no such file"),
        (("info", "nope.cir"), "nope.cir: no such file"),
        (("check", "nope.cir"), "nope.cir"),
    ],
)
def test_missing_files_are_one_line_errors(tmp_path, args, message):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_bad_params_file_is_rejected_and_nothing_written(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    out = tmp_path / "keep.cir"
    out.write_text("precious")
    result = run("export", XOR, "-o", out, "--params", junk)
    assert result.exit_code == 2 and "junk.h5" in result.output
    assert out.read_text() == "precious"


def test_console_script_error_is_one_line(tmp_path):
    bad = tmp_path / "bad.cir"
    bad.write_text("title\nr1 a 0 -5\nr2 a 0 1k\n.end\n")
    result = subprocess.run(
        [sys.executable, "-m", "neurosim", "info", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurosim: error: ")
    assert f"{bad}:2:" in lines[0]
