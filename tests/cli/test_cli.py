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
from tests.cli_errors import assert_one_line_error

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


def test_export_with_wire_resistance_is_checked_by_the_engine_against_ngspice(tmp_path):
    out = tmp_path / "w.cir"
    result = run("export", XOR, "-o", out, "--wire-resistance", "20")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    # every device has its row segment (rh*) and its column segment (rv*)
    devices = sum(line.startswith("rw") for line in text.splitlines())
    rows = [line for line in text.splitlines() if line.startswith("rh")]
    columns = [line for line in text.splitlines() if line.startswith("rv")]
    assert len(rows) == len(columns) == devices > 0
    assert rows[0].split()[1:] == ["in_0_p", "w0f_r0p_0", "20"]
    check = run("check", out, "--count", "3", "--json")
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    assert report["ok"] and report["solver"].startswith("crossbar engine")
    assert "3 wired arrays reduced" in report["solver"]
    # the spec key does the same; the option wins over it
    spec = tmp_path / "wired.toml"
    spec.write_text(XOR.read_text() + "\n[circuit]\nwire_resistance = 20.0\n")
    assert run("export", spec, "-o", tmp_path / "s.cir").exit_code == 0
    assert (tmp_path / "s.cir").read_text().splitlines()[1:] == text.splitlines()[1:]
    assert run("export", spec, "-o", tmp_path / "i.cir", "--wire-resistance", "0").exit_code == 0
    assert (tmp_path / "i.cir").read_text() == (ROOT / "netlists/xor.cir").read_text()
    spec.write_text(XOR.read_text() + "\n[circuit]\nwire_ohms = 2\n")
    bad = run("export", spec, "-o", tmp_path / "b.cir")
    assert_one_line_error(bad, "unknown key circuit.wire_ohms")


def test_a_miswired_segment_is_named_and_check_falls_back_to_mna(tmp_path):
    out = tmp_path / "w.cir"
    assert run("export", XOR, "-o", out, "--wire-resistance", "20").exit_code == 0
    text = out.read_text().replace("rv0f_0_0p w0f_c0p_0 w0f_c0n_0", "rv0f_0_0p w0f_c0p_0 h_0_c")
    (tmp_path / "edited.cir").write_text(text)
    from neurosim.errors import CircuitError
    from neurosim.lower.crossbar import lower_crossbar
    from neurosim.netlist.parse import parse_netlist

    with pytest.raises(CircuitError, match="element rv0f_0_0p connects"):
        lower_crossbar(parse_netlist(tmp_path / "edited.cir"))
    check = run("check", tmp_path / "edited.cir", "--count", "1", "--json")
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    assert report["ok"] and report["solver"] == "general MNA Newton"


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
    assert_one_line_error(result, message)


def test_bad_params_file_is_rejected_and_nothing_written(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    out = tmp_path / "keep.cir"
    out.write_text("precious")
    result = run("export", XOR, "-o", out, "--params", junk, "--force")
    assert_one_line_error(result, "junk.h5")
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


def test_the_unit_step_at_zero_is_ngspices(tmp_path):
    netlist = tmp_path / "u.cir"
    netlist.write_text("u(0)\nb1 1 0 v=u(0)\nr1 1 0 1k\nb2 2 0 v=2*u(0)+u(-3)\nr2 2 0 1k\n.end\n")
    result = run("check", netlist, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["max_abs_diff_v"] < 1e-12
