"""Fused forward values (gpuad/kernels/forward.py): computed only when read, equal to eager."""
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.config import config
from gpuad.kernels import forward
from gpuad.kernels.forward import LazyTracer
from gpuad.reverse import ReverseTracer
from tests.kernels.test_fusion import programs, run_program


@pytest.fixture(autouse=True)
def fuse_small_arrays():
    saved = (config.fusion, config.fusion_min_size, config.fusion_forward,
             config.fusion_forward_min_size)
    (config.fusion, config.fusion_min_size, config.fusion_forward,
     config.fusion_forward_min_size) = True, 8, True, 8
    yield
    (config.fusion, config.fusion_min_size, config.fusion_forward,
     config.fusion_forward_min_size) = saved


def eager_and_lazy(f, *args):
    """f's value and gradients with lazy forward values, then with eager ones."""
    out = []
    for lazy in (True, False):
        config.fusion_forward = lazy
        try:
            out.append(ga.value_and_grad(f, argnums=tuple(range(len(args))))(*args))
        finally:
            config.fusion_forward = True
    return out


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_lazy_values_equal_eager_ones(program):
    shapes = program[0]
    rng = np.random.default_rng(len(program[1]))
    inputs = [rng.uniform(0.2, 1.5, s) for s in shapes]
    (v_lazy, g_lazy), (v_eager, g_eager) = eager_and_lazy(
        lambda *xs: run_program(program, xs), *inputs)
    assert v_lazy == v_eager  # the same NumPy functions on the same operands: bit for bit
    for a, b in zip(g_lazy, g_eager):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_values_stay_unmade_until_read_and_metadata_needs_none():
    x = np.random.default_rng(0).standard_normal((30, 40))
    seen = {}

    def f(x):
        z = gnp.maximum(x * 2.0 + 0.5, 0.0)
        w = gnp.where(x > 0, z * z, z * 0.1) - x
        seen["lazy"] = (type(z), type(w))
        seen["meta"] = (w.shape, w.dtype, w.ndim, w.size, len(w))
        seen["still lazy"] = type(w)
        seen["float"] = float(ga.stop_gradient(w[3, 4]))  # indexing computes w
        seen["after"] = type(w)
        return gnp.sum(w)

    value = ga.grad(f)(x)
    assert seen["lazy"] == (LazyTracer, LazyTracer)
    assert seen["meta"] == ((30, 40), np.dtype(np.float64), 2, 1200, 30)
    assert seen["still lazy"] is LazyTracer and seen["after"] is ReverseTracer
    z = np.maximum(x * 2.0 + 0.5, 0.0)
    assert seen["float"] == (np.where(x > 0, z * z, z * 0.1) - x)[3, 4]
    np.testing.assert_allclose(value, np.where(x * 2.0 + 0.5 > 0, 2.0, 0.0)
                               * np.where(x > 0, 2 * z, 0.1) - 1.0, rtol=1e-12)


def test_results_and_aux_leave_the_transform_computed():
    x = np.random.default_rng(1).standard_normal(50)
    out, vjp_fn, aux = ga.vjp(lambda x: (gnp.tanh(x) * 3.0, gnp.exp(x) + 1.0), x, has_aux=True)
    assert type(out) is np.ndarray and type(aux) is np.ndarray
    np.testing.assert_array_equal(out, np.tanh(x) * 3.0)
    np.testing.assert_array_equal(aux, np.exp(x) + 1.0)
    np.testing.assert_allclose(vjp_fn(np.ones(50))[0], 3.0 * (1 - np.tanh(x) ** 2), rtol=1e-12)


def test_a_chain_holds_no_intermediates():
    """The forward pass of a chain of k elementwise ops on n elements allocates one output,
    whatever k: the eager pass (fusion_forward off) holds a temporary per op it is at."""
    x = np.random.default_rng(2).standard_normal(400_000)
    config.fusion_min_size = 65536

    def chain(x, k):
        keep = []
        y = x
        for i in range(k):
            y = gnp.sin(y) * 1.5 + 0.25
            keep.append(y)  # every value alive: eagerly, k arrays
        return gnp.sum(y)

    peaks = {}
    for lazy in (True, False):
        config.fusion_forward = lazy
        for k in (2, 8):
            tracemalloc.start()
            value, vjp_fn = ga.vjp(lambda x: chain(x, k), x)  # the forward pass only
            peaks[lazy, k] = tracemalloc.get_traced_memory()[1] / x.nbytes
            tracemalloc.stop()
            del vjp_fn
    assert peaks[True, 8] < peaks[True, 2] + 0.5  # flat in k: one output, chunks
    assert peaks[True, 8] < 2.5
    assert peaks[False, 8] > peaks[False, 2] + 5  # eager: each kept value is an array


