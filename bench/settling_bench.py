"""How long the digits circuit takes to settle from rest, and the heat it dissipates.

Integrates the circuit's own dynamics (``neurosim.engine.transient``, RK45) from all
capacitors at 0 V, for a batch of flow-matching free phases (spring targets
x_t = t·x1 + (1 − t)·x0 of the shipped digits), and reports per sample when the KCL
residual stays below 1e-3 and 1e-6 (model units) and the joules dissipated until then.
Prints a short table, then one JSON line. Run: ``.venv/bin/python bench/settling_bench.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurosim.data.digits import load_digits
from neurosim.engine.sources import default_sources
from neurosim.engine.transient import settling_times, transient
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]
BATCH = 256
LEVELS = (1e-3, 1e-6)


def main() -> None:
    crossbar = lower_crossbar(parse_netlist(ROOT / "netlists/digits_flow.cir"))
    x, _ = load_digits()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(x), BATCH, replace=False)
    t = rng.uniform(size=(BATCH, 1))
    sources = default_sources(crossbar, BATCH)
    noise = rng.standard_normal((BATCH, x.shape[1]))
    sources.targets[:, crossbar.free_slices()["x"]] = t * x[rows] + (1 - t) * noise
    tau = float(np.max(crossbar.tau))
    times = np.linspace(0.0, 60 * tau, 601)
    start = time.perf_counter()
    trajectory = transient(crossbar, sources, times)
    seconds = time.perf_counter() - start
    figures = {"batch": BATCH, "tau_s": tau, "integration_s": seconds}
    print(f"digits circuit from rest, {BATCH} flow-matching inputs, tau = {tau:g} s")
    for level in LEVELS:
        settled = settling_times(crossbar, sources, trajectory, level)
        index = np.searchsorted(times, np.nan_to_num(settled, nan=times[-1]))
        heat = trajectory.heat[index, np.arange(BATCH)]
        key = f"{level:g}"
        figures[key] = {
            "settle_median_s": float(np.nanmedian(settled)),
            "settle_max_s": float(np.nanmax(settled)),
            "unsettled": int(np.isnan(settled).sum()),
            "heat_median_j": float(np.median(heat)),
        }
        f = figures[key]
        print(
            f"  residual <= {level:g}: median {f['settle_median_s'] * 1e6:.1f} us, "
            f"max {f['settle_max_s'] * 1e6:.1f} us, {f['unsettled']} unsettled by "
            f"{times[-1] * 1e6:.0f} us; heat until then median {f['heat_median_j'] * 1e9:.2f} nJ"
        )
    print(f"  (integration took {seconds:.1f} s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
