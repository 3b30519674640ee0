"""gpuad.nn.initializers: the statistics of each draw, orthogonality, seeds and dtypes."""
import numpy as np
import pytest

from gpuad import nn

INITIALIZERS = [nn.glorot_uniform, nn.glorot_normal, nn.he_normal, nn.orthogonal]


def test_initializer_scales():
    shape = (300, 200)
    w = nn.glorot_uniform(0, shape)
    limit = np.sqrt(6.0 / 500)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert np.var(w) == pytest.approx(limit ** 2 / 3, rel=0.02)
    assert np.std(nn.glorot_normal(0, shape)) == pytest.approx(np.sqrt(2.0 / 500), rel=0.02)
    assert np.std(nn.he_normal(0, shape)) == pytest.approx(np.sqrt(2.0 / 300), rel=0.02)
    for w in (nn.glorot_normal(1, shape), nn.he_normal(1, shape)):
        assert abs(np.mean(w)) < 0.02 * np.std(w)


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7), (2, 3, 4)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    w = nn.orthogonal(np.random.default_rng(2), shape, gain=1.5)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-12)


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda f: f.__name__)
def test_initializers_seed_dtype_and_generator(init):
    a, b = init(7, (4, 6)), init(7, (4, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, init(8, (4, 6)))
    rng = np.random.default_rng(0)
    assert not np.allclose(init(rng, (4, 6)), init(rng, (4, 6)))  # the generator advances
    assert init(0, (4, 6), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match=f"{init.__name__}: dtype"):
        init(0, (2, 2), dtype=np.int32)
    with pytest.raises(TypeError, match="key must be"):
        init("0", (2, 2))
