"""optax's calling convention: gradient transformations, `chain`, `apply_updates`, and the
pytree checks every transformation shares.

A gradient transformation is a pair of pure functions,

    state = tx.init(params)
    updates, state = tx.update(updates, state, params)      # params may be None for most

`update` turns incoming updates (the gradients, for the first transformation of a chain) into
outgoing ones. An optimizer's last transformation multiplies by `-learning_rate`, so its updates
are the step itself and are *added* to the parameters: `params = apply_updates(params, updates)`.

The state is a pytree of plain data: namedtuples (a tuple of them for a chain) holding Python
ints (step counts) and arrays shaped like the parameters. It goes through `gpuad.tree`
functions, pickling and `ga.to_device` like any pytree.

One thing lives outside the state: each transformation remembers, through weak references, the
arrays its last `update` returned. gpuad's optimizers once returned new parameters, so
`params, state = opt.update(grads, state, params)` ran without error and trained on the updates
as if they were parameters; when those arrays come back as `params`, `update` raises instead.
The references keep nothing alive and play no part in any result.
"""
import weakref
from collections.abc import Callable
from typing import NamedTuple

from .. import backend
from ..tree import looks_unregistered, tree_flatten, tree_paths, tree_unflatten, unregistered_hint


class GradientTransformation(NamedTuple):
    """`init(params) -> state` and `update(updates, state, params=None) -> (updates, state)`."""
    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


def transformation(name, init, update):
    """A GradientTransformation from `init` and `update`, whose update refuses, as `params`, the
    arrays its previous call returned as updates (see the module docstring). `name` is what
    errors call the transformation."""
    returned = {}          # id -> weak reference, for the arrays of the last update returned

    def checked_update(updates, state, params=None):
        if returned and params is not None:
            _refuse_returned_updates(name, returned, params)
        new_updates, new_state = update(updates, state, params)
        returned.clear()
        for leaf in tree_flatten(new_updates)[0]:
            try:
                returned[id(leaf)] = weakref.ref(leaf)
            except TypeError:  # Python floats and NumPy scalars cannot be referred to weakly
                pass
        return new_updates, new_state

    return GradientTransformation(init, checked_update)


def _refuse_returned_updates(name, returned, params):
    leaves, treedef = tree_flatten(params)
    for path, leaf in zip(tree_paths(treedef, "params"), leaves):
        ref = returned.get(id(leaf))
        if ref is not None and ref() is leaf:
            raise ValueError(
                f"{name}.update: {path} is an array that the previous update call returned as an "
                f"update, not a parameter. update returns (updates, state), as in optax: write "
                f"`updates, state = opt.update(grads, state, params)` and then "
                f"`params = optim.apply_updates(params, updates)` (see CHANGELOG.md).")


def identity():
    """The transformation that returns its updates unchanged and keeps no state.

    Example:
      >>> identity().update({"w": 1.0}, EmptyState())[0]
      {'w': 1.0}
    """
    return transformation("identity", lambda params: EmptyState(),
                          lambda updates, state, params=None: (updates, state))


def chain(*transforms):
    """Apply `transforms` one after another: each one's outgoing updates are the next one's
    incoming updates, and all receive the same `params`.

    The state is the tuple of the transformations' states, in order.

    Example:
      >>> tx = chain(clip_by_global_norm(1.0), scale_by_adam(), scale_by_learning_rate(1e-3))
      >>> state = tx.init({"w": np.zeros(3)})
      >>> updates, state = tx.update({"w": np.array([3.0, 0.0, 4.0])}, state)
    """
    return named_chain("chain", *transforms)


def named_chain(name, *transforms):
    """`chain(*transforms)`, called `name` in errors (the optimizers are chains)."""
    for i, tx in enumerate(transforms):
        if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
            hint = (f"; call it, e.g. {tx.__name__}(...)" if callable(tx)
                    and hasattr(tx, "__name__") else "")
            raise TypeError(f"{name}: argument {i} must be a gradient transformation (with init "
                            f"and update), got {type(tx).__name__}{hint}")

    def init(params):
        real_leaves(f"{name}.init", params, "params")
        return tuple(tx.init(params) for tx in transforms)

    def update(updates, state, params=None):
        check_state(name, state, tuple)
        if len(state) != len(transforms):
            raise ValueError(f"{name}.update: state holds {len(state)} states for "
                             f"{len(transforms)} transformations; make it with this "
                             f"transformation's init.")
        # Checked here too, so that the error names the optimizer rather than a building block.
        leaves, treedef = real_leaves(f"{name}.update", updates, "updates")
        if params is not None:
            leaves_like(f"{name}.update", params, treedef, leaves, "params")
        new_state = []
        for tx, s in zip(transforms, state):
            updates, s = tx.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return transformation(name, init, update)


