"""Fused elementwise adjoints equal the per-op rules, on random programs and by hand."""
import gc
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.config import config
from gpuad.kernels.backward import FUSED
from gpuad.reverse import ReverseTrace

from .chains import both_ways, cheap, fuse_small_arrays, transcendental  # noqa: F401 (fixture)

UNARY = [gnp.sin, gnp.cos, gnp.tanh, gnp.square, gnp.negative, lambda v: gnp.exp(gnp.tanh(v)),
         lambda v: gnp.sqrt(v * v + 1.0), lambda v: gnp.log1p(v * v)]
BINARY = [gnp.add, gnp.subtract, gnp.multiply, gnp.maximum, gnp.minimum,
          lambda a, b: a / (1.5 + gnp.tanh(b)), lambda a, b: gnp.where(a > b, a, b * 0.5),
          lambda a, b: gnp.clip(a, -0.5, 0.5) + b]
SHAPES = [(4, 6), (6,), (4, 1), (1, 6)]


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 4))
    shapes = [(4, 6)] + [draw(st.sampled_from(SHAPES)) for _ in range(n_inputs - 1)]
    steps = []
    for k in range(draw(st.integers(1, 20))):
        pool = n_inputs + k
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, pool - 1))))
        else:
            other = draw(st.one_of(st.integers(0, pool - 1),
                                   st.floats(-2, 2, allow_nan=False).map(lambda c: ("c", c))))
            steps.append(("b", draw(st.integers(0, len(BINARY) - 1)),
                          draw(st.integers(0, pool - 1)), other))
    escapes = draw(st.lists(st.integers(0, len(steps) - 1), max_size=3))
    return shapes, steps, escapes


def run_program(program, inputs):
    shapes, steps, escapes = program
    vals = list(inputs)
    for step in steps:
        if step[0] == "u":
            vals.append(UNARY[step[1]](vals[step[2]]))
        else:
            other = step[3]
            b = other[1] if isinstance(other, tuple) else vals[other]
            vals.append(BINARY[step[1]](vals[step[2]], b))
    n = len(inputs)
    total = gnp.sum(vals[-1] * np.linspace(0.5, 1.5, 6))
    for k in escapes:  # intermediates used outside the group
        total = total + gnp.sum(gnp.sum(vals[n + k], axis=-1) ** 2)
    return total


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_fused_equals_unfused(program):
    rng = np.random.default_rng(len(program[1]))
    inputs = [rng.standard_normal(s) for s in program[0]]
    argnums = tuple(range(len(inputs)))
    fused, unfused = both_ways(lambda *xs: run_program(program, xs), inputs, argnums)
    for a, b in zip(fused, unfused):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    inputs32 = [x.astype(np.float32) for x in inputs]
    fused, unfused = both_ways(lambda *xs: run_program(program, xs), inputs32, argnums)
    for a, b in zip(fused, unfused):
        assert a.dtype == np.float32
        scale = max(float(np.max(np.abs(b), initial=0.0)), 1.0)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * scale)


def test_float32_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(500).astype(np.float32)
    fused, unfused = both_ways(lambda x: gnp.sum(transcendental(x)), (x,), 0)
    assert fused.dtype == np.float32
    np.testing.assert_allclose(fused, unfused, rtol=1e-5, atol=1e-6)
    x64, y64 = rng.standard_normal(40), rng.standard_normal(40)
    ga.check_grads(lambda x, y: gnp.sum(cheap(x, y) * transcendental(x)), (x64, y64), order=1,
                   modes=("rev",))


def test_a_group_keeps_no_intermediate_alive():
    x = np.random.default_rng(1).standard_normal(1000)
    held = []

    def f(x):
        s = gnp.sin(x)
        held.append(weakref.ref(s.value))  # (stop_gradient gives a view)
        return gnp.sum(gnp.tanh(s * x))

    _, vjp_fn = ga.vjp(f, x)
    gc.collect()
    assert held[0]() is None  # the tape holds inputs only; unfused, multiply would keep sin(x)
    config.fusion = False
    _, vjp_unfused = ga.vjp(f, x)
    gc.collect()
    assert held[1]() is not None
    np.testing.assert_allclose(vjp_fn(1.0)[0], vjp_unfused(1.0)[0], rtol=1e-12)


