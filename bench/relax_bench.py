"""Benchmark the batched equilibrium engine on the digits flow-matching network.

The network is ``netlists/digits_flow.cir`` (DESIGN.md §3.1): 64 linear visible units
with a spring λ = 15, hidden h1 and h2 of 128 units with ρ(u) = 10·tanh(SiLU(u)/10),
Scellier–Bengio law. The batch is the flow-matching free phase of the 1,797 digits
(x0 ~ N(0, I), t ~ U(0, 1), x_t = t·x + (1 − t)·x0 from ``default_rng(0)``, x_t the
visible spring targets), settled to max |F| ≤ 1e-6 (model units). Measured:

- start-up: ``neurosim relax`` on 10 rows as a subprocess (median of 3 runs after one
  run that warms the Numba cache) and, in process, what parsing the netlist, lowering
  it and the first relax call (loading the cached kernels) cost;
- neurosim against the reference schedule of DESIGN.md §4.4 in plain float64 NumPy
  (300 steps s ← s + 0.1·F(s) from s = 0 with ``neurosim.network.model.force``): time,
  worst residual of each, max |Δs| between their equilibria; also neurosim in float32
  (its default tolerance) and in float64 at the reference's final residual;
- blas_fraction: the solver's achieved GEMM rate (the flops its tiles spend in GEMMs
  over the wall time of ``relax``) over NumPy matmul's on the same shapes for the whole
  batch with the default BLAS threads; i.e. the share of the wall time that the GEMMs
  would take at full BLAS speed;
- ngspice: seconds per ``.op`` of the same netlist (shared library, in process) against
  neurosim's seconds per equilibrium (batch wall time / batch size; all cores);
- width scaling: hidden widths 128-1024 (ideal crossbars of seeded Xavier weights, no
  circuit built), time per equilibrium, passes and blas_fraction;
- non-ideal circuits, same batch: ``mismatch_passes_ratio``, the most passes of the
  network with every backward-array device scaled by (1 + 0.05·N(0, 1)) (seed 1; no
  energy function) over the reciprocal network's, with the samples settled by plain
  steps after failing the stability certificate; ``wired_time_ratio``, relax of the
  same network compiled with 2 Ω wire segments over the ideal one (interleaved), and
  what reducing its four arrays costs; ``trained_passes_ratio``, most passes of a
  trained network (``--trained RUN/trained.cir``, e.g. the README's main job) over the
  shipped initialisation's (null without ``--trained``).

The machine is shared and noisy: things compared run interleaved in this one process,
each figure is the best (min) of the repeats, and comparisons are ratios of those. Every
timed call starts after a 0.25 s pause: OpenBLAS's idle threads spin for a while after a
call and slow whatever runs next (the report measures how much, for relax).
Progress goes to stderr; stdout gets a table and, last, exactly one JSON line.

Run: .venv/bin/python bench/relax_bench.py [--quick] [--json-out FILE] [--trained CIR]
(the full run takes about two minutes, most of it ngspice; --quick about half a minute)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_info

from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import drive_settings
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import Layer, NetworkMeta
from neurosim.data.digits import load_digits
from neurosim.engine.relax import Equilibrium, relax, residual
from neurosim.engine.shards import TILE_ROWS, core_count, tile_slices
from neurosim.engine.solvers import Gradient
from neurosim.engine.sources import Sources, default_sources
from neurosim.host import Chip
from neurosim.io.atomic import write_text_atomic
from neurosim.lower.crossbar import Crossbar, lower_crossbar
from neurosim.lower.layout import device_names
from neurosim.netlist.parse import parse_netlist, parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.network.compile import compile_network
from neurosim.network.model import force, init_params
from neurosim.spice.ngspice import OperatingPoint, operating_points
from tests.oracle import ideal_crossbar

ROOT = Path(__file__).resolve().parents[1]
NETLIST = "netlists/digits_flow.cir"
TOLERANCE = 1e-6
REFERENCE_STEPS, REFERENCE_STEP = 300, 0.1
CLI_ROWS = 10
WIDTHS, QUICK_WIDTHS = (128, 256, 512, 1024), (128, 256)
FLAT_PASSES = 1.25  # "flat": no width needs more than this times the narrowest's passes
# OpenBLAS's idle threads keep spinning after a call; measured here, a relax started
# right after a NumPy matmul ran ~35% slower, and one started 0.3 s later did not
QUIESCE_S = 0.25
START = time.perf_counter()


@dataclass(frozen=True)
class Config:
    """How much to run: batch size, repeats, widths, ngspice settings."""

    quick: bool
    batch: int
    repeats: int  # rounds of every interleaved comparison
    cheap_repeats: int  # rounds where one round costs well under a second
    matmul_repeats: int  # matmul calls per timed block (best of them)
    cli_runs: int
    widths: tuple[int, ...]
    ngspice_settings: int
    inner_repeats: int  # calls per round of a cheap task beside an expensive one

    @classmethod
    def from_args(cls, quick: bool) -> Config:
        if quick:
            return cls(True, 512, 1, 1, 10, 1, QUICK_WIDTHS, 1, 1)
        return cls(False, 1797, 3, 10, 30, 3, WIDTHS, 3, 3)


@dataclass
class Timed:
    """Wall times of one task over the rounds, and what it returned each round."""

    times: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def result(self) -> Any:
        return self.results[-1]


class MatmulBlock:
    """The engine's two GEMMs on the whole batch (default BLAS threads), best of a block."""

    def __init__(self, crossbar: Crossbar, batch: int, dtype: type, calls: int) -> None:
        rng = np.random.default_rng(2)
        self.m_eo = np.ascontiguousarray(crossbar.m_eo, dtype=dtype)
        self.m_oe = np.ascontiguousarray(crossbar.m_oe, dtype=dtype)
        self.act_e = rng.standard_normal((batch, self.m_eo.shape[0])).astype(dtype)
        self.act_o = rng.standard_normal((batch, self.m_oe.shape[0])).astype(dtype)
        self.net_o = np.empty((batch, self.m_eo.shape[1]), dtype=dtype)
        self.net_e = np.empty((batch, self.m_oe.shape[1]), dtype=dtype)
        self.flops = 2.0 * batch * (self.m_eo.size + self.m_oe.size)
        self.calls, self.best = calls, math.inf

    def __call__(self) -> float:
        for _ in range(self.calls):
            start = time.perf_counter()
            np.matmul(self.act_e, self.m_eo, out=self.net_o)
            np.matmul(self.act_o, self.m_oe, out=self.net_e)
            self.best = min(self.best, time.perf_counter() - start)
        return self.best

    @property
    def rate(self) -> float:
        """Best FLOP/s seen."""
        return self.flops / self.best


