"""What a relaxation's tiles share and hold: the circuit's tables and a tile's arrays.

:class:`Tables` are the effective weights and per-unit rows of a crossbar in one dtype,
with the energy law the accelerated solver descends (:func:`energy_law`). A
:class:`Workspace` holds one tile's activations and column inputs and evaluates the
force F(s) and the energy E(s) with the kernels of :mod:`neurosim.engine._kernels` —
the one definition of both that every solver, the public energy
(:mod:`neurosim.engine.energy`), the transient and the clamp readout use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.circuit.meta import SCELLIER_BENGIO
from neurosim.engine import _kernels as kernels
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import RHO, Crossbar, row_values, transformed

GEMM_ROWS = 16  # the GEMMs on a tile's active rows run on a multiple of this many rows


@dataclass(frozen=True)
class Tables:
    """What every tile shares: effective weights and per-unit rows in one dtype."""

    m_eo: np.ndarray
    m_oe: np.ndarray
    unit: np.ndarray  # (kernels.UNIT_ROWS, free)
    layers: np.ndarray  # (n_layers, 4) int64: start, stop, activation code, row transform
    code: np.ndarray  # (free,) int64 activation code per unit
    free_e: int
    energy_law: int  # kernels.NO_ENERGY / SB_ENERGY / HOPFIELD_ENERGY (the merit function)

    def units(self) -> kernels.Units:
        """The per-unit tables as the kernels take them."""
        return kernels.Units(self.unit, self.layers, self.code, self.energy_law)

    @classmethod
    def build(cls, crossbar: Crossbar, nudge: np.ndarray, dtype: np.dtype) -> Tables:
        """The tables of ``crossbar`` with nudge conductances ``nudge`` (free,), in ``dtype``."""
        cb = crossbar
        nudge = np.asarray(nudge, dtype=float)
        diag = cb.leak + cb.spring + nudge
        if np.any(diag <= 0.0):
            index = int(np.flatnonzero(diag <= 0.0)[0])
            unit = cb.layout.units[index] if cb.layout else f"#{index}"
            raise CircuitError(
                f"unit {unit}: leak + spring + nudge conductance is not positive "
                f"({diag[index]:g} g_unit); the engine cannot settle it"
            )
        # a gain α shared by every injection multiplies all column currents: fold it into
        # the weights and biases (the same force; an energy with αW, αb: see below)
        fold = uniform_gain(cb) or 1.0
        unit = np.zeros((kernels.UNIT_ROWS, cb.free))
        unit[kernels.BIAS] = cb.bias * fold
        unit[kernels.LEAK] = cb.leak
        unit[kernels.SPRING] = cb.spring
        unit[kernels.GAIN] = np.where(cb.slope == 1, 0.0, cb.inj_gain / fold)
        unit[kernels.SLOPE] = np.where(cb.slope == 1, cb.inj_gain / fold, 0.0)
        unit[kernels.NUDGE] = nudge
        unit[kernels.DIAG] = diag
        rows = np.concatenate(
            [cb.row_transform_even[:, : cb.even.free], cb.row_transform_odd[:, : cb.odd.free]],
            axis=1,
        )
        unit[[kernels.SHIFT, kernels.LOW, kernels.HIGH]] = rows
        changed = transformed(rows)
        layers = [
            (where.start, where.stop, int(cb.act_code[where.start]), int(changed[where].any()))
            for where in cb.free_slices().values()
        ]
        return cls(
            m_eo=np.ascontiguousarray(cb.m_eo * fold, dtype=dtype),
            m_oe=np.ascontiguousarray(cb.m_oe * fold, dtype=dtype),
            unit=np.ascontiguousarray(unit, dtype=dtype),
            layers=np.array(sorted(layers), dtype=np.int64).reshape(-1, 4),
            code=np.ascontiguousarray(cb.act_code, dtype=np.int64),
            free_e=cb.even.free,
            energy_law=energy_law(cb),
        )


def uniform_gain(crossbar: Crossbar) -> float | None:
    """α if every unit's injection gain is the same α > 0 (to 1e-12 relative), else None.

    Each unit's injection feeds it α times its column current, Σ_j W_ij ρ_j + b_i, so the
    force is F_i = −D_i s_i + α·(ρ'_i)(Σ_j W_ij ρ_j + b_i) (+ spring and nudge, which do
    not pass the injection): the force of the same circuit with weights αW and biases αb
    and gain 1. A symmetric W stays symmetric, so the circuit keeps an energy function —
    the one of αW, αb — and the accelerated solver may descend it (drift compensation
    writes such a gain, :mod:`neurosim.host.deploy`).
    """
    gains = crossbar.inj_gain
    alpha = float(gains[0]) if gains.size else 1.0
    if alpha > 0 and np.all(np.abs(gains - alpha) <= 1e-12 * alpha):
        return alpha
    return None


def no_energy_reason(crossbar: Crossbar) -> str | None:
    """Why the circuit has no energy function its dynamics descend, or None if it has one."""
    if not crossbar.symmetric():
        return "forward and backward device arrays differ"
    if uniform_gain(crossbar) is None:
        return "the injection gains differ between units (or are not positive)"
    if crossbar.transforms_rows():
        return "a row driver has an offset or limits"
    if crossbar.meta.law != SCELLIER_BENGIO and np.any(crossbar.act_code == RHO):
        return "the hopfield law has no energy for a non-monotone activation (rho)"
    return None


def energy_law(crossbar: Crossbar) -> int:
    """The energy the accelerated solver descends: kernels.SB_ENERGY or HOPFIELD_ENERGY,
    or kernels.NO_ENERGY for a circuit without one (:func:`no_energy_reason`)."""
    if no_energy_reason(crossbar) is not None:
        return kernels.NO_ENERGY
    if crossbar.meta.law == SCELLIER_BENGIO:
        return kernels.SB_ENERGY
    return kernels.HOPFIELD_ENERGY


class Workspace:
    """The arrays of one tile of a batch, reused across its passes."""

    def __init__(self, crossbar: Crossbar, tables: Tables, sources: Sources, rows: slice):
        dtype = tables.m_eo.dtype
        self.tables = tables
        batch = rows.stop - rows.start
        self.targets = np.ascontiguousarray(sources.targets[rows], dtype=dtype)
        self.nudge_targets = np.ascontiguousarray(sources.nudge_targets[rows], dtype=dtype)
        self.act_e = np.zeros((batch, crossbar.even.width), dtype=dtype)
        self.act_o = np.zeros((batch, crossbar.odd.width), dtype=dtype)
        self.net_e = np.zeros((batch, crossbar.even.free), dtype=dtype)
        self.net_o = np.zeros((batch, crossbar.odd.free), dtype=dtype)
        self.slope_of = np.zeros((batch, crossbar.free), dtype=dtype)
        for name, where in crossbar.input_slices().items():
            group, act = (
                (crossbar.even, self.act_e)
                if name in crossbar.even.slices
                else (crossbar.odd, self.act_o)
            )
            rho = get_activation(crossbar.meta.layer(name).activation).rho
            columns = group.slices[name]
            transform = crossbar.row_transform_of(group)[:, columns]
            act[:, columns] = row_values(rho(sources.inputs[rows, where]), transform)
        # the clamped inputs' constant share of the column inputs (for the energy)
        self.input_e = self.act_o[:, crossbar.odd.free :] @ tables.m_oe[crossbar.odd.free :]
        self.input_o = self.act_e[:, crossbar.even.free :] @ tables.m_eo[crossbar.even.free :]
        self.units = tables.units()
        self.tile = kernels.Tile(
            self.net_e,
            self.net_o,
            self.act_e,
            self.act_o,
            self.slope_of,
            self.targets,
            self.nudge_targets,
            self.input_e,
            self.input_o,
        )

    def activate(self, s: np.ndarray) -> None:
        """ρ(s) and ρ'(s) into the activation arrays."""
        kernels.activate(s, self.tile, self.units)

    def columns(self, active: np.ndarray | None = None) -> None:
        """The column inputs from the current activations (the two GEMMs); with
        ``active`` (tile,) bool, once at most half the tile is active, only those rows."""
        t = self.tables
        if active is not None and 2 * np.count_nonzero(active) <= active.size:
            rows = _padded(np.flatnonzero(active), active.size)
            self.net_e[rows] = self.act_o[rows] @ t.m_oe
            self.net_o[rows] = self.act_e[rows] @ t.m_eo
            return
        np.matmul(self.act_o, t.m_oe, out=self.net_e)
        np.matmul(self.act_e, t.m_eo, out=self.net_o)

    def energies(self, s: np.ndarray, out: np.ndarray) -> None:
        """E of each row of ``s`` into ``out`` (tile,), model units, from the current
        activations and column inputs (those of ``s``); the tables' energy law."""
        kernels.energies(s, self.tile, self.units, out)

    def force(self, s: np.ndarray, out: np.ndarray, residual: np.ndarray) -> None:
        """F(s) into ``out`` and max |F| per sample into ``residual`` (one full pass)."""
        self.activate(s)
        self.columns()
        kernels.force(s, self.tile, self.units, out, residual)


def _padded(rows: np.ndarray, size: int) -> np.ndarray:
    """``rows`` and as many of the other rows of range(size) as make a multiple of
    ``GEMM_ROWS``: BLAS then runs every row through the same full-height kernel, so a
    row's column inputs have the same bits in any subset (tested)."""
    extra = -rows.size % GEMM_ROWS
    if extra == 0:
        return rows
    others = np.setdiff1d(np.arange(size), rows, assume_unique=True)[:extra]
    return np.sort(np.concatenate([rows, others]))
