"""Transient simulation of a crossbar circuit: ``τ ds/dt = F(s)`` in physical time.

``τ = C/g_unit`` per unit comes from the netlist's capacitors, so times are seconds of
the real circuit. Methods: ``"rk45"`` (Dormand–Prince 5(4), adaptive, error per step
``max |err|/(atol + rtol·|s|) ≤ 1`` over a tile), ``"rk4"`` and ``"euler"`` (fixed
``dt``; Euler at ``dt = 0.1 τ`` is the reference relaxation schedule). With a thermal
noise ``σ`` per unit (:mod:`neurosim.engine.noise`) the SDE ``ds = F(s)/τ dt + σ dW``
is integrated by Euler–Maruyama (``"euler"``; strong order 1 for additive noise).

A unit may have an inductor L in series with its capacitor (``inertia`` = L·G, G its
leak conductance [S]; DESIGN §5's momentum): the capacitor node m, which the unit's row
drivers read, is the unit's state s, and the leak and injection meet at the node x
between the inductor and the network. With ``p`` the inductor current ÷ (vs·g_unit),
KCL at x and the inductor's law give

    τ ds/dt = p,     L·G dp/dt = F(s) − p,

a heavy ball: L·C s̈ + (C/G) ṡ = F(s)/G — the unit's force low-pass filtered, so it
keeps moving where the force fades; L = 0 is ``τ ds/dt = F(s)``. p starts at 0 (the
inductor's ``ic``); the leak's heat is taken at x's voltage, s + (F(s) − p)/leak.

A unit's spring may be **held** (``held``: τ_z = C_z/g_unit [s] per unit, 0 where not):
its target source replaced by a capacitor C_z, the target node z a state of its own that
starts at the sources' target. KCL at z and at the unit, with λ the spring conductance
÷ g_unit:

    τ_z dz/dt = λ(s − z),     τ ds/dt = F(s; targets z),

so a slow z (τ_z ≫ the network's settling) moves with the spring current the settled
circuit draws — the spring readout, f = αλ(x* − z) — in model time t/(α·τ_z): the
circuit integrates its own learned field. A noise current at z (``held_noise``: σ_z per
unit [model units/√s]) makes it Langevin dynamics; the spring's heat is taken at z. Steps are
shortened to land exactly on every requested time. Alongside the state the heat
dissipated since t = 0 is integrated (joules, :func:`neurosim.engine.energy.dissipated_power`).
Tiles of the batch run on all cores, each with its own step size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.engine.energy import dissipated_power
from neurosim.engine.relax import residual
from neurosim.engine.shards import TILE_ROWS, run_tiles, tile_slices
from neurosim.engine.sources import Sources
from neurosim.engine.workspace import Tables, Workspace
from neurosim.errors import ConvergenceError
from neurosim.lower.crossbar import Crossbar

METHODS = ("rk45", "rk4", "euler")
MIN_STEP_FRACTION = 1e-12  # of the last output time; a smaller adaptive step fails

# Dormand–Prince 5(4) tableau
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_B_ERR = (
    35 / 384 - 5179 / 57600,
    0.0,
    500 / 1113 - 7571 / 16695,
    125 / 192 - 393 / 640,
    -2187 / 6784 + 92097 / 339200,
    11 / 84 - 187 / 2100,
    -1 / 40,
)


@dataclass(frozen=True)
class Trajectory:
    """States at the requested times.

    ``times`` (n,) seconds; ``states`` (n, batch, free) model units; ``heat`` (n, batch)
    joules dissipated since t = 0; ``steps`` (batch,) steps taken by each sample's tile;
    ``held`` (n, batch, held units) the held springs' target nodes z, model units (None
    without).
    """

    times: np.ndarray
    states: np.ndarray
    heat: np.ndarray
    steps: np.ndarray
    held: np.ndarray | None = None


def transient(
    crossbar: Crossbar,
    sources: Sources,
    times: np.ndarray,
    *,
    start: np.ndarray | None = None,
    method: str = "rk45",
    dt: float | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    threads: int | None = None,
    tile_rows: int = TILE_ROWS,
    noise: np.ndarray | None = None,
    seed: int | tuple[int, ...] = 0,
    inertia: np.ndarray | None = None,
    held: np.ndarray | None = None,
    held_noise: np.ndarray | None = None,
) -> Trajectory:
    """Integrate from ``start`` (batch, free) or (free,) at t = 0 to ``times``.

    The default start is the netlist's capacitor initial conditions (``ic=``, else 0 V).

    ``times``: increasing, ≥ 0, seconds. ``dt`` [s]: the step of ``"rk4"``/``"euler"``
    (required for them), the first trial step of ``"rk45"``. ``noise``: σ (free,)
    [model units/√s] (:func:`neurosim.engine.noise.diffusion`), integrated by
    ``"euler"`` only; its draws come from ``seed`` (an int or a tuple of ints) and each
    tile's first row, so the
    same seed gives the same paths on any number of threads. ``held`` (free,) [s] and
    ``held_noise`` (free,) [model units/√s]: springs whose targets are capacitor nodes
    (module docstring), starting at ``sources.targets``.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ValueError("times must be a non-empty 1-d array of finite seconds")
    if times[0] < 0 or np.any(np.diff(times) < 0):
        raise ValueError("times must be non-negative and increasing")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method != "rk45" and not (dt is not None and dt > 0 and np.isfinite(dt)):
        raise ValueError(f"method {method} needs a positive step dt (seconds)")
    if not (rtol > 0 and atol > 0):
        raise ValueError("rtol and atol must be positive")
    free = crossbar.free
    noise, inertia, held, held_noise = (
        _per_unit(value, free, name)
        for value, name in (
            (noise, "noise"), (inertia, "inertia"), (held, "held"), (held_noise, "held_noise")
        )
    )  # fmt: skip
    if (noise is not None or held_noise is not None) and method != "euler":
        raise ValueError("a noisy transient is integrated by method 'euler' (Euler–Maruyama)")
    lag = np.zeros(0, dtype=np.int64) if inertia is None else np.flatnonzero(inertia > 0)
    if np.any(crossbar.spring[lag] != 0) or np.any(sources.nudge[lag] != 0):
        raise ValueError("a unit with a series inductor must have no spring or nudge")
    hold = np.zeros(0, dtype=np.int64) if held is None else np.flatnonzero(held > 0)
    if np.any(crossbar.spring[hold] == 0) or np.intersect1d(hold, lag).size:
        raise ValueError("a held unit must have a spring and no series inductor")
    batch = sources.batch
    s0 = np.tile(crossbar.defaults["start"], (batch, 1))
    if start is not None:
        s0[:] = np.broadcast_to(np.asarray(start, dtype=np.float64), s0.shape)
    if not np.all(np.isfinite(s0)):
        raise ValueError("the start state holds NaN or inf")
    tables = Tables.build(crossbar, sources.nudge, np.float64)
    states = np.empty((times.size, batch, crossbar.free))
    targets = np.empty((times.size, batch, hold.size))
    heat = np.empty((times.size, batch))
    steps = np.zeros(batch, dtype=np.int64)
    inv_tau = 1.0 / crossbar.tau
    scaling = crossbar.meta.scaling
    leak_watts = crossbar.leak[lag] * scaling.g_unit * scaling.volts_per_unit**2  # G·vs²
    spring = crossbar.spring[hold]
    spring_watts = spring * scaling.g_unit * scaling.volts_per_unit**2
    pull_rate = spring / held[hold] if hold.size else spring  # λ/τ_z [1/s]
    zc = slice(free + lag.size, free + lag.size + hold.size)  # z's columns of y

    def tile(rows: slice) -> None:
        """Integrate one tile; results go into ``states``, ``heat`` and ``steps``."""
        work = Workspace(crossbar, tables, sources, rows)
        part = sources.rows(rows)

        fixed = part.targets[:, hold]

        def derivative(y: np.ndarray) -> np.ndarray:
            """d/dt of [state, inductor currents, held targets, heat], y (rows, free +
            lagging + held + 1)."""
            s = np.ascontiguousarray(y[:, :free])
            out = np.empty_like(y)
            force = out[:, :free]
            work.force(s, force, np.empty(s.shape[0]))
            out[:, -1] = dissipated_power(crossbar, part, s)
            if hold.size:
                z, x = y[:, zc], s[:, hold]
                force[:, hold] += spring * (z - fixed)
                out[:, zc] = pull_rate * (x - z)
                out[:, -1] += ((x - z) ** 2 - (x - fixed) ** 2) @ spring_watts
            if lag.size:
                p = y[:, free : free + lag.size]
                pull = force[:, lag] - p
                out[:, free : free + lag.size] = pull / inertia[lag]
                at_x = s[:, lag] + pull / crossbar.leak[lag]  # the leak's node, x
                out[:, -1] += (at_x**2 - s[:, lag] ** 2) @ leak_watts
                force[:, lag] = p
            force *= inv_tau
            return out

        inductors = np.zeros((s0[rows].shape[0], lag.size))
        y = np.concatenate([s0[rows], inductors, fixed, np.zeros((fixed.shape[0], 1))], axis=1)
        out = (states, targets, heat)
        if method == "rk45":
            taken = _rk45(derivative, y, times, out, rows, dt, rtol, atol)
        else:
            kick = None
            if noise is not None or held_noise is not None:
                draws = np.random.default_rng([*np.atleast_1d(seed).tolist(), rows.start])
                scale = np.zeros(y.shape[1])  # heat: no noise
                if noise is not None:
                    scale[:free] = noise
                if lag.size and noise is not None:  # its noise current drives its inductor
                    scale[free : free + lag.size] = noise[lag] * crossbar.tau[lag] / inertia[lag]
                    scale[lag] = 0.0
                if held_noise is not None:
                    scale[zc] = held_noise[hold]
                shape = y.shape

                def kick(h: float) -> np.ndarray:
                    """σ ΔW over a step of h seconds, shaped as the augmented state."""
                    return np.sqrt(h) * scale * draws.standard_normal(shape)

            taken = _fixed(derivative, y, times, out, rows, method, dt, kick)
        steps[rows] = taken

    run_tiles(tile, tile_slices(batch, tile_rows), threads)
    held_out = targets if hold.size else None
    return Trajectory(times=times, states=states, heat=heat, steps=steps, held=held_out)


