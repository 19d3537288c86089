"""How :func:`neurosim.engine.relax.relax` settles a circuit: solvers as frozen objects.

Each solver settles a batch through a job (``relax``'s private ``_Job``: the system's
runner of passes, its safe plain step, its guide, its stability test) and returns the
states, residuals, passes, which samples were settled along the circuit's own dynamics,
and the name of the method that settled them. The methods are described in
:mod:`neurosim.engine.relax` and :mod:`neurosim.engine.field_runner`; here they are
composed:

- :class:`Gradient` — plain steps ``s ← s + η F(s)``: the circuit's own dynamics;
- :class:`Certified` — for a circuit without an energy: guided by its guide system
  (a crossbar's reciprocal part), Anderson as a root finder for at most
  ``ROOT_FINDER_PASSES``, the stability certificate, and ``follow`` for every sample
  that fails it;
- :class:`Anderson` — energy-safeguarded Anderson acceleration (on a crossbar, Newton
  polish of slow samples under the Scellier–Bengio law) where the circuit has an
  energy, else :class:`Certified` with its depth and follow-up steps;
- :class:`Newton` — Newton steps with the system's exact Jacobian and a line search on
  its energy: for circuit families with few free nodes (the crossbar's runner has no
  such method; it polishes with Newton inside :class:`Anderson`);
- :class:`Auto` — :class:`Newton` where the system's runner offers it and the system
  has at most ``NEWTON_NODES`` free nodes, else :class:`Anderson`: on a crossbar,
  exactly what ``"auto"`` has always done.

:data:`SOLVERS` maps the ``--method`` names to them (Newton is reached through ``auto``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

# numpy loads on use: the CLI reads SOLVERS at start-up

DEFAULT_DEPTH = 12  # measured on trained digits networks: median passes 63 -> 44 vs depth 5
# Anderson's passes on a circuit without an energy before its unsettled samples are left
# to plain steps (mismatched digits: 14; multi-stable chains: median 40, tail > 50,000)
ROOT_FINDER_PASSES = 1000
NEWTON_NODES = 256  # Auto's limit for dense Newton steps (one jvp per node per step)


@dataclass(frozen=True)
class Gradient:
    """Plain steps of ``step`` τ along the circuit's dynamics (None: 0.1, capped at the
    largest step stable on every node)."""

    step: float | None = None
    name: ClassVar[str] = "gradient"

    def __post_init__(self) -> None:
        if self.step is not None and not (math.isfinite(self.step) and self.step > 0):
            raise ValueError(f"step must be positive, not {self.step!r}")

    def settle(self, job):
        """(state, residual, passes, followed, method) of the batch from ``job.start``."""
        step = job.safe_step() if self.step is None else self.step
        state, residual, passes = job.run(job.start, "gradient", job.max_passes, step)
        return state, residual, passes, job.flags(True), self.name


@dataclass(frozen=True)
class Certified:
    """A circuit without an energy: guidance by its guide system, Anderson of ``depth``
    as a root finder, the stability certificate, ``follow`` where it fails."""

    depth: int = DEFAULT_DEPTH
    follow: Gradient = field(default_factory=Gradient)
    name: ClassVar[str] = "anderson"

    def settle(self, job):
        guided, first = job.guide(self.depth)
        budget = min(job.max_passes, ROOT_FINDER_PASSES)
        state, residual, passes = job.run(guided, "anderson", budget, self.depth)
        passes += first
        followed = job.follow_uncertified(state, residual, passes, self.follow.step)
        return state, residual, passes, followed, self.name


@dataclass(frozen=True)
class Anderson:
    """Anderson acceleration of ``depth``, safeguarded by the circuit's energy; a
    circuit without one is settled by :class:`Certified` (same depth and ``follow``)."""

    depth: int = DEFAULT_DEPTH
    follow: Gradient = field(default_factory=Gradient)
    name: ClassVar[str] = "anderson"

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or not (isinstance(self.depth, int) and self.depth >= 1):
            raise ValueError(f"depth must be a positive integer, not {self.depth!r}")

    def settle(self, job):
        if not job.has_energy:
            return Certified(self.depth, self.follow).settle(job)
        state, residual, passes = job.run(job.start, "anderson", job.max_passes, self.depth)
        return state, residual, passes, job.flags(False), self.name


@dataclass(frozen=True)
class Newton:
    """Newton steps with the exact Jacobian and a line search on the energy (else on
    ½‖F‖²), on runners that offer them (:mod:`neurosim.engine.field_runner`)."""

    name: ClassVar[str] = "newton"

    def settle(self, job):
        state, residual, passes = job.run(job.start, "newton", job.max_passes, None)
        return state, residual, passes, job.flags(False), self.name


@dataclass(frozen=True)
class Auto:
    """:class:`Newton` on a small system whose runner has it, else :class:`Anderson`
    of ``depth`` with ``follow``."""

    depth: int = DEFAULT_DEPTH
    follow: Gradient = field(default_factory=Gradient)
    name: ClassVar[str] = "auto"

    def settle(self, job):
        if "newton" in job.runner.methods and job.system.free <= NEWTON_NODES:
            return Newton().settle(job)
        return Anderson(self.depth, self.follow).settle(job)


Solver = Gradient | Anderson | Certified | Newton | Auto

SOLVERS = {"auto": Auto, "anderson": Anderson, "gradient": Gradient}
"""The ``--method`` names."""


def solver_named(name: str, step: float | None = None) -> Solver:
    """The solver ``name`` of :data:`SOLVERS` whose plain steps are ``step`` τ."""
    if name not in SOLVERS:
        raise ValueError(f"method must be one of {', '.join(SOLVERS)}, not {name!r}")
    steps = Gradient(step)
    return steps if SOLVERS[name] is Gradient else SOLVERS[name](follow=steps)