def test_chunks_cover_broadcast_inputs_on_any_axis(monkeypatch):
    """Chunks run along the first axis that fits, with single positions of the axes before it;
    inputs broadcast on any of them."""
    monkeypatch.setattr(forward, "CHUNK", 7)  # tiny chunks: every code path of the split
    rng = np.random.default_rng(3)
    a, b, c = rng.standard_normal((3, 5, 4)), rng.standard_normal((5, 1)), rng.standard_normal(4)
    d = rng.standard_normal((3, 1, 1))

    def f(a, b, c, d):
        z = gnp.tanh(a * b + c) * d - gnp.where(a > 0, b, c * 2.0)
        return gnp.sum(z * z), z

    for chunk in (7, 4, 1, 1000):
        monkeypatch.setattr(forward, "CHUNK", chunk)
        (value, z), grads = ga.value_and_grad(f, argnums=(0, 1, 2, 3), has_aux=True)(a, b, c, d)
        expected = np.tanh(a * b + c) * d - np.where(a > 0, b, c * 2.0)
        np.testing.assert_array_equal(z, expected)
        assert value == np.sum(expected * expected)
    (_, g_eager) = eager_and_lazy(lambda a, b, c, d: f(a, b, c, d)[0], a, b, c, d)[1]
    for g, e in zip(grads, g_eager):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_chunk_indices_tile_the_shape_once():
    for shape, chunk in [((10,), 3), ((4, 6), 5), ((2, 3, 4), 4), ((3, 2, 5), 10), ((5,), 50)]:
        covered = np.zeros(shape, int)
        saved = forward.CHUNK
        forward.CHUNK = chunk
        try:
            for index in forward._chunks(shape):
                covered[index] += 1
                assert covered[index].size <= max(chunk, shape[-1])
        finally:
            forward.CHUNK = saved
        assert (covered == 1).all(), (shape, chunk)


def test_dtypes_follow_numpy_promotion():
    x32 = np.random.default_rng(4).standard_normal(64).astype(np.float32)
    seen = {}

    def f(x):
        a = x * 2.0                 # a Python float keeps float32
        b = x * np.float64(2.0)     # a NumPy scalar is strong: float64 (NEP 50)
        seen["types"] = (type(a), a.dtype, type(b), b.dtype)
        return gnp.sum(a) + gnp.sum(b)

    g = ga.grad(f)(x32)
    assert seen["types"] == (LazyTracer, np.float32, LazyTracer, np.float64)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 4.0)


def test_floating_point_warnings_still_name_the_op():
    x = np.linspace(-1.0, 1.0, 64)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in log"):
        ga.grad(lambda x: gnp.sum(gnp.log(x * 2.0) * 0.0 + x))(x)


def test_a_non_default_error_state_keeps_ops_eager():
    """Under np.errstate(...) an op must meet the state where it is called, so it is computed
    there: here it raises at the op, as NumPy does."""
    x = np.linspace(-1.0, 1.0, 64)
    seen = []

    def f(x):
        y = x * 2.0
        seen.append(type(y))
        return gnp.sum(gnp.log(y))

    with np.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError):
            ga.grad(f)(x)
    assert seen == [ReverseTracer]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ga.grad(f)(x)
    assert seen[-1] is LazyTracer


def test_switch_and_custom_rules_and_higher_order():
    x = np.random.default_rng(5).uniform(0.5, 1.5, 40)

    @ga.custom_vjp
    def scaled_sin(x):
        return gnp.sin(x) * 2.0

    scaled_sin.defvjp(lambda x: (scaled_sin(x), x), lambda x, g: (g * 2.0 * gnp.cos(x),))

    def f(x):
        return gnp.sum(scaled_sin(x * 3.0 + 1.0) * gnp.exp(-x))  # a lazy custom-rule input

    (v1, g1), (v2, g2) = eager_and_lazy(f, x)
    assert v1 == v2
    np.testing.assert_allclose(g1[0], g2[0], rtol=1e-12)
    h = ga.hessian(lambda x: gnp.sum(gnp.tanh(x * 2.0) * x))(x[:8])
    t = np.tanh(2 * x[:8])
    np.testing.assert_allclose(np.diag(h), 4 * (1 - t * t) - 8 * x[:8] * t * (1 - t * t),
                               rtol=1e-10)
    config.fusion_forward = False
    seen = []
    ga.grad(lambda x: gnp.sum((lambda y: seen.append(type(y)) or y)(x * 2.0)))(x)
    assert seen == [ReverseTracer]


