"""gpuad.tree_util: JAX's semantics (checked against jax.tree_util where installed), and
registered dataclasses and namedtuples going through every transform, scan and the optimizers."""
import dataclasses
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import tree_util as tu
from gpuad.test_util import check_grads

Pair = namedtuple("Pair", "a b")


@tu.register_dataclass
@dataclasses.dataclass
class Layer:
    w: object
    b: object
    act: str = dataclasses.field(default="tanh", metadata=dict(static=True))


@dataclasses.dataclass
class Loose:  # never registered
    w: object


class Box:
    def __init__(self, items, tag):
        self.items, self.tag = items, tag


tu.register_pytree_node(Box, lambda b: (b.items, b.tag), lambda tag, c: Box(list(c), tag))


def _trees():
    """Trees with None, empty containers, nesting, namedtuples and ordered/default dicts."""
    return [
        1.0, None, (), [], {}, (None,), [1, None, 2], {"b": 2, "a": (1, None), "c": []},
        {"z": [1, (2, None)], "a": Pair(3, {"k": 4})}, ((1,), [[2, 3]], {"x": None, "y": 4}),
        OrderedDict([("b", 1), ("a", 2)]), defaultdict(list, {"q": 1, "p": (2, 3)}),
        [Pair(None, 1), {3: "s", 1: (5.0,)}],
    ]


@pytest.mark.parametrize("i", range(len(_trees())))
def test_leaves_and_round_trip_match_jax(i):
    jtu = pytest.importorskip("jax.tree_util")
    tree = _trees()[i]
    leaves, treedef = tu.tree_flatten(tree)
    assert leaves == jtu.tree_leaves(tree)
    assert treedef.num_leaves == jtu.tree_structure(tree).num_leaves
    assert treedef.num_nodes == jtu.tree_structure(tree).num_nodes
    rebuilt = tu.tree_unflatten(treedef, leaves)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    assert tu.tree_map(lambda x: (x, x), tree) == jtu.tree_map(lambda x: (x, x), tree)


def test_structure_equality_follows_jax():
    jtu = pytest.importorskip("jax.tree_util")
    pairs = [({"a": 1, "b": 2}, {"b": 1, "a": 2}), ((1, 2), [1, 2]), ((1, None), (1, 2)),
             (OrderedDict(a=1, b=2), OrderedDict(b=1, a=2)), (Pair(1, 2), (1, 2)),
             (Layer(1, 2), Layer(1, 2, act="relu")), (Layer(1, 2), Layer(3, 4))]
    for x, y in pairs:
        same = jtu.tree_structure(x) == jtu.tree_structure(y) if not isinstance(x, Layer) \
            else (x.act == y.act)
        assert (tu.tree_structure(x) == tu.tree_structure(y)) == same, (x, y)


def test_is_leaf_and_prefix_tree_map_match_jax():
    jtu = pytest.importorskip("jax.tree_util")
    tree = [1, (2, 3), None, {"a": (4,)}]
    for is_leaf in (lambda x: isinstance(x, tuple), lambda x: x is None):
        assert tu.tree_leaves(tree, is_leaf=is_leaf) == jtu.tree_leaves(tree, is_leaf=is_leaf)
    f = lambda x, y: (x, y)  # noqa: E731
    assert tu.tree_map(f, [1, 2], [(3, 4), {"k": 5}]) == jtu.tree_map(f, [1, 2], [(3, 4), {"k": 5}])
    assert tu.tree_map(f, [1, None], [3, None]) == [(1, 3), None]
    for first, other in [([1, 2], [3, 4, 5]), ([1, 2], (3, 4)), ([1, None], [3, 4]),
                         ({"a": 1}, {"b": 1}), (Pair(1, 2), (1, 2))]:
        with pytest.raises(ValueError):
            jtu.tree_map(f, first, other)
        with pytest.raises(ValueError, match="structure mismatch at tree_map's tree 1"):
            tu.tree_map(f, first, other)


def test_tree_reduce_and_all():
    assert tu.tree_reduce(lambda a, b: a + b, {"a": 1, "b": [2, 3]}) == 6
    assert tu.tree_reduce(lambda a, b: a + b, [], 10) == 10
    assert tu.tree_all([True, (1, None)]) and not tu.tree_all({"a": True, "b": 0})


def test_unsortable_dict_keys_are_an_error_as_in_jax():
    with pytest.raises(ValueError, match="OrderedDict"):
        tu.tree_leaves({1: 1, "a": 2})
    assert tu.tree_leaves(OrderedDict([(1, 1), ("a", 2)])) == [1, 2]


def test_register_dataclass_static_fields_and_paths():
    layer = Layer(np.ones(2), 3.0, act="relu")
    leaves, treedef = tu.tree_flatten(layer)
    assert len(leaves) == 2 and leaves[1] == 3.0
    back = treedef.unflatten([5.0, 6.0])
    assert back == Layer(5.0, 6.0, act="relu")
    from gpuad.tree import tree_paths
    assert tree_paths(tu.tree_structure({"l": layer}), "p") == ["p['l'].w", "p['l'].b"]


