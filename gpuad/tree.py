"""Pytrees: nested tuples, lists, dicts, namedtuples and registered classes of leaves.

The one implementation behind `gpuad.tree_util` (the public, JAX-named API) and every transform.
Semantics follow `jax.tree_util`:

- `None` is an empty subtree: it holds no leaf, and gradients keep `None` in its place.
- dict keys are sorted, so two dicts with the same keys have the same structure whatever their
  insertion order (keys that cannot be compared are an error, as in JAX); an `OrderedDict` keeps
  its insertion order, a `defaultdict` is sorted and keeps its default factory.
- namedtuples are nodes; any other class is a leaf unless registered with `register_pytree_node`
  or `register_dataclass`.

    >>> leaves, treedef = tree_flatten({"w": 1.0, "b": (2.0, None)})
    >>> leaves
    [2.0, 1.0]
    >>> tree_unflatten(treedef, [20.0, 10.0])
    {'b': (20.0, None), 'w': 10.0}
"""
import dataclasses
import functools
from collections import OrderedDict, defaultdict

import numpy as np

_custom_nodes = {}
_field_names = {}    # registered dataclass -> its data field names, for readable paths
_NO_INITIALIZER = object()
_BUILTIN_NODES = (tuple, list, dict, OrderedDict, defaultdict, type(None))


def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """Teach the tree functions a container type (JAX's signature).

    Args:
      nodetype: the container class (exact type: subclasses need their own registration).
      flatten_func: `obj -> (children, aux_data)`, children an iterable of subtrees, aux_data
        hashable metadata compared when structures are compared.
      unflatten_func: `(aux_data, children) -> obj`, children a tuple.
      flatten_with_keys_func: accepted for JAX compatibility and ignored (gpuad's paths in error
        messages use child positions).

    Example:
      >>> class Box:
      ...     def __init__(self, items): self.items = items
      >>> register_pytree_node(Box, lambda b: (b.items, None), lambda aux, c: Box(list(c)))
      >>> tree_leaves({"w": Box([1, 2])})
      [1, 2]
    """
    if nodetype in _custom_nodes or nodetype in _BUILTIN_NODES:
        raise ValueError(f"register_pytree_node: {nodetype!r} is already a pytree node; a type "
                         f"can be registered once (register it at import time, not per call).")
    _custom_nodes[nodetype] = (flatten_func, unflatten_func)


