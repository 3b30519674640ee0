"""Pytrees: nested tuples, lists, dicts (and namedtuples) of arrays, flattened to a list of leaves.

`None` is an empty subtree, as in JAX: it holds no leaf, and gradients keep `None` in its place.
Dict keys are sorted (when they can be) so that two dicts with the same keys have the same
structure whatever their insertion order.

    >>> leaves, treedef = tree_flatten({"w": 1.0, "b": (2.0, None)})
    >>> leaves
    [2.0, 1.0]
    >>> tree_unflatten(treedef, [20.0, 10.0])
    {'b': (20.0, None), 'w': 10.0}
"""
_custom_nodes = {}


def register_pytree_node(cls, flatten, unflatten):
    """Teach the tree functions a container type.

    Args:
      cls: the container class.
      flatten: `obj -> (children, aux)`, children a sequence of subtrees, aux hashable metadata.
      unflatten: `(aux, children) -> obj`.
    """
    _custom_nodes[cls] = (flatten, unflatten)


class TreeDef:
    """The structure of a pytree without its leaves."""

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind, meta, children):
        self.kind = kind            # "leaf", "none", tuple, list, dict, namedtuple class, custom class
        self.meta = meta            # dict keys, custom aux data, or None
        self.children = children    # tuple of TreeDef
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind if isinstance(self.kind, str) else id(self.kind), self.children))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = [repr(c) for c in self.children]
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.meta, inner)) + "}"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        return f"{getattr(self.kind, '__name__', self.kind)}(" + ", ".join(inner) + ")"


LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _sorted_keys(d):
    try:
        return tuple(sorted(d))
    except TypeError:  # keys of mixed, unorderable types: keep insertion order
        return tuple(d)


def _flatten(tree, leaves):
    t = type(tree)
    if t is tuple or t is list:
        return TreeDef(t, None, tuple(_flatten(c, leaves) for c in tree))
    if t is dict:
        keys = _sorted_keys(tree)
        return TreeDef(dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if tree is None:
        return _NONE
    if t in _custom_nodes:
        children, aux = _custom_nodes[t][0](tree)
        return TreeDef(t, aux, tuple(_flatten(c, leaves) for c in children))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return TreeDef(t, None, tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return LEAF


def tree_flatten(tree):
    """`(leaves, treedef)`: the leaves in a fixed order, and the structure to rebuild the tree."""
    leaves = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def _unflatten(treedef, it):
    kind = treedef.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return None
    children = [_unflatten(c, it) for c in treedef.children]
    if kind is tuple:
        return tuple(children)
    if kind is list:
        return children
    if kind is dict:
        return dict(zip(treedef.meta, children))
    if kind in _custom_nodes:
        return _custom_nodes[kind][1](treedef.meta, children)
    return kind(*children)  # namedtuple


def tree_unflatten(treedef, leaves):
    """Rebuild a tree of `treedef`'s structure from `leaves` (a sequence of its num_leaves)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree_unflatten: structure {treedef} holds {treedef.num_leaves} leaves, "
                         f"got {len(leaves)}")
    return _unflatten(treedef, iter(leaves))


def tree_leaves(tree):
    return tree_flatten(tree)[0]


def tree_structure(tree):
    return tree_flatten(tree)[1]


def tree_map(fn, tree, *rest):
    """Apply `fn` leafwise to `tree` and the trees in `rest` (same structure as `tree`)."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for i, other in enumerate(rest):
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"tree_map: tree {i + 1} has structure {other_def}, "
                             f"but the first tree has {treedef}")
        others.append(other_leaves)
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *others)])


def tree_paths(treedef, prefix=""):
    """Readable paths of the leaves in flattening order, like `['w'][0]`, for error messages."""
    if treedef.kind == "leaf":
        return [prefix or "<root>"]
    if treedef.kind == "none":
        return []
    if treedef.kind is dict:
        keys = [f"[{k!r}]" for k in treedef.meta]
    elif treedef.kind in (tuple, list) or hasattr(treedef.kind, "_fields"):
        fields = getattr(treedef.kind, "_fields", None)
        keys = [f".{f}" for f in fields] if fields else [f"[{i}]" for i in range(len(treedef.children))]
    else:
        keys = [f"[{i}]" for i in range(len(treedef.children))]
    out = []
    for key, child in zip(keys, treedef.children):
        out.extend(tree_paths(child, prefix + key))
    return out
