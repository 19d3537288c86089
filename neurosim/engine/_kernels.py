"""Numba kernels of the crossbar engine: the elementwise work between the two GEMMs.

Arrays are batch-major: a state is ``s`` (batch, free) with the even group's free units
first (see :mod:`neurosim.lower.crossbar`); ``act_e`` (batch, width_even) and ``act_o``
(batch, width_odd) hold ρ of each group's units, clamped inputs in their last columns;
``net_e`` = ``act_o @ m_oe`` (batch, free_even) and ``net_o`` = ``act_e @ m_eo``;
``slope_of`` (batch, free) holds ρ'(s). ``unit`` packs per-unit rows (see the row
indices below); ``layers`` (n_layers, 4) int64 holds each free layer's start, stop,
activation code (0 linear, 1 the reference 10·tanh(SiLU(u)/10), 2 tanh) and whether its
row drivers transform the values. The kernels take them packed: a tile's arrays as a
:class:`Tile`, the shared per-unit tables as :class:`Units`, Anderson's per-sample
history as :class:`History`.

Kernels are serial over the batch they are given and release the GIL: the caller runs
one shard of the batch per core. They are compiled with ``error_model="numpy"`` (no
ZeroDivisionError branch) so that LLVM vectorises the inner loops, and with FMA
contraction; dot products also allow reassociation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from neurosim.lower.crossbar import LINEAR, RHO

BIAS, LEAK, SPRING, GAIN, SLOPE, NUDGE, DIAG, SHIFT, LOW, HIGH = range(10)
UNIT_ROWS = 10


class Units(NamedTuple):
    """What every tile shares: ``unit`` (UNIT_ROWS, free) per-unit rows, ``layers``
    (n_layers, 4) int64 start, stop, activation code, row transform flag; ``code``
    (free,) int64 activation code per unit; ``law``: the energy law (see below)."""

    unit: np.ndarray
    layers: np.ndarray
    code: np.ndarray
    law: int


class Tile(NamedTuple):
    """One tile's arrays (see the module docstring); ``targets``, ``nudge_targets``
    (tile, free); ``input_e``, ``input_o``: the clamped inputs' share of ``net_*``."""

    net_e: np.ndarray
    net_o: np.ndarray
    act_e: np.ndarray
    act_o: np.ndarray
    slope_of: np.ndarray
    targets: np.ndarray
    nudge_targets: np.ndarray
    input_e: np.ndarray
    input_o: np.ndarray


class History(NamedTuple):
    """Anderson's per-sample state: ring buffers ``d_f``, ``d_g`` (tile, m, free) of
    differences of f = F/D and of g, their Gram matrix ``gram`` (tile, m, m), the last
    ``f_prev``, ``g_prev`` (tile, free), ``count`` (tile,) pushes since a restart and
    ``progress`` (tile, 4): columns MERIT, BEST, SINCE_BEST, DAMPING."""

    d_f: np.ndarray
    d_g: np.ndarray
    gram: np.ndarray
    f_prev: np.ndarray
    g_prev: np.ndarray
    count: np.ndarray
    progress: np.ndarray


class Ring(NamedTuple):
    """One sample's rows of a :class:`History`: ``d_f``, ``d_g`` (m, free), ``gram``
    (m, m), ``f_prev``, ``g_prev`` (free,)."""

    d_f: np.ndarray
    d_g: np.ndarray
    gram: np.ndarray
    f_prev: np.ndarray
    g_prev: np.ndarray


