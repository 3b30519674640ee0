"""User-defined derivative rules: `custom_vjp` and `custom_jvp`.

    @ga.custom_vjp
    def clip_gradient(x):               # identity forward, clipped cotangent backward
        return x

    def fwd(x):
        return x, None                  # (output, residuals kept for bwd)

    def bwd(residuals, g):
        return (gnp.clip(g, -1.0, 1.0),)    # one cotangent per (differentiable) argument

    clip_gradient.defvjp(fwd, bwd)

    @ga.custom_jvp
    def log1pexp(x):
        return gnp.logaddexp(0.0, x)

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * gpuad.scipy.special.expit(x)

Rules are written with gpuad.numpy ops, so they nest: `grad(grad(f))`, `jvp(grad(f))` and
`hessian` differentiate the rules themselves. A function with a VJP rule only raises a clear
error under forward mode (jvp, jacfwd, hessian); give it a JVP too with `defjvp`. A function
with a JVP rule only is differentiated in reverse mode by transposing that rule (it is linear in
the tangents), so it needs no VJP. Under `vmap`, the function runs once per example so that its
rules still apply.

`nondiff_argnums` marks arguments that are not differentiated (static configuration, integers):
they are passed unchanged and first to the rules: `bwd(*nondiff, residuals, g)`,
`jvp_rule(*nondiff, primals, tangents)`; `fwd` takes the arguments as the function does.
"""
import functools

import numpy as np

from .batching import BatchTrace, BatchTracer
from .forward import ForwardTrace, ForwardTracer
from .numpy import getitem, stack, zeros_like
from .reverse import ReverseTrace, ReverseTracer, vjp
from .trace import TRACER_TYPES, Primitive, as_value, find_top_trace, primal_value
from .tree import tree_flatten, tree_map, tree_unflatten


