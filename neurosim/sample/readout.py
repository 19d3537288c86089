"""The velocity a host reads off a flow-matching crossbar at a point x (DESIGN §4.2, §4.4).

Both readouts are a current measured at the visible unit nodes: with ``i`` the current
[A] a source drives into each visible node, ``v = −α·i/(vs·g_unit)`` (model units).

- ``"spring"``: the spring targets are set to x and the whole circuit settles (visible
  and hidden units move); the spring current gives v = αλ(x* − x)
  (:func:`neurosim.learn.estimators.velocity`).
- ``"energy"``: the visible nodes are held at x by voltage sources in place of the
  springs — the visible layer becomes a clamped input layer of the crossbar
  (:func:`clamp_layer`) — and only the hidden units settle; the clamp current gives
  v = −α ∂E/∂x at (x, h*), E the network's energy without the springs. It is the
  visible units' net current F_x of the unclamped circuit at (x, h*), read with the
  engine's own pass (:class:`neurosim.engine.relax.Workspace`).

Relaxations start from ``start`` when given (the circuit still sits at its previous
equilibrium: a warm start), else from rest as a training free phase does (x on the
visible units for the spring readout, 0 elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from neurosim.engine.relax import Equilibrium, Tables, Workspace, relax
from neurosim.engine.sources import Sources, default_sources
from neurosim.errors import CircuitError
from neurosim.learn.estimators import velocity
from neurosim.lower.crossbar import Crossbar, Group

READOUTS = ("spring", "energy")


@dataclass(frozen=True)
class Reading:
    """One reading of a batch: ``velocity`` (batch, dim), model units per unit time, and
    the ``equilibrium`` of the circuit that settled (the whole crossbar for ``"spring"``,
    its clamped form for ``"energy"``); its ``state`` warm-starts the next reading."""

    velocity: np.ndarray
    equilibrium: Equilibrium


class Readout:
    """The ``kind`` readout (:data:`READOUTS`) of ``crossbar``'s visible layer, scale α.

    ``tolerance`` (model units of residual current) and ``max_passes`` go to
    :func:`neurosim.engine.relax.relax`.
    """

    def __init__(
        self,
        crossbar: Crossbar,
        kind: str,
        alpha: float,
        *,
        tolerance: float = 1e-6,
        max_passes: int = 5000,
    ) -> None:
        if kind not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, not {kind!r}")
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be positive and finite, not {alpha!r}")
        self.crossbar, self.kind, self.alpha = crossbar, kind, float(alpha)
        self.options = {"tolerance": tolerance, "max_passes": max_passes}
        self.layer = sampled_layer(crossbar)
        self.where = crossbar.free_slices()[self.layer]
        self.dim = self.where.stop - self.where.start
        if kind == "energy":
            self.clamped, self.index = clamp_layer(crossbar, self.layer)
            self.tables = Tables.build(crossbar, crossbar.defaults["nudge"], np.float64)

    def cold_start(self, x: np.ndarray) -> np.ndarray:
        """The state a relaxation at ``x`` (batch, dim) starts from without history."""
        if self.kind == "energy":
            return np.zeros((x.shape[0], self.clamped.free))
        start = np.zeros((x.shape[0], self.crossbar.free))
        start[:, self.where] = x
        return start

    def read(self, x: np.ndarray, start: np.ndarray | None = None) -> Reading:
        """v(x) for a batch of points ``x`` (batch, dim), relaxing from ``start``
        (a previous :attr:`Reading.equilibrium` state) or from :meth:`cold_start`."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x has shape {x.shape}, expected (batch, {self.dim})")
        start = self.cold_start(x) if start is None else start
        if self.kind == "spring":
            sources = self._spring_sources(x)
            eq = relax(self.crossbar, sources, start=start, **self.options)
            return Reading(velocity(self.crossbar, sources, eq.state, self.alpha, self.layer), eq)
        clamped = default_sources(self.clamped, x.shape[0])
        clamped.inputs[:, self.clamped.input_slices()[self.layer]] = x
        eq = relax(self.clamped, clamped, start=start, **self.options)
        state = np.empty((x.shape[0], self.crossbar.free))
        state[:, self.where] = x
        state[:, self.index] = eq.state
        # springs at rest (targets = x) carry no current: the clamp supplies −F_x
        net = net_current(self.crossbar, self._spring_sources(x), state, self.tables)
        return Reading(self.alpha * net[:, self.where], eq)

    def _spring_sources(self, x: np.ndarray) -> Sources:
        sources = default_sources(self.crossbar, x.shape[0])
        sources.targets[:, self.where] = x
        return sources


