"""Reverse mode: the tape, the backward sweep, and `vjp`, `grad`, `value_and_grad`.

The tape is a plain list of entries in recording order, which is already a topological order:
the sweep walks it newest first. Each entry is a tuple

    (prim, out, parents, saved, ans, params)

where `out` is the output node (a tuple of nodes for several results), `parents` lists
`(argnum, input node, broadcast target)` for the arguments this trace differentiates, and the
residuals `saved` and `ans` are what the VJP rules read (see `Primitive`): the array, a `Meta`
(shape and dtype only) or None. Cotangents are accumulated in a list indexed by node.
`grad` pops each entry as its rules run, so backward never holds more than forward did, and when
`grad` returns no part of the tape is alive.

The tape keeps references, not copies: the NumPy arrays handed to the traced ops from outside
(the primal inputs, constants, closures' buffers, index arrays) are read-only until the trace
no longer needs them (`gpuad/readonly.py`): until `grad` returns, or until `vjp`'s `vjp_fn` is
deleted. A write to one meanwhile is an error at the write, never a wrong value or gradient.
"""
import functools

import numpy as np

from . import backend
from .config import config
from .readonly import hold
from .readonly import release as release_held
from .trace import (
    EMPTY,
    KEEP,
    META,
    PYTHON_NUMBERS,
    STAGED_TRACER_TYPES,
    TRACER_TYPES,
    Meta,
    Trace,
    Tracer,
    as_value,
    check_nans,
    explain_attribute_error,
    namespace_of,
    primal_value,
    strip_derivatives,
)
from .tree import tree_flatten, tree_paths, tree_unflatten, unregistered_hint

_ndarray = np.ndarray
_NUMBERS = frozenset((float, int, bool, complex))


# The fields of a tape entry, by position. Entries are plain tuples: a NamedTuple costs 7.7%
# of a small op's forward and backward (benchmarks/callgrind.py overhead: 2482.4k -> 2674.7k
# instructions per 100-op gradient; building, unpacking and freeing a tuple subclass).
PRIM, OUT, PARENTS, SAVED, ANS, PARAMS = range(6)


def held_arrays(entry):
    """The arrays (and Metas) a tape entry keeps for the backward pass. `saved` is a tuple
    with one residual per argument, or an object that keeps its residuals itself (a fused
    group, gpuad/kernels) and lists them with `held()`."""
    saved, ans = entry[SAVED], entry[ANS]
    if type(saved) is not tuple:
        return list(saved.held())
    return list(saved) + (list(ans) if isinstance(ans, tuple) else [ans])


class ReverseTracer(Tracer):
    __slots__ = ("node", "__weakref__")

    def __init__(self, value, trace, node):
        self.value = value
        self._trace = trace
        self.node = node

    def __repr__(self):
        return f"ReverseTracer(level={self._trace.level}, node={self.node}, value={self.value!r})"


TRACER_TYPES.add(ReverseTracer)


