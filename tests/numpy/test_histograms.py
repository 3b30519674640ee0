"""bincount and the histograms (gpuad/numpy/histograms.py): NumPy's values on plain and traced
arguments; derivatives in the weights and in edges computed from the data (cases in
tests/cases_namespace.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(8)
A = RNG.standard_normal(20)
W = RNG.uniform(size=20)
S = RNG.standard_normal((30, 2))
WS = RNG.uniform(size=30)
INT = np.array([0, 3, 1, 3])

CASES = [
    ("bincount", lambda m: m.bincount(INT), ()),
    ("bincount_weights", lambda m, w: m.bincount(INT, w, 6), (W[:4],)),
    ("histogram", lambda m, a: m.histogram(a, 4), (A,)),
    ("histogram_density", lambda m, a: m.histogram(a, 4, density=True), (A,)),
    ("histogram_edges_given", lambda m, a: m.histogram(a, [-1.0, 0.0, 0.5, 2.0]), (A,)),
    ("histogram_range", lambda m, a: m.histogram(a, 5, range=(-1.0, 1.0)), (A,)),
    ("histogram_auto", lambda m, a: m.histogram(a, "auto"), (A,)),
    ("histogram_weights", lambda m, a, w: m.histogram(a, 3, weights=w), (A, W)),
    ("histogram_weights_density", lambda m, a, w: m.histogram(a, 3, weights=w, density=True),
     (A, W)),
    ("histogram_equal_samples", lambda m, a: m.histogram(a, 3), (np.full(5, 2.0),)),
    ("histogram_float32", lambda m, a: m.histogram(a, 3), (A.astype(np.float32),)),
    ("histogram_bin_edges_fd", lambda m, a: m.histogram_bin_edges(a, "fd"), (A,)),
    ("histogramdd", lambda m, s: m.histogramdd(s, 3), (S,)),
    ("histogramdd_density", lambda m, s: m.histogramdd(s, (2, 3), density=True), (S,)),
    ("histogramdd_mixed_bins", lambda m, s: m.histogramdd(s, [np.array([-2.0, 0.0, 2.0]), 3]),
     (S,)),
    ("histogramdd_weights", lambda m, s, w: m.histogramdd(s, 3, weights=w), (S, WS)),
    ("histogramdd_columns", lambda m, x, y: m.histogramdd([x, y], 2), (S[:, 0], S[:, 1])),
    ("histogram2d", lambda m, x, y, w: m.histogram2d(x, y, 3, weights=w), (S[:, 0], S[:, 1], WS)),
    ("histogram2d_density", lambda m, x, y, w: m.histogram2d(x, y, [2, 4], weights=w,
                                                             density=True),
     (S[:, 0], S[:, 1], WS)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_edges_move_with_the_extreme_samples():
    # were silently constant: the edges are linspace(min(a), max(a), bins + 1)
    a = np.array([0.5, 2.0, -1.0, 1.5])
    _, edges = ga.jvp(lambda a: gnp.histogram(a, bins=3)[1], (a,), (np.eye(4)[2],))
    np.testing.assert_allclose(edges, [1.0, 2 / 3, 1 / 3, 0.0])
    g = ga.grad(lambda w: gnp.sum(gnp.histogram(a, bins=3, weights=w)[0] * np.arange(3.0)))(
        np.ones(4))
    np.testing.assert_array_equal(g, [1.0, 2.0, 0.0, 2.0])


def test_bincount_errors():
    with pytest.raises(ValueError, match="bincount: weights of shape"):
        ga.grad(lambda w: gnp.sum(gnp.bincount(INT, w)))(np.ones(3))
    with pytest.raises(TypeError, match="complex weights"):
        ga.grad(lambda w: gnp.sum(gnp.abs(gnp.bincount(INT, w))))(np.ones(4) * 1j)