def test_register_dataclass_explicit_fields_and_errors():
    @dataclasses.dataclass
    class Two:
        x: object
        n: int
        scratch: object = None

    tu.register_dataclass(Two, data_fields=["x"], meta_fields=["n"], drop_fields=["scratch"])
    assert tu.tree_leaves(Two(1.0, 2, "ignored")) == [1.0]
    assert tu.tree_unflatten(tu.tree_structure(Two(1.0, 2)), [7.0]) == Two(7.0, 2)

    @dataclasses.dataclass
    class Three:
        x: object
        y: object

    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        tu.register_dataclass(Three, data_fields=["x"], meta_fields=[])
    with pytest.raises(ValueError, match="both data_fields and meta_fields"):
        tu.register_dataclass(Three, data_fields=["x", "y"], meta_fields=["y"])
    with pytest.raises(TypeError, match="both data_fields and meta_fields or neither"):
        tu.register_dataclass(Three, data_fields=["x", "y"])
    with pytest.raises(TypeError, match="not a dataclass"):
        tu.register_dataclass(Box)
    with pytest.raises(ValueError, match="already a pytree node"):
        tu.register_pytree_node(Layer, None, None)
    with pytest.raises(ValueError, match="already a pytree node"):
        tu.register_pytree_node(dict, None, None)


def test_register_pytree_node_class():
    @tu.register_pytree_node_class
    class Scaled:
        def __init__(self, v, k):
            self.v, self.k = v, k

        def tree_flatten(self):
            return (self.v,), self.k

        @classmethod
        def tree_unflatten(cls, k, children):
            return cls(children[0], k)

    out = tu.tree_map(lambda x: 2 * x, Scaled(1.5, "k"))
    assert (out.v, out.k) == (3.0, "k")


# ---- pytrees in the transforms --------------------------------------------------------------
def _loss(p, q):
    """A scalar of a registered dataclass, a namedtuple and a custom node together."""
    z = gnp.tanh(p.w @ q.a + p.b) * q.b
    return gnp.sum(z * z) + gnp.sum(gnp.sin(q.a))


def _args(rng):
    p = Layer(rng.standard_normal((3, 4)), rng.standard_normal(3))
    q = Pair(rng.standard_normal(4), rng.standard_normal(3))
    return p, q


def test_dataclass_and_namedtuple_through_grad_and_finite_differences():
    p, q = _args(np.random.default_rng(0))
    check_grads(_loss, (p, q), order=2)
    gp, gq = ga.grad(_loss, argnums=(0, 1))(p, q)
    assert type(gp) is Layer and gp.act == "tanh" and gp.w.shape == (3, 4)
    assert type(gq) is Pair and gq.a.shape == (4,)


def test_dataclass_through_vjp_jvp_hessian_and_vmap():
    rng = np.random.default_rng(1)
    p, q = _args(rng)
    ans, vjp_fn = ga.vjp(lambda p: _loss(p, q), p)
    (gp,) = vjp_fn(1.0)
    tangent = Layer(rng.standard_normal((3, 4)), rng.standard_normal(3))
    _, dot = ga.jvp(lambda p: _loss(p, q), (p,), (tangent,))
    # adjointness: <grad, tangent> equals the directional derivative
    assert np.allclose(np.sum(gp.w * tangent.w) + np.sum(gp.b * tangent.b), dot)
    h = ga.hessian(lambda p: _loss(p, q))(p)
    assert type(h) is Layer and type(h.w) is Layer and h.w.w.shape == (3, 4, 3, 4)
    flat_t = np.concatenate([tangent.w.ravel(), tangent.b])
    hv = ga.hvp(lambda p: _loss(p, q), (p,), (tangent,))
    hv = hv[0] if isinstance(hv, tuple) else hv
    rows = np.block([[h.w.w.reshape(12, 12), h.w.b.reshape(12, 3)],
                     [h.b.w.reshape(3, 12), h.b.b.reshape(3, 3)]])
    assert np.allclose(rows @ flat_t, np.concatenate([hv.w.ravel(), hv.b]))
    batch = Layer(rng.standard_normal((5, 3, 4)), rng.standard_normal((5, 3)))
    out = ga.vmap(lambda p: _loss(p, q))(batch)
    assert np.allclose(out, [_loss(Layer(batch.w[i], batch.b[i]), q) for i in range(5)])


