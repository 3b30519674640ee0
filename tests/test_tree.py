from collections import namedtuple

import pytest

from gpuad import tree as T


def test_round_trip_with_none_and_namedtuple():
    P = namedtuple("P", "a b")
    t = {"z": [1, (2, None)], "a": P(3, {"k": 4})}
    leaves, d = T.tree_flatten(t)
    assert leaves == [3, 4, 1, 2]
    assert T.tree_unflatten(d, leaves) == t


def test_dict_structure_ignores_insertion_order():
    assert T.tree_structure({"a": 1, "b": 2}) == T.tree_structure({"b": 1, "a": 2})


def test_tree_map_checks_structures():
    assert T.tree_map(lambda x, y: x + y, (1, [2]), (10, [20])) == (11, [22])
    with pytest.raises(ValueError, match="structure"):
        T.tree_map(lambda x, y: x, (1, 2), [1, 2])


def test_unflatten_counts_leaves():
    _, d = T.tree_flatten((1, 2))
    with pytest.raises(ValueError, match="2 leaves, got 3"):
        T.tree_unflatten(d, [1, 2, 3])


def test_custom_node_and_paths():
    class Box:
        def __init__(self, items):
            self.items = items

    T.register_pytree_node(Box, lambda b: (b.items, None), lambda aux, c: Box(list(c)))
    leaves, d = T.tree_flatten({"w": Box([1, 2])})
    assert leaves == [1, 2]
    assert T.tree_unflatten(d, [5, 6])["w"].items == [5, 6]
    assert T.tree_paths(T.tree_structure({"w": [1, {"b": 2}]})) == ["['w'][0]", "['w'][1]['b']"]
