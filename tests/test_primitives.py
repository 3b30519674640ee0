"""Every primitive's rules against finite differences, from the table in tests/cases.py.

For each case: VJP and JVP against central differences in float64, JVP against VJP
(adjointness), and the same for second derivatives (`check_grads(order=2)`); float32 inputs give
float32 gradients. A last test checks that the cases reach every registered primitive, so a new
op without a case fails the suite.
"""
import contextlib
import zlib

import numpy as np
import pytest

import gpuad as ga
from gpuad.kernels.tape import FusingTrace
from gpuad.reverse import ReverseTrace
from gpuad.trace import PRIMITIVES
from gpuad.tree import tree_leaves

from .cases import CASES, make_args


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rules_match_finite_differences(case):
    args = make_args(case, np.random.default_rng(zlib.crc32(case.id.encode())))
    ga.check_grads(case.fun, args, order=case.order, modes=case.modes,
                   rtol=case.rtol, atol=case.atol, eps=case.eps)


@pytest.mark.parametrize("case", [c for c in CASES if c.float32], ids=lambda c: c.id)
def test_float32_inputs_give_float32_cotangents(case):
    args = make_args(case, np.random.default_rng(7), dtype=np.float32)
    out, vjp_fn = ga.vjp(case.fun, *args)
    cotangent = ga.tree_map(lambda o: np.ones_like(np.asarray(o)), out)
    for arg, g in zip(args, vjp_fn(cotangent)):
        assert g.dtype == np.float32, f"{case.id}: cotangent dtype {g.dtype}"
        assert g.shape == arg.shape
    for o in tree_leaves(out):
        assert np.asarray(o).dtype == np.float32, f"{case.id}: output dtype {np.asarray(o).dtype}"


@contextlib.contextmanager
def _recording(seen):
    """Record the name of every primitive put on any reverse-mode tape: the plain one and the
    fusing one `ReverseTrace()` gives while fusion is on (each has its own record paths)."""
    originals = {(cls, name): cls.__dict__[name] for cls in (ReverseTrace, FusingTrace)
                 for name in ("process", "process1", "process2")}

    def spy(original):
        def method(self, prim, *args):
            seen.add(prim.name)
            return original(self, prim, *args)
        return method

    for (cls, name), original in originals.items():
        setattr(cls, name, spy(original))
    try:
        yield
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)


def test_cases_reach_every_primitive():
    seen = set()
    with _recording(seen):
        for case in CASES:
            args = make_args(case, np.random.default_rng(0))
            # second order in reverse mode: the VJP rules' own primitives are recorded too
            out, vjp_fn = ga.vjp(lambda *a: ga.vjp(case.fun, *a)[1](
                ga.tree_map(np.ones_like, case.fun(*args))), *args)
    missing = sorted(set(PRIMITIVES) - seen)
    assert not missing, f"primitives without a test case in tests/cases.py: {missing}"
