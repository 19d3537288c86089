import numpy as np
import pytest

from neurosim.data.digits import load_digits
from neurosim.errors import NeurosimError


def test_digits_shape_range_and_classes():
    x, labels = load_digits()
    assert x.shape == (1797, 64) and labels.shape == (1797,)
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.array_equal(np.unique(labels), np.arange(10))
    assert 174 <= np.bincount(labels).min() and np.bincount(labels).max() <= 183
    # A zero is darker at its centre column than its rim: a cheap sanity check of layout.
    zero = x[labels == 0].mean(axis=0).reshape(8, 8)
    assert zero[3:5, 3:5].mean() < zero[3:5, 1:3].mean()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(NeurosimError, match="digits data not found"):
        load_digits(tmp_path / "nope.npz")