class CustomFunction:
    """A function with user-defined derivative rules; build one with `custom_vjp`/`custom_jvp`."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(nondiff_argnums))
        self.fwd = self.bwd = self.jvp_rule = None
        # The tape entry's "primitive": its VJP runs bwd (or transposes the JVP rule) once for
        # all arguments. Not registered: it is not an op of gpuad.numpy.
        self.primitive = Primitive(f"custom({getattr(fun, '__name__', 'fun')})", None,
                                   multiple_results=True, register=False,
                                   vjp_joint=self._vjp_joint)

    @property
    def name(self):
        return getattr(self.fun, "__name__", "fun")

    def defvjp(self, fwd, bwd):
        """Set the reverse-mode rule: `fwd(*args) -> (out, residuals)`,
        `bwd(*nondiff_args, residuals, g) -> tuple of cotangents, one per differentiable
        argument` (None for a zero cotangent)."""
        self.fwd, self.bwd = fwd, bwd
        return self

    def defjvp(self, jvp_rule):
        """Set the forward-mode rule: `jvp_rule(*nondiff_args, primals, tangents) ->
        (primal_out, tangent_out)`, primals and tangents being tuples of the differentiable
        arguments. Usable as a decorator."""
        self.jvp_rule = jvp_rule
        return self

    # ---- calling ---------------------------------------------------------------------------

    def __call__(self, *args):
        if self.fwd is None and self.jvp_rule is None:
            raise TypeError(f"{self.name}: a custom function without rules; call "
                            f"{self.name}.defvjp(fwd, bwd) or {self.name}.defjvp(rule) first.")
        diff = [a for i, a in enumerate(args) if i not in self.nondiff_argnums]
        top = find_top_trace(tree_flatten(diff)[0])
        if top is None:
            return self.fun(*args)
        if not top.active:
            if top.detour is None:
                raise top.escaped(self.primitive)
            # checkpointing is replaying this call: see what the tracers stand for, and retry
            translate = top.detour.translate
            return self(*[tree_map(lambda x: translate(x) if type(x) in TRACER_TYPES
                                   and x._trace is top else x, a) for a in args])
        if isinstance(top, BatchTrace):
            return self._per_example(top, args)
        if isinstance(top, ForwardTrace):
            return self._forward(top, args)
        if isinstance(top, ReverseTrace):
            return self._reverse(top, args)
        return self.fun(*args)

    def _split(self, args):
        nondiff = tuple(args[i] for i in self.nondiff_argnums)
        diff = tuple(a for i, a in enumerate(args) if i not in self.nondiff_argnums)
        return nondiff, diff

    def _join(self, nondiff, diff):
        args, nd, d = [], iter(nondiff), iter(diff)
        for i in range(len(nondiff) + len(diff)):
            args.append(next(nd) if i in self.nondiff_argnums else next(d))
        return args

    # ---- forward mode ----------------------------------------------------------------------

    def _forward(self, trace, args):
        if self.jvp_rule is None:
            raise TypeError(
                f"{self.name}: this custom_vjp function has no JVP rule, so forward mode (jvp, "
                f"jacfwd, hessian, hvp) cannot differentiate it. Give one with "
                f"{self.name}.defjvp(rule), or use reverse mode (grad, jacrev).")
        nondiff, diff = self._split(args)
        leaves, treedef = tree_flatten(diff)
        primals, tangents = [], []
        for leaf in leaves:
            if type(leaf) is ForwardTracer and leaf._trace is trace:
                primals.append(leaf.value)
                tangents.append(leaf.tangent)
            else:
                primals.append(leaf)
                tangents.append(_zeros_for(leaf))
        out, t_out = self.jvp_rule(*nondiff, tree_unflatten(treedef, primals),
                                   tree_unflatten(treedef, tangents))
        o_leaves, o_def = tree_flatten(out)
        t_leaves, t_def = tree_flatten(t_out)
        if t_def != o_def:
            raise ValueError(f"{self.name}: the JVP rule returned a tangent of structure {t_def} "
                             f"for an output of structure {o_def}")
        return tree_unflatten(o_def, [ForwardTracer(as_value(o), as_value(t), trace)
                                      for o, t in zip(o_leaves, t_leaves)])

    # ---- reverse mode ----------------------------------------------------------------------

    def _reverse(self, trace, args):
        nondiff, diff = self._split(args)
        leaves, treedef = tree_flatten(diff)
        # (isinstance: a value of a fused group not computed yet, gpuad/kernels' LazyTracer,
        # is computed by reading it, and is a ReverseTracer from then on)
        vals = [leaf.value if isinstance(leaf, ReverseTracer) and leaf._trace is trace else leaf
                for leaf in leaves]
        trace.hold_constants(leaves + list(nondiff), vals + list(nondiff), {})  # bwd may read
        parents = [(i, leaf.node, None) for i, leaf in enumerate(leaves)
                   if type(leaf) is ReverseTracer and leaf._trace is trace]
        primal_args = tree_unflatten(treedef, vals)
        if self.fwd is not None:
            out, residuals = self.fwd(*self._join(nondiff, primal_args))
            saved = ("vjp", nondiff, residuals, treedef, len(leaves))
        else:  # a JVP rule only: the primal comes from it, the VJP by transposing it
            out, _ = self.jvp_rule(*nondiff, primal_args,
                                   tree_unflatten(treedef, [_zeros_for(v) for v in vals]))
            saved = ("transpose", nondiff, primal_args, treedef, len(leaves))
        o_leaves, o_def = tree_flatten(out)
        float_out = [i for i, o in enumerate(o_leaves)
                     if getattr(primal_value(o), "dtype", np.dtype(float)).kind in "fc"]
        first = trace.count
        trace.count += len(float_out)
        nodes = tuple(range(first, first + len(float_out)))
        trace.tape.append((self.primitive, nodes, parents,
                           saved + (o_def, tuple(float_out), len(o_leaves)),
                           tuple(o_leaves[i] for i in float_out), {}))
        wrapped = list(o_leaves)
        for i, node in zip(float_out, nodes):
            wrapped[i] = ReverseTracer(as_value(o_leaves[i]), trace, node)
        return tree_unflatten(o_def, wrapped)

    def _vjp_joint(self, ans, saved, g):
        """All input cotangents of one recorded call: a list indexed by argument leaf."""
        kind, nondiff, payload, treedef, n_in, o_def, float_out, n_out = saved
        g_leaves = [None] * n_out
        for i, gi in zip(float_out, g):
            g_leaves[i] = gi
        for i in range(n_out):
            if g_leaves[i] is None:
                g_leaves[i] = np.zeros(())  # integer outputs carry no cotangent
        g_tree = tree_unflatten(o_def, g_leaves)
        if kind == "vjp":
            cts = self.bwd(*nondiff, payload, g_tree)
            if not isinstance(cts, (tuple, list)):
                raise TypeError(f"{self.name}: bwd must return a tuple with one cotangent per "
                                f"differentiable argument, got a {type(cts).__name__}")
        else:
            primal_args = payload
            p_leaves = tree_flatten(primal_args)[0]
            _, transpose = vjp(lambda *t: self.jvp_rule(*nondiff, primal_args,
                                                        tree_unflatten(treedef, list(t)))[1],
                               *[_zeros_for(p) for p in p_leaves])
            return list(transpose(g_tree))
        if len(cts) != len(treedef.children):
            raise ValueError(f"{self.name}: bwd returned {len(cts)} cotangents for "
                             f"{len(treedef.children)} differentiable arguments")
        flat = []
        for ct, (i, sub) in zip(cts, enumerate(treedef.children)):
            sub_leaves = [None] * sub.num_leaves if ct is None else tree_flatten(ct)[0]
            if len(sub_leaves) != sub.num_leaves:
                raise ValueError(f"{self.name}: bwd returned a cotangent for argument {i} with "
                                 f"{len(sub_leaves)} leaves; the argument has {sub.num_leaves}")
            flat.extend(sub_leaves)
        return flat

    # ---- vmap ------------------------------------------------------------------------------

    def _per_example(self, trace, args):
        leaves, treedef = tree_flatten(list(args))
        outs = []
        for k in range(trace.size):
            example = [getitem(x.value, k) if type(x) is BatchTracer and x._trace is trace else x
                       for x in leaves]
            outs.append(self(*tree_unflatten(treedef, example)))
        o_leaves0, o_def = tree_flatten(outs[0])
        columns = [[tree_flatten(o)[0][j] for o in outs] for j in range(len(o_leaves0))]
        return tree_unflatten(o_def, [BatchTracer(stack(c), trace) for c in columns])


def _zeros_for(x):
    return zeros_like(x)


def custom_vjp(fun=None, *, nondiff_argnums=()):
    """Give `fun` a hand-written reverse-mode rule with `fun.defvjp(fwd, bwd)` (see the module
    docstring for the signatures and an example)."""
    if fun is None:
        return lambda f: CustomFunction(f, nondiff_argnums)
    return CustomFunction(fun, nondiff_argnums)


def custom_jvp(fun=None, *, nondiff_argnums=()):
    """Give `fun` a hand-written forward-mode rule with `@fun.defjvp` (see the module docstring).
    Reverse mode transposes the rule, so no VJP is needed."""
    if fun is None:
        return lambda f: CustomFunction(f, nondiff_argnums)
    return CustomFunction(fun, nondiff_argnums)