class ReverseTrace(Trace):
    """Records primitives applied to its tracers onto `tape`.

    `ReverseTrace()` gives the recorder installed with `install_recorder` while
    `config.fusion` is on (gpuad/kernels installs its fusing subclass at import), else this
    class itself: the tape records op by op, and its record paths test nothing about fusion.
    """

    __slots__ = ("tape", "count", "held")
    records_regions = True  # a checkpointed loop may be one entry (False: run it step by step)

    def __new__(cls):
        if cls is ReverseTrace and _recorder[0] is not None and config.fusion:
            cls = _recorder[0]
        return object.__new__(cls)

    def __init__(self):
        super().__init__()
        self.tape = []
        self.count = 0
        self.held = []  # the arrays from outside kept read-only for the tape (`release`)
        # (gpuad/kernels/tape.py's FusingTrace.__init__ repeats these: keep them in step)

    def release(self):
        """The tape will not be read again: the arrays it held become writeable again."""
        if self.held:
            release_held(self.held)

    def __del__(self, release_held=release_held):  # (module globals may be gone at exit)
        if self.held:
            release_held(self.held)

    def hold_constants(self, args, vals, params):
        """Keep the NumPy arrays among an op's arguments that came from outside the trace (an
        argument given as itself, not as a tracer, and arrays in `params`) read-only while the
        tape may read them."""
        held = self.held
        for a, v in zip(args, vals):
            if v is a and isinstance(v, _ndarray):
                hold(v, held)
        if params:
            for p in params.values():
                if isinstance(p, _ndarray):
                    hold(p, held)
                elif type(p) is tuple:  # an index
                    for q in p:
                        if isinstance(q, _ndarray):
                            hold(q, held)

    def hold_results(self, leaves):
        """Keep the values of this trace's tracers among `leaves` read-only while the tape
        lives: results given out that a later sweep may read (exp's rule reads exp(x))."""
        for x in leaves:
            if type(x) is ReverseTracer and x._trace is self and isinstance(x.value, _ndarray):
                hold(x.value, self.held)

    def new_input(self, value):
        """A tracer for a value to differentiate (a Python number becomes a 0-d array)."""
        node = self.count
        self.count = node + 1
        return ReverseTracer(as_value(value), self, node)

    def process1(self, prim, x):
        """`process` for a one-argument primitive without parameters (the hot path of long
        elementwise chains: see benchmarks/overhead.py)."""
        if type(x) is not ReverseTracer or not prim.fast:  # a tracer of a subclass, a slow op
            return self.process(prim, (x,), EMPTY)
        v = x.value
        if type(v) in TRACER_TYPES:
            return self.process(prim, (x,), EMPTY)
        ans = prim.impl(v)
        tape = self.tape
        if config.debug_nans:
            check_nans(ans, f"{prim.name} (tape position {len(tape)})", "forward result")
        node = self.count
        self.count = node + 1
        tape.append((prim, node, ((0, x.node, None),), (v if prim.keep[0] else None,),
                     ans if prim.keep_ans else None, EMPTY))
        return ReverseTracer(ans, self, node)

    def process2(self, prim, x, y):
        """`process` for a two-argument primitive without parameters (arithmetic operators)."""
        x_ours = type(x) is ReverseTracer and x._trace is self
        y_ours = type(y) is ReverseTracer and y._trace is self
        vx = x.value if x_ours else x
        vy = y.value if y_ours else y
        tx, ty = type(vx), type(vy)
        if not prim.fast or tx in TRACER_TYPES or ty in TRACER_TYPES:
            return self.process(prim, (x, y), EMPTY)  # (a subclass's tracers go there too)
        ans = (prim.array_impl if tx is _ndarray else prim.impl)(vx, vy)
        tape = self.tape
        if config.debug_nans:
            check_nans(ans, f"{prim.name} (tape position {len(tape)})", "forward result")
        if prim.broadcasting:
            shape, dtype = ans.shape, ans.dtype
            if x_ours:
                px = (0, x.node, None if (vx.shape == shape and vx.dtype == dtype) else Meta(vx))
            if y_ours:
                py = (1, y.node, None if (vy.shape == shape and vy.dtype == dtype) else Meta(vy))
        else:
            px = (0, x.node, None) if x_ours else None
            py = (1, y.node, None) if y_ours else None
        # an operand from outside the trace (not a Python number): the tape reads it later
        if x_ours:
            if y_ours:
                parents = (px, py)
            else:
                parents = (px,)
                if ty not in _NUMBERS and isinstance(vy, _ndarray):
                    hold(vy, self.held)
        else:
            parents = (py,)
            if tx not in _NUMBERS and isinstance(vx, _ndarray):
                hold(vx, self.held)
        keep = prim.keep
        node = self.count
        self.count = node + 1
        tape.append((prim, node, parents, (vx if keep[0] else None, vy if keep[1] else None),
                     ans if prim.keep_ans else None, EMPTY))
        return ReverseTracer(ans, self, node)

    def process(self, prim, args, params):
        vals, ours, nested = self.unwrap(ReverseTracer, args)
        parents = [(i, a.node) for i, a in ours]
        if not prim.variadic:
            for i, _ in parents:
                if i >= len(prim.vjp) or prim.vjp[i] is None:
                    prim.vjp_rule(i)  # raises NotImplementedError naming the op and argument
        if nested:
            ans = prim.bind(*vals, **params)
        else:
            ans = prim.impl(*vals, **params) if params else prim.impl(*vals)
        if params or len(ours) < len(args):
            self.hold_constants(args, vals, params)
        tape = self.tape
        if config.debug_nans:
            check_nans(ans, f"{prim.name} (tape position {len(tape)})", "forward result")

        if prim.broadcasting:  # remember the shapes cotangents must be summed back to
            shape, dtype = ans.shape, ans.dtype
            parents = [(i, node, None if (vals[i].shape == shape and vals[i].dtype == dtype)
                        else Meta(vals[i])) for i, node in parents]
        else:
            parents = [(i, node, None) for i, node in parents]

        keep = prim.keep
        if type(keep) is int:  # variadic: one choice for all arguments
            saved = tuple([Meta(v) for v in vals]) if keep == META else tuple(vals)
        else:
            saved = tuple([(v if k == KEEP else Meta(v) if k == META else None)
                           for v, k in zip(vals, keep)] + [None] * (len(vals) - len(keep)))
        keep_ans = prim.keep_ans
        if prim.multiple_results:
            first = self.count
            self.count = first + len(ans)
            out = tuple(range(first, first + len(ans)))
            kept_ans = ans if keep_ans == KEEP else tuple([Meta(a) for a in ans])
            tape.append((prim, out, parents, saved, kept_ans, params))
            return tuple([ReverseTracer(a, self, n) for a, n in zip(ans, out)])
        node = self.count
        self.count = node + 1
        kept_ans = ans if keep_ans == KEEP else (Meta(ans) if keep_ans == META else None)
        tape.append((prim, node, parents, saved, kept_ans, params))
        return ReverseTracer(ans, self, node)


