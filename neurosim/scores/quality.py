"""Sample-quality metrics of generated 8×8 digits (``METRICS_VERSION``), fixed by design.

Samples are (n, 64) images in [-1, 1] pixel units, n ≥ 2; values outside [-1, 1] are
clipped to it first (as ``neurosim sample`` writes them), and ``clipped_values`` says
how many were. The classifier is the shipped
one (:mod:`neurosim.scores.classifier`, its version is reported); "real digits" are the
1,797 of :func:`neurosim.data.digits.load_digits`, "training split" its 80% (1,438) and
"held-out" the other 20% (359).

- ``frechet_distance``: Fréchet distance (:mod:`neurosim.scores.frechet`) between
  Gaussians (mean, unbiased covariance) fitted to the classifier's 64 hidden features
  tanh(x W1 + b1) of the samples and of all 1,797 real digits. Lower is better; it is
  biased upwards for small n, so compare sets of similar size (the baseline uses 1,000).
- ``class_fractions``: share of the samples the classifier assigns to each class 0..9.
- ``class_coverage``: number of classes (of 10) with a share ≥ ``COVERAGE_SHARE`` (5%).
- ``mean_confidence``: mean over samples of the largest softmax probability.
- ``nearest_train_distance_mean`` / ``_min``: per sample, the Euclidean distance (64
  pixels, [-1, 1] units) to its nearest real digit — all 1,797, the generators' training
  set; mean and minimum over samples. The baseline is the natural spacing of real
  digits: each held-out digit's distance to its nearest digit of the training split.
  Far below it means copies of training images (memorisation): a copy scores 0.
- ``precision`` / ``recall`` (:mod:`neurosim.scores.manifold`, k = 3 nearest
  neighbours in the same 64 features): the share of samples on the real digits'
  manifold, and of real digits on the samples'. Against all 1,797 real digits; the
  baseline is the held-out digits against the training split.

``evaluate`` returns these for the samples and, under ``baseline``, for real digits:
the FD of ``BASELINE_COUNT`` (1,000) real digits drawn without replacement with
``BASELINE_SEED`` against all 1,797; class fractions, coverage and confidence of the
held-out digits; their nearest distances to the training split (1,438 rather than
1,797 references: a slightly larger spacing than the samples are measured against).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from neurosim.data.digits import N_PIXELS, load_digits
from neurosim.errors import NeurosimError
from neurosim.scores.classifier import (
    N_CLASSES,
    DigitsClassifier,
    load_classifier,
    stratified_split,
)
from neurosim.scores.frechet import feature_frechet_distance
from neurosim.scores.manifold import precision_recall

METRICS_VERSION = "neurosim-metrics/2"  # /2 adds precision and recall; the rest as /1
COVERAGE_SHARE = 0.05
BASELINE_SEED, BASELINE_COUNT = 0, 1000
_DISTANCE_CHUNK = 1024


@dataclass(frozen=True)
class QualityReport:
    """The scores of a set of samples (:func:`evaluate`): ``samples`` and ``baseline``
    (real digits) each hold ``frechet_distance``, ``precision``, ``recall``,
    ``class_coverage``,
    ``class_fractions``, ``mean_confidence``, ``nearest_train_distance_mean`` and
    ``_min``."""

    metrics_version: str
    classifier: dict
    n_samples: int
    clipped_values: int
    samples: dict
    baseline: dict

    def to_dict(self) -> dict:
        """The report as JSON-ready data."""
        return asdict(self)


def class_fractions(predictions: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Share (n_classes,) of ``predictions`` (n,) int in 0..n_classes-1 per class; sums to 1."""
    predictions = np.asarray(predictions)
    return np.bincount(predictions, minlength=n_classes) / predictions.size


def class_coverage(fractions: np.ndarray, share: float = COVERAGE_SHARE) -> int:
    """Number of classes whose share in ``fractions`` (n_classes,) is ≥ ``share``."""
    return int(np.count_nonzero(np.asarray(fractions) >= share))


def mean_confidence(probabilities: np.ndarray) -> float:
    """Mean over rows of ``probabilities`` (n, n_classes) of the largest probability."""
    return float(np.mean(np.max(probabilities, axis=1)))


