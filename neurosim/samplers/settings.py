"""Sampler settings: frozen, validated at construction (:mod:`neurosim.validation`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from neurosim.validation import SettingsError, Validated, at_least, one_of, positive, setting

MAX_STEPS = 1_000_000  # Euler steps a sampler takes at most (t1/dt beyond: refused)


def _optional_positive(value) -> bool:
    return value is None or positive(value)


@dataclass(frozen=True, kw_only=True)
class EulerSampling(Validated):
    """Flow-matching generation: x0 ~ N(0, I), Euler steps x += dt·v(x) up to t1, each
    v(x) read off the settled circuit, then a clip to [−1, 1]
    (:func:`neurosim.samplers.flow.euler_samples`)."""

    sampler: ClassVar[str] = "flow_euler"

    n: int = setting(1000, at_least(1), "a whole number >= 1", "Number of samples.")
    t1: float = setting(
        1.0,
        positive,
        "a finite number > 0",
        "Integrate from t = 0 to t1 (t1 > 1: extended generation); a whole number of --dt.",
    )
    dt: float = setting(0.01, positive, "a finite number > 0", "Euler step.")
    readout: str = setting(
        "spring",
        one_of("spring", "energy"),
        "spring or energy",
        "spring: targets at x, whole circuit settles, v = alpha*lambda*(x* - x); "
        "energy: visible nodes clamped at x, hidden units settle, v = -alpha*dE/dx.",
    )
    seed: int = setting(0, at_least(0), "a whole number >= 0", "Seed of the noise x0 ~ N(0, I).")
    alpha: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (or none)",
        "Output scale of the readout. Default: the run's checkpoint settings, else 2.",
    )
    tol: float = setting(
        1e-6,
        positive,
        "a finite number > 0",
        "Settle each step until every unit's residual current is below this (model units).",
    )
    warm_start: bool = setting(
        False,
        lambda v: isinstance(v, bool),
        "true or false",
        "Settle each step from the previous step's equilibrium instead of from rest "
        "(x, h = 0, as training's free phases): ~20% fewer passes, but where the energy has "
        "several minima it can follow another branch than the one training used.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        from neurosim.samplers.flow import step_count  # numerical modules load on use

        try:
            steps = step_count(self.t1, self.dt)
        except ValueError as exc:
            raise SettingsError("t1", str(exc), type(self).__name__) from None
        if steps > MAX_STEPS:
            raise SettingsError(
                "dt",
                f"gives {steps:.3g} steps to t1 = {self.t1:g}; at most {MAX_STEPS:,}",
                type(self).__name__,
            )

    @property
    def steps(self) -> int:
        """Euler steps from 0 to t1."""
        from neurosim.samplers.flow import step_count

        return step_count(self.t1, self.dt)

    def record(self) -> dict:
        """The settings as JSON-ready data, with the sampler's name."""
        return {"sampler": self.sampler, **asdict(self)}