_recorder = [None]  # the ReverseTrace subclass `ReverseTrace()` gives while config.fusion is on


def install_recorder(cls):
    """Make `ReverseTrace()` give a `cls` (a subclass) while `config.fusion` is on: the hook
    through which gpuad/kernels records elementwise ops as fused groups. The tape's own code
    never imports kernels/."""
    if not issubclass(cls, ReverseTrace):
        raise TypeError(f"install_recorder: {cls.__name__} is not a subclass of ReverseTrace; "
                        f"a recorder must keep the tape's entries and nodes as ReverseTrace does.")
    _recorder[0] = cls


class _Late:
    """gpuad.numpy's helpers, bound on first use: gpuad.numpy imports this module, and an
    import statement inside the sweep costs ~1.5 us a call on the project's machines."""

    unbroadcast = zeros_like = broadcast_to = cast_cotangent = None

    @classmethod
    def bind(cls):
        from . import numpy as gnp
        from .numpy import helpers
        cls.unbroadcast, cls.cast_cotangent = helpers.unbroadcast, helpers.cast_cotangent
        cls.zeros_like, cls.broadcast_to = gnp.zeros_like, gnp.broadcast_to
        return cls


def _late():
    return _Late if _Late.unbroadcast is not None else _Late.bind()


def _zeros_like_result(a):
    return _late().zeros_like(a) if not isinstance(a, Meta) else a.xp.zeros(a.shape, a.dtype)


