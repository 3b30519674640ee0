"""scan and while_loop inside a ga.jit recording: a fixed-length scan (any schedule) records
and replays bit for bit, forward and backward; a while_loop whose condition is computed from
the arguments refuses with ConcretizationError (its trip count would be baked in)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import EveryK, Revolve, StoreAll, scan, while_loop


def _rnn(schedule):
    def f(w, xs):
        def step(c, x):
            c = gnp.tanh(c * w + x)
            return c, gnp.sum(c ** 2)
        c, ys = scan(step, gnp.zeros(3), xs, schedule=schedule)
        return gnp.sum(c) + gnp.sum(ys)
    return f


@pytest.mark.parametrize("schedule", [None, StoreAll(), EveryK(2), Revolve(2)],
                         ids=["default", "StoreAll", "EveryK2", "Revolve2"])
def test_fixed_length_scan_replays_bit_for_bit(schedule):
    eager = ga.value_and_grad(_rnn(schedule))
    step = ga.jit(eager)
    rng = np.random.default_rng(3)
    for _ in range(3):  # one recording, two replays on new values
        w, xs = rng.standard_normal(3), rng.standard_normal((7, 3))
        for a, b in zip(ga.tree_leaves(step(w, xs)), ga.tree_leaves(eager(w, xs))):
            np.testing.assert_array_equal(a, b)
        assert step.replayable(w, xs) is True
    assert step.cache_size() == 1


def _doubling(x):
    return while_loop(lambda c: gnp.sum(c) < 10.0, lambda c: c * 2.0, x)


@pytest.mark.parametrize("fun", [_doubling, ga.grad(lambda x: gnp.sum(_doubling(x)))],
                         ids=["f", "grad"])
def test_value_dependent_while_loop_is_refused(fun):
    f = ga.jit(fun)
    with pytest.raises(ga.ConcretizationError, match="while_loop") as info:
        f(np.array([1.0, 2.0]))
    assert "scan" in str(info.value) and "static_argnums" in str(info.value)
    assert f.cache_size() == 0
    # eager, the same loop runs a number of steps that depends on the values
    np.testing.assert_array_equal(_doubling(np.array([1.0, 2.0])), [4.0, 8.0])
    np.testing.assert_array_equal(_doubling(np.array([3.0, 3.0])), [6.0, 6.0])


def test_while_loop_on_a_python_counter_records():
    """A condition on an untraced counter is the same on every call: recorded and replayed."""
    def f(x):
        return while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, gnp.sin(c[1])), (0, x))[1]
    g = ga.jit(f)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal(4)
        np.testing.assert_array_equal(g(x), f(x))
    assert g.replayable(x) is True
