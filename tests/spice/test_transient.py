"""ngspice transients: an RC circuit against its exponential, settings, both backends, errors.

These tests need ngspice (``apt-get install ngspice libngspice0 libngspice0-dev``) and
fail with that install line when it is missing; they are never skipped.
"""

import math

import numpy as np
import pytest

from neurosim.errors import NeurosimError
from neurosim.spice import ngspice
from neurosim.spice.ngspice import Transient, operating_points, transients

R, C = 1e3, 1e-9
RC = R * C
TSTOP = 5 * RC


def rc_netlist(v_source: float = 1.0, ic: float = 0.0) -> str:
    """V source -> R -> node a -> C to ground, the capacitor starting at ``ic`` volts."""
    return f"rc\nV1 in 0 dc {v_source!r}\nR1 in a {R!r}\nC1 a 0 {C!r} ic={ic!r}\n.end\n"


def charging(t: np.ndarray, v_source: float = 1.0, ic: float = 0.0) -> np.ndarray:
    """Exact V(a): ``ic`` relaxing to ``v_source`` with time constant RC."""
    return v_source + (ic - v_source) * np.exp(-t / RC)


def tran(netlist: str, **kwargs) -> Transient:
    (result,) = transients(netlist, tstop=TSTOP, tstep=RC / 100, **kwargs)
    return result


def test_rc_charging_matches_the_exponential():
    result = tran(rc_netlist(), tmax=RC / 100)
    t, v = result.time, result.voltages["a"]
    assert set(result.voltages) == {"in", "a"}
    assert set(result.currents) == {"v1"}
    assert t.shape == v.shape == result.currents["v1"].shape
    assert len(t) > 500  # ngspice's own steps, at most tmax apart
    assert np.all(np.diff(t) > 0)
    assert np.diff(t).max() <= RC / 100 * (1 + 1e-9)
    assert 0 < t[0] <= 1.001 * RC / 1e4  # uic: no row for t = 0, the first row is a tiny step
    assert t[-1] == pytest.approx(TSTOP, rel=1e-14)
    # trapezoidal integration with steps of RC/100: measured 3.0e-6 V
    assert np.abs(v - charging(t)).max() <= 3e-5
    np.testing.assert_array_equal(result.voltages["in"], 1.0)
    # ngspice's sign: the current into the source's + node is minus the charging current
    np.testing.assert_allclose(result.currents["v1"], -(1.0 - v) / R, rtol=0, atol=1e-18)


def test_smaller_steps_are_more_accurate():
    t = tran(rc_netlist(), tmax=RC / 1000)
    assert len(t.time) > 5000
    # second order: ten times smaller steps, ~100 times smaller error (measured 2.7e-8 V)
    assert np.abs(t.voltages["a"] - charging(t.time)).max() <= 3e-7


def test_tmax_defaults_to_tstep():
    default, explicit = tran(rc_netlist()), tran(rc_netlist(), tmax=RC / 100)
    np.testing.assert_array_equal(default.time, explicit.time)
    np.testing.assert_array_equal(default.voltages["a"], explicit.voltages["a"])


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_settings_scale_the_curve_and_do_not_accumulate(backend):
    settings = [{}, {"V1": 2.5}, {"v1": -0.4}, {}]
    calls = []
    results = transients(
        rc_netlist(),
        settings,
        tstop=TSTOP,
        tstep=RC / 100,
        tmax=RC / 100,
        backend=backend,
        progress=lambda: calls.append(1),
    )
    assert len(results) == len(calls) == len(settings)
    for v_source, result in zip([1.0, 2.5, -0.4, 1.0], results, strict=True):
        np.testing.assert_array_equal(result.voltages["in"], v_source)
        error = result.voltages["a"] - charging(result.time, v_source)
        assert np.abs(error).max() <= 3e-5 * abs(v_source)
    np.testing.assert_array_equal(results[3].time, results[0].time)
    np.testing.assert_array_equal(results[3].voltages["a"], results[0].voltages["a"])