def backward(trace, seeds, input_nodes, consume):
    """Run the sweep: cotangents of `input_nodes` given `seeds`, a list of (node, cotangent).

    With `consume`, entries are popped off the tape as their rules run, freeing their residuals.
    """
    unbroadcast = _late().unbroadcast
    cots = [None] * trace.count
    for node, g in seeds:
        c = cots[node]
        cots[node] = g if c is None else c + g
    tape = trace.tape
    debug = config.debug_nans
    position = len(tape)
    entries = tape if consume else list(tape)
    while entries:
        position -= 1
        prim, out, parents, saved, ans, params = entries.pop()
        if type(out) is int:
            g = cots[out]
            if g is None:
                if not prim.collective:
                    continue
                g = _zeros_like_result(ans)  # the other ranks wait in this rule's collective
            cots[out] = None
        else:  # a primitive with several results: missing cotangents are zeros
            gs = [cots[o] for o in out]
            if all(gi is None for gi in gs):
                continue
            for o in out:
                cots[o] = None
            g = tuple(gs) if prim.sparse_cotangents else tuple(
                _zeros_like_result(a) if gi is None else gi for gi, a in zip(gs, ans))
        variadic = prim.variadic
        rules = prim.vjp
        joint = None if prim.vjp_joint is None else prim.vjp_joint(ans, saved, g, **params)
        held = 0 if variadic or joint is not None else len(saved)  # a fused group keeps a Group
        for argnum, node, target in parents:
            if joint is not None:
                gi = joint[argnum]
                if gi is None:
                    continue
            elif variadic:
                gi = rules(ans, *saved, g, argnum=argnum, **params)
            elif params:
                gi = rules[argnum](ans, *saved, g, **params)
            elif held == 2:  # spelled out: a starred call costs twice as much as the rule itself
                gi = rules[argnum](ans, saved[0], saved[1], g)
            elif held == 1:
                gi = rules[argnum](ans, saved[0], g)
            else:
                gi = rules[argnum](ans, *saved, g)
            if target is not None:
                gi = unbroadcast(gi, target)
            if debug:
                check_nans(gi, f"{prim.name} (tape position {position})",
                           f"cotangent for argument {argnum}")
            c = cots[node]
            cots[node] = gi if c is None else c + gi
    return [cots[n] for n in input_nodes]


# ---------------------------------------------------------------------------------------------
# Arguments and results

def _leaf_path(where):
    """A readable path to leaf i of argument n (built only for error messages)."""
    n, treedef, i = where
    return tree_paths(treedef, f"argument {n}")[i]


def _as_differentiable(x, fun_name, where):
    """Check one leaf to differentiate: a float/complex array or Python float."""
    dtype = getattr(x, "dtype", None)  # (a tracer's own: a jit recording's is not tainted)
    if dtype is not None and dtype.kind in "fc":  # the usual case, checked first
        return x
    raw = primal_value(x)
    path = _leaf_path(where)
    if isinstance(raw, (bool, int)) and not isinstance(raw, float):
        raise TypeError(f"{fun_name}: input {path} is a Python {type(raw).__name__}; only floating "
                        f"or complex inputs can be differentiated. Pass {float(raw)!r} (a float), "
                        f"or leave it out of argnums.")
    if isinstance(raw, (float, complex)):
        return x  # new_input makes it a 0-d array
    if dtype is None:
        raise TypeError(f"{fun_name}: input {path} is a {type(raw).__name__}, not an array; "
                        f"differentiable inputs are NumPy/CuPy arrays, Python floats and pytrees "
                        f"(tuple, list, dict, namedtuple, registered classes) of them."
                        + ("" if type(raw).__module__ == "builtins" else
                           f" {unregistered_hint(raw)}"))
    if dtype.kind not in "fc":
        raise TypeError(f"{fun_name}: input {path} has dtype {dtype}; only floating or complex "
                        f"inputs can be differentiated. Convert it with x.astype(float) or leave "
                        f"it out of argnums.")
    return x


def check_differentiable(fun_name, args, argnums):
    """Check every leaf of `args[argnums]` as `grad` checks its inputs."""
    for n in argnums:
        leaves, treedef = tree_flatten(args[n])
        for i, leaf in enumerate(leaves):
            _as_differentiable(leaf, fun_name, (n, treedef, i))


def normalize_argnums(fun_name, argnums, nargs):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{fun_name}: argnums is empty; give at least one argument index.")
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(f"{fun_name}: argnums={argnums!r} but the function was called with "
                             f"{nargs} positional argument(s).")
    return single, tuple(n % nargs for n in nums)