_FLAGS = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract"}}
_DOT_FLAGS = {**_FLAGS, "fastmath": {"contract", "reassoc"}}

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@intrinsic
def _bits_as_float(typingctx, bits):
    """Reinterpret an int64 bit pattern as a float64 (an LLVM bitcast)."""
    signature = types.float64(types.int64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return signature, codegen


@njit(inline="always", **_FLAGS)
def fast_exp(x):
    """e^x for float64 within 1 ulp (Cody–Waite reduction, degree-13 Taylor polynomial).

    Vectorisable, unlike the libm call. Arguments are clamped to [-708, 709], so it
    never overflows to inf nor underflows below the smallest normal number.
    """
    x = min(max(x, -708.0), 709.0)
    k = np.floor(x * _LOG2E + 0.5)
    r = x - k * _LN2_HI - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _bits_as_float((np.int64(k) + 1023) << 52)


@njit(inline="always", **_FLAGS)
def _activate_row(n, s, tile, units):
    """ρ and ρ' of row ``n`` of ``s``, layer by layer; a layer flagged in ``layers[:, 3]``
    has row drivers with an offset or limits: its row values are
    ``clip(ρ + unit[SHIFT], unit[LOW], unit[HIGH])`` (ρ' stays the unit's own slope).

    Each layer is a 0-based loop over row slices: with a provably non-negative index
    Numba drops its wraparound checks and LLVM vectorises the loop (2x measured).
    """
    act_e, act_o, slope_of = tile.act_e, tile.act_o, tile.slope_of
    layers, unit = units.layers, units.unit
    free_e = tile.net_e.shape[1]
    for layer in range(layers.shape[0]):
        start, stop, code = layers[layer, 0], layers[layer, 1], layers[layer, 2]
        if start < free_e:
            act = act_e[n, start:stop]
        else:
            act = act_o[n, start - free_e : stop - free_e]
        values, slope = s[n, start:stop], slope_of[n, start:stop]
        if code == LINEAR:
            for j in range(values.shape[0]):
                act[j] = values[j]
                slope[j] = 1.0
        elif code == RHO:
            for j in range(values.shape[0]):
                u = values[j]
                sig = 1.0 / (1.0 + fast_exp(-u))
                e = fast_exp(-0.2 * u * sig)
                t = (1.0 - e) / (1.0 + e)
                act[j] = 10.0 * t
                slope[j] = (1.0 - t * t) * sig * (1.0 + u * (1.0 - sig))
        else:
            for j in range(values.shape[0]):
                t = np.tanh(values[j])
                act[j] = t
                slope[j] = 1.0 - t * t
        if layers[layer, 3] != 0:
            for j in range(values.shape[0]):
                i = start + j
                act[j] = min(max(act[j] + unit[SHIFT, i], unit[LOW, i]), unit[HIGH, i])


@njit(**_FLAGS)
def activate(s, tile, units):
    """Row values (ρ(s), see :func:`_activate_row`) into the free columns of
    ``tile.act_e``/``act_o``, ρ'(s) into ``tile.slope_of``."""
    for n in range(s.shape[0]):
        _activate_row(n, s, tile, units)


@njit(inline="always", **_FLAGS)
def _row_force(n, s, tile, units, f):
    """F of row ``n`` into ``f`` (free,); returns max |F| (NaN if any F is NaN)."""
    net_e, net_o, slope_of = tile.net_e, tile.net_o, tile.slope_of
    targets, nudge_targets, unit = tile.targets, tile.nudge_targets, units.unit
    free_e = net_e.shape[1]
    worst = 0.0
    for i in range(s.shape[1]):
        net = net_e[n, i] if i < free_e else net_o[n, i - free_e]
        value = s[n, i]
        f[i] = (
            (net + unit[BIAS, i]) * (unit[GAIN, i] + unit[SLOPE, i] * slope_of[n, i])
            - unit[LEAK, i] * value
            + unit[SPRING, i] * (targets[n, i] - value)
            + unit[NUDGE, i] * (nudge_targets[n, i] - value)
        )
        worst = max(worst, abs(f[i]))
        if f[i] != f[i]:
            return np.nan
    return worst


@njit(**_FLAGS)
def force(s, tile, units, out, residual):
    """``out`` = F(s) (batch, free); ``residual`` = max_i |F_i| per sample (batch,).

    The tile's ``net_*`` and ``slope_of`` must belong to ``s`` (after :func:`activate`
    and the GEMMs).
    """
    for n in range(s.shape[0]):
        residual[n] = _row_force(n, s, tile, units, out[n])


@njit(**_FLAGS)
def gradient_step(s, tile, units, step, tol, active, residual):
    """One explicit step ``s += step·F(s)`` per active sample, then ρ(s) and ρ'(s).

    ``residual`` gets max |F| of the state before the step; a sample at or below ``tol``
    (or non-finite) is left unchanged and deactivated.
    """
    f = np.empty(s.shape[1], dtype=s.dtype)
    for n in range(s.shape[0]):
        if not active[n]:
            continue
        worst = _row_force(n, s, tile, units, f)
        residual[n] = worst
        if not np.isfinite(worst) or worst <= tol:
            active[n] = False
            continue
        for i in range(s.shape[1]):
            s[n, i] += step * f[i]
        _activate_row(n, s, tile, units)


# per-sample solver state of anderson_step, columns of ``progress`` (batch, 4)
MERIT, BEST, SINCE_BEST, DAMPING = range(4)
NO_ENERGY, SB_ENERGY, HOPFIELD_ENERGY = range(3)


@njit(inline="always", **_FLAGS)
def _row_energy(n, s, tile, units):
    """Energy E of row ``n`` (model units) from the current activations and column inputs.

    ``input_*`` are the clamped inputs' constant share of ``net_*``; with them the coupling
    energy is −½ Σ a·(net + input), each symmetric coupling counted once.
    """
    act_e, act_o, net_e, net_o = tile.act_e, tile.act_o, tile.net_e, tile.net_o
    input_e, input_o = tile.input_e, tile.input_o
    targets, nudge_targets = tile.targets, tile.nudge_targets
    unit, code, law = units.unit, units.code, units.law
    free_e = net_e.shape[1]
    total = 0.0
    for i in range(s.shape[1]):
        value = s[n, i]
        if i < free_e:
            a, column = act_e[n, i], net_e[n, i] + input_e[n, i]
        else:
            a, column = act_o[n, i - free_e], net_o[n, i - free_e] + input_o[n, i - free_e]
        t, nt = targets[n, i], nudge_targets[n, i]
        if law == SB_ENERGY:
            own = 0.5 * (
                unit[LEAK, i] * value * value
                + unit[SPRING, i] * (value - t) * (value - t)
                + unit[NUDGE, i] * (value - nt) * (value - nt)
            )
        else:
            if code[i] == LINEAR:
                lam = 0.5 * a * a
            else:  # tanh: Λ(a) = u·a − log cosh u
                magnitude = abs(value)
                lam = value * a - (magnitude + np.log1p(np.exp(-2.0 * magnitude)) - np.log(2.0))
            own = (
                unit[LEAK, i] * lam
                + unit[SPRING, i] * (lam - t * a + 0.5 * t * t)
                + unit[NUDGE, i] * (lam - nt * a + 0.5 * nt * nt)
            )
        total += own - unit[BIAS, i] * a - 0.5 * a * column
    return total


@njit(**_FLAGS)
def anderson_step(s, tile, units, history, tol, active, residual, regularisation, slack):
    """One safeguarded Anderson step of the preconditioned map g(s) = s + F(s)/D.

    Safeguard, checked first: the merit of ``s`` is its energy E (``law`` SB_ENERGY or
    HOPFIELD_ENERGY, for circuits that have one) or else its residual. A state that
    raises E by more than ``slack`` relative (round-off), raises the residual tenfold, or
    is not finite is rejected (the last step included): the history is
    cleared and ``s`` goes back to half the previous plain step from the last accepted
    point (halving again while rejected) — a backtracking line search along −D⁻¹∇E, so
    accepted states descend the energy as the circuit itself does. A sample whose
    residual has not improved for 2m passes restarts its history. Each rejection also
    halves the sample's damping ω (the map becomes s + ωF/D) and each accepted state
    doubles it back, up to 1: where the couplings make −D⁻¹J's spectrum reach past 2
    (trained networks: measured up to 6.3) the undamped map is unstable and Anderson on
    it stalls. An accepted state's
    residual max|F| goes to ``residual``; at or below ``tol`` (or non-finite with nothing
    accepted yet) the sample is left unchanged and deactivated.

    Otherwise the differences of f = F/D and g are pushed into the ring buffers ``d_f``,
    ``d_g`` (batch, m, free) with their Gram matrix ``gram`` (batch, m, m) kept current,
    the mixing weights γ = argmin ‖f − ΔF γ‖ (Tikhonov-regularised) are solved, ``s``
    becomes ``g − ΔG γ``, and ρ(s), ρ'(s) are stored. ``count`` (batch,) counts pushes
    since the last restart; ``progress`` (batch, 4) holds the accepted merit, the best
    residual, the passes since it and the damping ω (1 at the start).
    """
    d_f, d_g, gram = history.d_f, history.d_g, history.gram
    f_prev, g_prev, count, progress = (
        history.f_prev,
        history.g_prev,
        history.count,
        history.progress,
    )
    unit, law = units.unit, units.law
    free = s.shape[1]
    depth = d_f.shape[1]
    f = np.empty(free, dtype=s.dtype)
    scratch = np.empty((depth + 3, depth))  # see _mixing_weights
    for n in range(s.shape[0]):
        if not active[n]:
            continue
        worst = _row_force(n, s, tile, units, f)
        accepted = progress[n, MERIT]
        if not np.isfinite(worst):
            merit = np.nan
        elif law == NO_ENERGY:
            merit = worst
        else:
            merit = _row_energy(n, s, tile, units)
        if law == NO_ENERGY:
            rejected = not merit <= 10.0 * accepted
        else:  # a rise beyond round-off
            rejected = not merit <= accepted + slack * (1.0 + abs(accepted))
        if rejected and np.isfinite(accepted):
            count[n] = 0
            progress[n, DAMPING] *= 0.5
            for i in range(free):
                f_prev[n, i] *= 0.5  # the step from the accepted point, halved
                s[n, i] = g_prev[n, i] - f_prev[n, i]
                g_prev[n, i] = s[n, i]
            _activate_row(n, s, tile, units)
            continue
        residual[n] = worst
        if not np.isfinite(worst) or worst <= tol:
            active[n] = False
            continue
        progress[n, MERIT] = merit
        progress[n, DAMPING] = min(1.0, 2.0 * progress[n, DAMPING])
        if worst < progress[n, BEST]:
            progress[n, BEST] = worst
            progress[n, SINCE_BEST] = 0.0
        else:
            progress[n, SINCE_BEST] += 1.0
            if progress[n, SINCE_BEST] > 2 * depth:  # stalled: restart the history
                count[n] = 0
                progress[n, SINCE_BEST] = 0.0
        ring = Ring(d_f[n], d_g[n], gram[n], f_prev[n], g_prev[n])
        _update(s[n], f, unit[DIAG], progress[n, DAMPING], ring, count[n], regularisation, scratch)
        count[n] += 1
        _activate_row(n, s, tile, units)


@njit(**_DOT_FLAGS)
def _update(s, f, diag, damping, ring, pushes, regularisation, scratch):
    """The Anderson update of one sample (1-d rows, 0-based loops that vectorise) with
    its history ``ring`` (:class:`Ring`).

    ``f`` holds F on entry; the map is s + ``damping``·F/D; ``pushes`` is the number of
    earlier pushes since a restart.
    Dot products may be reassociated (``_DOT_FLAGS``); the residual is not computed here.
    """
    d_f, d_g, gram, f_prev, g_prev = ring
    free = s.shape[0]
    depth = d_f.shape[0]
    for i in range(free):
        f[i] *= damping / diag[i]
    used = min(pushes, depth)
    if pushes > 0:
        slot = (pushes - 1) % depth
        new_f, new_g = d_f[slot], d_g[slot]
        for i in range(free):
            new_f[i] = f[i] - f_prev[i]
            new_g[i] = s[i] + f[i] - g_prev[i]
        for a in range(used):
            other = d_f[a]
            acc = 0.0
            for i in range(free):
                acc += new_f[i] * other[i]
            gram[slot, a] = acc
            gram[a, slot] = acc
    for i in range(free):
        f_prev[i] = f[i]
        g_prev[i] = s[i] + f[i]
    if used > 0:
        for a in range(used):
            row = d_f[a]
            acc = 0.0
            for i in range(free):
                acc += row[i] * f[i]
            scratch[0, a] = acc
        _mixing_weights(gram, used, regularisation, scratch)
        for a in range(used):
            gamma = scratch[1, a]
            row = d_g[a]
            for i in range(free):
                f[i] -= gamma * row[i]
    for i in range(free):
        s[i] += f[i]


@njit(inline="always", **_FLAGS)
def _mixing_weights(gram, used, regularisation, scratch):
    """Solve (H + μI) γ = ``scratch[0]`` for H = ``gram`` (``used`` × ``used``).

    Cholesky in float64; μ = ``regularisation`` × mean diagonal of H keeps the solve
    defined when stored differences are nearly parallel. γ goes to ``scratch[1]``;
    ``scratch[2]`` holds the forward substitution and ``scratch[3:]`` the factor.
    """
    trace = 0.0
    for a in range(used):
        trace += gram[a, a]
    mu = regularisation * trace / used + 1e-300
    for a in range(used):
        for b in range(a + 1):
            acc = gram[a, b] + (mu if a == b else 0.0)
            for c in range(b):
                acc -= scratch[3 + a, c] * scratch[3 + b, c]
            if a == b:
                scratch[3 + a, a] = np.sqrt(max(acc, 1e-300))
            else:
                scratch[3 + a, b] = acc / scratch[3 + b, b]
    for a in range(used):
        acc = scratch[0, a]
        for c in range(a):
            acc -= scratch[3 + a, c] * scratch[2, c]
        scratch[2, a] = acc / scratch[3 + a, a]
    for a in range(used - 1, -1, -1):
        acc = scratch[2, a]
        for c in range(a + 1, used):
            acc -= scratch[3 + c, a] * scratch[1, c]
        scratch[1, a] = acc / scratch[3 + a, a]


@njit(**_FLAGS)
def energies(s, tile, units, out):
    """E of every row of ``s`` into ``out`` (batch,), from the tile's current
    activations and column inputs."""
    for n in range(s.shape[0]):
        out[n] = _row_energy(n, s, tile, units)