def log(text: str) -> None:
    """A progress line on stderr, stamped with the time since start."""
    print(f"[{time.perf_counter() - START:7.1f} s] {text}", file=sys.stderr, flush=True)


def interleaved(
    tasks: Mapping[str, Callable[[], Any]], rounds: int, each: Mapping[str, int] | None = None
) -> dict[str, Timed]:
    """Run the tasks in order, ``rounds`` times over; time every call.

    ``each``: how many calls a task gets per round, back to back (default 1), so that a
    cheap task gets its best of several within each round of an expensive one. Every
    call starts after a pause of ``QUIESCE_S``, so that BLAS threads left spinning by
    the previous call do not compete with it (see :func:`spin_penalty`).
    """
    timed = {name: Timed() for name in tasks}
    for number in range(rounds):
        for name, task in tasks.items():
            for _ in range((each or {}).get(name, 1)):
                time.sleep(QUIESCE_S)
                start = time.perf_counter()
                result = task()
                timed[name].times.append(time.perf_counter() - start)
                timed[name].results.append(result)
        if rounds > 1:
            log(f"  round {number + 1}/{rounds}: " + _round_line(timed))
    return timed


def _round_line(timed: Mapping[str, Timed]) -> str:
    return ", ".join(f"{name} {t.times[-1]:.3g} s" for name, t in timed.items())


def inner(config: Config, *names: str) -> dict[str, int]:
    """Calls per round for cheap tasks run beside an expensive one."""
    return dict.fromkeys(names, config.inner_repeats)


# --- the batch -----------------------------------------------------------------------


def flow_targets(batch: int) -> np.ndarray:
    """x_t of the flow-matching free phase for the first ``batch`` digits (seed 0)."""
    x, _ = load_digits()
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(x.shape)
    t = rng.uniform(size=(x.shape[0], 1))
    return (t * x + (1.0 - t) * x0)[:batch]


def flow_sources(crossbar: Crossbar, xt: np.ndarray) -> Sources:
    """The netlist's sources with the visible spring targets set to ``xt``."""
    sources = default_sources(crossbar, xt.shape[0])
    sources.targets[:, crossbar.free_slices()["x"]] = xt
    return sources


def settle(
    crossbar: Crossbar, sources: Sources, dtype: type, tolerance: float | None
) -> Callable[[], Equilibrium]:
    """A relax call as a task (float32 passes ``tolerance=None``: its default)."""
    return lambda: relax(crossbar, sources, tolerance=tolerance, dtype=dtype, throw=False)


# --- start-up ------------------------------------------------------------------------


def cli_command(inputs: Path, out: Path) -> list[str]:
    """``python -m neurosim relax ...`` (the same as the ``neurosim`` command)."""
    files = ["--inputs", str(inputs), "--out", str(out), "--force"]
    return [sys.executable, "-m", "neurosim", "relax", NETLIST, *files]


