"""Pytree utilities with `jax.tree_util`'s names and semantics: `import gpuad as ga; ga.tree_util`.

A pytree is a nest of tuples, lists, dicts (keys sorted), namedtuples, `OrderedDict`s,
`defaultdict`s and registered classes; everything else is a leaf, and `None` is an empty subtree.
Every transform (`grad`, `vjp`, `jvp`, `vmap`, `hessian`, ...), `scan`'s carry and the optimizers'
states take pytrees, so a registered dataclass of parameters can be differentiated, carried and
optimized directly:

    >>> import dataclasses, gpuad as ga, gpuad.numpy as gnp
    >>> @ga.tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Linear:
    ...     w: object
    ...     b: object
    >>> g = ga.grad(lambda p: gnp.sum(p.w * 3.0 + p.b))(Linear(gnp.ones(2), 1.0))
    >>> g.w, g.b
    (array([3., 3.]), array(2.))

The implementation lives in `gpuad/tree.py` (the ground layer every transform imports); this
module is its public face.
"""
from .tree import (
                   TreeDef,
                   register_dataclass,
                   register_pytree_node,
                   register_pytree_node_class,
                   tree_all,
                   tree_flatten,
                   tree_leaves,
                   tree_map,
                   tree_reduce,
                   tree_structure,
                   tree_unflatten,
)

PyTreeDef = TreeDef  # JAX's name for the structure type

__all__ = ["PyTreeDef", "register_dataclass", "register_pytree_node",
           "register_pytree_node_class", "tree_all", "tree_flatten", "tree_leaves", "tree_map",
           "tree_reduce", "tree_structure", "tree_unflatten"]
