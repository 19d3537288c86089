"""Fréchet distance between Gaussians fitted to two feature sets.

For Gaussians N(μ1, Σ1) and N(μ2, Σ2) the (squared) Fréchet / 2-Wasserstein distance is

    FD = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2 Tr((Σ1 Σ2)^½).

Tr((Σ1 Σ2)^½) equals the nuclear norm (sum of singular values) of Σ1^½ Σ2^½, with the
symmetric square roots Σ^½ from eigendecompositions (eigenvalues clipped at 0 against
rounding). That form is real by construction (unlike a general ``sqrtm`` of the
non-symmetric Σ1 Σ2), takes no square root of the small eigenvalues of a product (which
turns rounding of 1e-16 into errors of 1e-8), and is fine for singular covariances
(fewer samples than features). The result is clipped at 0.
"""

from __future__ import annotations

import numpy as np


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) (divisor n − 1) of ``features`` (n, d), n ≥ 2."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be (n, d) with n >= 2, not shape {features.shape}")
    d = features.shape[1]
    return features.mean(axis=0), np.cov(features, rowvar=False, ddof=1).reshape(d, d)


def frechet_distance(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray
) -> float:
    """FD between N(``mean1``, ``cov1``) and N(``mean2``, ``cov2``): means (d,), symmetric
    positive semi-definite covariances (d, d); in squared feature units, ≥ 0."""
    mean1, mean2 = np.asarray(mean1, dtype=np.float64), np.asarray(mean2, dtype=np.float64)
    cov1, cov2 = np.asarray(cov1, dtype=np.float64), np.asarray(cov2, dtype=np.float64)
    shapes = (mean1.shape, cov1.shape, mean2.shape, cov2.shape)
    d = mean1.size
    if shapes != ((d,), (d, d), (d,), (d, d)):
        raise ValueError(f"shapes {shapes} are not (d,), (d, d), (d,), (d, d)")
    cross = np.sum(np.linalg.svd(_psd_sqrt(cov1) @ _psd_sqrt(cov2), compute_uv=False))
    diff = mean1 - mean2
    value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * cross
    return max(float(value), 0.0)


def feature_frechet_distance(features1: np.ndarray, features2: np.ndarray) -> float:
    """FD between Gaussians fitted (:func:`gaussian_fit`) to ``features1`` (n1, d) and
    ``features2`` (n2, d)."""
    return frechet_distance(*gaussian_fit(features1), *gaussian_fit(features2))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (negative rounding clipped)."""
    eigenvalues, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T
