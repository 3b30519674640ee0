"""Forward mode: dual numbers. A `ForwardTracer` carries a primal value and its tangent.

Each primitive applied to a forward tracer computes its primal and pushes the tangents of its
traced arguments through its JVP rules (one per argument, linear in the tangent), summing them.
Nothing is recorded, so forward mode costs a constant multiple of the function, whatever its
length, in time and memory.
"""
import numpy as np

from . import backend
from .config import config
from .trace import (
    PYTHON_NUMBERS,
    TRACER_TYPES,
    Trace,
    Tracer,
    as_value,
    check_nans,
    explain_attribute_error,
    primal_value,
)
from .tree import check_registered, tree_flatten, tree_paths, tree_unflatten


class ForwardTracer(Tracer):
    __slots__ = ("tangent",)

    def __init__(self, value, tangent, trace):
        self.value = value
        self.tangent = tangent
        self._trace = trace

    def __repr__(self):
        return (f"ForwardTracer(level={self._trace.level}, value={self.value!r}, "
                f"tangent={self.tangent!r})")


TRACER_TYPES.add(ForwardTracer)


class ForwardTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        vals, ours, nested = self.unwrap(ForwardTracer, args)
        tangents = [(i, a.tangent) for i, a in ours]
        if nested:
            ans = prim.bind(*vals, **params)
        else:
            ans = prim.impl(*vals, **params) if params else prim.impl(*vals)
        out = None
        if prim.jvp_joint is not None and tangents:
            full = [None] * len(vals)
            for i, t in tangents:
                full[i] = t
            out = prim.jvp_joint(ans, vals, full, **params)
            tangents = ()
        for i, t in tangents:
            rule = prim.jvp_rule(i)
            if prim.variadic:
                o = rule(ans, *vals, t, argnum=i, **params)
            elif params:
                o = rule(ans, *vals, t, **params)
            else:
                o = rule(ans, *vals, t)
            if out is None:
                out = o
            elif prim.multiple_results:
                out = tuple([a + b for a, b in zip(out, o)])
            else:
                out = out + o
        if config.debug_nans:
            where = f"{prim.name} (forward mode)"
            check_nans(ans, where, "primal result")
            check_nans(out, where, "tangent")
        if prim.multiple_results:
            return tuple([ForwardTracer(a, _match(t, a), self) for a, t in zip(ans, out)])
        return ForwardTracer(ans, _match(out, ans), self)


def _match(t, ans):
    """The tangent in the primal's shape and dtype (JVP rules of broadcasting ops return the
    argument's shape; a float32 result keeps a float32 tangent)."""
    a_shape = getattr(ans, "shape", ())  # tracers report their own (logical) shape
    if getattr(t, "shape", ()) != a_shape:
        from .numpy import broadcast_to
        t = broadcast_to(t, a_shape)
    a_dtype = getattr(ans, "dtype", None)
    if a_dtype is not None and getattr(t, "dtype", a_dtype) != a_dtype:
        from .numpy.helpers import cast_cotangent
        t = cast_cotangent(t, a_dtype)
    return t


def _zero_tangent(x):
    raw = primal_value(x)
    xp = backend.namespace(raw)
    return xp.zeros(tuple(getattr(x, "shape", ())), dtype=getattr(x, "dtype", np.result_type(raw)))


def jvp(fun, primals, tangents):
    """Forward mode: `fun(*primals)` and its Jacobian applied to `tangents`.

    Args:
      fun: a function of arrays / pytrees.
      primals: a tuple (or list) of arguments.
      tangents: a tuple of the same structure, each tangent with its primal's shape and dtype.

    Returns:
      `(out, tangent_out)`: pytrees of `fun`'s output structure. Outputs that do not depend on
      the primals, and integer outputs, get zero tangents (zeros of the output's shape and
      dtype, standing in for JAX's float0).

    Example:
      >>> ga.jvp(gnp.sin, (gnp.asarray(0.5),), (gnp.asarray(1.0),))   # (sin 0.5, cos 0.5)
      (array(0.47942554), array(0.87758256))
    """
    return jvp_named(fun, primals, tangents, "jvp")


