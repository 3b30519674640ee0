"""gpuad.nn.losses: values against plain NumPy formulas, stability for huge logits, derivatives,
errors."""
import numpy as np
import pytest

import gpuad as ga
from gpuad import nn


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_loss_values_match_numpy():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 5, 3))
    assert float(nn.mse(a, b)) == pytest.approx(np.mean((a - b) ** 2), rel=1e-14)
    logits = 3.0 * rng.standard_normal((2, 5, 4))
    labels = rng.integers(0, 4, (2, 5))
    want = -np.mean(np.take_along_axis(_log_softmax(logits), labels[..., None], -1))
    assert float(nn.softmax_cross_entropy(logits, labels)) == pytest.approx(want, rel=1e-13)
    one_hot = np.eye(4)[labels]
    assert float(nn.softmax_cross_entropy(logits, one_hot)) == pytest.approx(want, rel=1e-13)
    soft = rng.dirichlet(np.ones(4), (2, 5))
    assert float(nn.softmax_cross_entropy(logits, soft)) == pytest.approx(
        -np.mean(np.sum(soft * _log_softmax(logits), -1)), rel=1e-13)
    targets = rng.uniform(0, 1, (2, 5, 4))
    p = 1.0 / (1.0 + np.exp(-logits))
    assert float(nn.binary_cross_entropy_with_logits(logits, targets)) == pytest.approx(
        -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rel=1e-12)


def test_losses_are_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 900.0]])
    ce = nn.softmax_cross_entropy(logits, np.array([0, 1]))
    assert float(ce) == pytest.approx(np.log(2.0) / 2)           # row 2: two tied at 900
    g = ga.grad(nn.softmax_cross_entropy)(logits, np.array([0, 1]))
    np.testing.assert_allclose(g, np.array([[0, 0, 0], [0, -0.25, 0.25]]), atol=1e-15)
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    t = np.array([1.0, 0.0, 0.0, 1.0])
    assert float(nn.binary_cross_entropy_with_logits(x, t)) == pytest.approx(500.0)  # 2 wrong
    assert np.all(np.isfinite(ga.grad(nn.binary_cross_entropy_with_logits)(x, t)))


def test_loss_gradients():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3, 4))
    ga.check_grads(nn.mse, (a, b), order=2)
    labels = rng.integers(0, 4, 3)
    ga.check_grads(lambda z: nn.softmax_cross_entropy(z, labels), (a,), order=2)
    ga.check_grads(nn.softmax_cross_entropy, (a, rng.dirichlet(np.ones(4), 3)), order=2)
    ga.check_grads(nn.binary_cross_entropy_with_logits, (2.0 * a, rng.uniform(0, 1, (3, 4))),
                   order=2)


def test_loss_errors():
    z = np.zeros((3, 4)) + np.arange(4.0)
    with pytest.raises(ValueError, match=r"mse: pred has shape \(3, 1\) but target has shape"):
        nn.mse(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\), got values in \[0, 4\]"):
        nn.softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"must have shape \(3,\)"):
        nn.softmax_cross_entropy(z, np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="probability labels have shape"):
        nn.softmax_cross_entropy(z, np.ones((3, 3)))
    with pytest.raises(TypeError, match="labels must be integer class indices"):
        nn.softmax_cross_entropy(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: logits have shape"):
        nn.binary_cross_entropy_with_logits(z, np.ones(4))