def apply_updates(params, updates):
    """`params + updates`, leaf by leaf, each result in its parameter's dtype (as optax casts).

    Args:
      params: a pytree of arrays (or Python floats).
      updates: a pytree of the same structure and shapes, from an optimizer's `update`.

    Returns:
      A new pytree like `params`; neither argument is modified.

    Example:
      >>> apply_updates({"w": np.ones(2, np.float32)}, {"w": np.array([0.5, -0.5])})
      {'w': array([1.5, 0.5], dtype=float32)}
    """
    p_leaves, treedef = tree_flatten(params)
    u_leaves = leaves_like("apply_updates", updates, treedef, p_leaves, "updates", "params")
    out = []
    for p, u in zip(p_leaves, u_leaves):
        new = p + u
        dtype = getattr(p, "dtype", None)
        if dtype is not None and getattr(new, "dtype", dtype) != dtype:
            new = new.astype(dtype)
        out.append(new)
    return tree_unflatten(treedef, out)


# ---- checks and helpers the transformations share ---------------------------------------------
def check_state(name, state, kind):
    """Raise a TypeError unless `state` is a `kind` (a namedtuple class, or tuple for a chain);
    a dict with a 'step' entry is the state of gpuad's optimizers before optax's convention."""
    if type(state) is kind:
        return
    if isinstance(state, dict) and "step" in state:
        raise TypeError(f"{name}.update: state is a dict with a 'step' entry, the state of "
                        f"gpuad.optim before it followed optax's convention; make a new one "
                        f"with opt.init(params) (or convert it: see CHANGELOG.md).")
    raise TypeError(f"{name}.update: state must be the {kind.__name__} that {name}.init "
                    f"returns, got {type(state).__name__}.")


def real_leaves(name, tree, what):
    """`(leaves, treedef)` of `tree`, every leaf a real floating array or a Python float."""
    leaves, treedef = tree_flatten(tree)
    for path, x in zip(tree_paths(treedef, what), leaves):
        kind = getattr(getattr(x, "dtype", None), "kind", "f" if isinstance(x, float) else None)
        if kind != "f":
            found = getattr(x, "dtype", type(x).__name__)
            raise TypeError(f"{name}: {path} has type {found}; every leaf must be a real "
                            f"floating array or Python float. Keep constants out of the "
                            f"parameter tree."
                            + (f" {unregistered_hint(x)}" if looks_unregistered(x) else ""))
    return leaves, treedef


def leaves_like(name, tree, treedef, ref_leaves, what, ref_what="updates"):
    """The leaves of `tree`, which must have the structure `treedef` and, leaf by leaf, the
    shapes of `ref_leaves` (the leaves of `ref_what`)."""
    leaves, found = tree_flatten(tree)
    if found != treedef:
        hint = ("was the state made by this init on these params?" if what.startswith("state")
                else f"{what} and {ref_what} must have the same structure and shapes")
        raise ValueError(f"{name}: {what} has structure {found} but {ref_what} have {treedef}; "
                         f"{hint}.")
    for path, x, ref in zip(tree_paths(treedef, what), leaves, ref_leaves):
        shape, ref_shape = getattr(x, "shape", ()), getattr(ref, "shape", ())
        if tuple(shape) != tuple(ref_shape):
            raise ValueError(f"{name}: {path} has shape {tuple(shape)} but the matching leaf of "
                             f"{ref_what} has shape {tuple(ref_shape)}.")
    return leaves


def full_like(name, params, fill):
    """A pytree like `params` (real floating leaves) filled with `fill`, each leaf in its
    parameter's dtype and on its device."""
    leaves, treedef = real_leaves(f"{name}.init", params, "params")
    return tree_unflatten(treedef, [_full(x, fill) for x in leaves])


def _full(x, fill):
    if isinstance(x, float):
        return float(fill)
    return backend.namespace(x).full(x.shape, fill, dtype=x.dtype)


def as_float(name, arg, value):
    """`value` as a Python float, or a TypeError naming the argument."""
    if isinstance(value, bool) or not _is_real(value):
        raise TypeError(f"{name}: {arg} must be a real number, got {value!r}")
    return float(value)


def _is_real(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes, complex))

