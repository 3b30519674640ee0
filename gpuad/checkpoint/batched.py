"""`while_loop` under `vmap`: a condition that differs per example.

Python runs one loop for the whole batch, so with a batched condition the loop runs while any
example's condition holds, and an example whose condition is false keeps its carry (JAX's
batching rule for `lax.while_loop` does the same). In terms of the reference semantics
`vmap(f)(xs) == stack([f(x) for x in xs])`: each example stops where its own loop would.

(`scan` needs no rule here: its step runs on batch tracers like any other code, and a carry that
becomes batched in the first step, from batched xs or closed-over values, simply stays so.)
"""
import numpy as np

from .. import backend
from ..batching import batching_active
from ..numpy import reshape, where
from ..trace import (
    BATCH_TRACER_TYPES,
    STAGED_TRACER_TYPES,
    TRACER_TYPES,
    primal_value,
    staged_trace,
)
from ..tree import tree_flatten, tree_unflatten


def is_batched(x):
    """Whether `x` is batched by an open `vmap` at some level under its other tracers."""
    while type(x) in TRACER_TYPES:
        if type(x) in STAGED_TRACER_TYPES:  # a ga.jit recording (the bottom): not a batch
            return False
        if type(x) in BATCH_TRACER_TYPES and x._trace.active:
            return True
        x = x.value
    return False


def keeps_looping(pred):
    """The Python truth value of a loop condition: for a batched one, whether any example's
    condition holds."""
    recording = staged_trace(pred)
    if recording is not None:
        # the trip count would be this call's, and every replay would run as many steps
        raise recording.concretization_error(
            "while_loop: use as the loop's condition (it decides how many steps run)", fixes="run a fixed number of steps with ga.checkpoint.scan(..., length=n) "
            "(with gnp.where keeping the carry once done), pass what sets the count with "
            "static_argnums=, or call the function without ga.jit.")
    if not is_batched(pred):
        return bool(pred)
    _check_one_element(pred)
    raw = primal_value(pred)
    return bool(backend.namespace(raw).any(raw))


def freezing_finished(cond, body):
    """`body` that leaves the carry of examples whose condition is false unchanged, when the
    condition is batched; `body` itself outside `vmap` (no extra evaluation of `cond`)."""
    if not batching_active():
        return body

    def step(carry):
        new = body(carry)
        pred = cond(carry)
        if not is_batched(pred):  # the same for every example, and true: the loop runs
            return new
        pred = reshape(_check_one_element(pred), ())
        old_leaves, treedef = tree_flatten(carry)
        new_leaves, new_def = tree_flatten(new)
        if new_def != treedef:  # the carry check in the executor words this error
            return new
        return tree_unflatten(treedef, [where(pred, n, o) for n, o in zip(new_leaves, old_leaves)])
    return step


def _check_one_element(pred):
    shape = np.shape(pred)
    if int(np.prod(shape, dtype=np.int64)) != 1:
        raise ValueError(f"while_loop: cond must return one boolean per example, got shape "
                         f"{shape} (under vmap, per example); reduce it with gnp.any or "
                         f"gnp.all.")
    return pred
