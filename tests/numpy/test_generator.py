"""gnp.random.default_rng (gpuad/numpy/generator.py): NumPy's Generator stream on the CPU,
reparameterized draws differentiable, replayed by checkpointing, Philox streams for CuPy."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import EveryK, Revolve, StoreAll, checkpoint, scan
from gpuad.test_util import check_grads

R = gnp.random
P = np.array([0.1, 0.2, 0.3, 0.2, 0.2])

# (method, args, kwargs): every call below is made on both generators, in this order.
DRAWS = [
    ("random", ((2, 3),), {}), ("random", (), {}), ("random", (4,), {"dtype": np.float32}),
    ("standard_normal", ((3,),), {}), ("standard_normal", (2,), {"dtype": np.float32}),
    ("normal", (1.5, 2.0, (2,)), {}), ("normal", (), {}), ("uniform", (-1.0, 3.0, 4), {}),
    ("integers", (10, None, 5), {}), ("integers", (2, 9, (2, 2)), {}),
    ("integers", (0, 3, 6), {"endpoint": True, "dtype": np.int32}),
    ("choice", (6, 3, False), {}), ("choice", (np.arange(5.0), (2,), True, P), {}),
    ("choice", (np.arange(12.0).reshape(3, 4), 2), {"axis": 1, "shuffle": False}),
    ("permutation", (7,), {}), ("permutation", (np.arange(12.0).reshape(4, 3),), {}),
    ("permutation", (np.arange(12.0).reshape(4, 3),), {"axis": 1}),
    ("exponential", (2.0, 3), {}), ("laplace", (0.0, 1.5, 2), {}),
    ("logistic", (1.0, 2.0, 2), {}), ("gumbel", (0.5, 1.0, 3), {}),
    ("lognormal", (0.0, 0.5, 2), {}), ("rayleigh", (2.0, 2), {}), ("beta", (2.0, 3.0, 2), {}),
    ("binomial", (10, 0.3, 3), {}), ("poisson", (4.0, 3), {}), ("gamma", (2.0, 1.0, 2), {}),
    ("multivariate_normal", (np.zeros(2), np.eye(2), 2), {}), ("standard_t", (3.0, 2), {}),
    ("dirichlet", (np.ones(3), 2), {}), ("bytes", (5,), {}),
]


def test_draws_are_numpys_default_rng_stream():
    ours, numpys = R.default_rng(12345), np.random.default_rng(12345)
    for name, args, kwargs in DRAWS:
        got, expected = getattr(ours, name)(*args, **kwargs), getattr(numpys, name)(*args, **kwargs)
        assert type(got) is type(expected), name
        assert getattr(got, "dtype", None) == getattr(expected, "dtype", None), name
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_shuffle_is_functional_with_numpys_in_place_order():
    x = np.arange(12.0).reshape(6, 2)
    expected = x.copy()
    np.random.default_rng(3).shuffle(expected)
    got = R.default_rng(3).shuffle(x)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(x, np.arange(12.0).reshape(6, 2))  # x is left as it was
    with pytest.raises(TypeError, match="rng.permutation"):
        R.default_rng(0).shuffle(5)


@pytest.mark.parametrize("name, params, noise", [
    ("normal", (0.5, 2.0), lambda g, s: g.standard_normal(s)),
    ("uniform", (-1.0, 3.0), lambda g, s: g.random(s)),
    ("exponential", (1.5,), lambda g, s: g.standard_exponential(s)),
    ("laplace", (0.3, 1.5), lambda g, s: g.laplace(0.0, 1.0, s)),
    ("logistic", (0.3, 1.5), lambda g, s: g.logistic(0.0, 1.0, s)),
    ("gumbel", (0.3, 1.5), lambda g, s: g.gumbel(0.0, 1.0, s)),
    ("rayleigh", (1.5,), lambda g, s: g.rayleigh(1.0, s)),
])
def test_reparameterized_draws_are_numpys_values_and_differentiable(name, params, noise):
    params = tuple(np.full(3, p) for p in params)
    draw = lambda *ps: getattr(R.default_rng(9), name)(*ps)  # noqa: E731
    out = ga.jvp(draw, params, tuple(np.ones(3) for _ in params))[0]
    np.testing.assert_array_equal(out, getattr(np.random.default_rng(9), name)(*params))
    check_grads(draw, params, order=2)  # the noise is the same at every evaluation
    e = noise(np.random.default_rng(9), 3)
    g = ga.grad(lambda p: gnp.sum(draw(*p)))(params)
    if name in ("normal", "laplace", "logistic", "gumbel"):
        np.testing.assert_allclose(g, (np.ones(3), e))
    elif name == "uniform":
        np.testing.assert_allclose(g, (1.0 - e, e))
    else:
        np.testing.assert_allclose(g[0], e)


def _numpy_shuffled(rng, x, axis):
    x = x.copy()
    rng.shuffle(x, axis=axis)
    return x


def test_picking_is_differentiable_in_the_array():
    a = np.arange(12.0).reshape(4, 3)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    cases = [  # (ours, NumPy's)
        (lambda r, x: r.permutation(x), lambda r, x: r.permutation(x)),
        (lambda r, x: r.shuffle(x, axis=1), lambda r, x: _numpy_shuffled(r, x, 1)),
        (lambda r, x: r.choice(x, 5, p=p), lambda r, x: r.choice(x, 5, p=p)),
    ]
    for ours, numpys in cases:
        out = ga.jvp(lambda x: ours(R.default_rng(2), x), (a,), (a,))[0]
        np.testing.assert_array_equal(out, numpys(np.random.default_rng(2), a))
        check_grads(lambda x: ours(R.default_rng(2), x), (a,), order=1)
    with pytest.raises(NotImplementedError, match=r"Generator.choice \(p\): not differentiable"):
        ga.grad(lambda p: gnp.sum(R.default_rng(0).choice(np.arange(2.0), 3, p=p)))(
            np.array([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Generator.gamma: not differentiable"):
        ga.grad(lambda k: gnp.sum(R.default_rng(0).gamma(k, size=3)))(2.0)


def test_default_rng_returns_a_generator_given_one_and_accepts_seed_sequences():
    rng = R.default_rng(5)
    assert R.default_rng(rng) is rng
    seq = np.random.SeedSequence(77)
    np.testing.assert_array_equal(R.default_rng(seq).random(3),
                                  np.random.default_rng(np.random.SeedSequence(77)).random(3))
    state = rng.bit_generator.state
    a = rng.normal(size=2)
    rng.bit_generator.state = state
    np.testing.assert_array_equal(rng.normal(size=2), a)


def test_checkpoint_replays_generator_draws():
    rng0 = np.random.default_rng(4)
    W, x = rng0.standard_normal((4, 4)), rng0.standard_normal((3, 4))

    def loss(W, use):
        rng = R.default_rng(7)

        def layer(h):  # dropout and noise from the generator, not the global state
            keep = rng.uniform(size=h.shape) > 0.5
            return gnp.tanh(h @ W + rng.normal(0.0, 0.1, h.shape)) * keep * 2.0
        layer = checkpoint(layer) if use else layer
        out = gnp.sum(layer(layer(x)))
        loss.after = rng.bit_generator.state
        return out

    plain = ga.grad(loss)(W, False)
    after_plain = loss.after
    np.testing.assert_allclose(ga.grad(loss)(W, True), plain, rtol=1e-12)
    assert loss.after == after_plain  # the recomputation left the generator where it was


@pytest.mark.parametrize("schedule", [EveryK(2), Revolve(2)], ids=["EveryK", "Revolve"])
def test_scan_schedules_replay_generator_draws_like_store_all(schedule):
    rng0 = np.random.default_rng(5)
    W, h0 = rng0.standard_normal((3, 3)) * 0.5, rng0.standard_normal(3)
    rng = R.default_rng(11)

    def loss(W, schedule):
        rng.bit_generator.state = R.default_rng(11).bit_generator.state
        def step(h, _):
            noise = rng.normal(0.0, gnp.exp(0.1 * W[0, 0]), size=3)  # reparameterized in W
            return gnp.tanh(h @ W + noise) * (rng.random(3) > 0.3), None
        h, _ = scan(step, h0, length=7, schedule=schedule)
        return gnp.sum(h ** 2)

    expected = ga.grad(loss)(W, StoreAll())
    state_after = rng.bit_generator.state
    np.testing.assert_allclose(ga.grad(loss)(W, schedule), expected, rtol=1e-12)
    assert rng.bit_generator.state == state_after
    check_grads(lambda W: loss(W, schedule), (W,), order=1)


@pytest.fixture
def philox(monkeypatch):
    """default_rng as it is made while CuPy is the default: on Philox streams (here on the host,
    which runs the same code as the device)."""
    from gpuad.numpy import random_state
    monkeypatch.setattr(random_state, "_host_available", lambda: False)
    return R.default_rng


def test_philox_generator_repeats_its_draws_and_leaves_the_global_state(philox):
    rng = philox(21)
    R.seed(3)
    global_state = R.get_state()
    saved = rng._save()
    assert saved[0] == "gpuad.Philox" and repr(rng) == "Generator(gpuad.Philox)"
    runnable = [d for d in DRAWS if d[0] != "bytes"]
    drawn = [getattr(rng, name)(*args, **kwargs) for name, args, kwargs in runnable]
    assert R.get_state() == global_state
    rng._restore(saved)
    for (name, args, kwargs), first in zip(runnable, drawn):
        np.testing.assert_array_equal(getattr(rng, name)(*args, **kwargs), first, err_msg=name)
    assert np.all(philox(1).integers(0, 3, 50, endpoint=True) <= 3)
    with pytest.raises(AttributeError, match="Philox"):
        rng.bit_generator
    with pytest.raises(NotImplementedError, match="multivariate_hypergeometric"):
        rng.multivariate_hypergeometric([2, 3], 2)


def test_philox_generator_is_differentiable_and_replayed_by_checkpoint(philox):
    g = ga.grad(lambda m, s: gnp.sum(philox(4).normal(m, s, size=3)), argnums=(0, 1))(0.5, 2.0)
    np.testing.assert_allclose(g, (3.0, philox(4).standard_normal(3).sum()))
    rng = philox(8)
    W = np.random.default_rng(1).standard_normal((3, 3))

    def loss(W, use):
        rng._restore(philox(8)._save())
        layer = lambda h: gnp.tanh(h @ W + rng.rayleigh(0.1, h.shape))  # noqa: E731
        layer = checkpoint(layer) if use else layer
        return gnp.sum(layer(layer(np.ones(3))))

    np.testing.assert_allclose(ga.grad(loss)(W, True), ga.grad(loss)(W, False), rtol=1e-12)


@pytest.mark.gpu
def test_on_cupy_the_generator_draws_on_the_device_and_is_reproducible():
    import cupy
    ga.set_backend("cupy")
    try:
        rng = R.default_rng(4)
        saved = rng._save()
        a = rng.normal(size=3)
        assert isinstance(a, cupy.ndarray)
        rng._restore(saved)
        cupy.testing.assert_array_equal(rng.normal(size=3), a)
        g = ga.grad(lambda m: gnp.sum(R.default_rng(4).normal(m, 2.0, size=3)))(
            cupy.asarray(0.5))
        assert float(g) == 3.0
    finally:
        ga.set_backend("numpy")
