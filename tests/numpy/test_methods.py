"""Traced arrays behave like arrays."""
import math
import operator

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import scan


def test_properties_and_methods_under_tracing(rng):
    x = rng.standard_normal((2, 3))

    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
        assert x.dtype == np.float64
        y = x.T.reshape(3, 2).transpose().ravel().sum() + x.mean(axis=0).max() + x.var()
        z = x.swapaxes(0, 1).dot(np.ones(2)).cumsum().prod() + x.clip(-0.5, 0.5).std(ddof=1)
        return y + z + x.astype(np.float64).min() + x.conj().real.sum() + x.diagonal().sum()

    ga.check_grads(f, (x,), order=1)


def test_comparisons_give_plain_arrays_and_bool_works():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert bool(x.sum() > -100)
        assert f"{x.sum():.1f}" == "6.0"
        return gnp.sum(x[mask])
    np.testing.assert_array_equal(ga.grad(f)(np.array([1.0, 2.0, 3.0])), [1.0, 1.0, 1.0])


def test_reflected_operators_with_numpy_arrays(rng):
    a, x = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x: gnp.sum(a - x + a * x + a / (x + 5) + a ** 2 @ x + 2.0 ** x)
    ga.check_grads(f, (x,), order=2)


def test_traced_arrays_are_hashable_and_iterable():
    def f(x):
        assert len({x}) == 1
        return sum(v * v for v in x)
    np.testing.assert_allclose(ga.grad(f)(np.array([1.0, 2.0])), [2.0, 4.0])


# conversion to a Python object: (name in the message, function of the traced value)
CONVERSIONS = [
    ("float()", lambda x: float(x)),
    ("float()", lambda x: math.sqrt(x)),
    ("float()", lambda x: math.sin(x)),
    ("float()", lambda x: float(x) * 2.0),
    ("int()", lambda x: int(x)),
    ("complex()", lambda x: complex(x)),
    ("x.item()", lambda x: x.item()),
    ("x.tolist()", lambda x: x.tolist()),
    ("operator.index()", lambda x: operator.index(x)),
    ("operator.index()", lambda x: len(range(x))),
    ("operator.index()", lambda x: [1.0, 2.0, 3.0][x]),
]

# how a value being differentiated reaches the conversion: f(conversion) -> runs it
DIFFERENTIATED = {
    "grad": lambda c: ga.grad(lambda x: x * 0.0 + (c(x), 0.0)[1])(1.5),
    "value_and_grad": lambda c: ga.value_and_grad(lambda x: (c(x), x)[1])(1.5),
    "vjp": lambda c: ga.vjp(lambda x: (c(x), x)[1], 1.5),
    "jvp": lambda c: ga.jvp(lambda x: (c(x), x)[1], (1.5,), (1.0,)),
    "linearize": lambda c: ga.linearize(lambda x: (c(x), x)[1], 1.5),
    "complex jvp": lambda c: ga.jvp(lambda x: (c(gnp.real(x)), x)[1], (1.5 + 0.5j,), (1.0 + 0j,)),
    "outer of grad(grad)": lambda c: ga.grad(
        lambda y: ga.grad(lambda x: x * y + (c(y), 0.0)[1])(0.5))(1.5),
    "inner of grad(grad)": lambda c: ga.grad(
        lambda y: ga.grad(lambda x: x * y + (c(x), 0.0)[1])(1.5))(0.5),
    "jvp of grad": lambda c: ga.jvp(ga.grad(lambda x: x * x + (c(x), 0.0)[1]), (1.5,), (1.0,)),
    "hessian": lambda c: ga.hessian(lambda x: gnp.sum(x * x) + (c(x[0]), 0.0)[1])(np.ones(2)),
    "checkpointed scan body": lambda c: ga.grad(lambda w: scan(
        lambda h, _: ((c(h), h * w)[1], None), w, None, length=2)[0])(1.5),
}


