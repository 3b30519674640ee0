"""gpuad/trace.py: primitives (residuals read off their rules, the untraced fast path), trace
levels and the values under them, `nondiff`, `check_nans`, `Meta`.

Tracer conversions and the `.at` hint are tested with the methods that raise them
(tests/numpy/test_methods.py), escaped tracers with the tape (tests/test_reverse.py)."""
import functools

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import trace
from gpuad.trace import DROP, KEEP, META, Meta, Primitive


def _prim(name, impl, vjp, jvp=(), **kwargs):
    return Primitive(name, impl, vjp, jvp, register=False, **kwargs)  # not in the tables


# rules reading only the result (exp), only an argument (sin), both, or neither (add)
EXP = _prim("t_exp", np.exp, [lambda ans, x, g: g * ans], [lambda ans, x, g: g * ans])
SIN = _prim("t_sin", np.sin, [lambda ans, x, g: g * gnp.cos(x)],
            [lambda ans, x, g: g * gnp.cos(x)])
POW = _prim("t_pow", np.power,
            [lambda ans, x, y, g: g * y * ans / x, lambda ans, x, y, g: g * ans * gnp.log(x)],
            [lambda ans, x, y, g: g * y * ans / x, lambda ans, x, y, g: g * ans * gnp.log(x)],
            broadcasting=True)
ADD = _prim("t_add", np.add, [lambda ans, x, y, g: g, lambda ans, x, y, g: g],
            [lambda ans, x, y, g: g, lambda ans, x, y, g: g], broadcasting=True)


@pytest.mark.parametrize("prim, keep, keep_ans", [
    (EXP, (DROP,), KEEP),
    (SIN, (KEEP,), DROP),
    (POW, (KEEP, KEEP), KEEP),
    (ADD, (DROP, DROP), DROP),
])
def test_residuals_are_read_off_the_rules(prim, keep, keep_ans):
    assert (prim.keep, prim.keep_ans) == (keep, keep_ans)
    assert prim.fast


def test_residuals_meta_only_and_opaque_rules():
    meta = _prim("t_sum", np.sum, [lambda ans, x, g: g * gnp.ones_like(x)], meta_only=(0,))
    assert meta.keep == (META,) and not meta.fast  # a Meta is no array: no fast path
    # a rule that is not plain Python code: nothing can be read off it, so everything is kept
    opaque = _prim("t_opaque", np.multiply,
                   [functools.partial(lambda ans, x, y, g: g * y), lambda ans, x, y, g: g * x])
    assert opaque.keep == (KEEP, KEEP) and opaque.keep_ans == KEEP
    half = _prim("t_half", np.multiply, [lambda ans, x, y, g: g * y, None])
    assert not half.fast  # an argument without a rule: the general path names it when reached
    variadic = Primitive("t_stack", np.stack, lambda ans, *xs, g, argnum: g[argnum],
                         variadic=True, meta_only="all", register=False)
    assert (variadic.keep, variadic.keep_ans) == (META, KEEP)


@pytest.mark.parametrize("prim, args", [
    (EXP, (np.linspace(-1.0, 1.0, 4),)),
    (SIN, (np.float64(0.3),)),
    (POW, (np.linspace(0.5, 2.0, 6).reshape(2, 3), np.linspace(-1.0, 1.5, 3))),
    (ADD, (np.ones((2, 1)) * 0.5, np.linspace(0.0, 1.0, 3))),
])
def test_primitives_with_dropped_residuals_differentiate_to_second_order(prim, args):
    # the residuals the tape drops are exactly those no rule reads: every order still checks
    ga.check_grads(lambda *xs: prim.bind(*xs), args, order=2)


def test_untraced_call_runs_the_implementation():
    x = np.linspace(0.0, 1.0, 3)
    out = SIN.bind(x)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, np.sin(x))
    assert type(SIN.bind(0.5)) is np.float64  # Python scalars stay NumPy scalars, as np.sin
    assert repr(SIN) == "<primitive t_sin>"


def test_missing_rules_name_the_op_argument_and_fix():
    half = _prim("t_half", np.multiply, [lambda ans, x, y, g: g * y, None])
    with pytest.raises(NotImplementedError, match=r"t_half: no VJP .* argument 1.*stop_gradient"):
        half.vjp_rule(1)
    with pytest.raises(NotImplementedError, match=r"t_half: no JVP .* argument 0.*custom_jvp"):
        half.jvp_rule(0)
    with pytest.raises(NotImplementedError, match="argument 5"):
        half.vjp_rule(5)  # past the declared arguments: the same message, not an IndexError