def trace_inputs(trace, fun_name, args, argnums):
    """Replace the leaves of args[argnums] by tracers. Returns (new args, input nodes, treedefs)."""
    args = list(args)
    nodes, defs = [], []
    for n in argnums:
        leaves, treedef = tree_flatten(args[n])
        boxed = [trace.new_input(_as_differentiable(leaf, fun_name, (n, treedef, i)))
                 for i, leaf in enumerate(leaves)]
        nodes.append([b.node for b in boxed])
        defs.append((treedef, leaves))
        args[n] = tree_unflatten(treedef, boxed)
        for leaf in leaves:  # the tape reads them too (a closure could write to them)
            if type(leaf) is _ndarray:
                hold(leaf, trace.held)
            elif type(leaf) in TRACER_TYPES:
                raw = leaf
                # (a ga.jit recording's tracer is left alone: reading its value would mark the
                # recording unreplayable, and the recording reads its arguments as it runs)
                while type(raw) in TRACER_TYPES and type(raw) not in STAGED_TRACER_TYPES:
                    raw = raw.value
                if isinstance(raw, _ndarray):
                    hold(raw, trace.held)
    return args, nodes, defs


def lower_level(x, trace):
    """`x` with the tracing of `trace` removed (tracers of other traces are kept)."""
    if type(x) is ReverseTracer and x._trace is trace:
        return x.value
    return x


def _cotangent_for_input(g, primal):
    """A gradient in the primal's dtype and shape; zeros where nothing flowed back."""
    late = _late()
    if g is None:
        return late.zeros_like(primal)
    if type(primal) in TRACER_TYPES or hasattr(primal, "dtype"):
        # tracers report their own shape (one example's under vmap): compare with the primal
        if g.dtype != primal.dtype:
            g = late.cast_cotangent(g, primal.dtype)
        if g.shape != primal.shape:
            g = late.broadcast_to(g, primal.shape)
    if isinstance(g, np.generic):  # NumPy ops on 0-d arrays return scalars; give back an array
        g = np.asarray(g)
    return g


def _root(a):
    """The array owning `a`'s memory (`a` itself unless it is a view)."""
    while True:
        base = getattr(a, "base", None)
        if base is None or not hasattr(base, "shape"):
            return a
        a = base


def _owned(grads, foreign):
    """The gradient leaves, each an array its caller owns: copied where it is a read-only or
    stride-0 view (the cotangent of a sum is one value broadcast), where it overlaps another
    leaf (the rule of `add` hands the same cotangent to both operands), or where it is a view
    of an array the caller passed in (`foreign`: a cotangent given to `vjp_fn`, a primal).
    Without this, `gx, gy = grad(f, (0, 1))(x, y); gx *= 0.5` could change gy as well, and
    `g[0] = 0` could fail on a read-only view."""
    roots = {}  # id of a root array -> the leaves already returned that live in it
    for i, g in enumerate(grads):
        if type(g) in TRACER_TYPES or not hasattr(g, "strides"):
            continue
        root = _root(g)
        rid = id(root)
        copy = (not getattr(g.flags, "writeable", True) or (g.size > 1 and 0 in g.strides)
                or rid in foreign)
        if not copy and rid in roots:
            xp = backend.namespace(g)
            copy = any(xp.may_share_memory(g, other) for other in roots[rid])
        if copy:
            g = grads[i] = g.copy()
            rid = id(g)
        roots.setdefault(rid, []).append(g)
    return grads


def _gradients(defs, nodes, cots_by_node, given=()):
    """The gradient trees, one per differentiated argument; `given` lists further arrays of
    the caller's (the cotangents passed to `vjp_fn`) that no gradient may be a view of."""
    flat = [_cotangent_for_input(cots_by_node[n], leaf)
            for (_, leaves), ns in zip(defs, nodes) for n, leaf in zip(ns, leaves)]
    foreign = {id(_root(a)) for (_, leaves) in defs for a in leaves if hasattr(a, "strides")}
    foreign.update(id(_root(a)) for a in given if hasattr(a, "strides"))
    flat = _owned(flat, foreign)
    out = []
    start = 0
    for (treedef, leaves), ns in zip(defs, nodes):
        out.append(tree_unflatten(treedef, flat[start:start + len(ns)]))
        start += len(ns)
    return out


