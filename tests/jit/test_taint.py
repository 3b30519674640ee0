"""A recording that read the value of one of its tracers (primal_value in a rule, a helper
walking the tracer tower) is never replayed: it runs eagerly on every call, with one warning
naming where the value was read, and `replayable` says so. Conversions NumPy makes on a
recording tracer (np.asarray, a shape, a boolean mask) raise ConcretizationError."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.trace import Primitive, primal_value


def _leaky_rule():
    """An op whose VJP computes a constant from the primal value on the host (a sign): the
    pattern that made replays stale before values were guarded."""
    return Primitive("jit_test_signed_square", lambda x: x * x,
                     [lambda ans, x, g: g * 2.0 * np.abs(primal_value(x))
                      * np.sign(primal_value(x))], register=False)


def test_reading_a_traced_value_falls_back_to_eager_with_one_warning():
    p = _leaky_rule()
    fun = ga.grad(lambda x: gnp.sum(p.bind(x)))
    f = ga.jit(fun)
    x1, x2 = np.array([1.0, -2.0]), np.array([-3.0, 0.5])
    with pytest.warns(UserWarning, match="not replayed.*primal_value|not replayed.*<lambda>"):
        np.testing.assert_array_equal(f(x1), fun(x1))
    assert f.replayable(x1) is False and f.cache_size() == 1
    assert "recording-time value" in f.why_not_replayed(x1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one warning only, then plain eager calls
        np.testing.assert_array_equal(f(x2), fun(x2))  # not the recording's signs


def test_metadata_reads_keep_the_recording_replayable():
    f = ga.jit(ga.value_and_grad(lambda x: gnp.sum(gnp.var(x) * gnp.ones_like(x))
                                 + gnp.max(x)))
    x = np.array([0.3, -1.0, 2.0])
    f(x)
    assert f.replayable(x) is True and f.why_not_replayed(x) is None
    y = np.array([5.0, 1.0, -2.0])
    for a, b in zip(f(y), ga.value_and_grad(lambda x: gnp.sum(gnp.var(x) * gnp.ones_like(x))
                                            + gnp.max(x))(y)):
        np.testing.assert_array_equal(a, b)


def test_replayable_is_none_before_recording():
    f = ga.jit(gnp.sin)
    assert f.replayable(np.ones(2)) is None
    f(np.ones(2))
    assert f.replayable(np.ones(2)) is True and f.replayable(np.ones(3)) is None


@pytest.mark.parametrize("fun, what", [
    (lambda x: gnp.sum(x[x > 0]), "boolean mask"),
    (lambda x: gnp.zeros(gnp.sum(x > 0)), "zeros"),
    (lambda x: gnp.arange(gnp.sum(x > 0)) * 1.0, "arange"),
    (lambda x: np.asarray(x) * 2.0, "NumPy array"),
])
def test_value_dependent_numpy_uses_raise_concretization_error(fun, what):
    f = ga.jit(fun)
    with pytest.raises(ga.ConcretizationError, match=what):
        f(np.array([1.0, -2.0, 3.0]))
    assert f.cache_size() == 0


def test_draws_with_traced_parameters_are_eager_and_equal():
    """gnp.random.normal with a traced mean reads it on the host: not replayed, still equal to
    the eager sequence of draws."""
    def draw(x):
        return gnp.random.normal(x, 1.0)
    x = np.arange(3.0)
    gnp.random.seed(4)
    eager = [draw(x) for _ in range(3)]
    gnp.random.seed(4)
    f = ga.jit(draw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [f(x) for _ in range(3)]
    for a, b in zip(got, eager):
        np.testing.assert_array_equal(a, b)