@pytest.mark.parametrize("transform", list(DIFFERENTIATED))
@pytest.mark.parametrize("name, conversion", CONVERSIONS)
def test_converting_a_differentiated_value_to_a_number_raises(transform, name, conversion):
    with pytest.raises(ga.ConcretizationTypeError) as info:
        DIFFERENTIATED[transform](conversion)
    assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert message.startswith(name) and "derivative" in message and "silently be 0" in message
    assert "ga.stop_gradient(x)" in message


def test_conversion_messages_name_the_array_form():
    def message(conversion):
        with pytest.raises(ga.ConcretizationTypeError) as info:
            ga.grad(lambda x: (conversion(x), x)[1])(2.0)
        return str(info.value)
    assert "math.sqrt" in message(math.sqrt) and "gnp.sqrt(x)" in message(math.sqrt)
    assert "x.astype(int)" in message(int) and "range(x)" in message(lambda x: range(x))
    assert "float64" in message(float)


@pytest.mark.parametrize("name, conversion", CONVERSIONS)
def test_conversions_of_constants_work(name, conversion):
    """After ga.stop_gradient the value is a constant: every conversion gives the number."""
    x = np.array(2.0) if name != "operator.index()" else np.array(2)
    expected = conversion(x)
    got = {}

    def f(w):
        c = ga.stop_gradient(w * 0.0 + x) if name != "operator.index()" else x
        got["value"] = conversion(c)
        return w * 3.0
    assert ga.grad(f)(1.5) == 3.0
    assert got["value"] == expected


def test_integer_and_boolean_tracers_convert():
    """They carry no derivative, so nothing is lost (JAX converts them too)."""
    seen = {}

    def f(x):
        n = (x * 2.0).astype(int)
        seen["int"] = (int(n), operator.index(n), len(range(n)), [10, 20, 30, 40][n], n.item())
        seen["bool"] = (bool(x > 1.0), int(x > 1.0))
        return x * n
    assert ga.grad(f)(1.5) == 3.0
    assert seen["int"] == (3, 3, 3, 40, 3) and seen["bool"] == (True, 1)
    assert ga.jvp(lambda x: x * int((x * 2.0).astype(int)), (1.5,), (1.0,))[1] == 3.0


def test_python_control_flow_on_values_keeps_working():
    f = lambda x: x * x if x > 0 else -x
    assert ga.grad(f)(1.5) == 3.0 and ga.grad(f)(-1.5) == -1.0
    assert ga.jvp(f, (1.5,), (1.0,))[1] == 3.0
    assert ga.grad(lambda x: x * 2.0 if x else x)(np.array(0.0)) == 1.0


def test_an_escaped_tracer_converts_once_its_transform_has_returned():
    kept = []
    ga.grad(lambda x: kept.append(x * 2.0) or x)(1.5)
    assert float(kept[0]) == 3.0 and kept[0].item() == 3.0


def test_item_of_a_differentiated_value_raises_not_a_zero_gradient():
    """The regression: x * x.item() used to give 2.0 (d/dx of x * constant), not 2x = 4."""
    with pytest.raises(ga.ConcretizationTypeError, match=r"x\.item\(\)"):
        ga.grad(lambda x: x * x.item())(np.array(2.0))
    assert ga.grad(lambda x: x * ga.stop_gradient(x).item())(np.array(2.0)) == 2.0


def _note(exc):
    """What the user sees of an exception: its message and notes (Python 3.11+)."""
    return "\n".join([str(exc)] + list(getattr(exc, "__notes__", ())))


@pytest.mark.parametrize("transform", [
    lambda f: ga.grad(f)(1.5),
    lambda f: ga.grad(ga.grad(f))(1.5),
    lambda f: ga.vjp(f, 1.5),
    lambda f: ga.jvp(f, (1.5,), (1.0,)),
    lambda f: ga.linearize(f, 1.5),
    lambda f: ga.vmap(f)(np.ones(2)),
    lambda f: ga.hessian(f)(1.5),
])
def test_at_on_a_plain_numpy_array_points_at_gnp_at(transform):
    constant = np.zeros(3)

    def f(x):
        return gnp.sum(constant.at[0].set(1.0) * x)
    with pytest.raises(AttributeError, match="'numpy.ndarray' object has no attribute 'at'") \
            as info:
        transform(f)
    message = _note(info.value)
    assert "numpy.ndarray is a plain array, not a traced one" in message
    assert "gnp.at(x)[idx].set(v)" in message and message.count("gpuad:") == 1