def jvp_named(fun, primals, tangents, name):
    """`jvp`, its errors naming `name` (jacfwd, hessian and hvp are built on it)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{name}: primals and tangents must be tuples (or lists) of arguments, "
                        f"e.g. ga.jvp(f, (x,), (v,)).")
    p_leaves, p_def = tree_flatten(tuple(primals))
    t_leaves, t_def = tree_flatten(tuple(tangents))
    if p_def != t_def:
        raise ValueError(f"{name}: tangents have structure {t_def} but primals have {p_def}; "
                         f"give one tangent per primal leaf.")
    check_registered(name, p_leaves, p_def, "primals")
    paths = tree_paths(p_def, "primals")
    trace = ForwardTrace()
    try:
        boxed = []
        for p, t, path in zip(p_leaves, t_leaves, paths):
            value = as_value(p)
            if getattr(value, "dtype", np.dtype(bool)).kind in "fc":
                t = _tangent_value(t, value)
                _check_tangent(name, path, value, t)
                boxed.append(ForwardTracer(value, t, trace))
            else:  # integer, boolean and non-array inputs are constants (zero tangent)
                _check_tangent(name, path, value, t)
                boxed.append(p)
        out = fun(*tree_unflatten(p_def, boxed))
    except AttributeError as exc:
        explain_attribute_error(exc)
        raise
    finally:
        trace.close()
    o_leaves, o_def = tree_flatten(out)
    values, tans = [], []
    for x in o_leaves:
        if type(x) is ForwardTracer and x._trace is trace:
            values.append(x.value)
            tans.append(x.tangent)
        else:
            values.append(x)
            tans.append(_zero_tangent(x))
    return tree_unflatten(o_def, values), tree_unflatten(o_def, tans)


def _tangent_value(t, p):
    """A Python-number tangent as a 0-d array in the primal's dtype where NumPy's promotion of
    the two keeps that dtype (1.0 for a float32 primal), else in NumPy's default dtype for it
    (then `_check_tangent` names the mismatch)."""
    if type(t) not in PYTHON_NUMBERS:
        return t
    dtype = getattr(p, "dtype", None)
    if dtype is not None and dtype.kind in "fc" and np.result_type(dtype, t) == dtype:
        return np.asarray(t, dtype=dtype)
    return np.asarray(t)


def _check_tangent(name, path, p, t):
    p_shape = tuple(getattr(p, "shape", ()))
    t_shape = tuple(getattr(t, "shape", ()))
    if p_shape != t_shape:
        raise ValueError(f"{name}: the tangent for {path} has shape {t_shape}, but the primal "
                         f"has shape {p_shape}; they must match.")
    p_dtype = getattr(p, "dtype", None)
    t_dtype = getattr(t, "dtype", None)
    if p_dtype is not None and t_dtype is not None and p_dtype.kind in "fc" and p_dtype != t_dtype:
        raise TypeError(f"{name}: the tangent for {path} has dtype {t_dtype}, but the primal has "
                        f"dtype {p_dtype}; use a tangent of the primal's dtype "
                        f"(t.astype({p_dtype})).")



# ---------------------------------------------------------------------------------------------
# linearize: evaluate once, then push any number of tangents through the recorded ops

def _recording_trace():
    """A reverse-mode tape that keeps every argument and result, which the JVP rules need."""
    from .reverse import ReverseTrace, ReverseTracer

    class RecordingTrace(ReverseTrace):
        __slots__ = ()
        records_regions = False  # a checkpointed loop runs step by step: every op recorded

        # ReverseTrace's fast paths drop residuals; this tape must keep them all.
        process1 = Trace.process1
        process2 = Trace.process2

        def process(self, prim, args, params):
            vals, ours, nested = self.unwrap(ReverseTracer, args)
            for i, _ in ours:
                prim.jvp_rule(i)  # no JVP rule: fail now, naming the op, not at jvp_fn time
            ans = prim.bind(*vals, **params) if nested else prim.impl(*vals, **params)
            self.hold_constants(args, vals, params)  # jvp_fn reads them: read-only meanwhile
            parents = tuple((i, a.node) for i, a in ours)
            if prim.multiple_results:
                first = self.count
                self.count += len(ans)
                out = tuple(range(first, first + len(ans)))
                self.tape.append((prim, out, parents, tuple(vals), ans, params))
                return tuple(ReverseTracer(a, self, n) for a, n in zip(ans, out))
            node = self.count
            self.count += 1
            self.tape.append((prim, node, parents, tuple(vals), ans, params))
            return ReverseTracer(ans, self, node)

    return RecordingTrace(), ReverseTracer


def _push_tangents(tape, tangents):
    """Walk the recorded ops in order, applying their JVP rules: `tangents` maps node -> tangent
    and is extended in place."""
    for prim, out, parents, vals, ans, params in tape:
        incoming = [(i, tangents[node]) for i, node in parents if node in tangents]
        if not incoming:
            continue
        if prim.jvp_joint is not None:
            full = [None] * len(vals)
            for i, t in incoming:
                full[i] = t
            t_out = prim.jvp_joint(ans, vals, full, **params)
        else:
            t_out = None
            for i, t in incoming:
                rule = prim.jvp_rule(i)
                o = (rule(ans, *vals, t, argnum=i, **params) if prim.variadic
                     else rule(ans, *vals, t, **params))
                if t_out is None:
                    t_out = o
                elif prim.multiple_results:
                    t_out = tuple(a + b for a, b in zip(t_out, o))
                else:
                    t_out = t_out + o
        if prim.multiple_results:
            for node, a, t in zip(out, ans, t_out):
                tangents[node] = _match(t, a)
        else:
            tangents[out] = _match(t_out, ans)


def linearize(fun, *primals):
    """Evaluate `fun(*primals)` once and return its JVP as a function of the tangents.

    Args:
      fun: a function of arrays / pytrees.
      *primals: its arguments (every floating leaf is a linearization point).

    Returns:
      `(out, jvp_fn)`: `jvp_fn(*tangents)` (one tangent tree per primal) returns the tangent of
      `out`, applying the recorded ops' JVP rules to their saved arguments without evaluating
      `fun` again. Call it as often as you like (it keeps every intermediate alive meanwhile),
      or batch it with `ga.vmap(jvp_fn)`.

    Example:
      >>> out, f_jvp = ga.linearize(gnp.sin, gnp.asarray(0.5))
      >>> f_jvp(gnp.asarray(2.0))                                     # 2 cos(0.5)
      array(1.75516512)
    """
    from .reverse import trace_inputs
    trace, tracer_type = _recording_trace()
    try:
        new_args, nodes, defs = trace_inputs(trace, "linearize", primals,
                                             tuple(range(len(primals))))
        result = fun(*new_args)
    except BaseException as exc:
        trace.release()  # (else the arrays it holds wait for the traceback to go)
        if isinstance(exc, AttributeError):
            explain_attribute_error(exc)
        raise
    finally:
        trace.close()
    o_leaves, o_def = tree_flatten(result)
    out_nodes = [x.node if type(x) is tracer_type and x._trace is trace else None
                 for x in o_leaves]
    out_values = [x.value if n is not None else x for x, n in zip(o_leaves, out_nodes)]
    trace.hold_results(o_leaves)  # jvp_fn's rules read them

    def jvp_fn(*tangents):
        if len(tangents) != len(primals):
            raise TypeError(f"linearize: jvp_fn takes {len(primals)} tangent(s), one per primal, "
                            f"got {len(tangents)}")
        t_map = {}
        paths = tree_paths(tree_flatten(tuple(primals))[1], "primals")
        flat_paths = iter(paths)
        for (treedef, leaves), ns, t in zip(defs, nodes, tangents):
            t_leaves, t_def = tree_flatten(t)
            if t_def != treedef:
                raise ValueError(f"linearize: a tangent has structure {t_def}, but its primal "
                                 f"has {treedef}")
            for node, p, tl in zip(ns, leaves, t_leaves):
                p = as_value(p)
                tl = _tangent_value(tl, p)
                _check_tangent("linearize", next(flat_paths), p, tl)
                t_map[node] = tl
        _push_tangents(trace.tape, t_map)  # (the trace: its arrays are held while it lives)
        return tree_unflatten(o_def, [t_map[n] if n is not None and n in t_map
                                      else _zero_tangent(v)
                                      for n, v in zip(out_nodes, out_values)])

    return tree_unflatten(o_def, out_values), jvp_fn