def test_shared_and_batch_backends_agree():
    settings = [{}, {"v1": 2.5}]
    pulse = rc_netlist().replace("dc 1.0", "dc 0 pulse(0 1 1e-6 1e-8 1e-8 1e-6 3e-6)")
    for netlist in (rc_netlist(ic=0.3), pulse):
        shared = transients(netlist, settings, tstop=TSTOP, tstep=RC / 100, backend="shared")
        batch = transients(netlist, settings, tstop=TSTOP, tstep=RC / 100, backend="batch")
        for a, b in zip(shared, batch, strict=True):
            # the same ngspice reads the same netlist: measured identical to the bit
            np.testing.assert_array_equal(a.time, b.time)
            assert a.voltages.keys() == b.voltages.keys()
            assert a.currents.keys() == b.currents.keys()
            for name, values in a.voltages.items():
                np.testing.assert_array_equal(values, b.voltages[name])
            for name, values in a.currents.items():
                np.testing.assert_array_equal(values, b.currents[name])


def test_waveform_breakpoints_are_hit_once():
    netlist = rc_netlist().replace("dc 1.0", "dc 0 pulse(0 1 1e-6 1e-8 1e-8 1e-6 3e-6)")
    t = tran(netlist, tmax=RC / 100).time
    assert np.all(np.diff(t) > 0)
    for corner in (1e-6, 1.01e-6, 2.01e-6, 2.02e-6, 4e-6):
        assert np.abs(t - corner).min() <= 4 * np.spacing(corner)  # measured: 0 or 1 ulp


@pytest.mark.parametrize("ic", [0.25, -1.5, 3.0])
def test_capacitor_ic_is_the_initial_state_with_uic(ic):
    result = tran(rc_netlist(ic=ic), tmax=RC / 100)
    v = result.voltages["a"]
    assert abs(v[0] - ic) <= 1e-3 * abs(1 - ic)  # the first, tiny step has barely moved
    assert np.abs(v - charging(result.time, ic=ic)).max() <= 3e-5 * abs(1 - ic)


def test_without_uic_the_operating_point_comes_first():
    result = tran(rc_netlist(ic=0.25), uic=False)
    assert result.time[0] == 0.0
    (point,) = operating_points(rc_netlist(ic=0.25))
    np.testing.assert_array_equal(result.voltages["a"], point.voltages["a"])  # stays at 1 V


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tstop": 0.0, "tstep": 1e-9}, r"tstop: value 0\.0 is not positive"),
        ({"tstop": -1e-6, "tstep": 1e-9}, "tstop: value -1e-06 is not positive"),
        ({"tstop": math.nan, "tstep": 1e-9}, "tstop: value nan is not a finite number"),
        ({"tstop": math.inf, "tstep": 1e-9}, "tstop: value inf is not a finite number"),
        ({"tstop": 1e-6, "tstep": 0.0}, "tstep: value 0.0 is not positive"),
        ({"tstop": 1e-6, "tstep": "x"}, "tstep: value 'x' is not a finite number"),
        ({"tstop": 1e-6, "tstep": 2e-6}, "tstep 2e-06 is larger than tstop 1e-06"),
        ({"tstop": 1e-6, "tstep": 1e-9, "tmax": 0.0}, "tmax: value 0.0 is not positive"),
        ({"tstop": 1e-6, "tstep": 1e-9, "tmax": math.nan}, "tmax: value nan is not a finite"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(NeurosimError, match=message) as raised:
        transients(rc_netlist(), **kwargs)
    assert "\n" not in str(raised.value)


BAD = "bad\nV1 a 0 1\nR1 a b foo\nC1 b 0 1n\n.end\n"


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_ngspice_errors_are_one_line(backend):
    with pytest.raises(NeurosimError, match=r"unknown parameter \(foo\)") as raised:
        transients(BAD, tstop=1e-6, tstep=1e-8, backend=backend)
    assert "\n" not in str(raised.value)
    with pytest.raises(NeurosimError, match="no such device or model name vnothere") as raised:
        transients(rc_netlist(), [{"vnothere": 1.0}], tstop=1e-6, tstep=1e-8, backend=backend)
    assert "\n" not in str(raised.value)


def test_shared_backend_is_left_clean(capfd):
    engine = ngspice._shared_ngspice()

    def state():
        with ngspice._quiet_pyspice():
            constants = set(engine.plot(None, "const"))
            return set(engine.plot_names), ngspice._circuit_count(engine), constants

    before = state()
    transients(rc_netlist(), [{}, {"v1": 2.0}], tstop=TSTOP, tstep=RC / 100, backend="shared")
    assert state() == before
    assert capfd.readouterr() == ("", "")