def test_gnp_at_works_on_plain_and_traced_arrays():
    constant = np.zeros(3)
    f = lambda x: gnp.sum(gnp.at(constant)[0].set(1.0) * x + gnp.at(x)[1].add(x[0]))
    np.testing.assert_allclose(ga.grad(f)(np.arange(3.0)), [3.0, 1.0, 1.0])


def test_other_attribute_errors_are_left_alone():
    def f(x):
        return np.zeros(2).no_such_attribute
    with pytest.raises(AttributeError) as info:
        ga.grad(f)(1.5)
    assert "gpuad" not in _note(info.value)


# ---- NumPy ufunc methods and out= on traced arrays ------------------------------------------

UFUNC_METHODS = {  # name -> (function of the traced array, the same in plain NumPy)
    "add.reduce": lambda x: np.add.reduce(x),
    "add.reduce axis=1 keepdims": lambda x: np.add.reduce(x, axis=1, keepdims=True),
    "add.reduce axis=None": lambda x: np.add.reduce(x, axis=None),
    "add.reduce axis=(0, 1)": lambda x: np.add.reduce(x, axis=(0, 1)),
    "multiply.reduce": lambda x: np.multiply.reduce(x, 1),
    "maximum.reduce": lambda x: np.maximum.reduce(x),
    "minimum.reduce axis=-1": lambda x: np.minimum.reduce(x, axis=-1, keepdims=True),
    "add.accumulate": lambda x: np.add.accumulate(x),
    "add.accumulate axis=1": lambda x: np.add.accumulate(x, axis=1),
    "multiply.accumulate": lambda x: np.multiply.accumulate(x, 1),
    "multiply.outer": lambda x: np.multiply.outer(x, X_OTHER),
    "multiply.outer reflected": lambda x: np.multiply.outer(X_OTHER[:2], x),
    "subtract.outer": lambda x: np.subtract.outer(X_OTHER, x),
    "power.outer": lambda x: np.power.outer(np.abs(x) + 0.5, X_OTHER),
    "arctan2.outer of itself": lambda x: np.arctan2.outer(x[0], x),
}
X_OTHER = np.array([0.5, -1.5, 2.0])


@pytest.mark.parametrize("name", list(UFUNC_METHODS))
def test_ufunc_methods_on_traced_arrays_match_numpy_and_differentiate(name, rng):
    fn = UFUNC_METHODS[name]
    x = rng.standard_normal((2, 3))
    seen = {}

    def traced(x):
        seen["value"] = ga.stop_gradient(fn(x))
        return fn(x)
    ga.check_grads(traced, (x,), order=2)
    ga.vjp(traced, x)
    np.testing.assert_allclose(seen["value"], fn(x), rtol=1e-14)


def test_reduce_defaults_to_axis_0_as_numpy_does(rng):
    x = rng.standard_normal((2, 3))
    g = ga.grad(lambda x: gnp.sum(np.add.reduce(x) * np.arange(3.0)))(x)
    np.testing.assert_array_equal(g, np.broadcast_to(np.arange(3.0), (2, 3)))


def test_boolean_reductions_of_traced_comparisons(rng):
    x = rng.standard_normal(4)
    seen = {}

    def f(x):
        seen["all"], seen["any"] = np.logical_and.reduce(x > -10.0), np.logical_or.reduce(x > 10)
        return gnp.sum(x)
    ga.grad(f)(x)
    assert seen == {"all": True, "any": False}