def run_cli(command: Sequence[str]) -> float:
    """Wall time of one CLI run; a failure raises with the CLI's last words."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {' | '.join(tail)}")
    return elapsed


def startup(config: Config, xt: np.ndarray, folder: Path) -> tuple[dict, Circuit, Crossbar]:
    """CLI start-up and where it goes; must run before any other relax in this process."""
    inputs = folder / "x10.npy"
    np.save(inputs, xt[:CLI_ROWS])
    command = cli_command(inputs, folder / "eq.h5")
    log(f"start-up: warming the Numba cache with {' '.join(command[1:4])} ...")
    warm_s = run_cli(command)
    log("start-up: parse_netlist and lower_crossbar in process")
    steps = interleaved({"parse": lambda: parse_netlist(ROOT / NETLIST)}, config.repeats)
    circuit = steps["parse"].result
    lowered = interleaved({"lower": lambda: lower_crossbar(circuit)}, config.repeats)
    crossbar = lowered["lower"].result
    sources = flow_sources(crossbar, xt[:CLI_ROWS])
    first = interleaved({"first": settle(crossbar, sources, np.float64, TOLERANCE)}, 1)
    warm = interleaved({"warm": settle(crossbar, sources, np.float64, TOLERANCE)}, 1)
    log(f"start-up: {config.cli_runs} timed CLI runs")
    cli_times = [run_cli(command) for _ in range(config.cli_runs)]
    median = statistics.median(cli_times)
    in_process = steps["parse"].best + lowered["lower"].best + first["first"].best
    figures = {
        "cli_command": " ".join(["python", *command[1:4]]),
        "cli_first_run_s": warm_s,
        "cli_warm_start_s": median,
        "cli_other_s": median - in_process,
        "cli_runs_s": cli_times,
        "parse_netlist_s": steps["parse"].best,
        "lower_crossbar_s": lowered["lower"].best,
        "first_relax_call_s": first["first"].best,
        "warm_relax_call_s": warm["warm"].best,
        "elements": len(circuit.elements),
    }
    return figures, circuit, crossbar


# --- the reference schedule ------------------------------------------------------------


def worst_by_sample(forces: Mapping[str, np.ndarray]) -> np.ndarray:
    """max |F| per sample over every free layer."""
    return np.max([np.max(np.abs(f), axis=1) for f in forces.values()], axis=0)


def reference_relax(
    meta: NetworkMeta, params: Mapping[str, np.ndarray], xt: np.ndarray, track: bool = False
) -> tuple[dict[str, np.ndarray], list[float]]:
    """300 plain steps s ← s + 0.1·F(s) from s = 0; the worst residual before each if ``track``."""
    drive = Drive(targets={"x": xt})
    state = {
        layer.name: np.zeros((xt.shape[0], layer.size))
        for layer in meta.layers
        if layer.kind != "input"
    }
    history = []
    for _ in range(REFERENCE_STEPS):
        forces = force(meta, params, state, drive)
        if track:
            history.append(float(worst_by_sample(forces).max()))
        state = {name: s + REFERENCE_STEP * forces[name] for name, s in state.items()}
    return state, history


def model_residual(
    meta: NetworkMeta, params: Mapping[str, np.ndarray], state: Mapping, xt: np.ndarray
) -> np.ndarray:
    """max |F| per sample by the straightforward model (``neurosim.network.model.force``)."""
    return worst_by_sample(force(meta, params, state, Drive(targets={"x": xt})))


def flat_state(crossbar: Crossbar, state: Mapping[str, np.ndarray]) -> np.ndarray:
    """Layer dict -> the engine's flat (batch, free) order."""
    slices = crossbar.free_slices()
    batch = next(iter(state.values())).shape[0]
    out = np.empty((batch, crossbar.free))
    for name, where in slices.items():
        out[:, where] = state[name]
    return out


def layer_state(crossbar: Crossbar, flat: np.ndarray) -> dict[str, np.ndarray]:
    """The engine's flat state -> layer dict (float64)."""
    flat = np.asarray(flat, dtype=np.float64)
    return {name: flat[:, where] for name, where in crossbar.free_slices().items()}


def steps_to_reach(history: Sequence[float], level: float) -> int | None:
    """First step count after which the worst residual is ≤ ``level`` (None: never)."""
    return next((k for k, value in enumerate(history) if value <= level), None)


def versus_reference(config: Config, circuit: Circuit, crossbar: Crossbar, xt: np.ndarray) -> dict:
    """neurosim (float64, float32, float64 at the reference's residual) vs the reference."""
    meta, params = circuit.network, Chip(circuit).parameters()
    sources = flow_sources(crossbar, xt)
    log("reference: one tracked run (residual after every step, untimed)")
    ref_state, history = reference_relax(meta, params, xt, track=True)
    ref_worst = model_residual(meta, params, ref_state, xt)
    history.append(float(ref_worst.max()))
    ref_tol = float(ref_worst.max())
    log(f"reference vs neurosim: {config.repeats} interleaved rounds")
    runs = interleaved(
        {
            "reference": lambda: reference_relax(meta, params, xt)[0],
            "neurosim_f64": settle(crossbar, sources, np.float64, TOLERANCE),
            "neurosim_f32": settle(crossbar, sources, np.float32, None),
            "neurosim_f64_at_ref": settle(crossbar, sources, np.float64, ref_tol),
        },
        config.repeats,
        inner(config, "neurosim_f64", "neurosim_f32", "neurosim_f64_at_ref"),
    )
    eq64, eq32, eq_ref = (
        runs[k].result for k in ("neurosim_f64", "neurosim_f32", "neurosim_f64_at_ref")
    )
    ns_worst = float(model_residual(meta, params, layer_state(crossbar, eq64.state), xt).max())
    ref_flat = flat_state(crossbar, ref_state)
    steps = steps_to_reach(history, ns_worst)
    t_ref, t64 = runs["reference"].best, runs["neurosim_f64"].best
    figures = {
        "reference_s": t_ref,
        "reference_runs_s": runs["reference"].times,
        "reference_steps": REFERENCE_STEPS,
        "reference_worst_residual": ref_tol,
        "neurosim_f64_s": t64,
        "neurosim_f64_runs_s": runs["neurosim_f64"].times,
        "neurosim_f64_worst_residual": float(np.max(eq64.residual)),
        "neurosim_f64_worst_residual_by_model": ns_worst,
        "neurosim_f64_converged": int(eq64.converged.sum()),
        "neurosim_f64_passes_max": int(eq64.passes.max()),
        "neurosim_f64_passes_median": float(np.median(eq64.passes)),
        # the headline: neurosim stopped at the reference's final residual (equal or better)
        "speedup_vs_reference": t_ref / runs["neurosim_f64_at_ref"].best,
        "neurosim_residual_not_worse": float(np.max(eq_ref.residual)) <= ref_tol,
        "speedup_vs_reference_at_tolerance": t_ref / t64,
        "neurosim_residual_at_tolerance_not_worse": ns_worst <= ref_tol,
        "max_abs_ds_vs_reference": float(np.max(np.abs(eq64.state - ref_flat))),
        "reference_steps_to_neurosim_residual": steps,
        "speedup_vs_reference_same_residual_by_steps": (
            None if steps is None else t_ref * steps / REFERENCE_STEPS / t64
        ),
        "neurosim_f64_at_reference_residual_s": runs["neurosim_f64_at_ref"].best,
        "neurosim_f64_at_reference_residual_passes_max": int(eq_ref.passes.max()),
        "neurosim_f64_at_reference_residual_worst": float(np.max(eq_ref.residual)),
        "speedup_vs_reference_at_reference_residual": t_ref / runs["neurosim_f64_at_ref"].best,
        **float32_figures(crossbar, sources, eq32, eq64),
        "neurosim_f32_s": runs["neurosim_f32"].best,
        "speedup_f32_vs_f64": t64 / runs["neurosim_f32"].best,
    }
    return figures