def _scalar_output(fun_name, out, trace):
    """Check that `out` is a real floating scalar, and return (node or None, primal value)."""
    # `out` itself, not primal_value(out): a tracer's value is never a Python number (see
    # Tracer), and reading a ga.jit recording's value would mark it unreplayable
    raw = out
    if type(raw) is float:  # a Python float: a constant, whose gradient is zero
        return None, out
    if type(raw) in PYTHON_NUMBERS:
        dtype = np.asarray(raw).dtype
    else:
        shape = getattr(out, "shape", None)
        if shape is None:
            raise TypeError(f"{fun_name}: the function returned a {type(raw).__name__}; it must "
                            f"return a scalar (an array of shape () or a Python float). With "
                            f"has_aux=True return a pair (scalar, aux).")
        if shape != ():
            raise TypeError(f"{fun_name}: the function's output must be a scalar of shape (), "
                            f"not {tuple(shape)}. For a non-scalar output use ga.vjp (one "
                            f"cotangent) or ga.jacrev (the whole Jacobian); to differentiate a "
                            f"sum, return x.sum().")
        dtype = out.dtype
    if dtype.kind != "f":
        # (described only here: formatting a dtype runs NumPy's Python code, ~30k instructions)
        what = (f"a Python {type(raw).__name__}" if type(raw) in PYTHON_NUMBERS
                else f"of dtype {dtype}")
        if dtype.kind == "c":
            raise TypeError(f"{fun_name}: the function's output is complex ({what}); a gradient "
                            f"needs a real output. Return gnp.real(out) or abs(out)**2, or use "
                            f"ga.holomorphic_grad for a holomorphic function.")
        raise TypeError(f"{fun_name}: the function's output is {what}, not a floating scalar, "
                        f"and has no derivative (a comparison, gnp.allclose or an integer count "
                        f"is piecewise constant). Return the floating value it is computed from.")
    if type(out) is ReverseTracer and out._trace is trace:
        return out.node, out.value
    return None, out


def _strip_level(tree, trace):
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [lower_level(x, trace) for x in leaves])


def _ones_like(value):
    """The seed cotangent of a scalar output: a NumPy scalar on the CPU, whose arithmetic
    costs a fifth of a 0-d array's (the ops on a 0-d array give NumPy scalars anyway)."""
    if type(value) is np.ndarray or isinstance(value, np.generic):
        return value.dtype.type(1)
    xp = namespace_of(value)  # (metadata only: a ga.jit recording's value stays unread)
    return value.dtype.type(1) if xp is np else xp.ones((), dtype=value.dtype)


# ---------------------------------------------------------------------------------------------
# Public transforms

def value_and_grad(fun, argnums=0, has_aux=False):
    """A function returning both `fun(*args)` and its gradient with respect to `args[argnums]`.

    Args:
      fun: a function returning a real floating scalar (shape `()` array or Python float);
        with `has_aux=True`, a pair `(scalar, aux)`. A boolean or integer output (a
        comparison, `gnp.allclose`) raises TypeError naming its dtype, as in JAX: it has no
        derivative. A complex output raises too (see `holomorphic_grad`).
      argnums: an int or a tuple of ints: which positional arguments to differentiate. Each may
        be an array, a Python float or a pytree of them (floating or complex dtype).
      has_aux: `fun` returns `(scalar, aux)`; aux is returned alongside, not differentiated.

    Returns:
      A function with `fun`'s signature returning `(value, grads)`, or `((value, aux), grads)`
      with `has_aux`. `grads` has the tree structure, shapes and dtypes of the differentiated
      argument (a tuple of such trees if `argnums` is a tuple).

    Example:
      >>> import gpuad as ga, gpuad.numpy as gnp
      >>> ga.value_and_grad(lambda x: gnp.sum(x ** 2))(gnp.asarray([1.0, 2.0]))
      (array(5.), array([2., 4.]))
    """
    return value_and_grad_named(fun, argnums, has_aux, transform_name("value_and_grad", fun))


