"""Replay against eager, bit for bit, over the primitive table (tests/cases.py).

Each case is recorded on one draw of its arguments and replayed on another, so a value of the
recording baked in as a constant shows up as a difference. Both the function and its
value_and_grad are run. A case that cannot be recorded must say so with ConcretizationError;
one whose rules read a traced value (primal_value) must be reported not replayable
(`replayable` False: it runs eagerly); a wrong value fails the test. No list of exceptions.
"""
import warnings
import zlib

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.tree import tree_leaves

from ..cases import CASES, make_args


def _same(a, b):
    la, lb = tree_leaves(a), tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def _scalar(fun):
    def f(*args):
        out = fun(*args)
        leaves = tree_leaves(out)
        total = 0.0
        for leaf in leaves:
            total = total + ga.numpy.sum(ga.numpy.real(leaf) if leaf.dtype.kind == "c" else leaf)
        return total
    return f


def _same_to_rounding(a, b):
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-14)


def _run(fun, args, states):
    gnp.random.set_all_states(states)
    return fun(*args)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("grad", [False, True], ids=["f", "value_and_grad"])
def test_replay_equals_eager(case, grad):
    """Strict: each case is refused with ConcretizationError, or replayed bit for bit equal to
    the recording of the same call, or reported not replayable (and then run eagerly)."""
    gnp.random.seed(1)
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    first, second = make_args(case, rng), make_args(case, rng)
    fun = case.fun
    if grad:
        if "rev" not in case.modes:
            pytest.skip("no reverse mode for this case")
        fun = ga.value_and_grad(_scalar(case.fun), argnums=tuple(range(len(first))))
    jitted = ga.jit(fun)
    states = gnp.random.get_all_states()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the warning of a recording not replayed)
        try:
            recorded = jitted(*first)
        except ga.ConcretizationError:
            assert jitted.cache_size() == 0  # refused while recording: nothing cached
            return
    _same_to_rounding(recorded, _run(fun, first, states))
    replayable = jitted.replayable(*first)
    assert replayable in (True, False)
    assert (jitted.why_not_replayed(*first) is None) == replayable
    # random cases draw: the replay must draw what the eager call in its place draws
    states = gnp.random.get_all_states()
    replayed = _run(jitted, second, states)
    after = gnp.random.get_all_states()
    eager = _run(fun, second, states)
    assert gnp.random.get_state() == after[0]
    if replayable:
        # the replay runs the NumPy calls of the traced function, which for a few ops differ
        # from their plain-array route (abs of complex is hypot of the parts, qr of a wide
        # matrix is one of its square part): equal bit for bit to a recording of this call,
        # to rounding to the plain eager call
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _same(replayed, _run(ga.jit(fun), second, states))
        _same_to_rounding(replayed, eager)
    else:
        _same(replayed, eager)  # not replayed: run eagerly