def float32_figures(
    crossbar: Crossbar, sources: Sources, eq32: Equilibrium, eq64: Equilibrium
) -> dict:
    """How the float32 equilibrium compares (its residual also re-evaluated in float64)."""
    return {
        "neurosim_f32_tolerance": eq32.tolerance,
        "neurosim_f32_worst_residual": float(np.max(eq32.residual)),
        "neurosim_f32_worst_residual_in_f64": float(residual(crossbar, sources, eq32.state).max()),
        "neurosim_f32_converged": int(eq32.converged.sum()),
        "neurosim_f32_passes_max": int(eq32.passes.max()),
        "neurosim_f32_passes_median": float(np.median(eq32.passes)),
        "max_abs_ds_f32_vs_f64": float(np.max(np.abs(eq32.state.astype(np.float64) - eq64.state))),
    }


# --- BLAS fraction -------------------------------------------------------------------


def gemm_flops(crossbar: Crossbar, passes: np.ndarray, tile_rows: int = TILE_ROWS) -> float:
    """Flops the tiles spend in GEMMs: a tile multiplies until its last sample stops."""
    per_row = 2.0 * (crossbar.m_eo.size + crossbar.m_oe.size)
    row_passes = sum(
        int(passes[rows].max()) * (rows.stop - rows.start)
        for rows in tile_slices(passes.shape[0], tile_rows)
    )
    return per_row * row_passes


def blas_share(
    crossbar: Crossbar, sources: Sources, dtype: type, tolerance: float | None, config: Config
) -> dict:
    """relax's achieved GEMM rate vs NumPy matmul's, interleaved (one dtype)."""
    block = MatmulBlock(crossbar, sources.batch, dtype, config.matmul_repeats)
    runs = interleaved(
        {"relax": settle(crossbar, sources, dtype, tolerance), "matmul": block},
        config.cheap_repeats,
    )
    eq = runs["relax"].result
    flops = gemm_flops(crossbar, eq.passes)
    achieved = flops / runs["relax"].best
    return {
        "relax_s": runs["relax"].best,
        "gemm_gflop": flops / 1e9,
        "achieved_gflops": achieved / 1e9,
        "matmul_gflops": block.rate / 1e9,
        "blas_fraction": achieved / block.rate,
        "passes_max": int(eq.passes.max()),
        "passes_median": float(np.median(eq.passes)),
        "converged": int(eq.converged.sum()),
        "worst_residual": float(np.max(eq.residual)),
    }


def spin_penalty(crossbar: Crossbar, sources: Sources, config: Config) -> dict:
    """relax started right after a multi-threaded NumPy matmul vs after a pause."""
    block = MatmulBlock(crossbar, sources.batch, np.float64, 1)
    task = settle(crossbar, sources, np.float64, TOLERANCE)
    right_after, paused = [], []
    for _ in range(config.cheap_repeats):
        block()
        start = time.perf_counter()
        task()
        right_after.append(time.perf_counter() - start)
        block()
        time.sleep(QUIESCE_S)
        start = time.perf_counter()
        task()
        paused.append(time.perf_counter() - start)
    return {
        "relax_right_after_matmul_s": min(right_after),
        "relax_after_pause_s": min(paused),
        "slowdown_right_after_matmul": min(right_after) / min(paused),
    }


def blas_part(config: Config, crossbar: Crossbar, xt: np.ndarray) -> dict:
    sources = flow_sources(crossbar, xt)
    log(f"blas_fraction: float64, {config.cheap_repeats} interleaved rounds")
    f64 = blas_share(crossbar, sources, np.float64, TOLERANCE, config)
    log(f"blas_fraction: float32, {config.cheap_repeats} interleaved rounds")
    f32 = blas_share(crossbar, sources, np.float32, None, config)
    log(f"BLAS spin: relax right after a matmul vs after {QUIESCE_S} s, {config.cheap_repeats}x")
    return {"f64": f64, "f32": f32, "spin": spin_penalty(crossbar, sources, config)}


# --- ngspice -------------------------------------------------------------------------


def ngspice_round(text: str, settings: list[dict[str, float]]) -> dict:
    """One ``operating_points`` call; per-op time from the gaps between finished ops."""
    stamps: list[float] = []
    start = time.perf_counter()
    points = operating_points(
        text, settings, backend="shared", progress=lambda: stamps.append(time.perf_counter())
    )
    total = time.perf_counter() - start
    gaps = np.diff([start, *stamps])  # op 1 includes the load; later ones alter + op + raw file
    steady = float(np.mean(gaps[1:])) if len(gaps) > 1 else None
    return {
        "total_s": total,
        "op_gaps_s": gaps.tolist(),
        "load_s": None if steady is None else float(gaps[0] - steady),
        "points": points,
    }


def ngspice_agreement(crossbar: Crossbar, eq: Equilibrium, points: list[OperatingPoint]) -> float:
    """max |V_ngspice − V_neurosim| over the unit nodes of the first samples, volts."""
    vs = crossbar.meta.scaling.volts_per_unit
    worst = 0.0
    for n, point in enumerate(points):
        for i, unit in enumerate(crossbar.layout.units):
            worst = max(worst, abs(point.voltages[unit] - eq.state[n, i] * vs))
    return worst