def transform_name(transform, fun):
    """How errors name the transform the user called: `grad(loss)`."""
    return f"{transform}({getattr(fun, '__name__', 'fun')})"


def value_and_grad_named(fun, argnums, has_aux, name):
    """`value_and_grad`, its errors naming `name` (grad and hvp are built on it)."""
    normalized = {}  # number of positional arguments -> (single, argnums), checked once

    @functools.wraps(fun)
    def value_and_grad_fn(*args, **kwargs):
        nargs = len(args)
        checked = normalized.get(nargs)
        if checked is None:
            checked = normalized[nargs] = normalize_argnums(name, argnums, nargs)
        single, nums = checked
        trace = ReverseTrace()
        try:  # (the arrays the tape holds are writeable again when this returns or raises)
            try:
                new_args, nodes, defs = trace_inputs(trace, name, args, nums)
                result = fun(*new_args, **kwargs)
            except AttributeError as exc:
                explain_attribute_error(exc)
                raise
            finally:
                trace.close()
            if has_aux:
                if not (isinstance(result, (tuple, list)) and len(result) == 2):
                    raise TypeError(f"{name}: has_aux=True needs the function to return a pair "
                                    f"(scalar, aux); it returned {_kind(result)}.")
                out, aux = result
            else:
                out, aux = result, None
            node, value = _scalar_output(name, out, trace)
            seeds = [] if node is None else [(node, _ones_like(value))]
            flat_nodes = [n for ns in nodes for n in ns]
            cots = backward(trace, seeds, flat_nodes, consume=True)
            by_node = dict(zip(flat_nodes, cots))
            grads = _gradients(defs, nodes, by_node)
        finally:
            trace.release()
        grads = grads[0] if single else tuple(grads)
        if has_aux:
            return (value, _strip_level(aux, trace)), grads
        return value, grads

    return value_and_grad_fn


