"""r_ and c_ with traced pieces: NumPy's values and dtypes, derivatives in both modes, vmap."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

# Each key is built from x (a vector of 3) with `r`/`c` standing for gnp.r_/gnp.c_ or np.r_/np.c_.
KEYS = {
    "pieces_numbers_ranges": lambda r, c, x: r[x, 0.5, x[1:], 0:3, 0:1:5j],
    "ndmin_directive": lambda r, c, x: r["0,2", x, x * 2],
    "trans1d_first": lambda r, c, x: r["0,2,0", x, x * 2],
    "axis1_trans1d": lambda r, c, x: r["1,2,0", x, x * 2],
    "axis_only": lambda r, c, x: r["-1", x, 2.0],
    "columns": lambda r, c, x: c[x, x * 2, 3:6],
    "columns_of_scalars": lambda r, c, x: c[x[0], 1.0],
    "columns_of_matrices": lambda r, c, x: c[x[:, None] * x, np.ones((3, 1))],
    "traced_linspace": lambda r, c, x: r[x[0]:x[1]:4j, 2],
    "scalar_0d": lambda r, c, x: r[x[2], np.array(1.5), 3],
    "float32_weak_python_float": lambda r, c, x: r[x.astype(np.float32), 1.0],
    "float32_numpy_float64": lambda r, c, x: r[x.astype(np.float32), np.float64(1.0)],
}


@pytest.mark.parametrize("name", KEYS)
def test_r_and_c_match_numpy(name, rng):
    key = KEYS[name]
    x = rng.uniform(0.5, 2.0, 3)
    f = lambda x: key(gnp.r_, gnp.c_, x)
    expected = key(np.r_, np.c_, x)
    out = ga.jvp(f, (x,), (x,))[0]
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    if "float32" not in name:  # (a float32 rounding is beyond finite differences)
        ga.check_grads(f, (x,), order=2)
        xs = rng.uniform(0.5, 2.0, (4, 3))
        np.testing.assert_array_equal(ga.vmap(f)(xs), np.stack([f(x) for x in xs]))


def test_untraced_keys_go_to_numpy():
    np.testing.assert_array_equal(gnp.r_[1:4, 0, np.ones(2)], np.r_[1:4, 0, np.ones(2)])
    np.testing.assert_array_equal(gnp.c_["0,3,1", 1:3, 4:6], np.c_["0,3,1", 1:3, 4:6])


@pytest.mark.parametrize("key, error, message", [
    (lambda x: gnp.r_["r", x], NotImplementedError, "r_: the directive 'r' makes numpy.matrix"),
    (lambda x: gnp.c_["c", x], NotImplementedError, "c_: the directive 'c' makes numpy.matrix"),
    (lambda x: gnp.r_[x, "0"], ValueError, "special directives must be the first entry"),
    (lambda x: gnp.r_["a,b", x], ValueError, "unknown special directive 'a,b'"),
    (lambda x: gnp.r_[x[0]:3], TypeError, "traced bounds and a real step"),
])
def test_r_errors(key, error, message):
    with pytest.raises(error, match=message):
        ga.grad(lambda x: gnp.sum(key(x)))(np.ones(3))