def sampled_layer(crossbar: Crossbar) -> str:
    """The visible layer a flow sampler integrates; :class:`CircuitError` unless there is
    exactly one and every unit of it has a spring."""
    visible = [n for n in crossbar.free_slices() if crossbar.meta.layer(n).kind == "visible"]
    if len(visible) != 1:
        raise CircuitError(
            f"sampling needs exactly one visible layer, the network has {len(visible)}"
        )
    layer = visible[0]
    if not np.all(crossbar.spring[crossbar.free_slices()[layer]] > 0):
        raise CircuitError(
            f"visible layer {layer} has no springs: only a flow-matching network (springs "
            "on its visible units, spring_lambda > 0) has a velocity readout to sample"
        )
    return layer


def net_current(
    crossbar: Crossbar, sources: Sources, state: np.ndarray, tables: Tables | None = None
) -> np.ndarray:
    """F(s): each free unit node's net current ÷ (vs·g_unit), (batch, free), float64.

    One engine pass at ``state`` (batch, free); ``tables`` of ``crossbar`` (float64, the
    nudge of ``sources``) may be passed to save rebuilding them.
    """
    state = np.ascontiguousarray(state, dtype=np.float64)
    tables = Tables.build(crossbar, sources.nudge, np.float64) if tables is None else tables
    work = Workspace(crossbar, tables, sources, slice(0, sources.batch))
    out = np.empty_like(state)
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads slow relax
        work.force(state, out, np.empty(sources.batch))
    return out


def clamp_layer(crossbar: Crossbar, layer: str) -> tuple[Crossbar, np.ndarray]:
    """``crossbar`` with the free ``layer``'s nodes held by voltage sources.

    The layer becomes a clamped input layer (its row drivers still drive its forward
    arrays; the current its own columns collect goes into the clamp). Returns the new
    crossbar (no element layout: it cannot :meth:`Crossbar.refresh`) and ``index``
    (free,): where each of its free units sits in ``crossbar``'s flat state.
    """
    meta = crossbar.meta
    if layer not in crossbar.free_slices():
        raise ValueError(f"{layer!r} is not a free layer of the crossbar")
    layers = tuple(replace(l, kind="input") if l.name == layer else l for l in meta.layers)
    clamped_meta = replace(meta, layers=layers)
    groups, rows = [], []
    for group in (crossbar.even, crossbar.odd):
        names = list(group.layers)
        free = [n for n in names if n != layer and meta.layer(n).kind != "input"]
        inputs = [n for n in names if meta.layer(n).kind == "input"]
        order = free + inputs + ([layer] if layer in names else [])
        slices, offset, picked = {}, 0, []
        for name in order:
            where = group.slices[name]
            slices[name] = slice(offset, offset + where.stop - where.start)
            offset += where.stop - where.start
            picked.append(np.arange(where.start, where.stop))
        free_count = sum(group.slices[n].stop - group.slices[n].start for n in free)
        groups.append(Group(tuple(order), free_count, offset, slices))
        rows.append(np.concatenate(picked).astype(np.int64))
    even, odd = groups
    index = np.concatenate([rows[0][: even.free], rows[1][: odd.free] + crossbar.even.free])
    per_unit = ("start", "targets", "nudge_targets", "nudge")
    defaults = {k: crossbar.defaults[k][index] for k in per_unit}
    inputs = []
    old_inputs = crossbar.input_slices()
    for group in (crossbar.even, crossbar.odd):
        for name in group.layers:
            if name in old_inputs:
                inputs.append(crossbar.defaults["inputs"][old_inputs[name]])
        if layer in group.layers:
            inputs.append(crossbar.defaults["targets"][crossbar.free_slices()[layer]])
    defaults["inputs"] = np.concatenate(inputs)
    clamped = Crossbar(
        meta=clamped_meta,
        even=even,
        odd=odd,
        m_eo=crossbar.m_eo[np.ix_(rows[0], rows[1][: odd.free])],
        m_oe=crossbar.m_oe[np.ix_(rows[1], rows[0][: even.free])],
        bias=crossbar.bias[index],
        leak=crossbar.leak[index],
        spring=crossbar.spring[index],
        inj_gain=crossbar.inj_gain[index],
        tau=crossbar.tau[index],
        act_code=crossbar.act_code[index],
        slope=crossbar.slope[index],
        defaults=defaults,
        row_conductance_even=crossbar.row_conductance_even[rows[0]],
        row_conductance_odd=crossbar.row_conductance_odd[rows[1]],
        bias_power=crossbar.bias_power,
        rails=crossbar.rails,
    )
    return clamped, index
