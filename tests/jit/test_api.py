"""ga.jit: cache keys, replays equal to eager, conversions refused, random draws, closures,
composition with the other transforms."""
import dataclasses
import importlib
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

program_module = importlib.import_module("gpuad.jit.program")  # (gpuad.jit has a `program`)


def loss(w, x):
    return gnp.sum(gnp.tanh(x @ w["a"]) * w["b"]) + gnp.mean(gnp.exp(-w["b"] ** 2))


def params(rng):
    return {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}


def _equal(a, b):
    for x, y in zip(ga.tree_leaves(a), ga.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_value_and_grad_replay_is_eager_bit_for_bit():
    rng = np.random.default_rng(0)
    step = ga.jit(ga.value_and_grad(loss))
    eager = ga.value_and_grad(loss)
    for _ in range(3):  # one recording, two replays, each on new values
        w, x = params(rng), rng.standard_normal((5, 3))
        _equal(step(w, x), eager(w, x))
    assert step.cache_size() == 1


def test_cache_keys_on_shape_dtype_and_static_values():
    f = ga.jit(lambda x, n: gnp.sum(x ** n), static_argnums=1)
    x = np.linspace(0.1, 1.0, 4)
    assert f(x, 2) == np.sum(x ** 2) and f(x, 3) == np.sum(x ** 3)
    f(x.astype(np.float32), 2)
    f(np.ones(5), 2)
    assert f.cache_size() == 4
    f(x + 1.0, 2)
    assert f.cache_size() == 4
    f.clear_cache()
    assert f.cache_size() == 0


def test_static_argnames():
    f = ga.jit(lambda x, *, mode: gnp.sin(x) if mode == "sin" else gnp.cos(x),
               static_argnames="mode")
    x = np.array([0.3, 0.7])
    np.testing.assert_array_equal(f(x, mode="sin"), np.sin(x))
    np.testing.assert_array_equal(f(x, mode="cos"), np.cos(x))


def test_ninth_signature_warns_once_naming_the_argument():
    f = ga.jit(lambda w, batch: gnp.sum(batch) * w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(1, 9):
            f(1.0, np.ones(n))
    with pytest.warns(UserWarning, match="batch"):
        f(1.0, np.ones(9))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(1.0, np.ones(10))  # once only


@pytest.mark.parametrize("conversion, fun", [
    ("bool()", lambda x: x if x.sum() > 0 else -x),
    ("float()", lambda x: x * float(x[0])),
    ("int()", lambda x: x * int(x[0])),
    ("operator.index()", lambda x: x[:len(range(x[0].astype(int)))]),
    ("x.item()", lambda x: x * x[0].item()),
    ("x.tolist()", lambda x: gnp.asarray(x.tolist())),
])
def test_value_dependence_raises_concretization_error(conversion, fun):
    f = ga.jit(fun)
    with pytest.raises(ga.ConcretizationError, match="static_argnums") as info:
        f(np.array([2.0, 1.0]))
    assert conversion.split("(")[0] in str(info.value) and "gnp.where" in str(info.value)
    assert isinstance(info.value, TypeError)
    assert f.cache_size() == 0


def test_python_if_under_grad_inside_jit_raises():
    f = ga.jit(ga.grad(lambda x: gnp.sum(x) if gnp.sum(x) > 0 else -gnp.sum(x)))
    with pytest.raises(ga.ConcretizationError):
        f(np.ones(3))


def test_where_instead_of_if_replays_both_branches():
    f = ga.jit(ga.grad(lambda x: gnp.sum(gnp.where(x > 0, x ** 2, -x))))
    a, b = np.array([1.0, -2.0, 3.0]), np.array([-1.0, 2.0, -3.0])
    f(a)
    np.testing.assert_array_equal(f(b), ga.grad(lambda x: gnp.sum(gnp.where(x > 0, x ** 2, -x)))(b))


def test_value_dependent_shape_is_refused_on_replay():
    f = ga.jit(lambda x: gnp.sum(x[gnp.nonzero(x > 0)]))
    f(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ga.ConcretizationError, match="shape"):
        f(np.array([1.0, 1.0, 2.0]))


@pytest.mark.parametrize("chunk, compile_after", [(1, 1), (3, 2), (500, 1), (500, 100)])
def test_generated_replay_in_chunks_is_eager_bit_for_bit(monkeypatch, chunk, compile_after):
    """A program part runs in the generic loop for its first runs, then as generated code
    (gpuad/jit/program.py) in functions of `CHUNK` steps: multiple results (split, and the
    one-array tuple of nonzero), parameters, the shape check of a nondiff step and the slots
    freed all cross the functions' edges."""
    monkeypatch.setattr(program_module, "CHUNK", chunk)
    monkeypatch.setattr(program_module, "COMPILE_AFTER", compile_after)
    program_module._CODE.clear()

    def f(x):
        a, b = gnp.split(gnp.sin(x), 2)
        return (gnp.sum(a * b[::-1]) + gnp.mean(1.0 - gnp.tanh(x) ** 2)
                + gnp.sum(x[gnp.nonzero(x > 0)]))

    vg = ga.jit(ga.value_and_grad(f))
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = np.abs(rng.standard_normal(6)) + 0.1
        _equal(vg(x), ga.value_and_grad(f)(x))
    (program,) = vg._cache.values()
    (part,) = program.runners.values()
    assert (part.compiled is not None) == (compile_after <= 3)
    with pytest.raises(ga.ConcretizationError, match="shape"):
        vg(np.array([1.0, -1.0, 2.0, 0.5, 0.2, 0.3]))


def test_generated_step_passes_parameters_that_are_not_identifiers():
    """A parameter named by a keyword (or a non-identifier) goes in as **params."""
    seen = []
    impl = lambda x, **kw: seen.append(kw) or x + 1  # noqa: E731
    source, F = program_module._source([(impl, (0,), 1, {"lambda": 2, "axis": 0}, False, (0,),
                                         None)])
    s = [np.float64(1.0), None]
    program_module._function(source)(s, F)
    assert s == [None, 2.0] and seen == [{"lambda": 2, "axis": 0}]


def test_boolean_mask_index_is_refused():
    f = ga.jit(lambda x: gnp.sum(x[x > 0]))
    with pytest.raises((ga.ConcretizationError, ValueError)):
        f(np.array([1.0, -1.0]))


@pytest.mark.parametrize("draw", [
    lambda x: x + gnp.random.normal(size=x.shape),
    lambda x: gnp.random.uniform(x, x + 1.0),
    lambda x: x * gnp.random.randn(*x.shape) + gnp.random.random(x.shape),
])
def test_global_random_draws_match_eager_sequence(draw):
    x = np.arange(3.0)
    gnp.random.seed(7)
    eager = [draw(x) for _ in range(4)]
    gnp.random.seed(7)
    f = ga.jit(draw)
    replayed = [f(x) for _ in range(4)]
    assert f.cache_size() == 1
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(replayed[1], replayed[2])


@pytest.mark.parametrize("make", [gnp.random.RandomState, gnp.random.default_rng])
def test_generator_draws_match_eager_sequence(make):
    x = np.arange(3.0)
    eager_gen, jit_gen = make(11), make(11)
    fun = lambda gen: (lambda x: x * gen.standard_normal(3) + gen.normal(0.5, 2.0, 3))  # noqa: E731
    f, g = ga.jit(fun(jit_gen)), fun(eager_gen)
    for _ in range(3):
        np.testing.assert_array_equal(f(x), g(x))


def test_seeding_inside_is_not_replayed_silently():
    def draw(x):
        gnp.random.seed(5)
        return x + gnp.random.normal(size=3)
    f = ga.jit(draw)
    with pytest.warns(UserWarning, match="not replayed"):
        f(np.zeros(3))
    np.testing.assert_array_equal(f(np.zeros(3)), draw(np.zeros(3)))


def test_closed_over_array_is_read_only_while_cached():
    w = np.array([1.0, 2.0])
    f = ga.jit(lambda x: gnp.sum(w * x))
    f(np.ones(2))
    with pytest.raises(ValueError, match="read-only"):
        w[0] = 5.0
    f.clear_cache()
    w[0] = 5.0  # writeable again
    assert f(np.ones(2)) == 7.0


@pytest.mark.parametrize("transform", [
    lambda f: ga.grad(f),
    lambda f: (lambda x: ga.jvp(f, (x,), (np.ones_like(x),))),
    lambda f: ga.vmap(f),
    lambda f: (lambda x: ga.hvp(f, (x,), (np.ones_like(x),))),
])
def test_transforms_of_a_jitted_function(transform):
    f = lambda x: gnp.sum(gnp.sin(x) ** 2 * gnp.exp(x))  # noqa: E731
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    jf = ga.jit(f)
    jf(x)  # recorded and cached: the transforms must not reuse it with tracers
    _equal(transform(jf)(x), transform(f)(x))


def test_jit_inside_grad_closing_over_a_tracer():
    def outer(y):
        inner = ga.jit(lambda x: gnp.sum(x * y))
        return inner(np.ones(2)) * y[0]
    y = np.array([2.0, 3.0])
    _equal(ga.grad(outer)(y), ga.grad(lambda y: gnp.sum(np.ones(2) * y) * y[0])(y))
    ga.check_grads(outer, (y,), order=1)


def test_replay_matches_finite_differences():
    step = ga.jit(ga.grad(loss))
    rng = np.random.default_rng(3)
    w, x = params(rng), rng.standard_normal((4, 3))
    step(params(rng), x)  # record on other values
    g = step(w, x)["a"]
    eps, d = 1e-6, rng.standard_normal((3, 2))
    wp = {"a": w["a"] + eps * d, "b": w["b"]}
    wm = {"a": w["a"] - eps * d, "b": w["b"]}
    fd = (loss(wp, x) - loss(wm, x)) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * d), fd, rtol=1e-6)