def nearest_distances(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance (n,) of each row of ``samples`` (n, d) to its nearest row of
    ``reference`` (m, d); exactly 0 for a row that is in ``reference``."""
    from scipy.spatial.distance import cdist

    return np.concatenate(
        [
            cdist(samples[start : start + _DISTANCE_CHUNK], reference).min(axis=1)
            for start in range(0, samples.shape[0], _DISTANCE_CHUNK)
        ]
    )


def check_samples(samples: np.ndarray) -> np.ndarray:
    """``samples`` as float64 (n, 64); a :class:`NeurosimError` naming a wrong shape, n < 2,
    a non-numeric dtype or NaN/inf."""
    array = np.asarray(samples)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise NeurosimError(f"samples must be real numbers, not {array.dtype}")
    if array.ndim != 2 or array.shape[1] != N_PIXELS:
        raise NeurosimError(
            f"samples have shape {array.shape}; the metrics need (n, {N_PIXELS}) 8x8 digits"
        )
    if array.shape[0] < 2:
        raise NeurosimError(f"{array.shape[0]} sample(s): the metrics need at least 2")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise NeurosimError("samples hold NaN or inf")
    return array


def evaluate(samples: np.ndarray) -> dict:
    """All metrics of ``samples`` (n, 64) in [-1, 1], n ≥ 2, and the real-digit baseline,
    as a JSON-serialisable dict (module docstring: the definitions)::

        {"metrics_version", "classifier": {"version", "heldout_accuracy"}, "n_samples",
         "clipped_values", "samples": {METRICS}, "baseline": {METRICS}}

    with METRICS ``frechet_distance``, ``precision``, ``recall``, ``class_coverage``,
    ``class_fractions`` (10),
    ``mean_confidence``, ``nearest_train_distance_mean``, ``nearest_train_distance_min``.
    A :class:`NeurosimError` names a wrong shape, too few rows or non-finite values.
    """
    from threadpoolctl import threadpool_limits

    samples = check_samples(samples)
    clipped = int(np.count_nonzero(np.abs(samples) > 1.0))
    samples = np.clip(samples, -1.0, 1.0)
    classifier = load_classifier()
    x, labels = load_digits()
    train, held_out = stratified_split(labels, classifier.split_seed)
    rng = np.random.default_rng(BASELINE_SEED)
    subset = np.sort(rng.choice(x.shape[0], size=BASELINE_COUNT, replace=False))
    with threadpool_limits(limits=1, user_api="blas"):  # small products; idle threads cost
        real_features = classifier.features(x)
        sample_features = classifier.features(samples)
        precision, recall = precision_recall(real_features, sample_features)
        scores = {
            "frechet_distance": feature_frechet_distance(sample_features, real_features),
            "precision": precision,
            "recall": recall,
            **_class_and_distance_scores(classifier, samples, x),
        }
        precision, recall = precision_recall(real_features[train], real_features[held_out])
        baseline = {
            "frechet_distance": feature_frechet_distance(real_features[subset], real_features),
            "precision": precision,
            "recall": recall,
            **_class_and_distance_scores(classifier, x[held_out], x[train]),
        }
    return {
        "metrics_version": METRICS_VERSION,
        "classifier": {
            "version": classifier.version,
            "heldout_accuracy": classifier.heldout_accuracy,
        },
        "n_samples": int(samples.shape[0]),
        "clipped_values": clipped,
        "samples": scores,
        "baseline": baseline,
    }


def _class_and_distance_scores(
    classifier: DigitsClassifier, images: np.ndarray, train_images: np.ndarray
) -> dict:
    """The metrics but FD of ``images`` (n, 64); distances to ``train_images`` (m, 64)."""
    probabilities = classifier.probabilities(images)
    fractions = class_fractions(np.argmax(probabilities, axis=1))
    distances = nearest_distances(images, train_images)
    return {
        "class_coverage": class_coverage(fractions),
        "class_fractions": [float(share) for share in fractions],
        "mean_confidence": mean_confidence(probabilities),
        "nearest_train_distance_mean": float(distances.mean()),
        "nearest_train_distance_min": float(distances.min()),
    }
