"""Training settings: one frozen, validated dataclass per objective, registered by name.

A settings object is complete and valid once it exists: every field is checked at
construction and a bad value raises :class:`SettingsError` naming the field, its valid
range and the value. Defaults are the FlowEqProp reference hyper-parameters for flow
(DESIGN §4.4) and the EP classification defaults for classify. The CLI builds these
from its flags (its ``--help`` defaults come from here), a checkpoint stores
:meth:`TrainingSettings.record`, and ``--resume`` compares the settings it is given with
the stored ones (:meth:`TrainingSettings.changed_from`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import ClassVar

from neurosim.devices import NAMES as DEVICES
from neurosim.validation import (
    SettingsError,
    Validated,
    at_least,
    non_negative,
    one_of,
    open_unit_interval,
    positive,
    setting,
    unit_interval,
)

# settings a resume may change: they do not change what an epoch computes
RESUMABLE = ("epochs", "checkpoint_every")
SCHEDULES = ("constant", "cosine")  # learning-rate schedules (neurosim.learn.optim.scheduled_lr)


@dataclass(frozen=True, kw_only=True)
class TrainingSettings(Validated):
    """What every objective's run shares: epochs, seed, optimiser, relaxation, data."""

    objective: ClassVar[str] = ""

    epochs: int = setting(1, at_least(1), "a whole number >= 1", "Epochs in all.")
    seed: int = setting(0, at_least(0), "a whole number >= 0", "Seed of every draw.")
    data: str = setting(
        "digits",
        lambda v: isinstance(v, str) and v != "",
        "digits, moons, ring8, checkerboard, mix3 or a .npy/.npz/.h5 file",
        "Dataset: digits (the 1,797 8x8 digits shipped in data/), moons, ring8, "
        "checkerboard or mix3 (2-D toy sets, 2,000 fixed points: README), or a .npy (x), "
        ".npz or HDF5 file (x, and labels for classify), model units.",
    )
    limit: int | None = setting(
        None,
        lambda v: v is None or at_least(1)(v),
        "a whole number >= 1 (or none)",
        "Train on the first N images only.",
    )
    optimizer: str = setting("adam", one_of("adam", "sgd"), "adam or sgd", "Optimiser.")
    lr: float = setting(1e-3, positive, "a finite number > 0", "Learning rate.")
    lr_schedule: str = setting(
        "constant",
        one_of(*SCHEDULES),
        " or ".join(SCHEDULES),
        "Learning-rate schedule: constant (--lr throughout) or cosine (half a cosine from "
        "--lr at the first epoch towards 0 after the last; a resumed run with more "
        "--epochs continues on the longer schedule).",
    )
    beta1: float = setting(0.9, unit_interval, "in [0, 1)", "Adam's first-moment decay.")
    beta2: float = setting(0.95, unit_interval, "in [0, 1)", "Adam's second-moment decay.")
    momentum: float = setting(0.9, unit_interval, "in [0, 1)", "Momentum of --optimizer sgd.")
    clip: float = setting(
        1.0,
        non_negative,
        "a finite number >= 0",
        "Bound on the gradient's global L2 norm (0: no clipping).",
    )
    tol: float = setting(
        1e-6,
        positive,
        "a finite number > 0",
        "Relaxation tolerance: max KCL residual per unit, model units.",
    )
    max_passes: int = setting(
        5000, at_least(1), "a whole number >= 1", "Pass budget per phase and sample."
    )
    checkpoint_every: int = setting(
        10,
        at_least(1),
        "a whole number >= 1",
        "Epochs between checkpoints (a killed run loses at most this many).",
    )
    device: str = setting(
        "ideal",
        one_of(*DEVICES),
        ", ".join(DEVICES),
        "Devices the updates are programmed through (hardware-aware training): ideal, "
        "pcm (aihwkit's PCM-like programming noise) or generic, each update a fresh "
        "write; or aihwkit's pulsed-update devices constant_step, soft_bounds, reram_sb, "
        "reram_es (settings step, dw_min, dw_min_dtod, dw_min_std, up_down, up_down_dtod, "
        "w_min, w_max, w_min_dtod, w_max_dtod, mult_noise, write_noise_std, max_pulses, "
        "w_unit, and exp's a, b, gamma_up, gamma_down, A_up, A_down), each "
        "update written as pulses without reading back. The chip is programmed onto "
        "them first.",
    )
    device_settings: tuple[str, ...] = setting(
        (),
        lambda v: isinstance(v, tuple) and all(isinstance(x, str) and "=" in x for x in v),
        "KEY=VALUE settings of the device model",
        "A device setting KEY=VALUE, the model's names (repeatable; see `neurosim program`).",
    )

    adc_bits: int = setting(
        0,
        at_least(0),
        "a whole number >= 0 (0: ideal)",
        "ADC bits on what the host reads (classify: the output units; flow: the spring "
        "currents), in training and its evaluations.",
    )
    adc_range: float = setting(
        1.0, positive, "a finite number > 0 (model units)", "ADC full scale ± (model units)."
    )
    read_noise: float = setting(
        0.0, non_negative, "a finite number >= 0 (model units)", "Output noise σ per reading."
    )
    dac_bits: int = setting(
        0, at_least(0), "a whole number >= 0 (0: ideal)", "DAC bits on the input rows."
    )
    dac_range: float = setting(
        1.0, positive, "a finite number > 0 (model units)", "DAC full scale ± (model units)."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.device_model()  # a bad device setting is refused now, by name

    def converters(self):
        """The host's readout path and input DAC these settings ask for
        (:mod:`neurosim.devices.periphery`; None where ideal)."""
        from neurosim.devices.presets import CONVERTER_SETTINGS, converters

        return converters({name: getattr(self, name) for name in CONVERTER_SETTINGS})

    def device_model(self):
        """The device model updates are programmed through (:mod:`neurosim.devices`)."""
        from neurosim.devices.presets import device_model, parse_settings

        return device_model(self.device, parse_settings(self.device_settings))

    def record(self) -> dict:
        """The settings as JSON data (as a checkpoint gives them back), with the
        objective's name."""
        data = {"objective": self.objective, **asdict(self)}
        data["device_settings"] = list(self.device_settings)
        return data

    def changed_from(self, other: TrainingSettings) -> list[str]:
        """Names of the fields that differ from ``other``'s and change what an epoch
        computes (``RESUMABLE`` fields may differ)."""
        if type(other) is not type(self):
            return ["objective"]
        return [
            item.name
            for item in fields(self)
            if item.name not in RESUMABLE and getattr(self, item.name) != getattr(other, item.name)
        ]


@dataclass(frozen=True, kw_only=True)
class GradEPSettings(TrainingSettings):
    """What the GradEP objectives share (a velocity field read off the springs, full
    batch): the FlowEqProp reference α, β, arithmetic and quality tracking."""

    epochs: int = setting(2000, at_least(1), "a whole number >= 1", "Epochs in all.")
    alpha: float = setting(
        2.0,
        positive,
        "a finite number > 0",
        "Output scale α of the velocity readout v = αλ(x* − x_t).",
    )
    beta: float = setting(
        1.25e-3, positive, "a finite number > 0", "Nudge β of the symmetric ±β phases."
    )
    dtype: str = setting(
        "float64",
        one_of("float64", "float32"),
        "float64 or float32",
        "The engine's arithmetic; float32 is about 1.7x faster (tolerance then at least "
        "3e-6; its gradients measured within 1.2e-3 of exact).",
    )
    eval_every: int = setting(
        100,
        at_least(0),
        "a whole number >= 0",
        "Every N epochs, generate 500 digits and score them (Fréchet distance, coverage, "
        "confidence; history in the checkpoint, quality.png); the best parameters go to "
        "RUN_DIR/best.cir. 0: off.",
    )

    def descent(self) -> tuple[float, int] | None:
        """Quality tracking's sampler: (η, steps) of gradient descent, or None for
        Euler integration of the flow."""
        return None

    def batches(self, x, ahead: bool):
        """Each epoch's batch (``get(epoch)``: x_t and the target velocity u) of data
        ``x``; ``ahead``: prepare the next in a worker where that helps."""
        from neurosim.learn.flow import FlowBatches

        return FlowBatches(x, self.seed, ahead=ahead)


@dataclass(frozen=True, kw_only=True)
class FlowSettings(GradEPSettings):
    """GradEP flow matching: the FlowEqProp reference (full batch, exact OT pairing)."""

    objective: ClassVar[str] = "flow"


@dataclass(frozen=True, kw_only=True)
class EqMSettings(GradEPSettings):
    """GradEP Equilibrium Matching (:mod:`neurosim.learn.eqm`): the springs learn the
    landscape's gradient at corrupted samples: the paper's truncated decay (a = 0.8)
    with λ_c = 1 and OT pairing, what trains this circuit best (README). Quality
    tracking samples by gradient descent (``eval_steps`` steps of ``eval_eta``)."""

    objective: ClassVar[str] = "eqm"

    decay: str = setting(
        "truncated",
        one_of("truncated", "linear", "piecewise"),
        "truncated, linear or piecewise",
        "The target gradient's decay c(γ) toward the data (EqM eqs. 4–6).",
    )
    decay_a: float = setting(
        0.8, open_unit_interval, "in (0, 1)", "γ where the decay's last linear part starts."
    )
    decay_b: float = setting(
        1.0, non_negative, "a finite number >= 0", "piecewise: c's value at γ = 0 (÷ λ_c)."
    )
    lambda_c: float = setting(
        1.0,
        positive,
        "a finite number > 0",
        "Gradient multiplier λ_c of the target (the paper's 4 makes this circuit's "
        "landscape so steep that its free phases stop settling by epoch ~350).",
    )
    pairing: str = setting(
        "ot",
        one_of("independent", "ot"),
        "independent or ot",
        "How noise meets data: independent draws (the paper's), or exact optimal "
        "transport over the batch (flow matching's pairing: paths that do not cross).",
    )
    eval_eta: float = setting(
        0.15, positive, "a finite number > 0", "Quality tracking: gradient-descent step η."
    )
    eval_steps: int = setting(
        10, at_least(1), "a whole number >= 1", "Quality tracking: gradient-descent steps."
    )

    def descent(self) -> tuple[float, int] | None:
        return (self.eval_eta, self.eval_steps)

    def batches(self, x, ahead: bool):
        from neurosim.learn.eqm import EqMBatches, EqMTarget

        target = EqMTarget(self.decay, self.decay_a, self.decay_b, self.lambda_c)
        return EqMBatches(x, self.seed, target, self.pairing, ahead)


@dataclass(frozen=True, kw_only=True)
class ClassifySettings(TrainingSettings):
    """EP classification with a squared-error cost on the output layer."""

    objective: ClassVar[str] = "classify"

    epochs: int = setting(30, at_least(1), "a whole number >= 1", "Epochs in all.")
    beta: float = setting(
        0.25,
        open_unit_interval,
        "in (0, 1) (the −β phase takes β from each output node's leak of 1 g_unit)",
        "Nudge β of the symmetric ±β phases.",
    )
    batch_size: int = setting(32, at_least(1), "a whole number >= 1", "Mini-batch size.")
    test_fraction: float = setting(
        0.2,
        open_unit_interval,
        "in (0, 1)",
        "Held-out share of the data (stratified, seeded by the seed).",
    )


@dataclass(frozen=True, kw_only=True)
class FluxSettings(TrainingSettings):
    """Flux Matching (:mod:`neurosim.learn.flux`): the visible springs' field f(x) =
    αλ(x* − x) learns to keep the data stationary under dx = f dt + √2 dW; gradients by
    the chip's adjoint, so non-reciprocal networks train too."""

    objective: ClassVar[str] = "flux"

    epochs: int = setting(1000, at_least(1), "a whole number >= 1", "Epochs in all.")
    alpha: float = setting(
        8.0,
        positive,
        "a finite number > 0",
        "Output scale α of the field f = αλ(x* − x) (its contraction reaches about α: a "
        "law of spread σ needs α ≳ 1/σ²).",
    )
    lr: float = setting(3e-3, positive, "a finite number > 0", "Learning rate.")
    sigma: float = setting(
        0.05,
        positive,
        "a finite number > 0 (model units)",
        "The data's smoothing σ: the field learns the law of data + σ·noise (annealed: "
        "the smallest noise level σ_min).",
    )
    sigma_max: float = setting(
        0.0,
        non_negative,
        "a finite number >= 0 (model units; 0: one noise level)",
        "Noise-annealed Flux Matching: the field learns every noise level from --sigma to "
        "this (log-uniform, 4 levels per batch), read with the network's one-unit 'noise' "
        "input clamped at ln(σ)/4 (README); sample with `sample --langevin --anneal`. 0: "
        "the single level --sigma.",
    )
    loss: str = setting(
        "flux",
        one_of("flux", "score"),
        "flux or score",
        "flux: the Flux Matching estimator (rotational fields allowed); score: regression "
        "of the field on the smoothed data's score |f - s|^2, the conservative member of "
        "the family, a much less noisy gradient (README).",
    )
    batch_size: int = setting(128, at_least(1), "a whole number >= 1", "Mini-batch size.")
    probes: int = setting(
        4,
        at_least(1),
        "a whole number >= 1",
        "Rademacher probes of each divergence and gradient when the data has more "
        "than 8 dimensions (up to 8: every axis, exact).",
    )
    fd_step: float = setting(
        2e-3,
        positive,
        "a finite number > 0 (model units)",
        "Finite-difference step of the field's measured derivatives.",
    )
    tol: float = setting(
        1e-9,
        positive,
        "a finite number > 0",
        "Relaxation tolerance: max KCL residual per unit, model units (flux: tight, for "
        "its finite differences).",
    )
    max_passes: int = setting(
        20000, at_least(1), "a whole number >= 1", "Pass budget per phase and sample."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if 0 < self.sigma_max <= self.sigma:
            raise SettingsError(
                "sigma_max",
                f"must be 0 (one noise level) or more than sigma ({self.sigma:g}), "
                f"not {self.sigma_max:g}",
            )


SETTINGS: dict[str, type[TrainingSettings]] = {
    cls.objective: cls for cls in (FlowSettings, ClassifySettings, EqMSettings, FluxSettings)
}


def settings_class(objective: str) -> type[TrainingSettings]:
    """The settings class of ``objective`` ("flow", "classify", "eqm", "flux")."""
    try:
        return SETTINGS[objective]
    except KeyError:
        known = ", ".join(SETTINGS)
        raise SettingsError("objective", f"unknown objective {objective!r} ({known})") from None


def from_record(record: dict) -> TrainingSettings:
    """Settings from a stored record (:meth:`TrainingSettings.record`, or the flat
    config of a ``neurosim-checkpoint/2`` or ``/3`` file): the objective's fields are
    read, anything else is ignored; a missing field takes its default."""
    cls = settings_class(record.get("objective", "flow"))
    names = {item.name for item in fields(cls)}
    values = {name: value for name, value in record.items() if name in names}
    if "clip" in values and values["clip"] is None:
        values["clip"] = 0.0
    if isinstance(values.get("device_settings"), list):
        values["device_settings"] = tuple(values["device_settings"])
    return cls(**values)
