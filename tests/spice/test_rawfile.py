"""Raw-file reader on hand-made files (the ngspice tests read real ones)."""

import numpy as np
import pytest

from neurosim.spice.rawfile import RawFileError, read_raw


def plot_bytes(name: str, variables, values: np.ndarray, flags: str = "real") -> bytes:
    lines = [
        "Title: hand made",
        "Date: today",
        f"Plotname: {name}",
        f"Flags: {flags}",
        f"No. Variables: {len(variables)}",
        f"No. Points: {values.shape[0]}",
        "Variables:",
        *(f"\t{i}\t{var}\t{kind}" for i, (var, kind) in enumerate(variables)),
        "Binary:",
    ]
    return ("\n".join(lines) + "\n").encode() + values.astype(np.float64).tobytes()


def test_two_plots(tmp_path):
    op = np.array([[1.5, -2e-3]])
    sweep = np.arange(6.0).reshape(3, 2)
    path = tmp_path / "two.raw"
    path.write_bytes(
        plot_bytes("Operating Point", [("v(a)", "voltage"), ("i(v1)", "current")], op)
        + plot_bytes(
            "DC transfer characteristic", [("v(v-sweep)", "voltage"), ("v(b)", "voltage")], sweep
        )
    )
    first, second = read_raw(path)
    assert first.name == "Operating Point" and first.title == "hand made"
    assert first.variables == (("v(a)", "voltage"), ("i(v1)", "current"))
    assert np.array_equal(first.values, op)
    assert second.values.shape == (3, 2) and np.array_equal(second.values, sweep)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (plot_bytes("op", [("v(a)", "voltage")], np.ones((1, 1)))[:-3], "truncated"),
        (plot_bytes("ac", [("v(a)", "voltage")], np.ones((1, 2)), flags="complex"), "complex"),
        (
            b"Title: x\nNo. Variables: 1\nNo. Points: 1\nVariables:\n\t0\tv(a)\tvoltage\nValues:\n",
            "ASCII",
        ),
        (b"Title: x\nNo. Variables: 2\nNo. Points: 1\nVariables:\n\t0\tv(a)\n", "variable list"),
        (b"Title: x\nPlotname: op\n", "ends inside"),
    ],
    ids=["truncated", "complex", "ascii", "variables", "header"],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.raw"
    path.write_bytes(content)
    with pytest.raises(RawFileError, match=message):
        read_raw(path)