class _Settings:  # a plain class: hashed by identity, its attributes free to change
    def __init__(self, scale):
        self.scale = scale


@dataclasses.dataclass
class _MutableSettings:  # eq without frozen: not hashable
    scale: float


@dataclasses.dataclass(frozen=True)
class _FrozenSettings:  # hashed by value: a new value is a new key
    scale: float


def _scaled_sum(x, settings):
    return gnp.sum(x * settings.scale)


@pytest.mark.parametrize("settings", [_Settings(2.5), _MutableSettings(2.5), {1, 2}],
                         ids=["identity-hashed", "unhashable-dataclass", "set"])
def test_an_object_leaf_that_could_change_under_its_key_raises_naming_it(settings):
    # keyed by identity, a replay after `settings.scale = 5.0` gave the recording's 2.5 * sum
    f = ga.jit(lambda x, settings: gnp.sum(x) * len(settings) if isinstance(settings, set)
               else _scaled_sum(x, settings))
    with pytest.raises(TypeError, match=r"settings is a .*neither an array nor a number.*static"):
        f(np.arange(3.0), settings)


def test_objects_hashed_by_value_and_functions_key_the_cache():
    f = ga.jit(_scaled_sum)
    x = np.linspace(0.5, 2.0, 3)
    assert f(x, _FrozenSettings(2.5)) == np.sum(x * 2.5)
    assert f(x, _FrozenSettings(2.5)) == np.sum(x * 2.5)
    assert f(x, _FrozenSettings(4.0)) == np.sum(x * 4.0)  # a new value: recorded anew
    assert f.cache_size() == 2
    g = ga.jit(lambda x, act: gnp.sum(act(x)))
    assert g(x, gnp.tanh) == np.sum(np.tanh(x)) and g(x, gnp.sin) == np.sum(np.sin(x))
    assert g(x, gnp.tanh) == np.sum(np.tanh(x))


def test_an_object_marked_static_is_keyed_on_its_hash_as_jax_does():
    f = ga.jit(_scaled_sum, static_argnums=1)
    x = np.linspace(0.5, 2.0, 3)
    first, second = _Settings(2.5), _Settings(4.0)
    for _ in range(2):
        assert f(x, first) == np.sum(x * 2.5) and f(x, second) == np.sum(x * 4.0)
    assert f.cache_size() == 2


_SCALE = 2.0


def test_a_rebound_global_is_seen_after_clear_cache():
    global _SCALE
    f = ga.jit(lambda x: gnp.sum(x * _SCALE))
    x = np.linspace(0.5, 2.0, 3)
    try:
        assert f(x) == np.sum(x * 2.0) and f(x) == np.sum(x * 2.0)
        _SCALE = 3.0
        assert f(x) == np.sum(x * 2.0)  # as in JAX: the recording's value (documented)
        f.clear_cache()
        assert f(x) == np.sum(x * 3.0)
    finally:
        _SCALE = 2.0
