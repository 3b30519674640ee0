"""gpuad/kernels/symbolic.py: the scalar forms read off each elementwise primitive's
declaration compute what the primitive computes, and their derivatives match central
differences (float64), for every primitive that has forms."""
import math

import numpy as np
import pytest

import gpuad.numpy  # noqa: F401 (declares the primitives)
from gpuad.kernels.symbolic import NotScalar, Sym, scalar_forms
from gpuad.trace import PRIMITIVES

WITH_FORMS = sorted(name for name, p in PRIMITIVES.items() if scalar_forms(p) is not None)
POINTS = (0.3, 0.7, 1.3)  # inside every domain (arccosh aside), away from kinks and ties
SECOND = (0.45, 0.9, 1.6)


def _point(name):
    return POINTS[0] + (1.5 if name == "arccosh" else 0.0)  # arccosh: defined from 1


def _eval(template, args, ans=None):
    src = template.format(*args, a=ans)
    return eval(src, {"math": math, "F": float, "abs": abs, "max": max, "min": min})


def test_the_usual_elementwise_ops_have_forms():
    for name in ("add", "multiply", "sin", "exp", "tanh", "maximum", "where"):
        assert name in WITH_FORMS, name


@pytest.mark.parametrize("name", WITH_FORMS)
def test_forms_compute_the_primitive_and_its_derivatives(name):
    prim = PRIMITIVES[name]
    forward, derivs = scalar_forms(prim)
    arity = len(derivs)
    args = [_point(name)] if arity == 1 else [_point(name), SECOND[1]]
    if arity == 3:  # where(c, a, b): a true condition
        args = [1.0, POINTS[1], SECOND[2]]
    want = float(prim.impl(*[np.float64(a) for a in args]))
    ans = _eval(forward, [repr(a) for a in args])
    assert ans == pytest.approx(want, rel=1e-12, abs=1e-14), forward
    eps = 1e-6
    for i, d in enumerate(derivs):
        if d is None:
            continue
        up, down = list(args), list(args)
        up[i] += eps
        down[i] -= eps
        fd = (float(prim.impl(*map(np.float64, up)))
              - float(prim.impl(*map(np.float64, down)))) / (2 * eps)
        got = _eval(d, [repr(a) for a in args], repr(ans))
        assert got == pytest.approx(fd, rel=1e-6, abs=1e-8), (name, i, d)


def test_placeholders_refuse_what_a_scalar_cannot_follow():
    x = Sym("{0}")
    assert np.sin(x).src == "math.sin({0})"
    assert (x * 2 + 1).src == "(({0} * 2.0) + 1.0)"
    assert np.where(x > 0, x, 0.0).src == "({0} if ({0} > 0.0) else 0.0)"
    with pytest.raises(NotScalar, match="Python control flow"):
        bool(x > 0)
    with pytest.raises(NotScalar, match="numpy.sum"):
        np.sum(x)
    with pytest.raises(NotScalar, match="add.reduce"):
        np.add.reduce(x)
    with pytest.raises(NotScalar, match="integer cast"):
        x.astype(np.int32)
    assert x.astype(np.float32).src == "F({0})"