def ngspice_part(config: Config, circuit: Circuit, crossbar: Crossbar, xt: np.ndarray) -> dict:
    """ngspice seconds per operating point vs neurosim seconds per equilibrium."""
    count = config.ngspice_settings
    text = netlist_text(dataclasses.replace(circuit, controls=()))
    settings = drive_settings(circuit.network, Drive(targets={"x": xt[:count]}))
    sources = flow_sources(crossbar, xt)
    log(f"ngspice: {config.repeats} rounds of (neurosim batch, ngspice {count} op(s)) ...")
    runs = interleaved(
        {
            "neurosim": settle(crossbar, sources, np.float64, TOLERANCE),
            "ngspice": lambda: ngspice_round(text, settings),
        },
        config.repeats,
        inner(config, "neurosim"),
    )
    rounds = runs["ngspice"].results
    per_eq = runs["neurosim"].best / sources.batch
    total_per_op = min(r["total_s"] for r in rounds) / count
    steady = [gap for r in rounds for gap in r["op_gaps_s"][1:]]
    per_op = min(steady) if steady else total_per_op
    loads = [r["load_s"] for r in rounds if r["load_s"] is not None]
    return {
        "ngspice_settings": count,
        "ngspice_first_call_s": rounds[0]["total_s"],
        "ngspice_calls_s": [r["total_s"] for r in rounds],
        "ngspice_op_gaps_s": [r["op_gaps_s"] for r in rounds],
        "ngspice_first_op_incl_load_s": min(r["op_gaps_s"][0] for r in rounds),
        "ngspice_load_s": statistics.median(loads) if loads else None,
        "ngspice_s_per_op": per_op,
        "ngspice_s_per_op_basis": "best single op after the first"
        if steady
        else "whole call incl. load",
        "ngspice_s_per_op_incl_load": total_per_op,
        "ngspice_ops_per_s": 1.0 / per_op,
        "neurosim_s_per_eq": per_eq,
        "neurosim_eq_per_s": 1.0 / per_eq,
        "speedup_vs_ngspice": per_op / per_eq,
        "speedup_vs_ngspice_incl_load": total_per_op / per_eq,
        "ngspice_max_abs_dv_v": ngspice_agreement(
            crossbar, runs["neurosim"].result, rounds[-1]["points"]
        ),
    }


# --- width scaling -------------------------------------------------------------------


def widened(meta: NetworkMeta, width: int) -> NetworkMeta:
    """``meta`` with every hidden layer ``width`` units wide."""
    layers = tuple(
        Layer(layer.name, width, layer.kind, layer.activation) if layer.kind == "hidden" else layer
        for layer in meta.layers
    )
    return dataclasses.replace(meta, layers=layers)


def width_part(config: Config, meta: NetworkMeta, xt: np.ndarray) -> dict:
    """Time, passes and blas_fraction per hidden width (ideal crossbars, no circuits)."""
    rows = []
    for width in config.widths:
        meta_w = widened(meta, width)
        params = init_params(meta_w, np.random.default_rng(1), gain=0.5)
        crossbar = ideal_crossbar(meta_w, params)
        log(f"width {width}: {config.repeats} interleaved rounds (relax, matmul)")
        sources = flow_sources(crossbar, xt)
        share = blas_share(crossbar, sources, np.float64, TOLERANCE, _rounds(config))
        rows.append(
            {
                "width": width,
                "parameters": meta_w.parameter_count(),
                "s_per_eq": share["relax_s"] / sources.batch,
                "eq_per_s": sources.batch / share["relax_s"],
                **share,
            }
        )
    growth = max(
        max(row[key] for row in rows) / rows[0][key] for key in ("passes_max", "passes_median")
    )
    return {
        "width_scaling": rows,
        "passes_growth": growth,
        "passes_flat": growth <= FLAT_PASSES,
    }


def _rounds(config: Config) -> Config:
    """``config`` with the expensive round count for the cheap comparisons too."""
    return dataclasses.replace(config, cheap_repeats=config.repeats)


# --- non-ideal circuits ----------------------------------------------------------------

MISMATCH, WIRE_OHMS = 0.05, 2.0


def mismatched(circuit: Circuit, seed: int = 1) -> Circuit:
    """``circuit`` with every backward-array device scaled by (1 + MISMATCH·N(0, 1))."""
    out = parse_netlist_text(netlist_text(circuit))
    rng = np.random.default_rng(seed)
    for array in out.structure.arrays:
        if array.direction == "backward":
            for name in device_names(out.network, out.structure)[array.key]:
                out.set_value(name, out.elements[name].value * (1 + MISMATCH * rng.normal()))
    return out


