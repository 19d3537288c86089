"""Sampler settings: frozen, validated at construction (:mod:`neurosim.validation`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from neurosim.validation import (
    SettingsError,
    Validated,
    at_least,
    non_negative,
    one_of,
    positive,
    setting,
    unit_interval,
)

MAX_STEPS = 1_000_000  # steps a sampler takes at most (Euler: t1/dt beyond is refused)
HELD_REPORTS = 20  # times the analog Langevin sampler's transient reports (progress)


def _optional_positive(value) -> bool:
    return value is None or positive(value)


def _probes():
    """The ``probes`` setting of the host-loop samplers."""
    return setting(
        4,
        at_least(0),
        "a whole number >= 0",
        "Samples whose every settling is timed from the circuit's slowest time constant "
        "(and its energy: the power held for that time), reported per step and per "
        "sample next to the wall time (0: none; each costs a Jacobian per step).",
    )


@dataclass(frozen=True, kw_only=True)
class Sampling(Validated):
    """What every sampler shares: how many samples, the readout and its scale, the seed
    of the noise they start from, and the settling tolerance."""

    sampler: ClassVar[str] = ""

    n: int = setting(1000, at_least(1), "a whole number >= 1", "Number of samples.")
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

    def record(self) -> dict:
        """The settings as JSON-ready data, with the sampler's name."""
        return {"sampler": self.sampler, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class EulerSampling(Sampling):
    """Flow-matching generation: x0 ~ N(0, I), Euler steps x += dt·v(x) up to t1, each
    v(x) read off the settled circuit, then a clip to [−1, 1]
    (:func:`neurosim.samplers.flow.euler_samples`)."""

    sampler: ClassVar[str] = "flow_euler"

    t1: float = setting(
        1.0,
        positive,
        "a finite number > 0",
        "Integrate from t = 0 to t1 (t1 > 1: extended generation); a whole number of --dt.",
    )
    dt: float = setting(0.01, positive, "a finite number > 0", "Euler step.")
    probes: int = _probes()
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

    def generate(self, chip, alpha: float, progress=None):
        """Samples (n, dim) in [−1, 1], each sample's step count (n,) and the costs
        (:class:`neurosim.samplers.flow.SampleStats`)."""
        import numpy as np

        from neurosim.samplers.flow import euler_samples

        rng = np.random.default_rng(self.seed)
        samples, stats = euler_samples(
            chip, self.n, self.t1, self.dt, rng, alpha, self.readout, progress,
            warm=self.warm_start, tolerance=self.tol, probes=self.probes,
        )  # fmt: skip
        return samples, np.full(self.n, self.steps), stats


@dataclass(frozen=True, kw_only=True)
class DescentSampling(Sampling):
    """Equilibrium Matching's gradient descent on the circuit's landscape: x0 ~ N(0, I),
    ``steps`` steps x ← x − η f(x) with f = −v read off the settled circuit
    (:mod:`neurosim.samplers.descent`), then a clip to [−1, 1]."""

    sampler: ClassVar[str] = "gd"

    eta: float = setting(0.15, positive, "a finite number > 0", "Step size η.")
    steps: int = setting(
        10, lambda v: at_least(1)(v) and v <= MAX_STEPS, f"in 1..{MAX_STEPS:,}", "Steps (at most)."
    )
    mu: float = setting(
        0.0, unit_interval, "in [0, 1)", "Nesterov look-ahead μ (0: plain gradient descent)."
    )
    g_min: float = setting(
        0.0,
        lambda v: positive(v) or v == 0,
        "a finite number >= 0",
        "Adaptive compute: a sample stops when ‖f(x)‖ < g_min (0: never; model units).",
    )
    start_from: str | None = setting(
        None,
        lambda v: v is None or (isinstance(v, str) and v != ""),
        "a dataset name or file (or none)",
        "Start from partially noised data instead of noise: the first --n rows x of this "
        "dataset (digits, moons, ring8, or a .npy/.npz/.h5 file), at γx + (1 − γ)ε.",
    )
    noise_level: float = setting(
        0.5,
        lambda v: non_negative(v) and v <= 1,
        "in [0, 1]",
        "γ of --start-from: the share of the data in the start (1: the data itself).",
    )
    probes: int = _probes()

    def generate(self, chip, alpha: float, progress=None):
        """Samples (n, dim) in [−1, 1], each sample's step count (n,) and the costs."""
        import numpy as np

        from neurosim.samplers.descent import descent_samples

        rng = np.random.default_rng(self.seed)
        start = None
        if self.start_from is not None:
            start = self._partly_noised(rng)
        return descent_samples(
            chip, self.n, rng, alpha, self.eta, self.steps, mu=self.mu, g_min=self.g_min,
            readout=self.readout, tolerance=self.tol, progress=progress, x0=start,
            probes=self.probes,
        )  # fmt: skip

    def _partly_noised(self, rng):
        """γx + (1 − γ)ε for the first ``n`` rows x of ``start_from`` (EqM's denoising)."""
        from neurosim.data.datasets import load_dataset

        data = load_dataset(self.start_from).x
        if data.shape[0] < self.n:
            raise SettingsError(
                "n", f"asks for {self.n} samples; {self.start_from} has {data.shape[0]} rows",
                type(self).__name__,
            )  # fmt: skip
        x = data[: self.n]
        return self.noise_level * x + (1 - self.noise_level) * rng.standard_normal(x.shape)


@dataclass(frozen=True, kw_only=True)
class NesterovSampling(DescentSampling):
    """Gradient descent with Nesterov's look-ahead (μ = 0.35, the EqM paper's best)."""

    sampler: ClassVar[str] = "nag"

    mu: float = setting(
        0.35, unit_interval, "in [0, 1)", "Nesterov look-ahead μ (0: plain gradient descent)."
    )


@dataclass(frozen=True, kw_only=True)
class AdaptiveSampling(DescentSampling):
    """Gradient descent with adaptive compute: each sample stops when ‖f(x)‖ < g_min
    (up to ``steps``); the samples file records each sample's step count."""

    sampler: ClassVar[str] = "adaptive"

    steps: int = setting(
        40, lambda v: at_least(1)(v) and v <= MAX_STEPS, f"in 1..{MAX_STEPS:,}", "Steps (at most)."
    )
    g_min: float = setting(
        1.0,
        positive,
        "a finite number > 0",
        "Adaptive compute: a sample stops when ‖f(x)‖ < g_min (model units).",
    )


@dataclass(frozen=True, kw_only=True)
class AnalogSampling(Sampling):
    """The circuit samples by itself: x0 ~ N(0, I) set on the visible nodes, the
    springs disconnected, and the circuit's own transient for ``duration`` seconds of
    physical time (:mod:`neurosim.samplers.analog`), noisy at a ``temperature`` > 0
    (Langevin); then a clip to [−1, 1]."""

    sampler: ClassVar[str] = "analog"

    duration: float = setting(
        5e-5,
        positive,
        "a finite number > 0 (seconds)",
        "Physical time the released circuit runs (the digits circuits' τ is 1 µs).",
    )
    temperature: float = setting(
        0.0,
        non_negative,
        "a finite number >= 0 (kelvin)",
        "Thermal noise of each released node's leak resistor at this temperature "
        "(Langevin sampling; 0: none). kT/C at 300 K is only ~6 µV on 100 pF, so useful "
        "values are ~1e8-1e9 K: an injected noise current of that density.",
    )
    time_step: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (seconds, or none)",
        "Euler–Maruyama step of the noisy transient. Default: 0.05 of the units' τ.",
    )
    inductance: float = setting(
        0.0,
        non_negative,
        "a finite number >= 0 (henries)",
        "An inductor in series with each released node's capacitor: momentum (a heavy "
        "ball of mass L*C and friction C/G); 0: none. L*G = 0.1 us is 1 mH on a 10 kOhm leak.",
    )
    checkpoints: int = setting(
        20, at_least(1), "a whole number >= 1", "Times the transient reports (progress)."
    )

    @property
    def steps(self) -> int:
        """Progress steps: the transient's reporting times."""
        return self.checkpoints

    def generate(self, chip, alpha: float, progress=None):
        """Samples (n, dim) in [−1, 1], each sample's integrator step count (n,) and the
        costs (the physical time and heat in :func:`neurosim.samplers.analog.analog_samples`)."""
        import numpy as np

        from neurosim.samplers.analog import analog_samples

        rng = np.random.default_rng(self.seed)
        return analog_samples(
            chip, self.n, rng, self.duration, self.checkpoints, tolerance=self.tol,
            temperature=self.temperature, time_step=self.time_step,
            inductance=self.inductance, progress=progress,
        )  # fmt: skip

    def released(self, chip):
        """The circuit :meth:`generate` runs on ``chip`` (valid ngspice; sample 0's start
        in its capacitors: :func:`neurosim.samplers.analog.released_circuit`)."""
        import numpy as np

        from neurosim.samplers.analog import released_circuit

        rng = np.random.default_rng(self.seed)
        return released_circuit(
            chip, self.n, rng, self.temperature, self.time_step, self.inductance
        )


