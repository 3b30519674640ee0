"""Arrays a tape still needs are read-only meanwhile, and writeable again afterwards on every
path (gpuad/readonly.py, and its use by the transforms in gpuad/reverse.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.readonly import hold, release


def writeable(*arrays):
    return [a.flags.writeable for a in arrays]


def test_hold_and_release_count_holders():
    a = np.random.default_rng(0).standard_normal(5)
    first, second = [], []
    hold(a, first)
    hold(a, second)
    hold(a, second)
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 1.0
    release(second)
    assert writeable(a) == [False] and not second  # the first holder still needs it
    release(first)
    assert writeable(a) == [True]
    a[0] = 1.0


def test_arrays_read_only_already_are_left_alone():
    a = np.arange(4.0)
    a.flags.writeable = False
    held = []
    hold(a, held)
    release(held)
    assert writeable(a) == [False]  # hold did not clear the flag: release does not set it
    b = np.frombuffer(bytearray(32))  # memory NumPy does not own: not touched at all
    hold(b, held)
    assert writeable(b) == [True] and not held


def test_a_view_protects_its_base_and_is_restored_after_it():
    base = np.random.default_rng(1).standard_normal((3, 4))
    view = base[1:]
    by_view, by_base = [], []
    hold(view, by_view)
    assert writeable(base, view) == [False, False]
    with pytest.raises(ValueError):
        base[2, 0] = 0.0  # would change the view the tape reads
    hold(base, by_base)
    release(by_view)
    assert writeable(base, view) == [False, False]  # NumPy: no writeable view of a read-only base
    hold(view, by_view)  # held again while it waits for its base
    release(by_base)
    assert writeable(base, view) == [False, False]
    release(by_view)
    assert writeable(base, view) == [True, True]
    sliced = np.broadcast_to(base[0], (2, 4))  # read-only itself: only its base is held
    held = []
    hold(sliced, held)
    assert writeable(base, sliced) == [False, False]
    release(held)
    assert writeable(base, sliced) == [True, False]


def test_a_closure_writing_to_an_input_or_a_constant_is_an_error_at_the_write():
    rng = np.random.default_rng(2)
    x, c = rng.standard_normal(6), rng.standard_normal(6)

    def writes_input(x_traced):
        y = gnp.sin(x_traced) * 2.0
        x[0] = 0.0  # sin's rule reads x
        return gnp.sum(y)

    def writes_constant(x):
        y = gnp.sin(x) * c
        c[0] = 0.0
        return gnp.sum(y)

    def writes_index(x):
        idx = np.array([0, 2, 2])
        y = x[idx]
        idx[0] = 1  # the rule scatters the cotangent back through idx
        return gnp.sum(y * y)

    for f in (writes_input, writes_constant, writes_index):
        for transform in (ga.grad(f), lambda x: ga.vjp(f, x), lambda x: ga.linearize(f, x)):
            with pytest.raises(ValueError, match="read-only"):
                transform(x)
            assert writeable(x, c) == [True, True]


def test_flags_come_back_after_errors_anywhere():
    rng = np.random.default_rng(3)
    x, c = rng.standard_normal(4), rng.standard_normal(4)

    def raises_inside(x):
        gnp.sum(x * c)
        raise KeyError("inside")

    @ga.custom_vjp
    def failing(x):
        return x * 1.0

    def bwd(res, g):
        raise RuntimeError("backward")

    failing.defvjp(lambda x: (x * 1.0, None), bwd)
    cases = [(ga.grad(raises_inside), KeyError),
             (ga.grad(lambda x: x * c), TypeError),  # not a scalar: raised after the trace
             (ga.grad(lambda x: gnp.sum(failing(x) * c)), RuntimeError),
             (ga.grad(lambda x: (gnp.sum(x * c), 1.0, 2.0), has_aux=True), TypeError),
             (lambda x: ga.vjp(raises_inside, x), KeyError),
             (lambda x: ga.vjp(lambda x: x * c, x, has_aux=True), TypeError)]
    for fn, error in cases:
        with pytest.raises(error):
            fn(x)
        assert writeable(x, c) == [True, True]


def test_vjp_fn_keeps_what_it_reads_read_only_until_it_is_deleted():
    rng = np.random.default_rng(4)
    x, c = rng.standard_normal(5), rng.standard_normal(5)
    out, vjp_fn = ga.vjp(lambda x: gnp.exp(x) * c, x)
    out2, vjp_fn2 = ga.vjp(lambda x: gnp.sin(x) * c, x)
    assert writeable(x, c, out, out2) == [False] * 4  # exp's rule reads its result, out
    want = vjp_fn(np.ones(5))[0]
    np.testing.assert_array_equal(want, np.exp(x) * c)
    del vjp_fn
    assert writeable(out) == [True] and writeable(x, c, out2) == [False] * 3
    del vjp_fn2  # (no cycle keeps a tape alive: it goes at once)
    assert writeable(x, c, out2) == [True] * 3
    out, jvp_fn = ga.linearize(lambda x: gnp.exp(x) * c, x)
    assert writeable(x, c, out) == [False] * 3
    del jvp_fn
    assert writeable(x, c, out) == [True] * 3


def test_nested_transforms_share_arrays_and_give_them_back():
    rng = np.random.default_rng(5)
    x, c = rng.standard_normal(4), rng.standard_normal(4)
    seen = []

    def inner(y):
        return gnp.sum(gnp.sin(y * c) * y)

    def outer(x):
        g = ga.grad(inner)(x)  # the inner tape ends here; the outer one still reads c
        seen.append(writeable(c)[0])
        return gnp.sum(g * g)

    ga.grad(outer)(x)
    assert seen == [False] and writeable(x, c) == [True, True]
    out, vjp_fn = ga.vjp(outer, x)
    assert writeable(x, c) == [False, False]
    ga.grad(inner)(x)  # a second holder, released when it returns: the vjp's hold remains
    assert writeable(x, c) == [False, False]
    del vjp_fn
    assert writeable(x, c) == [True, True]
    ga.check_grads(inner, (x,), order=2)
    assert writeable(x, c) == [True, True]


def test_stop_gradient_gives_a_read_only_view_of_traced_arrays():
    x = np.random.default_rng(6).standard_normal(3)
    seen = {}

    def f(x):
        y = gnp.tanh(x)  # tanh's rule reads y
        const = ga.stop_gradient(y)
        seen["error"] = pytest.raises(ValueError, const.__setitem__, 0, 5.0)
        seen["plain"] = ga.stop_gradient(np.ones(2))
        return gnp.sum(y * const)

    g = ga.grad(f)(x)
    np.testing.assert_allclose(g, (1 - np.tanh(x) ** 2) * np.tanh(x), rtol=1e-12)
    assert "read-only" in str(seen["error"].value)
    assert writeable(seen["plain"]) == [True]  # not traced: returned as it is