def register_pytree_node_class(cls):
    """Class decorator: register `cls` through its `tree_flatten()` method and its
    `tree_unflatten(aux_data, children)` classmethod, as JAX's decorator of that name does."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype, data_fields=None, meta_fields=None, drop_fields=()):
    """Register a dataclass (or a class built like one) as a pytree node; usable as a decorator.

    Args:
      nodetype: the class. Its instances are rebuilt as `nodetype(**fields)`.
      data_fields: names of the fields that are subtrees (arrays, pytrees of arrays, `None`).
      meta_fields: names of the static fields, kept in the structure (hashable; compared when
        structures are compared).
      drop_fields: dataclass fields left out of both (they must have defaults).
      With neither `data_fields` nor `meta_fields` (a dataclass only), every `init` field is data
      except those declared `dataclasses.field(metadata=dict(static=True))`.

    Returns:
      `nodetype`, unchanged.

    Example:
      >>> @register_dataclass
      ... @dataclasses.dataclass
      ... class Layer:
      ...     w: object
      ...     b: object
      ...     act: str = dataclasses.field(default="tanh", metadata=dict(static=True))
      >>> tree_leaves(Layer(1.0, 2.0))
      [1.0, 2.0]
    """
    if (data_fields is None) != (meta_fields is None):
        raise TypeError(f"register_dataclass: give both data_fields and meta_fields or neither; "
                        f"got data_fields={data_fields!r}, meta_fields={meta_fields!r}.")
    is_dc = dataclasses.is_dataclass(nodetype)
    if data_fields is None:
        if not is_dc:
            raise TypeError(f"register_dataclass: {nodetype!r} is not a dataclass, so data_fields "
                            f"and meta_fields must be given.")
        fields = [f for f in dataclasses.fields(nodetype) if f.init and f.name not in drop_fields]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if overlap := set(data_fields) & set(meta_fields):
        raise ValueError(f"register_dataclass: fields {sorted(overlap)} are in both data_fields "
                         f"and meta_fields; each field is one or the other.")
    if is_dc:
        init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init} - set(drop_fields)
        given = set(data_fields) | set(meta_fields)
        if given != init_fields:
            raise ValueError(f"register_dataclass({nodetype.__name__}): data_fields and "
                             f"meta_fields must list every init field exactly; missing "
                             f"{sorted(init_fields - given)}, unexpected "
                             f"{sorted(given - init_fields)}. Add fields to leave out to "
                             f"drop_fields.")

    def flatten(x):
        return (tuple([getattr(x, n) for n in data_fields]),
                tuple([getattr(x, n) for n in meta_fields]))

    def unflatten(meta, data):
        return nodetype(**dict(zip(meta_fields, meta)), **dict(zip(data_fields, data)))

    register_pytree_node(nodetype, flatten, unflatten)
    _field_names[nodetype] = data_fields
    return nodetype


def unregistered_hint(x):
    """Error-message tail for a leaf that is an object of an unregistered class: how to make it
    a pytree node (shared by every transform's argument check)."""
    how = ("gpuad.tree_util.register_dataclass (or register_pytree_node)"
           if dataclasses.is_dataclass(x) else "gpuad.tree_util.register_pytree_node")
    return (f"If {type(x).__name__} is a container of arrays, register it as a pytree node with "
            f"{how}, as in jax.tree_util.")


def looks_unregistered(x):
    """Whether leaf `x` is most likely a container nobody registered: a dataclass instance, or an
    object without a shape whose attributes hold arrays or floats. A transform that took it as a
    leaf would not see the arrays inside, so it must say so instead."""
    if isinstance(x, type) or hasattr(x, "shape"):
        return False
    if dataclasses.is_dataclass(x):
        return True
    attrs = getattr(x, "__dict__", None)
    return bool(attrs) and any(hasattr(v, "shape") or type(v) in (float, complex)
                               for v in attrs.values())


def check_registered(name, leaves, treedef, what):
    """Raise a TypeError naming the path when a leaf of a transform's input tree `what` (e.g.
    "argument 0", "init") looks like an unregistered container (see `looks_unregistered`)."""
    for i, x in enumerate(leaves):
        if looks_unregistered(x):
            path = tree_paths(treedef, what)[i]
            raise TypeError(f"{name}: {path} is a {type(x).__name__}, which is not a pytree "
                            f"node, so its arrays would be invisible to {name}. "
                            f"{unregistered_hint(x)}")


class TreeDef:
    """The structure of a pytree without its leaves."""

    __slots__ = ("kind", "meta", "children", "num_leaves", "_hash")

    def __init__(self, kind, meta, children):
        self.kind = kind            # "leaf", "none", tuple, list, dict, namedtuple class, custom class
        self.meta = meta            # dict keys, custom aux data, or None
        self.children = children    # tuple of TreeDef
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)
        self._hash = None

    @property
    def num_nodes(self):
        """Nodes in the structure, leaves and `None`s included (JAX's count)."""
        return 1 + sum(c.num_nodes for c in self.children)

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree):
        """The subtrees of `tree` at this structure's leaves; `tree` must have this structure as
        a prefix (ValueError naming the first place where it does not)."""
        out = []
        _flatten_up_to(self, tree, "tree", out)
        return out

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self):
        h = self._hash
        if h is None:  # computed once: jit's cache key hashes it twice a call
            h = self._hash = hash((self.kind if isinstance(self.kind, str) else id(self.kind),
                                   self.children))
        return h

    def __reduce__(self):  # without the stored hash: id(kind) differs in another process
        return _treedef, (self.kind, self.meta, self.children, self.num_leaves)

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
    except TypeError:
        raise ValueError(f"tree_flatten: the dict keys {list(d)!r} cannot be sorted, and pytree "
                         f"dicts are flattened in sorted key order (as in JAX). Use keys of one "
                         f"type, or an OrderedDict to keep insertion order.") from None


def _node(tree):
    """`(kind, meta, children)` of a node, or None for a leaf."""
    t = type(tree)
    if t is tuple or t is list:
        return t, None, tree
    if t is dict:
        keys = _sorted_keys(tree)
        return dict, keys, [tree[k] for k in keys]
    if t in _custom_nodes:
        children, aux = _custom_nodes[t][0](tree)
        return t, aux, children
    if t is OrderedDict:
        return t, tuple(tree), list(tree.values())
    if t is defaultdict:
        keys = _sorted_keys(tree)
        return t, (tree.default_factory, keys), [tree[k] for k in keys]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return t, None, tree
    return None


_new_treedef = object.__new__
_ndarray = np.ndarray


def _treedef(kind, meta, children, num_leaves):
    """A TreeDef whose leaf count is known (what `__init__` would sum)."""
    d = _new_treedef(TreeDef)
    d.kind, d.meta, d.children, d.num_leaves, d._hash = kind, meta, children, num_leaves, None
    return d


def _flatten(tree, leaves, is_leaf):
    # tuples, lists, dicts and arrays inline: every transform flattens its arguments on each
    # call, and the general route below (`_node`, a summing TreeDef) took twice as long
    kind = type(tree)
    if is_leaf is None:
        if kind is tuple or kind is list:
            start = len(leaves)
            children = tuple([_flatten(c, leaves, None) for c in tree])
            return _treedef(kind, None, children, len(leaves) - start)
        if kind is dict:
            start = len(leaves)
            keys = _sorted_keys(tree)
            children = tuple([_flatten(tree[k], leaves, None) for k in keys])
            return _treedef(dict, keys, children, len(leaves) - start)
        if tree is None:
            return _NONE
        if kind is _ndarray and kind not in _custom_nodes:
            leaves.append(tree)
            return LEAF
    if is_leaf is not None and is_leaf(tree):
        leaves.append(tree)
        return LEAF
    if tree is None:
        return _NONE
    node = _node(tree)
    if node is None:
        leaves.append(tree)
        return LEAF
    kind, meta, children = node
    return TreeDef(kind, meta, tuple([_flatten(c, leaves, is_leaf) for c in children]))


