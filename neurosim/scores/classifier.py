"""The fixed digits classifier behind the sample-quality metrics.

An MLP 64 → 64 (tanh) → 10 (softmax) of the 8×8 digits in [-1, 1]. It is trained by
:func:`train_classifier`, deterministically: a stratified 80/20 split drawn with
``SPLIT_SEED``; weights initialised from ``INIT_SEED`` (normal, variance 1/fan-in, zero
biases); full-batch L-BFGS (SciPy, memory ``LBFGS_MEMORY``) on the mean cross-entropy
of the 80% plus ``L2 / 2 × ‖θ‖²`` over all parameters θ (weights and biases), for
``MAX_ITERATIONS`` iterations or until the loss stops falling in float64, with BLAS on one
thread. It converges to a strict local minimum: noise of 1e-13 (relative) injected into
every gradient, a stand-in for another BLAS's summation order, moves the weights by
< 1e-4 and changes no prediction. The weights ship in
``data/digits_classifier.npz`` with the version, the seeds and the held-out accuracy, so
the metrics never change silently: :func:`load_classifier` refuses a file of another
version, and a test retrains and compares.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.data.digits import N_PIXELS, data_dir, load_digits
from neurosim.errors import NeurosimError
from neurosim.io.atomic import atomic_path

VERSION = "digits-mlp-64-tanh-64-10/1"
CLASSIFIER_FILE = "digits_classifier.npz"
N_HIDDEN, N_CLASSES = 64, 10
SPLIT_SEED, INIT_SEED = 20240, 1
HELDOUT_FRACTION = 0.2
L2 = 1e-3
MAX_ITERATIONS, LBFGS_MEMORY = 1500, 50


@dataclass(frozen=True, eq=False)
class DigitsClassifier:
    """Weights ``w1`` (64, 64), ``b1`` (64,), ``w2`` (64, 10), ``b2`` (10,) and how they
    were made: ``version``, ``split_seed``, ``heldout_accuracy`` (on the 20% split)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    version: str
    split_seed: int
    heldout_accuracy: float

    def features(self, x: np.ndarray) -> np.ndarray:
        """Hidden features tanh(x W1 + b1), (n, 64), of images ``x`` (n, 64) in [-1, 1]."""
        return np.tanh(x @ self.w1 + self.b1)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Softmax class probabilities (n, 10) of images ``x`` (n, 64)."""
        return _softmax(self.features(x) @ self.w2 + self.b2)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes (n,) int64 of images ``x`` (n, 64)."""
        return np.argmax(self.probabilities(x), axis=1)


def stratified_split(
    labels: np.ndarray, seed: int = SPLIT_SEED, heldout: float = HELDOUT_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices ``(train, heldout)``: per class, a seeded random ``heldout`` share
    (rounded) of its images is held out."""
    rng = np.random.default_rng(seed)
    held = []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        held.append(members[: round(heldout * members.size)])
    held_out = np.sort(np.concatenate(held))
    train = np.setdiff1d(np.arange(labels.size), held_out)
    return train, held_out


def train_classifier() -> DigitsClassifier:
    """Train the classifier as the module docstring says (about a second)."""
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    x, labels = load_digits()
    train, held_out = stratified_split(labels)
    rng = np.random.default_rng(INIT_SEED)
    w1 = rng.normal(0.0, 1.0 / np.sqrt(N_PIXELS), (N_PIXELS, N_HIDDEN))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(N_HIDDEN), (N_HIDDEN, N_CLASSES))
    start = np.concatenate([w1.ravel(), np.zeros(N_HIDDEN), w2.ravel(), np.zeros(N_CLASSES)])
    onehot = np.eye(N_CLASSES)[labels[train]]
    options = {"maxiter": MAX_ITERATIONS, "maxcor": LBFGS_MEMORY, "gtol": 1e-12, "ftol": 0.0}
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads: 10-30x slower
        result = minimize(
            _loss_and_gradient,
            start,
            args=(x[train], onehot),
            jac=True,
            method="L-BFGS-B",
            options=options,
        )
    w1, b1, w2, b2 = _unpack(result.x)
    model = DigitsClassifier(w1, b1, w2, b2, VERSION, SPLIT_SEED, 0.0)
    accuracy = float(np.mean(model.predict(x[held_out]) == labels[held_out]))
    return DigitsClassifier(w1, b1, w2, b2, VERSION, SPLIT_SEED, accuracy)


def save_classifier(model: DigitsClassifier, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` (.npz) atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(
            handle,
            w1=model.w1,
            b1=model.b1,
            w2=model.w2,
            b2=model.b2,
            version=np.array(model.version),
            split_seed=np.array(model.split_seed),
            heldout_accuracy=np.array(model.heldout_accuracy),
        )


def load_classifier(path: str | os.PathLike | None = None) -> DigitsClassifier:
    """Read the shipped classifier (default ``data/digits_classifier.npz``); a one-line
    :class:`NeurosimError` if it is missing, damaged or of another version."""
    path = Path(path) if path is not None else data_dir() / CLASSIFIER_FILE
    shapes = {
        "w1": (N_PIXELS, N_HIDDEN),
        "b1": (N_HIDDEN,),
        "w2": (N_HIDDEN, N_CLASSES),
        "b2": (N_CLASSES,),
    }
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: np.asarray(archive[name], dtype=np.float64) for name in shapes}
            version = str(archive["version"][()])
            split_seed = int(archive["split_seed"][()])
            accuracy = float(archive["heldout_accuracy"][()])
    except FileNotFoundError:
        raise NeurosimError(f"classifier weights not found at {path} (set NEUROSIM_DATA)") from None
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise NeurosimError(f"{path}: not a neurosim classifier file ({exc})") from None
    if version != VERSION:
        raise NeurosimError(
            f"{path}: classifier version {version!r}, this neurosim needs {VERSION!r}"
        )
    for name, shape in shapes.items():
        if arrays[name].shape != shape or not np.all(np.isfinite(arrays[name])):
            raise NeurosimError(f"{path}: damaged classifier file ({name} is not finite {shape})")
    return DigitsClassifier(
        **arrays, version=version, split_seed=split_seed, heldout_accuracy=accuracy
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sizes = np.cumsum([N_PIXELS * N_HIDDEN, N_HIDDEN, N_HIDDEN * N_CLASSES])
    w1, b1, w2, b2 = np.split(theta, sizes)
    return w1.reshape(N_PIXELS, N_HIDDEN), b1, w2.reshape(N_HIDDEN, N_CLASSES), b2


def _loss_and_gradient(
    theta: np.ndarray, x: np.ndarray, onehot: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy plus the L2 penalty, and its gradient by backpropagation."""
    w1, b1, w2, b2 = _unpack(theta)
    hidden = np.tanh(x @ w1 + b1)
    logits = hidden @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_prob = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(onehot * log_prob) / n + 0.5 * L2 * float(theta @ theta)
    d_logits = (np.exp(log_prob) - onehot) / n
    d_hidden = (d_logits @ w2.T) * (1.0 - hidden**2)
    gradient = np.concatenate(
        [
            (x.T @ d_hidden).ravel(),
            d_hidden.sum(axis=0),
            (hidden.T @ d_logits).ravel(),
            d_logits.sum(axis=0),
        ]
    )
    return float(loss), gradient + L2 * theta