@pytest.mark.parametrize("call, message", [
    (lambda x: np.subtract.reduce(x), r"numpy\.subtract\.reduce on a traced array has no "
                                      r"differentiable version in gpuad, which has add\.reduce "
                                      r"\(gnp\.sum\)"),
    (lambda x: np.maximum.accumulate(x), r"numpy\.maximum\.accumulate .*add\.accumulate "
                                         r"\(gnp\.cumsum\)"),
    (lambda x: np.add.reduce(x, initial=1.0), r"numpy\.add\.reduce .*\['initial'\]"),
    (lambda x: np.add.reduce(x, where=x > 0), r"numpy\.add\.reduce .*\['where'\]"),
    (lambda x: np.maximum.reduce(x, dtype=np.float32), r"numpy\.maximum\.reduce .*dtype"),
    (lambda x: np.add.at(x, [0, 0], 1.0), r"numpy\.add\.at modifies its first argument in "
                                          r"place.*x = x\.at\[idx\]\.add\(v\)"),
    (lambda x: np.add.at(np.zeros(3), [0, 0], x[0]), r"numpy\.add\.at .*gnp\.at\(x\)"),
    (lambda x: np.multiply.at(x, [1], 2.0), r"numpy\.multiply\.at .*x\.at\[idx\]\.set"),
    (lambda x: np.add.reduceat(x, [0, 2]), r"numpy\.add\.reduceat .*gnp\.stack\(\[gnp\.sum"),
    (lambda x: np.sin(x, out=np.zeros(3)), r"numpy\.sin with out=: traced arrays are "
                                           r"immutable.*y = np\.sin\(x\)"),
    (lambda x: np.add(x, 1.0, np.zeros(3)), r"numpy\.add with out="),
    (lambda x: np.sin(np.ones(3), out=x), r"numpy\.sin with out="),
    (lambda x: np.add.reduce(x, out=np.zeros(())), r"numpy\.add\.reduce with out="),
    # (every NumPy ufunc has a gnp function now: a ufunc of the user's own has none)
    (lambda x: np.frompyfunc(lambda a: a, 1, 1)(x),
     r"numpy\.<lambda> \(vectorized\) has no differentiable version in gpuad\.numpy"),
])
def test_unsupported_ufunc_uses_name_the_ufunc_method_and_alternative(call, message):
    with pytest.raises(TypeError, match=message):
        ga.grad(lambda x: gnp.sum(call(x)))(np.array([0.5, -1.0, 2.0]))


def test_scipy_ufuncs_point_at_gpuad_scipy_special():
    special = pytest.importorskip("scipy.special")
    x = np.array([0.5, 1.5])
    with pytest.raises(TypeError, match=r"^scipy\.special\.gammaln was called on a traced array"
                                        r".*gpuad\.scipy\.special\.gammaln\(x\)"):
        ga.grad(lambda x: gnp.sum(special.gammaln(x)))(x)
    with pytest.raises(TypeError, match=r"scipy\.special\.psi \(or digamma\).*"
                                        r"gpuad\.scipy\.special\.psi\(x\)"):
        ga.grad(lambda x: gnp.sum(special.digamma(x)))(x)
    with pytest.raises(TypeError, match=r"scipy\.special\.airy has no differentiable version in "
                                        r"gpuad\.scipy\.special"):
        ga.grad(lambda x: gnp.sum(special.airy(x)[0]))(x)
    # SciPy's ufuncs that are NumPy's functions under the same name run the gnp one
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(special.log1p(x)))(x), 1 / (1 + x))


def test_printing_a_traced_value_with_format_works_and_percent_f_explains():
    printed = []

    def f(x):
        printed.append(f"{x:.2f}")
        return x * x
    assert ga.grad(f)(1.5) == 3.0 and printed == ["1.50"]
    with pytest.raises(ga.ConcretizationTypeError, match=r"'%f' % x.*f'\{x:\.3f\}' works"):
        ga.grad(lambda x: ("%f" % x, x)[1])(1.5)
