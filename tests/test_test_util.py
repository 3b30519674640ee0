"""check_grads catches wrong rules and names the mode, the order and the worst element."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.numpy.define import unary_op
from gpuad.trace import Primitive


def _op(vjp_scale=1.0, jvp_scale=1.0):
    prim = Primitive("test_sin", np.sin, register=False,
                     vjp=[lambda ans, x, g: g * gnp.cos(x) * vjp_scale],
                     jvp=[lambda ans, x, g: g * gnp.cos(x) * jvp_scale])
    return unary_op(prim)


def test_correct_rule_passes(rng):
    ga.check_grads(_op(), (rng.standard_normal(4),), order=1)


def test_wrong_vjp_is_reported_in_reverse_mode(rng):
    with pytest.raises(AssertionError, match=r"rev mode, order 1"):
        ga.check_grads(_op(vjp_scale=1.1), (rng.standard_normal(4),), order=1)


def test_wrong_jvp_names_the_worst_element(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(AssertionError, match=r"(?s)fwd mode, order 1.*worst element output\[\d+, \d+\]"):
        ga.check_grads(_op(jvp_scale=0.5), (x,), order=1, modes=("fwd",))


def test_adjointness_between_modes_is_checked(rng):
    with pytest.raises(AssertionError, match="mode"):
        ga.check_grads(_op(jvp_scale=1.2, vjp_scale=1.0), (rng.standard_normal(3),), order=1)


def test_argument_errors():
    with pytest.raises(TypeError, match="tuple"):
        ga.check_grads(gnp.sin, np.ones(2))
    with pytest.raises(ValueError, match="mode"):
        ga.check_grads(gnp.sin, (np.ones(2),), modes=("sideways",))