def test_a_groups_inputs_are_freed_without_the_cyclic_collector():
    """Once backward has run a group, its inputs go at once: no reference cycle holds them
    until the cyclic collector runs (it once did, through the group's own tape entry: 4x the
    memory of a checkpointed scan)."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 50)), rng.standard_normal((50, 50))
    held = []

    def f(w):
        a = x @ w  # an input of the group below, held by nothing but the group
        held.append(weakref.ref(ga.stop_gradient(a)))
        return gnp.sum(gnp.tanh(a * 0.5 + 1.0))

    gc.collect()
    gc.disable()
    try:
        ga.grad(f)(w)
        assert held[0]() is None
    finally:
        gc.enable()


def test_tape_has_one_entry_per_group_and_switch_works():
    x = np.random.default_rng(2).standard_normal(100)
    from gpuad.reverse import ReverseTrace, backward
    trace = ReverseTrace()
    t = trace.new_input(x)
    out = gnp.tanh(gnp.sin(t) * t + 1.0)
    trace.close()
    assert [e[0] for e in trace.tape] == [FUSED] and len(trace.tape[0][3].instrs) == 4
    g = backward(trace, [(out.node, np.ones(100))], [t.node], True)[0]
    config.fusion = False
    expected = ga.grad(lambda x: gnp.sum(gnp.tanh(gnp.sin(x) * x + 1.0)))(x)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_traced_cotangents_replay_the_per_op_rules():
    x = np.random.default_rng(3).standard_normal((3, 10))
    jac = ga.jacrev(lambda x: gnp.sum(transcendental(x), axis=1))(x)  # vmap over cotangents
    config.fusion = False
    np.testing.assert_allclose(jac, ga.jacrev(lambda x: gnp.sum(transcendental(x), axis=1))(x),
                               rtol=1e-12)


def test_higher_order_stays_correct():
    x = np.random.default_rng(4).standard_normal(20)
    f = lambda x: gnp.sum(transcendental(x))  # noqa: E731
    h = ga.hessian(f)(x)
    config.fusion = False
    np.testing.assert_allclose(h, ga.hessian(f)(x), rtol=1e-10)


SIMULATED = r"""
import numpy as np, gpuad as ga, gpuad.numpy as gnp
from gpuad.config import config
from gpuad.reverse import ReverseTrace
from gpuad.kernels.backward import FUSED, fused_cuda, _fused

