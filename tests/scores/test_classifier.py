"""The shipped digits classifier: reproducible from its code, accurate, loaded safely."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from neurosim.data.digits import load_digits
from neurosim.errors import NeurosimError
from neurosim.scores import classifier as clf


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_retraining_reproduces_the_shipped_classifier(digits):
    x, labels = digits
    shipped = clf.load_classifier()
    retrained = clf.train_classifier()
    _, held_out = clf.stratified_split(labels, shipped.split_seed)
    assert shipped.version == retrained.version == clf.VERSION
    assert shipped.split_seed == clf.SPLIT_SEED
    np.testing.assert_array_equal(retrained.predict(x[held_out]), shipped.predict(x[held_out]))
    assert retrained.heldout_accuracy == shipped.heldout_accuracy >= 0.95
    accuracy = np.mean(shipped.predict(x[held_out]) == labels[held_out])
    assert accuracy == shipped.heldout_accuracy
    for name in ("w1", "b1", "w2", "b2"):  # loose: another BLAS sums in another order
        np.testing.assert_allclose(getattr(retrained, name), getattr(shipped, name), atol=1e-3)


def test_split_is_stratified_disjoint_and_seeded(digits):
    _, labels = digits
    train, held_out = clf.stratified_split(labels)
    assert train.size + held_out.size == labels.size == 1797 and held_out.size == 359
    assert np.intersect1d(train, held_out).size == 0
    share = np.bincount(labels[held_out]) / np.bincount(labels)
    assert np.all(np.abs(share - 0.2) < 0.01)
    again, _ = clf.stratified_split(labels)
    other, _ = clf.stratified_split(labels, seed=clf.SPLIT_SEED + 1)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)


def test_outputs_have_the_documented_shapes(digits):
    x, _ = digits
    model = clf.load_classifier()
    probabilities = model.probabilities(x[:7])
    assert model.features(x[:7]).shape == (7, 64) and probabilities.shape == (7, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(x[:7]), probabilities.argmax(axis=1))


def test_training_gradient_matches_finite_differences(digits):
    x, labels = digits
    onehot = np.eye(10)[labels[:40]]
    theta = np.random.default_rng(3).normal(0.0, 0.2, 64 * 64 + 64 + 64 * 10 + 10)
    _, gradient = clf._loss_and_gradient(theta, x[:40], onehot)
    numeric = approx_fprime(theta, lambda t: clf._loss_and_gradient(t, x[:40], onehot)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, atol=2e-6)


def _save_variant(path, **changes):
    model = clf.load_classifier()
    arrays = {name: getattr(model, name) for name in ("w1", "b1", "w2", "b2")}
    arrays |= {"version": np.array(model.version), "split_seed": np.array(model.split_seed)}
    arrays |= {"heldout_accuracy": np.array(model.heldout_accuracy)}
    arrays |= changes
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def test_missing_or_damaged_files_are_one_line_errors(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip archive at all")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes((clf.data_dir() / clf.CLASSIFIER_FILE).read_bytes()[:3000])
    _save_variant(tmp_path / "no_w2.npz", w2=None)
    _save_variant(tmp_path / "nan.npz", b1=np.full(64, np.nan))
    _save_variant(tmp_path / "shape.npz", w1=np.zeros((64, 32)))
    _save_variant(tmp_path / "version.npz", version=np.array("digits-mlp/0"))
    cases = {
        "nope.npz": "classifier weights not found",
        "garbage.npz": "not a neurosim classifier file",
        "truncated.npz": "not a neurosim classifier file",
        "no_w2.npz": "not a neurosim classifier file",
        "nan.npz": "damaged classifier file",
        "shape.npz": "damaged classifier file",
        "version.npz": "classifier version 'digits-mlp/0'",
    }
    for name, message in cases.items():
        with pytest.raises(NeurosimError, match=message) as caught:
            clf.load_classifier(tmp_path / name)
        assert "\n" not in str(caught.value), name


def test_the_data_folder_override_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSIM_DATA", str(tmp_path))
    with pytest.raises(NeurosimError, match="set NEUROSIM_DATA"):
        clf.load_classifier()