def tree_flatten(tree, is_leaf=None):
    """`(leaves, treedef)`: the leaves in a fixed order, and the structure to rebuild the tree.

    `is_leaf(subtree) -> bool`, when given, stops the descent at subtrees it accepts (they become
    leaves, `None` included)."""
    leaves = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def _rebuild(kind, meta, children):
    if kind is tuple:
        return tuple(children)
    if kind is list:
        return list(children)
    if kind is dict:
        return dict(zip(meta, children))
    if kind in _custom_nodes:
        return _custom_nodes[kind][1](meta, tuple(children))
    if kind is OrderedDict:
        return OrderedDict(zip(meta, children))
    if kind is defaultdict:
        return defaultdict(meta[0], zip(meta[1], children))
    return kind(*children)  # namedtuple


def _unflatten(treedef, it):
    kind = treedef.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return None
    return _rebuild(kind, treedef.meta, [_unflatten(c, it) for c in treedef.children])


def tree_unflatten(treedef, leaves):
    """Rebuild a tree of `treedef`'s structure from `leaves` (a sequence of its num_leaves)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree_unflatten: structure {treedef} holds {treedef.num_leaves} leaves, "
                         f"got {len(leaves)}")
    return _unflatten(treedef, iter(leaves))


def tree_leaves(tree, is_leaf=None):
    """The leaves of `tree` in flattening order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    """The `TreeDef` of `tree`."""
    return tree_flatten(tree, is_leaf)[1]


def _child_keys(treedef):
    """Path components of a node's children, for error messages."""
    kind = treedef.kind
    if kind is dict or kind is OrderedDict:
        return [f"[{k!r}]" for k in treedef.meta]
    if kind is defaultdict:
        return [f"[{k!r}]" for k in treedef.meta[1]]
    fields = getattr(kind, "_fields", None) or _field_names.get(kind)
    if fields:
        return [f".{f}" for f in fields]
    return [f"[{i}]" for i in range(len(treedef.children))]


def _flatten_up_to(treedef, tree, path, out):
    if treedef.kind == "leaf":
        out.append(tree)
        return
    if treedef.kind == "none":
        if tree is not None:
            raise ValueError(f"pytree structure mismatch at {path}: expected None (an empty "
                             f"subtree), got {type(tree).__name__}.")
        return
    node = _node(tree) if tree is not None else None
    if node is None or node[0] is not treedef.kind:
        got = type(tree).__name__
        raise ValueError(f"pytree structure mismatch at {path}: expected a "
                         f"{getattr(treedef.kind, '__name__', treedef.kind)} node, got {got}. The "
                         f"trees must have the first tree's structure ({treedef}) or extend it.")
    kind, meta, children = node
    children = list(children)
    if meta != treedef.meta or len(children) != len(treedef.children):
        raise ValueError(f"pytree structure mismatch at {path}: a {kind.__name__} node with "
                         f"{len(children)} children and metadata {meta!r}, where the first tree "
                         f"has {len(treedef.children)} children and metadata {treedef.meta!r}.")
    for key, c_def, child in zip(_child_keys(treedef), treedef.children, children):
        _flatten_up_to(c_def, child, path + key, out)


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply `f` leafwise to `tree` and the trees in `rest`.

    Each tree in `rest` has `tree`'s structure or extends it (JAX's prefix rule): where `tree` has
    a leaf, `f` gets the whole subtree of the others there.

    Example:
      >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, None)}, {"a": 10, "b": (20, None)})
      {'a': 11, 'b': (22, None)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for i, other in enumerate(rest):
        sub = []
        _flatten_up_to(treedef, other, f"tree_map's tree {i + 1}", sub)
        others.append(sub)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def tree_reduce(function, tree, initializer=_NO_INITIALIZER, is_leaf=None):
    """`functools.reduce(function, tree_leaves(tree)[, initializer])`, as JAX's."""
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree, is_leaf=None):
    """Whether every leaf of `tree` is truthy."""
    return all(tree_leaves(tree, is_leaf))


def tree_paths(treedef, prefix=""):
    """Readable paths of the leaves in flattening order, like `['w'][0]`, for error messages."""
    if treedef.kind == "leaf":
        return [prefix or "<root>"]
    if treedef.kind == "none":
        return []
    out = []
    for key, child in zip(_child_keys(treedef), treedef.children):
        out.extend(tree_paths(child, prefix + key))
    return out
