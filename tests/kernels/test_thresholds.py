"""No result depends on the fusion thresholds, and a write to an array a traced computation
still needs is an error at the write whatever the size (gpuad/readonly.py).

Reference: fusion off (every op eager, its own rules). Against it: fusion at thresholds 2
(every op fused, every forward value lazy) and at the configured thresholds (the defaults,
unless the environment sets them). Forward values and forward-mode derivatives must be equal
bit for bit: lazy values run the same NumPy functions on the same operands, and neither jvp nor
the inner, traced sweep of hvp fuses. Reverse-mode derivatives of fused groups come from
generated kernels, which evaluate the derivative expressions in their own order (the README:
"gradients the same to rounding"), so those are compared to a few ulps.
"""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import Online, Revolve, checkpoint, scan, while_loop
from gpuad.config import config

_rng = np.random.default_rng(42)
C = _rng.uniform(0.5, 1.5, 16)  # a constant array the programs close over


def chain(x, y):
    return gnp.sum(gnp.tanh(gnp.sin(x) * y + 0.5) * x)


def broadcasting(x, y):
    return gnp.sum(gnp.exp(x * y) - y / (1.0 + x * x))


def where(x, y):
    return gnp.sum(gnp.where(x > 0, x * x, 0.1 * x) * gnp.maximum(y, 0.2))


def escaping(x, y):
    z = gnp.sin(x) * y  # read by ops outside its group: its cotangent comes from several uses
    w = gnp.tanh(z) + z * z
    return gnp.sum(w) + gnp.sum(z[0] ** 3) + gnp.sum(gnp.sum(z, axis=0) * y)


def scan_steps(x, y):
    def step(h, xt):
        h = gnp.tanh(h * y + xt * C)
        return h, gnp.sum(h * h)
    h, ys = scan(step, y, x, schedule=Revolve(2))
    return gnp.sum(ys) + gnp.sum(h * C)


def buffer_written_before_use(x, y):
    buf = np.empty(16)
    buf[:] = C * 2.0  # written before any traced op reads it: allowed
    return gnp.sum(gnp.cos(x * buf) * y)


def buffer_written_after_use(x, y):
    buf = C.copy()
    z = gnp.exp(x) * buf
    buf[:] = 0.0  # the tape (multiply's rule, a lazy value) still reads it: an error here
    return gnp.sum(z * y)


def checkpointed(x, y):
    layer = checkpoint(lambda x, y, s: gnp.tanh(x * y + s) * gnp.cos(x))  # s: a Python float
    return gnp.sum(layer(layer(x, y, 0.5), y, 0.25) * C)


def while_trips(x, y):
    def body(c):
        h, k, s = c  # k: a trip count in the carry (not a closure); s a Python float
        return gnp.sin(h * y + 0.1 * k) * s + x, k + 1, s * 0.5 + 0.25

    h, k, s = while_loop(lambda c: c[1] < 4, body, (x, 0, 1.0), schedule=Online(2))
    return gnp.sum(h * h) * s


PROGRAMS = [chain, broadcasting, where, escaping, scan_steps, checkpointed, while_trips,
            buffer_written_before_use, buffer_written_after_use]


def _grad(f, x, y, tx, ty):
    return (), ga.grad(f, (0, 1))(x, y)


def _value_and_grad(f, x, y, tx, ty):
    value, grads = ga.value_and_grad(f, (0, 1))(x, y)
    return (value,), grads


def _vjp(f, x, y, tx, ty):
    out, vjp_fn = ga.vjp(f, x, y)
    return (out,), vjp_fn(np.float64(1.3))


def _jvp(f, x, y, tx, ty):
    out, tangent = ga.jvp(f, (x, y), (tx, ty))
    return (out, tangent), ()


def _hvp(f, x, y, tx, ty):
    return tuple(ga.hvp(f, (x, y), (tx, ty))), ()


TRANSFORMS = [_grad, _value_and_grad, _vjp, _jvp, _hvp]