def test_dataclass_carry_in_scan_with_checkpointing_matches_store_all():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 3)) * 0.5
    xs = Pair(rng.standard_normal((6, 3)), rng.standard_normal((6, 3)))
    init = Layer(np.zeros(3), np.ones(3))

    def run(w, schedule):
        def step(c, x):
            h = gnp.tanh(w @ c.w + x.a) * c.b
            return Layer(h, c.b + 0.1 * x.b), gnp.sum(h)
        carry, ys = ga.checkpoint.scan(step, init, xs, schedule=schedule)
        return gnp.sum(carry.w) + gnp.sum(ys)

    g_all = ga.grad(run)(w, ga.checkpoint.StoreAll())
    g_rev = ga.grad(run)(w, ga.checkpoint.Revolve(2))
    assert np.allclose(g_all, g_rev, rtol=1e-12, atol=1e-12)
    check_grads(lambda w: run(w, ga.checkpoint.Revolve(2)), (w,), order=1)


def test_dataclass_params_and_state_in_optimizer():
    p, q = _args(np.random.default_rng(3))
    opt = ga.optim.adam(1e-2)
    state = opt.init(p)
    before = _loss(p, q)
    for _ in range(20):
        g = ga.grad(_loss)(p, q)
        updates, state = opt.update(g, state, p)
        p = ga.optim.apply_updates(p, updates)
    assert type(p) is Layer and _loss(p, q) < before


def test_custom_node_gradient_keeps_aux_data():
    g = ga.grad(lambda b: gnp.sum(b.items[0] * b.items[1]))(Box([np.ones(2), 2.0], "t"))
    assert type(g) is Box and g.tag == "t" and np.allclose(g.items[0], 2.0)
    assert np.allclose(g.items[1], 2.0)


# ---- unregistered containers are an error that says how to register them -------------------
@pytest.mark.parametrize("call", [
    lambda f, p: ga.grad(f)(p),
    lambda f, p: ga.vjp(f, p),
    lambda f, p: ga.jvp(f, (p,), (p,)),
    lambda f, p: ga.vmap(f)(Loose(np.ones((2, 3)))),
    lambda f, p: ga.hessian(f)(p),
    lambda f, p: ga.optim.sgd(0.1).init(p),
    lambda f, p: ga.checkpoint.scan(lambda c, x: (c, x), p, np.ones(3)),
], ids=["grad", "vjp", "jvp", "vmap", "hessian", "optim", "scan"])
def test_unregistered_dataclass_names_register_functions(call):
    p = Loose(np.ones(3))
    with pytest.raises(TypeError, match="Loose.*register_dataclass.*register_pytree_node"):
        call(lambda p: gnp.sum(p.w), p)


def test_unregistered_plain_object_names_register_pytree_node():
    class Holder:
        def __init__(self):
            self.w = np.ones(2)

    with pytest.raises(TypeError, match=r"Holder.*tree_util\.register_pytree_node, as in"):
        ga.jvp(lambda h: gnp.sum(h.w), (Holder(),), (Holder(),))


def test_builtin_non_array_input_gets_no_registration_hint():
    with pytest.raises(TypeError, match="is a str, not an array") as info:
        ga.grad(lambda s: 1.0)("text")
    assert "register_pytree_node" not in str(info.value)


def test_flattened_structures_count_their_leaves_and_hash_alike():
    # tuples, lists, dicts and arrays take tree.py's inline route; the rest the general one
    rng = np.random.default_rng(5)

    def random_tree(depth):
        pick = rng.integers(6 if depth else 2)
        if pick == 0:
            return rng.standard_normal(int(rng.integers(1, 4)))
        if pick == 1:
            return float(rng.standard_normal())
        if pick == 2:
            return tuple(random_tree(depth - 1) for _ in range(int(rng.integers(0, 3))))
        if pick == 3:
            return [random_tree(depth - 1) for _ in range(int(rng.integers(0, 3)))]
        if pick == 4:
            return {f"k{j}": random_tree(depth - 1) for j in range(int(rng.integers(0, 3)))}
        return Pair(random_tree(depth - 1), None)
    for _ in range(40):
        tree = random_tree(4)
        leaves, treedef = tu.tree_flatten(tree)
        again, treedef_again = tu.tree_flatten(tree)
        assert treedef.num_leaves == len(leaves)
        assert treedef == treedef_again and hash(treedef) == hash(treedef_again)
        assert hash(treedef) == hash(treedef)  # the cached hash is the first one
        rebuilt = tu.tree_unflatten(treedef, leaves)
        assert tu.tree_flatten(rebuilt)[1] == treedef
        assert all(x is y for x, y in zip(tu.tree_flatten(rebuilt)[0], leaves))


def test_a_pickled_structure_drops_its_stored_hash():
    import copy
    import pickle
    _, treedef = tu.tree_flatten({"x": Pair(np.ones(2), [np.zeros(1), None])})
    hash(treedef)  # stored now
    for again in (pickle.loads(pickle.dumps(treedef)), copy.deepcopy(treedef)):
        assert again == treedef and again.num_leaves == treedef.num_leaves
        assert again._hash is None and hash(again) == hash(treedef)