config.fusion_min_size = 8
rng = np.random.default_rng(0)
for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
    x, y = rng.standard_normal((5, 7)).astype(dtype), rng.standard_normal(7).astype(dtype)
    trace = ReverseTrace()
    tx, ty = trace.new_input(x), trace.new_input(y)
    mid = gnp.sin(tx) * ty
    out = gnp.where(mid > 0, gnp.tanh(mid), mid * 0.5) + gnp.maximum(tx, ty)
    trace.close()
    trace.release()  # the simulator copies every array argument back, the mask held included
    group = trace.tape[0][3]
    g = [None] * len(group.instrs)
    g[-1] = np.ones(group.shape, dtype)
    g[1] = rng.standard_normal(group.shape).astype(dtype)  # an escaping intermediate
    escapes = [k for k, gk in enumerate(g) if gk is not None]
    cpu = _fused(group, g, escapes, np)
    outs = {j: np.empty(group.shape, dtype) for j, _, _ in group.parents}
    def launch(kernel, n, args):
        kernel[(n + 31) // 32, 32](*args)
    fused_cuda(group, g, escapes, np, outs, launch)
    for j, _, _ in group.parents:
        np.testing.assert_allclose(outs[j], cpu[j], rtol=tol, atol=tol)
print("simulated CUDA kernels match the CPU kernels")
"""


def test_cuda_kernels_under_the_simulator(tmp_path):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUAD_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", SIMULATED], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "match" in proc.stdout


def test_parallel_and_chunked_kernels_on_large_arrays():
    from gpuad.kernels.codegen import PARALLEL_MIN_SIZE
    rng = np.random.default_rng(5)
    n = PARALLEL_MIN_SIZE + 1001  # threads, and a ragged last block
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    for f in (lambda x, y: gnp.sum(cheap(x, y) * 1.5),            # arithmetic only: one kernel
              lambda x, y: gnp.sum(transcendental(x) * y)):        # libm values precomputed
        fused, unfused = both_ways(f, (x, y), (0, 1))
        for a, b in zip(fused, unfused):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_group_of_one_op_runs_the_ops_own_rule():
    x = np.random.default_rng(6).standard_normal(50)
    from gpuad.reverse import ReverseTrace
    trace = ReverseTrace()
    out = gnp.tanh(trace.new_input(x))
    trace.close()
    group = trace.tape[0][3]
    assert len(group.instrs) == 1 and group.lone_result is not None  # tanh's rule reads it
    fused, unfused = both_ways(lambda x: gnp.sum(gnp.tanh(x)), (x,), 0)
    np.testing.assert_allclose(fused, unfused, rtol=1e-14)
    trace = ReverseTrace()
    try:
        out = gnp.exp(gnp.tanh(trace.new_input(x)))
        assert trace.group().lone_result is None  # two ops: no intermediate is held any more
        del out
    finally:
        trace.close()  # an open trace would be seen by every later transform


@pytest.mark.parametrize("name", ["mixed_dtypes", "transposed", "zero_d", "broadcast_row",
                                  "strided_view", "float16"])
def test_input_layouts_and_dtypes(name):
    rng = np.random.default_rng(13)
    f, args = {
        "mixed_dtypes": (lambda x, y: gnp.sum(gnp.tanh(x * y + 1.0) * x),
                         (rng.standard_normal((20, 30)).astype(np.float32),
                          rng.standard_normal(30))),
        "transposed": (lambda x, y: gnp.sum(gnp.sin(x.T) * y),
                       (rng.standard_normal((30, 20)), rng.standard_normal((20, 30)))),
        "zero_d": (lambda x, y: gnp.sum(gnp.exp(x * y) - y),  # a 0-d input in the chunked path
                   (rng.standard_normal((10, 10)), np.array(0.7))),
        "broadcast_row": (lambda x, y: gnp.sum(gnp.maximum(x, y) * gnp.cos(y)),
                          (rng.standard_normal((10, 10)), rng.standard_normal((1, 10)))),
        "strided_view": (lambda x, y: gnp.sum(gnp.square(x[:, ::2]) * y),
                         (rng.standard_normal((16, 20)), rng.standard_normal(10))),
        "float16": (lambda x, y: gnp.sum(x * y + x),  # Numba has no float16: left unfused
                    (rng.standard_normal((10, 10)).astype(np.float16),
                     rng.standard_normal((10, 10)).astype(np.float16))),
    }[name]
    fused, unfused = both_ways(f, args, (0, 1))
    for a, b, arg in zip(fused, unfused, args):
        assert a.dtype == arg.dtype and a.shape == arg.shape
        tol = 1e-12 if a.dtype == np.float64 else 1e-3
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol)


def test_groups_inside_checkpointed_scans_and_remat():
    from gpuad.checkpoint import EveryK, Revolve, StoreAll, checkpoint, scan
    rng = np.random.default_rng(14)
    w, xs, h0 = rng.standard_normal((6, 6)) * 0.3, rng.standard_normal((12, 4, 6)), \
        rng.standard_normal((4, 6))

    def loss(w, schedule):
        def step(h, x):
            z = gnp.tanh(h @ w + x) * gnp.cos(x) + 0.1 * h  # an elementwise group per step
            return z, gnp.sum(z * z)
        h, ys = scan(step, h0, xs, schedule=schedule)
        return gnp.sum(ys) + gnp.sum(checkpoint(lambda h: gnp.exp(-h * h) * h)(h))

    for schedule in (StoreAll(), Revolve(3), EveryK(4)):
        fused, unfused = both_ways(lambda w: loss(w, schedule), (w,), 0)
        np.testing.assert_allclose(fused, unfused, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("length", [1, 5])
def test_groups_on_closed_over_tracers_inside_scans(length):
    """A step's group that reads a parameter closed over from outside the scan (a bias) gives
    it its gradient: the replay translates the outer tracer, and the group must see the
    translation (it once took the outer tracer for a constant: zero gradients)."""
    from gpuad.checkpoint import EveryK, StoreAll, scan
    rng = np.random.default_rng(15)
    w, b = rng.standard_normal((6, 6)) * 0.3, rng.standard_normal(6)
    xs, h0 = rng.standard_normal((length, 4, 6)), rng.standard_normal((4, 6))

    def loss(w, b, schedule):
        def step(h, x):
            z = gnp.tanh(h @ w + b) * gnp.where(x > 0, x, 0.5 * x) + b * h
            return z, gnp.sum(z * z)
        h, ys = scan(step, h0, xs, schedule=schedule)
        return gnp.sum(ys) + gnp.sum(h)

    def unrolled(w, b):
        h, total = h0, 0.0
        for x in xs:
            h = gnp.tanh(h @ w + b) * gnp.where(x > 0, x, 0.5 * x) + b * h
            total = total + gnp.sum(h * h)
        return total + gnp.sum(h)

    config.fusion = False
    reference = ga.grad(unrolled, argnums=(0, 1))(w, b)
    config.fusion = True
    for schedule in (StoreAll(), EveryK(2)):
        got = ga.grad(lambda w, b: loss(w, b, schedule), argnums=(0, 1))(w, b)
        for g, r in zip(got, reference):
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


def test_budget_and_forecast_measure_steps_with_groups(tmp_path, monkeypatch):
    """Budget and forecast measure a step's tape; a fused group's entry keeps its inputs (the
    measurement once failed on it: 'Group' object is not iterable). With a cold kernel cache
    the measured step compiles its kernel: that memory is not the program's (Budget once
    refused this budget over the compiler's 1.7 MB)."""
    from gpuad.checkpoint import Budget, StoreAll, forecast, scan
    from gpuad.kernels import codegen
    monkeypatch.setattr(codegen, "_compiled", {})
    monkeypatch.setattr(codegen, "cache_dir", lambda: str(tmp_path))
    from gpuad.checkpoint.replay import residual_bytes
    rng = np.random.default_rng(16)
    w, xs, h0 = rng.standard_normal((6, 6)) * 0.3, rng.standard_normal((20, 4, 6)), \
        rng.standard_normal((4, 6))

    def step(h, x):
        z = gnp.tanh(h @ w + x) * 0.5 + 0.1 * h
        return z, gnp.sum(z * z)

    report = forecast(step, h0, xs, schedule=StoreAll())
    assert report.step_evaluations == 20
    reference = ga.grad(lambda w: gnp.sum(scan(step, h0, xs, schedule=StoreAll())[1]))(w)
    got = ga.grad(lambda w: gnp.sum(scan(step, h0, xs, schedule=Budget("160KB"))[1]))(w)
    np.testing.assert_allclose(got, reference, rtol=1e-12)

    _, vjp_fn = ga.vjp(lambda a, b: gnp.tanh(a * b + 1.0), h0, h0 * 2.0)
    trace_tapes = [c.cell_contents for c in vjp_fn.__closure__
                   if isinstance(c.cell_contents, ReverseTrace)]
    assert residual_bytes(trace_tapes[0], []) == 2 * h0.nbytes  # the group's two inputs
