import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_state_round_trip_replays_draws():
    gnp.random.seed(3)
    state = gnp.random.get_state()
    a = (gnp.random.normal(size=4), gnp.random.uniform(size=2), gnp.random.randint(10, size=3))
    gnp.random.set_state(state)
    b = (gnp.random.normal(size=4), gnp.random.uniform(size=2), gnp.random.randint(10, size=3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_successive_draws_differ_and_dtype_is_honoured():
    gnp.random.seed(0)
    a, b = gnp.random.randn(5), gnp.random.randn(5)
    assert not np.allclose(a, b)
    assert gnp.random.normal(size=3, dtype=np.float32).dtype == np.float32
    assert gnp.random.bernoulli(np.float32(0.5), size=4).dtype == np.float32


def test_reparameterized_normal_is_differentiable():
    gnp.random.seed(1)
    state = gnp.random.get_state()
    g = ga.grad(lambda mu, s: gnp.sum(gnp.random.normal(mu, s, size=10)), argnums=(0, 1))(0.5, 2.0)
    gnp.random.set_state(state)
    noise = (gnp.random.normal(0.5, 2.0, size=10) - 0.5) / 2.0
    assert np.isclose(g[0], 10.0) and np.isclose(g[1], noise.sum())


def test_choice_and_permutation():
    gnp.random.seed(2)
    p = gnp.random.permutation(6)
    assert sorted(p.tolist()) == list(range(6))
    c = gnp.random.choice(5, size=5, replace=False)
    assert sorted(c.tolist()) == list(range(5))
    w = gnp.random.choice(np.array([10.0, 20.0]), size=100, p=np.array([0.0, 1.0]))
    assert (w == 20.0).all()


def test_choice_is_differentiable_in_the_array_and_refuses_traced_probabilities():
    a, p = np.array([0.5, -1.0, 2.0]), np.array([0.2, 0.3, 0.5])
    gnp.random.seed(6)
    state = gnp.random.get_state()
    g = ga.grad(lambda a: gnp.sum(gnp.random.choice(a, 8, p=p)))(a)
    gnp.random.set_state(state)
    picks = gnp.random.choice(3, 8, p=p)
    np.testing.assert_array_equal(g, np.bincount(picks, minlength=3))
    # the picks are piecewise constant in p: a derivative of 0 would pass for one
    with pytest.raises(NotImplementedError, match=r"random.choice \(p\): not differentiable"):
        ga.grad(lambda p: gnp.sum(gnp.random.choice(a, 8, p=p)))(p)
