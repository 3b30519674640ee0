"""gnp.random.RandomState (gpuad/numpy/random_state.py) and the registry of generator states
that checkpointing saves (gpuad/numpy/sampling.py)."""
import gc

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import EveryK, Revolve, checkpoint, scan
from gpuad.numpy import sampling  # the registry of live generators

R = gnp.random

# (method, args): every call below is made on both generators, in this order.
DRAWS = [
    ("rand", (2, 3)), ("randn", (4,)), ("random_sample", ((2, 2),)), ("random", (3,)),
    ("standard_normal", ((3,),)), ("normal", (1.5, 2.0, (2,))), ("uniform", (-1.0, 3.0, 4)),
    ("randint", (10, None, 5)), ("randint", (2, 9, (2, 2))), ("choice", (6, 3, False)),
    ("choice", (np.arange(5.0), (2,), True, np.array([0.1, 0.2, 0.3, 0.2, 0.2]))),
    ("permutation", (7,)), ("permutation", (np.arange(12.0).reshape(4, 3),)),
    ("exponential", (2.0, 3)), ("laplace", (0.0, 1.5, 2)), ("logistic", (1.0, 2.0, 2)),
    ("gumbel", (0.5, 1.0, 3)), ("lognormal", (0.0, 0.5, 2)), ("rayleigh", (2.0, 2)),
    ("beta", (2.0, 3.0, 2)), ("binomial", (10, 0.3, 3)), ("poisson", (4.0, 3)),
    ("gamma", (2.0, 1.0, 2)), ("multivariate_normal", (np.zeros(2), np.eye(2), 2)),
    ("standard_t", (3.0, 2)), ("dirichlet", (np.ones(3), 2)), ("bytes", (5,)),
    ("tomaxint", (2,)), ("normal", ()), ("rand", ()),
]


def test_draws_are_numpys_own_stream():
    ours, numpys = R.RandomState(12345), np.random.RandomState(12345)
    for name, args in DRAWS:
        got, expected = getattr(ours, name)(*args), getattr(numpys, name)(*args)
        assert type(got) is type(expected), name
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_reparameterized_draws_are_numpys_values_and_differentiable():
    mu, sigma = np.array([0.5, -1.0, 2.0]), np.array([[0.5], [2.0]])
    out, tangent = ga.jvp(lambda m, s: R.RandomState(3).normal(m, s), (mu, sigma),
                          (np.ones(3), np.zeros((2, 1))))
    np.testing.assert_array_equal(out, np.random.RandomState(3).normal(mu, sigma))
    np.testing.assert_array_equal(tangent, np.ones((2, 3)))
    g = ga.grad(lambda s: gnp.sum(R.RandomState(3).normal(mu, s)))(sigma)
    noise = np.random.RandomState(3).standard_normal((2, 3))
    np.testing.assert_allclose(g, noise.sum(axis=1, keepdims=True))


def test_state_round_trip_and_reseeding():
    rs = R.RandomState(0)
    state = rs.get_state()
    assert state[0] == "MT19937"
    np.testing.assert_array_equal(state[1], np.random.RandomState(0).get_state()[1])
    a = rs.normal(size=3)
    rs.set_state(state)
    np.testing.assert_array_equal(rs.normal(size=3), a)
    rs.seed(0)
    np.testing.assert_array_equal(rs.normal(size=3), a)
    assert rs.get_state(legacy=False)["bit_generator"] == "MT19937"


def test_shuffle_is_in_place_for_plain_arrays_and_refused_for_traced_ones():
    x, y = np.arange(8.0), np.arange(8.0)
    assert R.RandomState(1).shuffle(x) is None
    np.random.RandomState(1).shuffle(y)
    np.testing.assert_array_equal(x, y)
    with pytest.raises(TypeError, match=r"use x = rs.permutation\(x\)"):
        ga.grad(lambda v: gnp.sum(R.RandomState(1).shuffle(v)))(np.ones(3))
    with pytest.raises(TypeError, match="gnp.random.permutation"):
        ga.grad(lambda v: gnp.sum(R.shuffle(v)))(np.ones(3))


def test_distributions_without_reparameterization_refuse_traced_parameters():
    with pytest.raises(NotImplementedError, match="RandomState.gamma: not differentiable"):
        ga.grad(lambda k: gnp.sum(R.RandomState(0).gamma(k, size=3)))(2.0)
    with pytest.raises(NotImplementedError, match=r"random.poisson: not differentiable"):
        ga.grad(lambda k: gnp.sum(R.poisson(k, size=3)))(2.0)
    with pytest.raises(NotImplementedError, match=r"choice \(p\): not differentiable"):
        ga.grad(lambda p: gnp.sum(R.RandomState(0).choice(np.arange(2.0), 3, p=p)))(
            np.array([0.5, 0.5]))


def test_checkpoint_replays_randomstate_draws():
    rng = np.random.default_rng(4)
    W, x = rng.standard_normal((4, 4)), rng.standard_normal((3, 4))

    def loss(W, use):
        rs = R.RandomState(7)

        def layer(h):  # dropout and noise from the instance, not the global state
            keep = rs.uniform(size=h.shape) > 0.5
            return gnp.tanh(h @ W + rs.normal(0.0, 0.1, h.shape)) * keep * 2.0
        layer = checkpoint(layer) if use else layer
        out = gnp.sum(layer(layer(x)))
        loss.after = rs.get_state()[1].copy()
        return out

    plain = ga.grad(loss)(W, False)
    after_plain = loss.after
    np.testing.assert_allclose(ga.grad(loss)(W, True), plain, rtol=1e-12)
    np.testing.assert_array_equal(loss.after, after_plain)