def _outcome(f, transform, args):
    """(values compared bit for bit, reverse-mode derivatives), or the error raised."""
    try:
        exact, rounded = transform(f, *args)
    except Exception as exc:  # compared below: the same error in every configuration
        return "error", type(exc), str(exc)
    return [np.asarray(a) for a in exact], [np.asarray(a) for a in rounded]


def _with(fusion, min_size, forward_min_size, run):
    saved = config.fusion, config.fusion_min_size, config.fusion_forward_min_size
    config.fusion, config.fusion_min_size, config.fusion_forward_min_size = (
        fusion, min_size, forward_min_size)
    try:
        return run()
    finally:
        config.fusion, config.fusion_min_size, config.fusion_forward_min_size = saved


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_no_result_depends_on_the_fusion_thresholds(program):
    rng = np.random.default_rng(7)
    args = (rng.uniform(-1, 1, (4, 16)), rng.uniform(0.3, 1.2, 16),
            rng.standard_normal((4, 16)), rng.standard_normal(16))
    configured = config.fusion_min_size, config.fusion_forward_min_size
    for transform in TRANSFORMS:
        def run():
            return _outcome(program, transform, args)
        reference = _with(False, *configured, run)
        for variant in ((True, 2, 2), (True, *configured)):
            got = _with(*variant, run)
            where = f"{program.__name__} under {transform.__name__[1:]} at {variant}"
            if reference[0] == "error":
                assert got == reference, where
                continue
            assert got[0] != "error", f"{where}: {got}"
            for a, b in zip(got[0], reference[0]):
                assert a.dtype == b.dtype and np.array_equal(a, b), where
            for a, b in zip(got[1], reference[1]):
                assert a.dtype == b.dtype, where
                np.testing.assert_allclose(a, b, rtol=4e-15, atol=1e-15, err_msg=where)
    assert (config.fusion_min_size, config.fusion_forward_min_size) == configured


@pytest.mark.parametrize("n", [8, 1 << 12, 1 << 20])
@pytest.mark.parametrize("fusion", ["off", "default thresholds", "thresholds 2"])
@pytest.mark.parametrize("op", ["multiply", "add"])  # multiply's rule reads buf; add's does not
def test_a_buffer_written_after_use_is_an_error_at_the_write(n, fusion, op):
    """The report of issue 15: the value came out 0 at n = 2^20 (a lazy value read the buffer
    after the write) and the gradient was wrong at every size (multiply's rule read it)."""
    config.fusion = fusion != "off"
    if fusion == "thresholds 2":
        config.fusion_min_size = config.fusion_forward_min_size = 2
    rng = np.random.default_rng(n)
    w = rng.uniform(-1, 1, n)
    combine = gnp.multiply if op == "multiply" else gnp.add
    seen = {}

    def f(w):
        buf = rng.uniform(0.5, 1.5, n)
        seen["buf"] = buf
        y = combine(gnp.exp(w), buf)
        buf[:] = 0.0
        return gnp.sum(y)

    for transform in (ga.value_and_grad(f), lambda w: ga.vjp(f, w)):
        with pytest.raises(ValueError, match="read-only"):
            transform(w)
        assert seen["buf"].flags.writeable and w.flags.writeable  # set back on the way out


def test_the_buffer_case_is_exact_when_the_write_comes_after_the_transform():
    n = 1 << 20
    rng = np.random.default_rng(3)
    w, buf = rng.uniform(-1, 1, n), rng.uniform(0.5, 1.5, n)

    def f(w):
        return gnp.sum(gnp.exp(w) * buf)

    config.fusion = False
    want = ga.value_and_grad(f)(w)
    config.fusion = True
    out, vjp_fn = ga.vjp(f, w)
    got = ga.value_and_grad(f)(w)
    assert got[0] == want[0] and np.array_equal(got[1], want[1])  # the lazy sum: bit for bit
    assert not buf.flags.writeable and not w.flags.writeable  # vjp_fn still reads both
    assert out == want[0]
    np.testing.assert_allclose(vjp_fn(np.float64(1.0))[0], want[1], rtol=1e-15)
    del vjp_fn
    assert w.flags.writeable and buf.flags.writeable
    buf[:] = 0.0  # nothing reads it any more
    assert got[0] == want[0]
