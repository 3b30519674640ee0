"""`checkpoint(fun)`: store a function's inputs only, recompute its insides in backward."""
import functools
import weakref

from ..numpy import random as _random
from ..tree import tree_flatten, tree_unflatten
from .executor import recording_trace
from .replay import Replay, record_region, run_paused, translate_leaves
from .verify import Checker, leaf_names, mode_for


def checkpoint(fun):
    """A version of `fun` whose intermediate values are not kept for reverse mode but
    recomputed when the backward pass reaches it (rematerialization).

    The recomputation draws the same random numbers as the first run (the `gnp.random` state is
    saved at the call and restored for the replay), so dropout-style code gets exactly the
    gradient of the function without checkpointing. Works nested, under `grad(grad(...))`
    (the innermost reverse trace checkpoints; outer ones record the replay), and under forward
    mode and `vmap` (where nothing is stored anyway, `fun` simply runs).

        >>> layer = checkpoint(lambda w, x: gnp.tanh(x @ w))
        >>> ga.grad(lambda w: gnp.sum(layer(w, x)))(w)       # same as without checkpoint

    `fun` may close over traced values: their gradients flow too. It must be pure: run again
    on the same arguments it must give the same outputs, since the backward pass differentiates
    the rerun. So no NumPy random numbers (draw from `gnp.random`), no counters in closures, no
    mutable Python state read or changed. The rerun's outputs are compared with the first
    run's and a difference raises `gpuad.checkpoint.RecomputationMismatchError`
    (`ga.config.recompute_check`: "auto", "exact", "allclose" or "off").
    """
    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        trace = recording_trace()
        if trace is None:
            return fun(*args, **kwargs)
        return _Checkpointed(trace, fun, args, kwargs).run()

    return checkpointed


class _Checkpointed:
    """One call of a checkpointed function on the tape."""

    def __init__(self, trace, fun, args, kwargs):
        self._trace = weakref.ref(trace)
        self.fun = fun
        self.kwargs = kwargs
        leaves, self.treedef = tree_flatten(args)
        self.parents = [k for k, x in enumerate(leaves)
                        if getattr(x, "_trace", None) is trace and hasattr(x, "node")]
        self.nodes = [leaves[k].node for k in self.parents]
        self.inputs = [x.value if k in self.parents else x for k, x in enumerate(leaves)]
        self.touched = {}
        self.out_def = None

    def call(self, leaves):
        out = self.fun(*tree_unflatten(self.treedef, leaves), **self.kwargs)
        out_leaves, self.out_def = tree_flatten(out)
        return out_leaves

    def run(self):
        trace = self._trace()
        self.rng = _random.get_all_states()
        out = run_paused(trace, self.touched,
                         lambda: translate_leaves(trace, self.call(self.inputs)))
        self.closure_nodes = list(self.touched)
        parents = self.nodes + self.closure_nodes
        self.checker = None
        mode = mode_for(self.inputs + out) if parents else "off"
        if mode != "off":  # compare the replay in backward with this run (verify.py)
            self.checker = Checker(mode, self.describe)
            self.checker.note(0, out)
        if parents:
            out, self.wrapped = record_region(trace, self, parents, out)
            self.n_out = len(out)
        return tree_unflatten(self.out_def, out)

    def describe(self, i):
        name = getattr(self.fun, "__qualname__", None) or repr(self.fun)
        return f"checkpoint({name})", leaf_names("output", self.out_def), "the function"

    def backward(self, g):
        rng_after = _random.get_all_states()
        _random.set_all_states(self.rng)
        try:
            replay = Replay(self._trace(), self.touched, self.call, self.inputs, frozen=True)
        finally:
            _random.set_all_states(rng_after)
        if self.checker is not None:
            self.checker.check(0, replay.values())
            self.checker.flush()
        g_out = [None] * self.n_out
        for i, gi in zip(self.wrapped, g):
            g_out[i] = gi
        in_cots, closure = replay.backprop(self._trace(), g_out)
        return [in_cots[k] for k in self.parents] + [closure.get(n) for n in self.closure_nodes]
