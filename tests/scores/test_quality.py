"""Sample-quality metrics: the Fréchet distance against references, the class and
memorisation scores on hand-made inputs, and real digits against noise."""

import json

import numpy as np
import pytest
from scipy.linalg import sqrtm

from neurosim.data.digits import load_digits
from neurosim.errors import NeurosimError
from neurosim.scores.classifier import load_classifier, stratified_split
from neurosim.scores.frechet import feature_frechet_distance, frechet_distance, gaussian_fit
from neurosim.scores.quality import (
    class_coverage,
    class_fractions,
    evaluate,
    mean_confidence,
    nearest_distances,
)

METRIC_KEYS = {
    "frechet_distance",
    "precision",
    "recall",
    "class_coverage",
    "class_fractions",
    "mean_confidence",
    "nearest_train_distance_mean",
    "nearest_train_distance_min",
}


def random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_fd_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    assert feature_frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)
    real = load_classifier().features(load_digits()[0])
    assert feature_frechet_distance(real, real) == pytest.approx(0.0, abs=1e-10)


def test_fd_is_symmetric_and_nonnegative():
    rng = np.random.default_rng(1)
    real = load_classifier().features(load_digits()[0])
    pairs = [(real, real[::3])]
    for d in (1, 3, 16):
        a = rng.normal(size=(200, d)) * rng.uniform(0.5, 2.0, d)
        pairs.append((a, rng.normal(0.3, 1.0, size=(120, d)) @ rng.normal(size=(d, d))))
    for a, b in pairs:
        ab, ba = feature_frechet_distance(a, b), feature_frechet_distance(b, a)
        assert ab > 0 and ab == pytest.approx(ba, rel=1e-11)


def test_fd_of_diagonal_gaussians_has_the_closed_form():
    rng = np.random.default_rng(2)
    mean1, mean2 = rng.normal(size=6), rng.normal(size=6)
    var1, var2 = rng.uniform(0.1, 3.0, 6), rng.uniform(0.1, 3.0, 6)
    expected = np.sum((mean1 - mean2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    actual = frechet_distance(mean1, np.diag(var1), mean2, np.diag(var2))
    assert actual == pytest.approx(expected, rel=1e-12)


def test_fd_matches_a_sqrtm_reference_on_full_covariances():
    rng = np.random.default_rng(3)
    for d in (2, 5, 20):
        mean1, mean2 = rng.normal(size=d), rng.normal(size=d)
        cov1, cov2 = random_spd(rng, d), random_spd(rng, d)
        cross = np.real(sqrtm(cov1 @ cov2))
        expected = np.sum((mean1 - mean2) ** 2) + np.trace(cov1 + cov2 - 2.0 * cross)
        assert frechet_distance(mean1, cov1, mean2, cov2) == pytest.approx(expected, rel=1e-9)


def test_fd_of_singular_covariances_is_real_and_nonnegative():
    rng = np.random.default_rng(4)
    few = rng.normal(size=(5, 64))  # rank-4 covariance in 64 dimensions
    constant = np.zeros((10, 64))  # zero covariance
    many = rng.normal(size=(300, 64))
    for a, b in ((few, many), (constant, many), (few, constant), (constant, constant)):
        value = feature_frechet_distance(a, b)
        assert isinstance(value, float) and np.isfinite(value) and value >= 0
    # N(0, 0) vs N(m, I): |m|^2 + d
    assert feature_frechet_distance(constant, many) == pytest.approx(
        np.sum(many.mean(axis=0) ** 2) + np.trace(np.cov(many, rowvar=False)), rel=1e-9
    )


def test_fd_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="n >= 2"):
        gaussian_fit(np.zeros((1, 3)))


def test_class_scores_on_hand_made_predictions():
    predictions = np.array([0] * 50 + [1] * 45 + [2] * 4 + [3])
    fractions = class_fractions(predictions)
    np.testing.assert_allclose(fractions, [0.5, 0.45, 0.04, 0.01, 0, 0, 0, 0, 0, 0])
    assert class_coverage(fractions) == 2
    assert class_coverage(class_fractions(np.arange(100) % 10)) == 10
    assert class_coverage(class_fractions(np.array([0] * 19 + [7]))) == 2  # 5% exactly counts
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]])
    assert mean_confidence(probabilities) == pytest.approx((0.7 + 0.8 + 1 / 3) / 3)