@dataclass(frozen=True, kw_only=True)
class LangevinSampling(Sampling):
    """Langevin dynamics of the learned field (Flux Matching): x0 ~ N(0, I), ``steps``
    Euler–Maruyama steps x += dt·f(x) + √(2dt)·ξ, each f read off the settled circuit
    (:mod:`neurosim.samplers.langevin`); not clipped. ``anneal``: down a noise-conditional
    circuit's levels instead; ``analog``: integrated by the circuit itself
    (:func:`neurosim.samplers.analog.held_samples`), reporting ``HELD_REPORTS`` times."""

    sampler: ClassVar[str] = "langevin"

    dt: float = setting(0.01, positive, "a finite number > 0", "Euler–Maruyama step.")
    steps: int = setting(
        500, lambda v: at_least(1)(v) and v <= MAX_STEPS, f"in 1..{MAX_STEPS:,}", "Steps."
    )
    anneal: bool = setting(
        False,
        lambda v: isinstance(v, bool),
        "true or false",
        "Anneal a noise-conditional circuit (train --sigma-max) from --sigma-max down to "
        "--sigma-min in --steps levels, x0 ~ sigma_max*N(0, I) (the reverse-time SDE; "
        "--dt unused).",
    )
    denoise: bool = setting(
        False,
        lambda v: isinstance(v, bool),
        "true or false",
        "--anneal: one noise-free step more at the end, x += sigma_min^2*f(x, sigma_min) "
        "(Tweedie's formula: each sample to the mean of its clean point; one reading).",
    )
    sigma_min: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (or none)",
        "A noise-conditional circuit's smallest noise level (it is read there without "
        "--anneal). Default: the run's --sigma.",
    )
    sigma_max: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (or none)",
        "--anneal: the largest noise level. Default: the run's --sigma-max.",
    )

    warm_start: bool = setting(
        False,
        lambda v: isinstance(v, bool),
        "true or false",
        "Settle each reading from the previous step's equilibrium (the branch the circuit "
        "is on, as the held circuit of --analog follows it) instead of from rest (as "
        "training reads the field).",
    )
    analog: bool = setting(
        False,
        lambda v: isinstance(v, bool),
        "true or false",
        "The circuit integrates its own field: each spring's target source replaced by a "
        "capacitor node (the sample) with the noise current that makes it Langevin, run "
        "for steps*dt of model time (alpha*hold_tau*steps*dt seconds of circuit time) on "
        "the transient engine; the circuit is written beside --out as OUT.held.cir (valid "
        "ngspice).",
    )
    hold_tau: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (seconds, or none)",
        "--analog: the holding capacitors' time constant C/g_unit; the slower against "
        "the network's settling, the closer to the host loop's Langevin. Default: 20 of "
        "the units' largest tau.",
    )
    time_step: float | None = setting(
        None,
        _optional_positive,
        "a finite number > 0 (seconds, or none)",
        "--analog: the Euler–Maruyama step. Default: 0.05 of the units' smallest tau.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.analog and self.anneal:
            raise SettingsError("analog", "and --anneal: the circuit runs at one noise level")
        if self.denoise and not self.anneal:
            raise SettingsError("denoise", "needs --anneal (it is the annealing's last step)")
        low, high = self.sigma_min, self.sigma_max
        if low is not None and high is not None and high <= low:
            raise SettingsError("sigma_max", f"must be more than sigma_min ({low:g}), not {high:g}")

    def generate(self, chip, alpha: float, progress=None):
        """Samples (n, dim), each sample's step count (n,) and the costs."""
        import numpy as np

        from neurosim.samplers.langevin import langevin_samples

        rng = np.random.default_rng(self.seed)
        if self.analog:
            from neurosim.samplers.analog import held_samples

            samples, steps, stats, _ = held_samples(
                chip, self.n, rng, alpha, self.steps * self.dt, hold_tau=self.hold_tau,
                time_step=self.time_step, sigma_min=self.sigma_min,
                checkpoints=HELD_REPORTS, progress=progress,
            )  # fmt: skip
            return samples, steps, stats
        if self.anneal and (self.sigma_min is None or self.sigma_max is None):
            raise SettingsError(
                "anneal", "needs the noise levels: --sigma-min and --sigma-max, or a run of "
                "train --sigma-max"
            )  # fmt: skip
        samples, stats = langevin_samples(
            chip, self.n, self.steps, self.dt, rng, alpha, readout=self.readout,
            tolerance=self.tol, sigma_min=self.sigma_min, warm=self.warm_start,
            sigma_max=self.sigma_max if self.anneal else None, denoise=self.denoise,
            progress=progress,
        )  # fmt: skip
        return samples, np.full(self.n, self.steps), stats

    @property
    def progress_steps(self) -> int:
        """Progress steps: the held transient's reporting times, or the Langevin steps."""
        return HELD_REPORTS if self.analog else self.steps

    def held(self, chip, alpha: float):
        """With ``analog``, the circuit :meth:`generate` runs on ``chip`` (valid ngspice)
        and what describes the run: its temperature [K], τ_z [s] and step [s]
        (:func:`neurosim.samplers.analog.held_circuit`)."""
        import numpy as np

        from neurosim.samplers.analog import held_circuit

        rng = np.random.default_rng(self.seed)
        return held_circuit(chip, rng, alpha, self.hold_tau, self.time_step, self.sigma_min)


SAMPLERS: dict[str, type[Sampling]] = {
    "euler": EulerSampling,
    "gd": DescentSampling,
    "nag": NesterovSampling,
    "adaptive": AdaptiveSampling,
    "analog": AnalogSampling,
    "langevin": LangevinSampling,
}
"""The samplers by their ``--sampler`` name."""