@pytest.mark.parametrize("schedule", [EveryK(2), Revolve(2)], ids=["EveryK", "Revolve"])
def test_scan_schedules_replay_randomstate_draws(schedule):
    rng = np.random.default_rng(5)
    W, h0 = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3)
    rs = R.RandomState(11)

    def loss(W, schedule):
        rs.seed(11)
        step = lambda h, _: (gnp.tanh(h @ W) * (rs.uniform(size=3) > 0.3), None)
        h, _ = scan(step, h0, length=7, schedule=schedule)
        return gnp.sum(h ** 2)

    expected = ga.grad(loss)(W, None)
    state_after = rs.get_state()[1].copy()
    np.testing.assert_allclose(ga.grad(loss)(W, schedule), expected, rtol=1e-12)
    np.testing.assert_array_equal(rs.get_state()[1], state_after)


def test_registry_saves_every_live_generator_and_drops_dead_ones():
    class Counter:  # any generator with _save/_restore can join (NumPy's Generator API later)
        def __init__(self):
            self.n = 0
            R.register(self)

        def _save(self):
            return self.n

        def _restore(self, n):
            self.n = n

    rs, counter = R.RandomState(2), Counter()
    R.seed(5)
    saved = R.get_all_states()
    a, b, counter.n = rs.normal(size=2), R.normal(size=2), 9
    R.set_all_states(saved)
    np.testing.assert_array_equal(rs.normal(size=2), a)
    np.testing.assert_array_equal(R.normal(size=2), b)
    assert counter.n == 0
    del rs, counter
    gc.collect()
    R.set_all_states(saved)  # the generators are gone: only the global state is restored
    assert len(R.get_all_states()[1]) == len(sampling._generators)


@pytest.fixture
def philox(monkeypatch):
    """RandomState as it is made while CuPy is the default: on Philox streams (here on the
    host, which runs the same code as the device)."""
    from gpuad.numpy import random_state
    monkeypatch.setattr(random_state, "_host_available", lambda: False)
    return R.RandomState


def test_philox_draws_are_gnp_randoms_on_the_instances_own_state(philox):
    rs = philox(21)
    R.seed(3)
    global_state = R.get_state()
    tag, seed, counter = state = rs.get_state()
    assert (tag, counter) == ("gpuad.Philox", 0)
    drawn = [getattr(rs, name)(*args) for name, args in DRAWS]
    assert R.get_state() == global_state  # the global state is left as it was
    assert rs.get_state()[2] == len(DRAWS)
    rs.set_state(state)
    for (name, args), first in zip(DRAWS, drawn):
        np.testing.assert_array_equal(getattr(rs, name)(*args), first, err_msg=name)
    R.set_state((seed, 0))
    np.testing.assert_array_equal(R.rand(2, 3), drawn[0])
    np.testing.assert_array_equal(R.randn(4), drawn[1])
    R.set_state(global_state)
    rs.seed(21)
    assert rs.get_state() == state
    with pytest.raises(ValueError, match=r"state is \('gpuad.Philox', seed, counter\)"):
        rs.set_state(np.random.RandomState(0).get_state())


def test_philox_draws_are_differentiable_and_replayed_by_checkpoint(philox):
    g = ga.grad(lambda m, s: gnp.sum(philox(4).normal(m, s, size=3)), argnums=(0, 1))(0.5, 2.0)
    noise = philox(4).standard_normal(3)
    np.testing.assert_allclose(g, (3.0, noise.sum()))
    rs = philox(8)
    W = np.random.default_rng(1).standard_normal((3, 3))

    def loss(W, use):
        rs.seed(8)
        layer = lambda h: gnp.tanh(h @ W + rs.rayleigh(0.1, h.shape))  # noqa: E731
        layer = checkpoint(layer) if use else layer
        return gnp.sum(layer(layer(np.ones(3))))

    np.testing.assert_allclose(ga.grad(loss)(W, True), ga.grad(loss)(W, False), rtol=1e-12)


def test_shuffle_gives_permutations_order():
    x = np.arange(6.0)
    R.seed(2)
    R.shuffle(x)
    R.seed(2)
    np.testing.assert_array_equal(x, R.permutation(np.arange(6.0)))


@pytest.mark.gpu
def test_on_cupy_the_stream_is_philox_and_reproducible():
    import cupy
    ga.set_backend("cupy")
    try:
        rs = R.RandomState(4)
        state = rs.get_state()
        assert state[0] == "gpuad.Philox"
        a = rs.normal(size=3)
        assert isinstance(a, cupy.ndarray)
        rs.set_state(state)
        cupy.testing.assert_array_equal(rs.normal(size=3), a)
        g = ga.grad(lambda m: gnp.sum(R.RandomState(4).normal(m, 2.0, size=3)))(
            cupy.asarray(0.5))
        assert float(g) == 3.0
    finally:
        ga.set_backend("numpy")
