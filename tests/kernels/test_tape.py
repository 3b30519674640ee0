"""The fusing tape (gpuad/kernels/tape.py) against the plain one (gpuad/reverse.py).

`FusingTrace` writes `ReverseTrace`'s record paths out again with the fusion test added (a
hand-over cost 4.5% of a small op), so the two copies must record the same entries wherever
nothing fuses; and with fusion off, `ReverseTrace()` is the plain tape, which has no fusion
test at all.
"""
import numpy as np
import pytest

import gpuad.numpy as gnp
from gpuad.config import config
from gpuad.kernels.tape import FusingTrace
from gpuad.reverse import ReverseTrace, backward, install_recorder


def _program(x, y, c):
    """One of each record path: process1 (sin, tanh), process2 with both operands ours, one
    constant array and a Python number, broadcasting (y), residuals kept for one operand only
    (divide keeps y and its result), a parameterised op (sum over an axis: `process`) and a
    three-operand elementwise op (where: `process`)."""
    a = gnp.sin(x) * y
    b = gnp.tanh(a + c) / (y * y + 1.0) - 0.5
    d = gnp.where(b > 0, b, x * 2.0)
    return gnp.sum(d * a, axis=0) + gnp.exp(y)


def _record(fusion, x, y, c):
    saved = config.fusion
    config.fusion = fusion
    try:
        trace = ReverseTrace()
        tx, ty = trace.new_input(x), trace.new_input(y)
        out = _program(tx, ty, c)
        trace.close()
    finally:
        config.fusion = saved
    return trace, tx, ty, out


def _same(a, b):
    """Residuals compared by kind and value (the two runs compute equal, not identical, arrays)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
                and np.array_equal(a, b))
    if hasattr(a, "shape") and hasattr(b, "shape"):  # Metas
        return type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
    return a == b


@pytest.mark.parametrize("shape", [(3, 4), (1, 4), (4,)])
def test_small_ops_are_recorded_alike_by_both_tapes(shape):
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape[-1:])
    c = rng.uniform(0.5, 1.5, shape)
    fused, fx, fy, fout = _record(True, x, y, c)
    plain, px, py, pout = _record(False, x, y, c)
    assert type(fused) is FusingTrace and type(plain) is ReverseTrace
    assert len(fused.tape) == len(plain.tape) > 0
    for position, (e, f) in enumerate(zip(fused.tape, plain.tape)):
        assert e[0] is f[0], f"position {position}: {e[0].name} against {f[0].name}"
        assert _same(e[1:3], f[1:3]), f"position {position} ({e[0].name}): nodes or parents differ"
        assert _same(e[3], f[3]) and _same(e[4], f[4]) and e[5] == f[5], \
            f"position {position} ({e[0].name}): residuals differ"
    seed = np.ones(shape[-1:])
    g_fused = backward(fused, [(fout.node, seed)], [fx.node, fy.node], True)
    g_plain = backward(plain, [(pout.node, seed)], [px.node, py.node], True)
    for a, b in zip(g_fused, g_plain):
        np.testing.assert_array_equal(a, b)
    # the constant array the tape reads is held read-only by both
    assert len(fused.held) == len(plain.held) > 0
    fused.release()
    plain.release()


def _kind(cls=ReverseTrace):
    """The class `cls()` gives; the trace is closed at once (an open one would stay among the
    open traces, which later tests see: gpuad.distributed lifts values into each)."""
    trace = cls()
    trace.close()
    return type(trace)


def test_fusion_off_gives_the_plain_tape_which_has_no_fusion_test():
    saved = config.fusion
    config.fusion = False
    try:
        assert _kind() is ReverseTrace
    finally:
        config.fusion = saved
    assert _kind() is FusingTrace
    for name in ("fuse", "process_lazy", "group", "lazy", "fused"):
        assert not hasattr(ReverseTrace, name), name


def test_a_subclass_of_the_tape_is_never_swapped_for_the_recorder():
    class Sub(ReverseTrace):
        __slots__ = ()

    assert _kind(Sub) is Sub


def test_only_a_tape_subclass_can_be_installed_as_recorder():
    with pytest.raises(TypeError, match="install_recorder: dict is not a subclass of ReverseTrace"):
        install_recorder(dict)
    assert _kind() is FusingTrace  # the installed one is kept