def nonideal_part(config: Config, circuit: Circuit, crossbar: Crossbar, xt, trained) -> dict:
    """Passes and time of mismatched, wired and trained versions against the shipped one."""
    sources = flow_sources(crossbar, xt)
    log(f"non-ideal: 5% mismatch, {WIRE_OHMS:g} ohm wires ({config.repeats} rounds)")
    mismatch = lower_crossbar(mismatched(circuit))
    params = Chip(circuit).parameters()
    start = time.perf_counter()
    wired_circuit = compile_network(circuit.network, params, wire_resistance=WIRE_OHMS)
    compile_s = time.perf_counter() - start
    lowered = interleaved({"lower": lambda: lower_crossbar(wired_circuit)}, 1)
    wired = lowered["lower"].result
    runs = interleaved(
        {
            "ideal": settle(crossbar, sources, np.float64, TOLERANCE),
            "mismatched": settle(mismatch, sources, np.float64, TOLERANCE),
            "wired": settle(wired, sources, np.float64, TOLERANCE),
        },
        config.repeats,
    )
    ideal, bad, drop = (runs[k].result for k in ("ideal", "mismatched", "wired"))
    out = {
        "mismatch_passes_ratio": bad.total_passes / ideal.total_passes,
        "mismatch_passes_max": bad.total_passes,
        "mismatch_passes_median": float(np.median(bad.passes)),
        "mismatch_followed": int(bad.followed.sum()),
        "mismatch_converged": int(bad.converged.sum()),
        "mismatch_time_ratio": runs["mismatched"].best / runs["ideal"].best,
        "ideal_passes_max": ideal.total_passes,
        "wired_time_ratio": runs["wired"].best / runs["ideal"].best,
        "wired_passes_max": drop.total_passes,
        "wired_followed": int(drop.followed.sum()),
        "wired_converged": int(drop.converged.sum()),
        "wired_elements": len(wired_circuit.elements),
        "wired_compile_s": compile_s,
        "wired_lower_s": lowered["lower"].best,
        "wired_max_abs_dw": float(np.max(np.abs(wired.m_eo - crossbar.m_eo))),
        "wired_max_abs_ds": float(np.max(np.abs(drop.state - ideal.state))),
        "trained": None if trained is None else str(trained),
        "trained_passes_ratio": None,
    }
    if trained is not None:
        log(f"non-ideal: the trained network {trained}, reciprocal and 5% mismatched")
        grown_circuit = parse_netlist(trained)
        grown = lower_crossbar(grown_circuit)
        grown_bad = lower_crossbar(mismatched(grown_circuit))
        timed = interleaved(
            {
                "trained": settle(grown, sources, np.float64, TOLERANCE),
                "trained_mismatched": settle(grown_bad, sources, np.float64, TOLERANCE),
            },
            1,
        )
        eq, eq_bad = timed["trained"].result, timed["trained_mismatched"].result
        log("non-ideal: plain steps on the trained mismatched network (its own dynamics)")
        own = relax(
            grown_bad,
            sources,
            tolerance=TOLERANCE,
            solver=Gradient(),
            max_passes=50_000,
            throw=False,
        )
        apart = np.max(np.abs(eq_bad.state - own.state), axis=1)
        out.update(
            trained_mismatched_passes_max=eq_bad.total_passes,
            trained_mismatched_passes_median=float(np.median(eq_bad.passes)),
            trained_mismatched_converged=int(eq_bad.converged.sum()),
            trained_mismatched_followed=int(eq_bad.followed.sum()),
            trained_mismatched_plain_steps_passes_max=own.total_passes,
            trained_mismatched_plain_steps_converged=int(own.converged.sum()),
            trained_mismatched_max_abs_ds_vs_plain_steps=float(apart[eq_bad.converged].max()),
            trained_mismatched_elsewhere_than_plain_steps=int(
                np.sum((apart > 1e-3) & eq_bad.converged & own.converged)
            ),
            trained_passes_ratio=eq.total_passes / ideal.total_passes,
            trained_passes_max=eq.total_passes,
            trained_passes_median=float(np.median(eq.passes)),
            trained_converged=int(eq.converged.sum()),
            trained_time_ratio=timed["trained"].best / runs["ideal"].best,
        )
    return out


# --- report --------------------------------------------------------------------------