def test_nearest_distances_are_exact_and_zero_for_reference_rows():
    rng = np.random.default_rng(5)
    reference = rng.uniform(-1, 1, (300, 64))
    samples = np.concatenate([rng.uniform(-1, 1, (1500, 64)), reference[:40]])
    distances = nearest_distances(samples, reference)
    brute = np.sqrt(((samples[:, None, :] - reference[None]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(distances, brute, rtol=1e-12)
    assert np.all(distances[-40:] == 0.0)


@pytest.fixture(scope="module")
def scores():
    x, labels = load_digits()
    train, _ = stratified_split(labels)
    rng = np.random.default_rng(6)
    inputs = {
        "real": x[np.sort(rng.choice(1797, 1000, replace=False))],
        "train": x[train],
        "noise": rng.uniform(-1.0, 1.0, (1000, 64)),
        "constant": np.zeros((1000, 64)),
    }
    return {name: evaluate(images) for name, images in inputs.items()}


def test_evaluate_is_json_with_every_metric(scores):
    result = scores["real"]
    assert json.loads(json.dumps(result)) == result
    assert result["metrics_version"] == "neurosim-metrics/2" and result["n_samples"] == 1000
    assert result["classifier"]["heldout_accuracy"] >= 0.95
    assert set(result["samples"]) == set(result["baseline"]) == METRIC_KEYS
    assert len(result["samples"]["class_fractions"]) == 10
    assert sum(result["samples"]["class_fractions"]) == pytest.approx(1.0)
    assert result["baseline"] == scores["noise"]["baseline"]  # fixed, seeded


def test_real_digits_score_far_better_than_noise_or_a_constant_image(scores):
    real, baseline = scores["real"]["samples"], scores["real"]["baseline"]
    assert baseline["frechet_distance"] < 0.1 and real["frechet_distance"] < 0.1
    assert real["class_coverage"] == baseline["class_coverage"] == 10
    assert real["mean_confidence"] > 0.95 and baseline["mean_confidence"] > 0.95
    for name in ("noise", "constant"):
        fake = scores[name]["samples"]
        assert fake["frechet_distance"] > 50 * baseline["frechet_distance"], name
        assert fake["mean_confidence"] < real["mean_confidence"] - 0.25, name
        assert fake["class_coverage"] <= real["class_coverage"], name
        # Far from every digit: well above the held-out digits' nearest distances.
        assert fake["nearest_train_distance_min"] > 2 * baseline["nearest_train_distance_mean"]
    assert scores["constant"]["samples"]["class_coverage"] == 1


def test_training_images_have_zero_memorisation_distance(scores):
    train, baseline = scores["train"]["samples"], scores["train"]["baseline"]
    assert train["nearest_train_distance_mean"] == train["nearest_train_distance_min"] == 0.0
    assert baseline["nearest_train_distance_min"] > 0.5  # held-out digits are no copies


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (np.zeros((5, 10)), r"shape \(5, 10\)"),
        (np.zeros(64), r"shape \(64,\)"),
        (np.zeros((1, 64)), "at least 2"),
        (np.full((3, 64), np.nan), "NaN"),
        (np.array([["a"] * 64] * 3), "real numbers"),
    ],
)
def test_bad_samples_are_named(samples, message):
    with pytest.raises(NeurosimError, match=message):
        evaluate(samples)


def test_precision_and_recall_separate_real_digits_from_fakes(scores):
    """Real digits lie on the real manifold and cover it; noise and a constant image do
    neither (precision and recall, Kynkäänniemi et al. 2019)."""
    real = scores["real"]["samples"]
    assert real["precision"] > 0.95 and real["recall"] > 0.9
    assert scores["real"]["baseline"]["precision"] > 0.9
    for name in ("noise", "constant"):
        fake = scores[name]["samples"]
        assert fake["precision"] < 0.05 and fake["recall"] < 0.05, name


def test_precision_recall_on_balls_in_the_plane():
    """By hand: real points on a unit grid (k = 3: radius 1), fakes inside or far away."""
    from neurosim.scores.manifold import precision_recall

    real = np.array([[i, j] for i in range(5) for j in range(5)], dtype=float)
    fake = np.vstack([real[:10] + 0.1, real[:10] + 100.0])  # 10 near, 10 far
    precision, recall = precision_recall(real, fake)
    assert precision == 0.5
    assert 0 < recall < 1  # the near fakes' balls cover only part of the grid