def grad(fun, argnums=0, has_aux=False):
    """The gradient of a scalar function: `grad(f)(x)` is df/dx, in x's shape and dtype.

    Args and returns as `value_and_grad`, without the value: `grad(f)(*args)` returns the
    gradient(s), or `(grads, aux)` with `has_aux=True`. Nests: `grad(grad(f))` is the second
    derivative.

    Example:
      >>> import gpuad as ga, gpuad.numpy as gnp
      >>> f = lambda x1, x2: gnp.cos(x1) + x1 * x2 - gnp.exp(x2)
      >>> ga.grad(f, argnums=(0, 1))(2.0, 4.0)     # (-sin(2) + 4, 2 - e^4)
      (array(3.09070257), array(-52.59815003))
    """
    vg = value_and_grad_named(fun, argnums, has_aux, transform_name("grad", fun))

    @functools.wraps(fun)
    def grad_fn(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        if has_aux:
            return grads, value[1]
        return grads

    return grad_fn


def vjp(fun, *primals, has_aux=False):
    """Evaluate `fun(*primals)` and return its vector-Jacobian product function.

    Args:
      fun: a function of arrays / pytrees returning an array or pytree of arrays.
      *primals: the arguments; every leaf is differentiated (floating or complex dtype).
      has_aux: `fun` returns `(out, aux)`; aux is returned as a third value.

    Returns:
      `(out, vjp_fn)` (or `(out, vjp_fn, aux)`), where `vjp_fn(cotangent)` takes a pytree of
      `out`'s structure, shapes and dtypes and returns a tuple with one cotangent per primal.
      `vjp_fn` may be called many times; it keeps the residuals alive until it is deleted.

    Example:
      >>> out, vjp_fn = ga.vjp(gnp.sin, gnp.asarray([0.0, 1.0]))
      >>> vjp_fn(gnp.asarray([1.0, 1.0]))          # (cos(x),)
      (array([1.        , 0.54030231]),)
    """
    return vjp_named(fun, primals, has_aux, transform_name("vjp", fun))


def vjp_named(fun, primals, has_aux, name):
    """`vjp`, its errors naming `name` (the Jacobian transforms are built on it)."""
    trace = ReverseTrace()  # (its arrays stay read-only until vjp_fn is deleted: __del__)
    try:
        new_args, nodes, defs = trace_inputs(trace, name, primals, tuple(range(len(primals))))
        result = fun(*new_args)
    except BaseException as exc:
        trace.release()
        if isinstance(exc, AttributeError):
            explain_attribute_error(exc)
        raise
    finally:
        trace.close()
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            trace.release()
            raise TypeError(f"{name}: has_aux=True needs the function to return a pair "
                            f"(out, aux); it returned {_kind(result)}.")
        result, aux = result
    out_leaves, out_def = tree_flatten(result)
    out_nodes = [x.node if type(x) is ReverseTracer and x._trace is trace else None
                 for x in out_leaves]
    trace.hold_results(out_leaves + (tree_flatten(aux)[0] if has_aux else []))
    out_values = [lower_level(x, trace) for x in out_leaves]
    out = tree_unflatten(out_def, out_values)
    flat_nodes = [n for ns in nodes for n in ns]

    def vjp_fn(cotangent):
        g_leaves, g_def = tree_flatten(cotangent)
        if g_def != out_def:
            raise ValueError(f"{name}: vjp_fn got a cotangent of structure {g_def}, but the "
                             f"function's output has structure {out_def}; pass one cotangent per "
                             f"output leaf.")
        paths = tree_paths(out_def, "output")
        seeds = []
        for node, g, primal, path in zip(out_nodes, g_leaves, out_values, paths):
            _check_cotangent(name, path, g, primal)
            if node is not None:
                if isinstance(g, (int, float, complex)):  # rules expect arrays
                    g = np.asarray(g, dtype=getattr(primal_value(primal), "dtype", None))
                seeds.append((node, g))
        cots = backward(trace, seeds, flat_nodes, consume=False)
        return tuple(_gradients(defs, nodes, dict(zip(flat_nodes, cots)), g_leaves))

    if has_aux:
        return out, vjp_fn, _strip_level(aux, trace)
    return out, vjp_fn


def _kind(result):
    """What a function returned, for error messages: `a tuple of 3`, `an array of shape ()`."""
    if isinstance(result, (tuple, list)):
        return f"a {type(result).__name__} of {len(result)}"
    shape = getattr(result, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    return f"a {type(result).__name__}"


def _check_cotangent(name, path, g, primal):
    g_shape = getattr(g, "shape", ())
    p_shape = getattr(primal, "shape", ())
    if tuple(g_shape) != tuple(p_shape):
        raise ValueError(f"{name}: the cotangent for {path} has shape {tuple(g_shape)}, but that "
                         f"output has shape {tuple(p_shape)}; they must match.")
    g_dtype = getattr(g, "dtype", None)
    p_dtype = getattr(primal, "dtype", None)
    if g_dtype is not None and p_dtype is not None and g_dtype.kind != p_dtype.kind \
            and not (g_dtype.kind in "fc" and p_dtype.kind in "fc"):
        raise TypeError(f"{name}: the cotangent for {path} has dtype {g_dtype}, but that output "
                        f"has dtype {p_dtype}.")


def stop_gradient(x):
    """`x` (a pytree) as a constant: no derivative flows through it, at any nesting level.

    A traced NumPy array comes back as a read-only view (the tape may still read the array;
    copy it to write to it), as JAX's arrays are immutable.

    Example:
      >>> ga.grad(lambda x: x * ga.stop_gradient(x))(3.0)   # d/dx (x * c) with c = x = 3
      array(3.)
    """
    leaves, treedef = tree_flatten(x)
    return tree_unflatten(treedef, [_constant(v) for v in leaves])


def _constant(x):
    """A traced value as a constant: a read-only view where it is a writeable NumPy array."""
    if type(x) not in TRACER_TYPES:
        return x
    c = strip_derivatives(x)
    if type(c) is _ndarray and c.flags.writeable:
        c = c.view()
        c.flags.writeable = False
    return c