def machine() -> dict:
    """Where this ran."""
    blas = [
        {key: info.get(key) for key in ("internal_api", "version", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = [ln for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        model = lines[0].split(":", 1)[1].strip() if lines else None
    return {
        "cpu_count": os.cpu_count(),
        "usable_cores": core_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "blas": blas,
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms"


def print_header(figures: dict) -> None:
    m = figures["machine"]
    blas = ", ".join(
        f"{x['internal_api']} {x['version']} ({x['num_threads']} threads)" for x in m["blas"]
    )
    quick = "  [--quick]" if figures["quick"] else ""
    print(f"neurosim relax benchmark: digits 64-128-128, batch {figures['batch']}", end="")
    print(f", tolerance {TOLERANCE:g}{quick}")
    print(f"machine: {m['usable_cores']} cores ({m['cpu_model']}), numpy {m['numpy']}, ", end="")
    print(f"numba {m['numba']}, BLAS {blas}")
    load = f"{m['loadavg_start'][0]:.2f} -> {figures['loadavg_end'][0]:.2f}"
    print(f"best of {figures['repeats']} interleaved rounds; load average {load}\n")


def print_startup(s: dict) -> None:
    print("start-up")
    runs = len(s["cli_runs_s"])
    print(f"  {s['cli_command']}, {CLI_ROWS} rows, median of {runs}", end="")
    print(f"  {s['cli_warm_start_s']:7.3f} s  (first run {s['cli_first_run_s']:.3f} s)")
    rows = [
        (f"parse_netlist ({s['elements']} elements)", s["parse_netlist_s"]),
        ("lower_crossbar", s["lower_crossbar_s"]),
        ("first relax call (Numba cache)", s["first_relax_call_s"]),
        ("second relax call", s["warm_relax_call_s"]),
    ]
    for name, seconds in rows:
        print(f"  in process: {name:38} {seconds:7.3f} s")
    print(f"  rest of the CLI run (interpreter, imports, HDF5 out) {s['cli_other_s']:7.3f} s")
    print()


def print_reference(r: dict, batch: int) -> None:
    print("free phase: neurosim vs the reference (300 NumPy steps of 0.1 from 0, float64)")
    print(f"  {'':32} {'batch':>9} {'per eq':>12} {'worst |F|':>10} {'passes max/med':>15}")

    def passes(kind: str) -> str:
        return f"{r[f'neurosim_{kind}_passes_max']} / {r[f'neurosim_{kind}_passes_median']:g}"

    rows = [
        ("reference (model.force)", "reference_s", "reference_worst_residual", "300"),
        (
            "neurosim float64",
            "neurosim_f64_s",
            "neurosim_f64_worst_residual_by_model",
            passes("f64"),
        ),
        (
            f"neurosim float32 (tol {r['neurosim_f32_tolerance']:g})",
            "neurosim_f32_s",
            "neurosim_f32_worst_residual_in_f64",
            passes("f32"),
        ),
        (
            "neurosim float64 at ref's |F|",
            "neurosim_f64_at_reference_residual_s",
            "neurosim_f64_at_reference_residual_worst",
            f"{r['neurosim_f64_at_reference_residual_passes_max']} max",
        ),
    ]
    for name, time_key, worst_key, count in rows:
        seconds = r[time_key]
        print(f"  {name:32} {seconds:8.3f}s {_ms(seconds / batch)} {r[worst_key]:10.2e}", end="")
        print(f" {count:>15}")
    headline = r["speedup_vs_reference"]
    print(f"  speedup_vs_reference {headline:.1f}x (neurosim stopped at the ", end="")
    print(f"reference's final |F|: not worse {r['neurosim_residual_not_worse']}); ", end="")
    print(f"at tolerance {TOLERANCE:g} {r['speedup_vs_reference_at_tolerance']:.1f}x; ", end="")
    print(f"max |Δs| {r['max_abs_ds_vs_reference']:.2e}")
    steps = r["reference_steps_to_neurosim_residual"]
    if steps is not None:
        matched = r["speedup_vs_reference_same_residual_by_steps"]
        print(f"  at equal residual: the reference reaches neurosim's after {steps} steps ", end="")
        print(f"({matched:.1f}x); neurosim at the reference's final residual ", end="")
        print(f"{r['speedup_vs_reference_at_reference_residual']:.1f}x")
    print(f"  float32: {r['speedup_f32_vs_f64']:.2f}x the speed of float64, ", end="")
    print(f"max |Δs| vs float64 {r['max_abs_ds_f32_vs_f64']:.2e}, ", end="")
    print(f"{r['neurosim_f32_converged']} converged (in float32), ", end="")
    print(f"float32's own worst |F| {r['neurosim_f32_worst_residual']:.2e}\n")


def print_blas(b: dict) -> None:
    print("GEMM efficiency (useful tile GEMM flops / relax wall time, vs NumPy matmul)")
    for dtype in ("f64", "f32"):
        x = b[dtype]
        rates = f"{x['achieved_gflops']:6.2f} of {x['matmul_gflops']:6.2f} GFLOP/s"
        print(f"  {dtype}: {rates} -> blas_fraction {x['blas_fraction']:.3f}  ", end="")
        print(f"({x['gemm_gflop']:.2f} GFLOP in {x['relax_s']:.4f} s)")
    spin = b["spin"]
    print(
        f"  relax right after a NumPy matmul {spin['relax_right_after_matmul_s']:.4f} s vs ", end=""
    )
    print(f"{spin['relax_after_pause_s']:.4f} s after a {QUIESCE_S} s pause ", end="")
    print(f"({spin['slowdown_right_after_matmul']:.2f}x: OpenBLAS threads still spinning)\n")


def print_ngspice(g: dict, batch: int) -> None:
    print(f"ngspice (shared library) vs neurosim, {g['ngspice_settings']} operating point(s)")
    rows = [
        ("first call (library + netlist load + ops)", g["ngspice_first_call_s"], "s"),
        ("load + first op (best call)", g["ngspice_first_op_incl_load_s"], "s"),
        (f"ngspice per op ({g['ngspice_s_per_op_basis']})", g["ngspice_s_per_op"], "s"),
        ("ngspice per op (whole call / ops, incl. load)", g["ngspice_s_per_op_incl_load"], "s"),
        (f"neurosim per equilibrium (batch time / {batch})", g["neurosim_s_per_eq"] * 1e6, "µs"),
    ]
    for name, value, unit in rows:
        print(f"  {name:48} {value:9.3f} {unit}")
    load = g["ngspice_load_s"]
    if load is None:
        text = "not separable with one setting"
    elif load > 0:
        text = f"~{load:.2f} s (median over calls of op 1 minus the later ops' mean)"
    else:
        text = f"not resolvable, the ops vary more than it ({load:.2f} s)"
    print(f"  netlist load: {text}")
    print(f"  throughput: ngspice {g['ngspice_ops_per_s']:.3g} op/s, ", end="")
    print(f"neurosim {g['neurosim_eq_per_s']:.4g} eq/s")
    print(f"  speedup_vs_ngspice {g['speedup_vs_ngspice']:.4g}x ", end="")
    print(f"(per op incl. load {g['speedup_vs_ngspice_incl_load']:.4g}x); ", end="")
    print(f"max |ΔV| at the unit nodes {g['ngspice_max_abs_dv_v']:.2e} V\n")


def print_widths(w: dict) -> None:
    print("width scaling (h1 = h2 = width, float64, ideal crossbars, Xavier gain 0.5)")
    print(f"  {'width':>6} {'params':>9} {'per eq':>12} {'eq/s':>9} {'passes max/med':>15}", end="")
    print(f" {'blas_fraction':>14}")
    for row in w["width_scaling"]:
        passes = f"{row['passes_max']} / {row['passes_median']:g}"
        print(f"  {row['width']:6d} {row['parameters']:9d} {_ms(row['s_per_eq'])}", end="")
        print(f" {row['eq_per_s']:9.0f} {passes:>15} {row['blas_fraction']:14.3f}")
    print(f"  pass counts flat (none grows beyond {FLAT_PASSES}x the narrowest's): ", end="")
    print(f"{w['passes_flat']} (largest ratio {w['passes_growth']:.2f})\n")


def print_nonideal(n: dict, batch: int) -> None:
    print(f"non-ideal circuits (same {batch} inputs, float64, tolerance {TOLERANCE:g})")
    print(f"  reciprocal (shipped)        {n['ideal_passes_max']:6d} passes max")
    print(f"  5% mismatched backward arrays {n['mismatch_passes_max']:4d} passes max ", end="")
    print(
        f"(median {n['mismatch_passes_median']:g}), {n['mismatch_converged']} converged, ", end=""
    )
    print(f"{n['mismatch_followed']} by plain steps: mismatch_passes_ratio ", end="")
    print(f"{n['mismatch_passes_ratio']:.2f}, time {n['mismatch_time_ratio']:.2f}x")
    print(f"  {WIRE_OHMS:g} ohm wire segments ({n['wired_elements']:,} elements; ", end="")
    print(f"lowering with the reductions {n['wired_lower_s']:.2f} s): ", end="")
    print(f"{n['wired_passes_max']} passes max, max |ΔW| {n['wired_max_abs_dw']:.3f}, ", end="")
    print(f"max |Δs| {n['wired_max_abs_ds']:.3f}: wired_time_ratio {n['wired_time_ratio']:.2f}")
    if n["trained_passes_ratio"] is None:
        print("  trained network: not measured (pass --trained RUN/trained.cir)\n")
    else:
        print(f"  trained ({n['trained']}): {n['trained_passes_max']} passes max ", end="")
        print(
            f"(median {n['trained_passes_median']:g}), {n['trained_converged']} converged: ", end=""
        )
        print(f"trained_passes_ratio {n['trained_passes_ratio']:.2f}")
        print(f"  trained, 5% mismatched: {n['trained_mismatched_passes_max']} passes max ", end="")
        print(f"(median {n['trained_mismatched_passes_median']:g}), ", end="")
        print(f"{n['trained_mismatched_converged']} converged, ", end="")
        print(f"{n['trained_mismatched_followed']} by plain steps; plain steps alone ", end="")
        print(f"{n['trained_mismatched_plain_steps_passes_max']} passes; max |Δs| vs them ", end="")
        print(f"{n['trained_mismatched_max_abs_ds_vs_plain_steps']:.1e}, ", end="")
        print(f"{n['trained_mismatched_elsewhere_than_plain_steps']} converged samples elsewhere\n")


def print_report(figures: dict) -> None:
    """The human-readable table (stdout)."""
    print_header(figures)
    print_startup(figures["startup"])
    print_reference(figures["reference"], figures["batch"])
    print_blas(figures["blas"])
    print_ngspice(figures["ngspice"], figures["batch"])
    print_widths(figures["widths"])
    print_nonideal(figures["nonideal"], figures["batch"])


def summary(figures: dict) -> dict:
    """The JSON object: headline keys first, then every figure."""
    r, g, s = figures["reference"], figures["ngspice"], figures["startup"]
    return {
        "speedup_vs_reference": r["speedup_vs_reference"],
        "blas_fraction": figures["blas"]["f64"]["blas_fraction"],
        "blas_fraction_f32": figures["blas"]["f32"]["blas_fraction"],
        "speedup_vs_ngspice": g["speedup_vs_ngspice"],
        "cli_warm_start_s": s["cli_warm_start_s"],
        "neurosim_residual_not_worse": r["neurosim_residual_not_worse"],
        "mismatch_passes_ratio": figures["nonideal"]["mismatch_passes_ratio"],
        "wired_time_ratio": figures["nonideal"]["wired_time_ratio"],
        "trained_passes_ratio": figures["nonideal"]["trained_passes_ratio"],
        "batch": figures["batch"],
        "tolerance": TOLERANCE,
        "quick": figures["quick"],
        "repeats": figures["repeats"],
        "startup": s,
        "reference": r,
        "blas": figures["blas"],
        "ngspice": g,
        "width_scaling": figures["widths"]["width_scaling"],
        "passes_flat": figures["widths"]["passes_flat"],
        "passes_growth": figures["widths"]["passes_growth"],
        "nonideal": figures["nonideal"],
        "machine": {**figures["machine"], "loadavg_end": figures["loadavg_end"]},
        "total_s": figures["total_s"],
    }


def jsonable(value: Any) -> Any:
    """Plain JSON values: 4 significant digits, NaN/inf as null, NumPy scalars unwrapped."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return float(f"{number:.4g}") if math.isfinite(number) else None
    return value


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: batch 512, 1 repeat, widths 128/256, 1 ngspice setting",
    )
    parser.add_argument("--json-out", type=Path, help="also write the JSON object here")
    parser.add_argument("--trained", type=Path, help="a trained netlist for trained_passes_ratio")
    args = parser.parse_args()
    config = Config.from_args(args.quick)
    figures: dict[str, Any] = {
        "machine": machine(),
        "batch": config.batch,
        "quick": config.quick,
        "repeats": config.repeats,
    }
    xt = flow_targets(config.batch)
    with tempfile.TemporaryDirectory(prefix="relax-bench-") as folder:
        figures["startup"], circuit, crossbar = startup(config, xt, Path(folder))
    figures["reference"] = versus_reference(config, circuit, crossbar, xt)
    figures["blas"] = blas_part(config, crossbar, xt)
    figures["ngspice"] = ngspice_part(config, circuit, crossbar, xt)
    figures["widths"] = width_part(config, circuit.network, xt)
    figures["nonideal"] = nonideal_part(config, circuit, crossbar, xt, args.trained)
    figures["loadavg_end"] = list(os.getloadavg())
    figures["total_s"] = time.perf_counter() - START
    log("done")
    print_report(figures)
    line = json.dumps(jsonable(summary(figures)))
    if args.json_out is not None:
        write_text_atomic(args.json_out, line + "\n")
    print(line)


if __name__ == "__main__":
    main()