def test_nested_transforms_keep_their_lazy_values_apart():
    """An inner trace's op on an outer trace's lazy value hands it to the outer trace (a
    lower level), which records it: each trace's fused values stay its own."""
    x = np.random.default_rng(6).uniform(0.5, 1.5, 30)

    def f(x):
        a = gnp.sin(x) * 2.0                                  # lazy on the outer trace
        inner = ga.grad(lambda y: gnp.sum(gnp.tanh(y * a) * y))(x * 0.5)
        return gnp.sum(inner * a + gnp.cos(inner))

    (v1, g1), (v2, g2) = eager_and_lazy(f, x)
    assert v1 == v2
    np.testing.assert_allclose(g1[0], g2[0], rtol=1e-12)
    config.fusion = False
    g3 = ga.grad(f)(x)
    np.testing.assert_allclose(g1[0], g3, rtol=1e-12)


def _rnn_scan_loss(w, u, xs, h0, schedule):
    from gpuad.checkpoint import scan

    def step(h, x):
        h = gnp.tanh(h @ w + x @ u)
        return h, gnp.mean(h * h)
    return gnp.sum(scan(step, h0, xs, schedule=schedule)[1])


@pytest.mark.parametrize("lazy", [True, False])
def test_a_group_stores_a_computed_result_instead_of_its_inputs(lazy):
    """tanh(h @ w + x @ u) needs only its result for the backward pass; with the result
    computed and referenced (the next carry) when the step's tape closes, the group drops
    the two products it would keep, so fusion holds no more than the per-op rules."""
    import gpuad.memory
    from gpuad.checkpoint import StoreAll
    rng = np.random.default_rng(7)
    w, u = rng.standard_normal((64, 64)) * 0.1, rng.standard_normal((3, 64))
    xs, h0 = rng.standard_normal((30, 128, 3)), rng.standard_normal((128, 64))
    config.fusion_min_size, config.fusion_forward = 4096, lazy
    grad = ga.grad(_rnn_scan_loss, argnums=(0, 1))
    peaks, grads = {}, {}
    for fused in (True, False, True):  # the first fused call compiles: measured again
        config.fusion = fused
        with gpuad.memory.track() as m:
            grads[fused] = grad(w, u, xs, h0, StoreAll())
        peaks[fused] = m.peak_bytes
    config.fusion = True
    for a, b in zip(grads[True], grads[False]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert peaks[True] <= peaks[False] * 1.05, peaks


def test_stored_values_serve_every_backward_path():
    """After the group stores its result instead of its inputs, the fused kernel, the per-op
    rules (fusion switched off before the backward pass) and nested derivatives agree, and a
    group whose derivatives need an input keeps it."""
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 40))
    out, vjp_fn = ga.vjp(lambda a, b: gnp.tanh(a * 0.5 + b) * 2.0, a, b)
    ct = rng.standard_normal(40)
    t = np.tanh(a * 0.5 + b)
    expected = (ct * 2.0 * (1 - t * t) * 0.5, ct * 2.0 * (1 - t * t))
    fused = vjp_fn(ct)
    config.fusion = False
    per_op = vjp_fn(ct)
    config.fusion = True
    for got in (fused, per_op):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12)

    from gpuad.kernels.group import Group
    from gpuad.reverse import ReverseTrace
    for fun, drops in ((lambda a, b: gnp.tanh(a + b), True),       # needs only the result
                       (lambda a, b: gnp.sin(a + b) * 3.0, False),  # sin' = cos(a + b)
                       (lambda a, b: gnp.exp(a) * b, False)):       # multiply reads both
        trace = ReverseTrace()
        res = fun(trace.new_input(a), trace.new_input(b))
        trace.close()
        (group,) = [e[3] for e in trace.tape if isinstance(e[3], Group)]
        assert all(x.ndim == 0 for x in group.inputs) == drops
        assert bool(group.kept) == drops
        del res
    h = ga.hessian(lambda a: gnp.sum(gnp.tanh(a * 0.5 + 1.0) ** 2))(a[:6])
    config.fusion = False
    h_ref = ga.hessian(lambda a: gnp.sum(gnp.tanh(a * 0.5 + 1.0) ** 2))(a[:6])
    np.testing.assert_allclose(h, h_ref, rtol=1e-10)


def test_small_arrays_keep_eager_forward_values():
    """Below `config.fusion_forward_min_size` the group's values are computed at once (the
    chunks' overhead costs more than the memory saved), and the backward is fused still."""
    config.fusion_forward_min_size = 100
    seen = []

    def f(x):
        y = gnp.sin(x) * 2.0
        seen.append(type(y))
        return gnp.sum(y)

    for n in (64, 128):
        x = np.random.default_rng(n).standard_normal(n)
        np.testing.assert_allclose(ga.grad(f)(x), 2.0 * np.cos(x), rtol=1e-12)
    assert seen == [ReverseTracer, LazyTracer]
