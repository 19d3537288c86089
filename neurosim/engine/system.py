"""The engine's view of one lowered circuit family: a :class:`System`.

A system is a circuit whose unknowns (its *state*, one entry per free node or unit, in
the order of :meth:`System.labels`) settle where the net current into every free node
vanishes. For a batch of source settings the engine needs only:

- ``field(sources, s)`` — F(s) (batch, free): each free node's net current, in the
  system's units (so that τ ds/dt = F(s) are its dynamics with unit capacitances);
- ``energy(sources, s)`` where ``has_energy`` — a Lyapunov function with F = −∂E/∂s
  (or one F descends), the merit function of the accelerated solver;
- ``jvp(sources, s, v)`` — J·v with J = ∂F/∂s, and ``diagonal(sources, s)`` — −J_ii,
  each node's conductance to everything held fixed (the preconditioner);
- ``stable(sources, s)`` — a certificate that an equilibrium is linearly stable;
- optionally ``jacobian(sources, s)`` — J itself (batch, free, free), which Newton
  otherwise assembles from one ``jvp`` per free node;
- ``guide()`` — a nearby system with an energy to guide the search (or None);
- ``sources_from_settings(settings)`` and ``node_voltages(sources, s)`` — the bridge
  to the netlist's SI values, for ``check`` and ``relax``;
- ``runner(...)`` — what runs a solver's passes on a batch: the crossbar its tiled
  Numba kernels (:mod:`neurosim.engine.crossbar_system`), every other family the NumPy
  loops of :mod:`neurosim.engine.field_runner` built on the calls above.

The solvers (:mod:`neurosim.engine.solvers`) and :func:`neurosim.engine.relax.relax` see
nothing else, so a new circuit family is one module implementing this protocol plus one
entry in :data:`neurosim.engine.systems.FAMILIES`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np


class Runner(Protocol):
    """Runs one method of a solver on a batch (see :class:`System.runner`)."""

    tol: float
    methods: frozenset[str]  # the methods it runs: "anderson", "gradient", maybe "newton"

    def __call__(self, sources, start: np.ndarray, method: str, budget: int, option):
        """``method`` ("anderson": ``option`` its depth; "gradient": its step; "newton") on
        ``sources`` from ``start`` (batch, free) for at most ``budget`` passes; returns
        state, residual (batch,) max |F| and passes (batch,) int64."""

    def safe_step(self) -> float:
        """A plain step stable on every node, τ."""


@runtime_checkable
class System(Protocol):
    """One lowered circuit, as the engine sees it (see the module docstring)."""

    @property
    def free(self) -> int:
        """Number of state entries."""

    @property
    def has_energy(self) -> bool:
        """True if the dynamics descend :meth:`energy`."""

    def labels(self) -> list[str]:
        """The state layout: the node or unit name of each entry."""

    def field(self, sources, state: np.ndarray) -> np.ndarray:
        """F(s) (batch, free), float64."""

    def energy(self, sources, state: np.ndarray) -> np.ndarray:
        """E(s) (batch,); raises :class:`neurosim.errors.CircuitError` without one."""

    def jvp(self, sources, state: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """J·v (batch, free) at ``state`` for ``direction`` (batch, free)."""

    def diagonal(self, sources, state: np.ndarray) -> np.ndarray:
        """−J_ii (batch, free) at ``state``: positive on a well-posed circuit."""

    def stable(self, sources, state: np.ndarray) -> np.ndarray:
        """(batch,) bool: the equilibria ``state`` pass the system's stability test."""

    def guide(self) -> System | None:
        """A system with an energy whose equilibria lie near this one's, or None."""

    def sources_from_settings(self, settings: list[dict[str, float]]):
        """The system's sources for each setting (source element name -> SI value)."""

    def node_voltages(self, sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Node name -> (batch,) volts of every node the system knows."""

    def runner(self, sources, dtype, tol: float, threads, tile_rows: int, report) -> Runner:
        """The :class:`Runner` of this system for ``sources`` in ``dtype``, stopping at
        max |F| ≤ ``tol``; ``report`` (:class:`Progress`) counts settled samples."""


class Progress:
    """Thread-safe count of settled samples, forwarded to ``callback(done, batch)``."""

    def __init__(self, batch: int, callback: Callable[[int, int], None] | None) -> None:
        self.batch, self.callback, self.done = batch, callback, 0
        self.lock = threading.Lock()

    def add(self, newly_done: int) -> None:
        if self.callback is None:
            return
        with self.lock:
            self.done += newly_done
            self.callback(self.done, self.batch)