def test_nested_traces_levels_and_values():
    seen = {}
    before = trace.open_traces()

    def inner(y):
        outer_x = seen["x"]
        seen["open"] = trace.open_traces()
        seen["innermost"] = trace.innermost_trace()
        seen["top"] = trace.find_top_trace([outer_x, y, 2.0])
        seen["y_trace"] = y._trace
        seen["primal"] = trace.primal_value(y)
        return gnp.sin(y) * outer_x

    def outer(x):
        seen["x"] = x
        return ga.grad(inner)(x * 1.0)

    ga.grad(outer)(np.float64(0.4))
    opened = seen["open"][len(before):]
    assert len(opened) == 2 and opened[0].level < opened[1].level
    assert seen["innermost"] is opened[1] is seen["top"] is seen["y_trace"]
    assert type(seen["primal"]) in (np.ndarray, np.float64)  # under both levels: the raw value
    assert trace.open_traces() == before and trace.innermost_trace() is (before[-1] if before
                                                                         else None)
    assert trace.find_top_trace([1.0, np.ones(2)]) is None


def test_strip_derivatives_keeps_the_batch():
    seen = {}

    def f(x):
        y = x * 2.0
        seen["stripped"] = trace.strip_derivatives(y)
        seen["primal"] = trace.primal_value(y)
        return gnp.sum(y)

    ga.vmap(ga.grad(f))(np.ones((3, 2)))
    assert type(seen["stripped"]) in trace.BATCH_TRACER_TYPES  # the batch is the value
    assert type(seen["primal"]) is np.ndarray and seen["primal"].shape == (3, 2)


def test_nondiff_results_carry_no_derivative():
    calls = []

    def count_positive(xs, *, scale):
        """How many entries are positive."""
        calls.append([type(x) for x in xs])
        return sum(np.sum(np.asarray(x) > 0) for x in xs) * scale

    op = trace.nondiff(count_positive)
    assert op.__name__ == "count_positive" and op.__doc__ == count_positive.__doc__
    assert op.__wrapped__ is count_positive

    def f(x):
        return x * op([x, -x, x * 2.0], scale=1.5)  # tracers inside a list are stripped too

    x = np.array([0.5, -1.0, 2.0])
    # d/dx (x * c) with c = 1.5 * count: the count is a constant, not differentiated
    np.testing.assert_allclose(ga.jacrev(f)(x), np.eye(3) * 1.5 * 5)
    assert all(t not in trace.TRACER_TYPES for ts in calls for t in ts)
    floor = trace.nondiff(np.floor, "floor")
    assert floor.__name__ == "floor"
    ga.check_grads(lambda x: x * floor(x * 3.0), (np.array([0.2, 1.1, -0.7]),), order=2)


def test_nondiff_under_vmap_runs_per_example():
    op = trace.nondiff(lambda x: np.argmax(x))
    out = ga.vmap(op)(np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(out, [1, 0])


def test_check_nans_names_op_and_where():
    trace.check_nans(np.ones(2), "log", "result")
    trace.check_nans((None, np.array([1, 2]), np.array(np.nan, np.float32) > 0), "op", "result")
    with pytest.raises(FloatingPointError, match=r"debug_nans: log produced a NaN in its "
                                                 r"cotangent\..*debug_nans = False"):
        trace.check_nans((np.ones(2), np.array([1.0, np.nan])), "log", "cotangent")
    with pytest.raises(FloatingPointError, match="sqrt"):
        trace.check_nans(np.array(complex(0.0, np.nan)), "sqrt", "result")


@pytest.mark.parametrize("x, shape, dtype", [
    (2.5, (), np.float64),
    (3, (), np.dtype(int)),
    (1j, (), np.complex128),
    (np.float32(1.0), (), np.float32),
    (np.zeros((0, 3), np.float32), (0, 3), np.float32),
    (np.ones((2, 1)), (2, 1), np.float64),
])
def test_meta_of_values(x, shape, dtype):
    meta = Meta(x)
    assert (meta.shape, meta.dtype, meta.xp) == (shape, dtype, np)
    assert meta.ndim == len(shape) and meta.size == int(np.prod(shape))
    assert repr(meta) == f"Meta(shape={shape}, dtype={np.dtype(dtype)})"


def test_meta_of_a_tracer_and_of_a_pending_result():
    seen = []

    def f(x):
        seen.append(Meta(x))
        return gnp.sum(x)

    ga.vmap(ga.grad(f))(np.ones((4, 2, 3), np.float32))
    assert seen[0].shape == (2, 3) and seen[0].dtype == np.float32  # one example's shape
    pending = Meta.of((5,), np.dtype(np.float64), np)
    assert (pending.shape, pending.size, pending.ndim) == ((5,), 5, 1)


def test_as_value_boxes_python_numbers_only():
    for x, dtype in ((1.5, np.float64), (2, np.dtype(int)), (True, np.bool_),
                     (1j, np.complex128)):
        v = trace.as_value(x)
        assert type(v) is np.ndarray and v.shape == () and v.dtype == dtype
    a, s = np.ones(2), np.float32(1.0)
    assert trace.as_value(a) is a and trace.as_value(s) is s