def _per_unit(value, free: int, name: str) -> np.ndarray | None:
    """``value`` as ``free`` finite values >= 0 (one per unit), or None; ValueError
    naming ``name`` otherwise."""
    if value is None:
        return None
    value = np.asarray(value, dtype=np.float64)
    if value.shape != (free,) or not np.all(np.isfinite(value) & (value >= 0)):
        raise ValueError(f"{name} must be {free} finite values >= 0 (one per unit)")
    return value


def _fixed(derivative, y, times, out, rows, method, dt, kick) -> int:
    t, taken = 0.0, 0
    for k, t_out in enumerate(times):
        while t < t_out:
            h = min(dt, t_out - t)
            if t_out - (t + h) < 1e-9 * dt:  # land exactly on the output time
                h = t_out - t
            if method == "euler":
                y = y + h * derivative(y)
                if kick is not None:
                    y = y + kick(h)
            else:
                k1 = derivative(y)
                k2 = derivative(y + 0.5 * h * k1)
                k3 = derivative(y + 0.5 * h * k2)
                k4 = derivative(y + h * k3)
                y = y + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
            t = t_out if abs(t_out - (t + h)) < 1e-9 * dt else t + h
            taken += 1
        _store(y, out, k, rows)
    return taken


def _rk45(derivative, y, times, out, rows, dt, rtol, atol) -> int:
    t, taken = 0.0, 0
    scale = float(times[-1]) if times[-1] > 0 else 1.0
    h = dt if dt is not None else 1e-3 * scale
    k1 = derivative(y)
    for k, t_out in enumerate(times):
        while t < t_out:
            step = min(h, t_out - t)
            stages = [k1]
            for i in range(1, 7):
                increment = sum(a * stage for a, stage in zip(_A[i], stages, strict=False))
                stages.append(derivative(y + step * increment))
            y_new = y + step * sum(a * s for a, s in zip(_A[6], stages, strict=False))
            error = step * sum(b * s for b, s in zip(_B_ERR, stages, strict=True))
            tol = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
            ratio = float(np.max(np.abs(error[:, :-1]) / tol[:, :-1]))
            if not np.isfinite(ratio):
                raise ConvergenceError(f"transient: the state became NaN/inf at t = {t:g} s")
            clipped = step < h
            if ratio <= 1.0:
                t = t_out if step == t_out - t else t + step
                y, k1 = y_new, stages[6]
                taken += 1
            factor = min(5.0, max(0.2, 0.9 * ratio ** (-0.2) if ratio > 0 else 5.0))
            if not (clipped and ratio <= 1.0):  # a step cut short to land says nothing of h
                h = step * factor
            if h < MIN_STEP_FRACTION * scale:
                raise ConvergenceError(f"transient: step size underflow at t = {t:g} s")
        _store(y, out, k, rows)
    return taken


def _store(y, out, k, rows) -> None:
    """Output time ``k`` of the tile ``rows``: its states, held targets (the columns
    before the heat) and heat."""
    states, targets, heat = out
    states[k, rows] = y[:, : states.shape[2]]
    targets[k, rows] = y[:, y.shape[1] - 1 - targets.shape[2] : -1]
    heat[k, rows] = y[:, -1]


def settling_times(
    crossbar: Crossbar, sources: Sources, trajectory: Trajectory, tolerance: float = 1e-3
) -> np.ndarray:
    """Per sample, the first output time [s] from which the KCL residual (max |F|, model
    units) stays ≤ ``tolerance`` at every later output time; NaN if not settled by the
    last one. Resolution is that of ``trajectory.times``."""
    settled = np.stack(
        [residual(crossbar, sources, state) <= tolerance for state in trajectory.states]
    )  # (n_times, batch)
    stays = np.flip(np.logical_and.accumulate(np.flip(settled, 0), 0), 0)
    first = np.argmax(stays, axis=0)
    return np.where(stays[first, np.arange(stays.shape[1])], trajectory.times[first], np.nan)
