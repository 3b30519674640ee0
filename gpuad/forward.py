"""Forward mode: dual numbers. A `ForwardTracer` carries a primal value and its tangent.

Each primitive applied to a forward tracer computes its primal and pushes the tangents of its
traced arguments through its JVP rules (one per argument, linear in the tangent), summing them.
Nothing is recorded, so forward mode costs a constant multiple of the function, whatever its
length, in time and memory.
"""
import numpy as np

from . import backend
from .config import config
from .trace import EMPTY, TRACER_TYPES, Trace, Tracer, check_nans, primal_value
from .tree import tree_flatten, tree_paths, tree_unflatten


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

    def process1(self, prim, x):
        return self.process(prim, (x,), EMPTY)

    def process2(self, prim, x, y):
        return self.process(prim, (x, y), EMPTY)

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
                out = tuple(a + b for a, b in zip(out, o))
            else:
                out = out + o
        if config.debug_nans:
            where = f"{prim.name} (forward mode)"
            check_nans(ans, where, "primal result")
            check_nans(out, where, "tangent")
        if prim.multiple_results:
            return tuple(ForwardTracer(a, _match(t, a), self) for a, t in zip(ans, out))
        return ForwardTracer(ans, _match(out, ans), self)


def _match(t, ans):
    """The tangent in the primal's shape and dtype (JVP rules of broadcasting ops return the
    argument's shape; a float32 result keeps a float32 tangent)."""
    t_raw, a_raw = primal_value(t), primal_value(ans)
    a_shape = getattr(a_raw, "shape", ())
    if getattr(t_raw, "shape", ()) != a_shape:
        from .numpy import broadcast_to
        t = broadcast_to(t, a_shape)
        t_raw = primal_value(t)
    a_dtype = getattr(a_raw, "dtype", None)
    if a_dtype is not None and getattr(t_raw, "dtype", a_dtype) != a_dtype:
        from .numpy.helpers import cast_cotangent
        t = cast_cotangent(t, a_dtype)
    return t


def _zero_tangent(x):
    raw = primal_value(x)
    xp = backend.namespace(raw)
    return xp.zeros(np.shape(raw) if xp is np else raw.shape,
                    dtype=getattr(raw, "dtype", np.result_type(raw)))


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
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists) of arguments, "
                        "e.g. ga.jvp(f, (x,), (v,)).")
    p_leaves, p_def = tree_flatten(tuple(primals))
    t_leaves, t_def = tree_flatten(tuple(tangents))
    if p_def != t_def:
        raise ValueError(f"jvp: tangents have structure {t_def} but primals have {p_def}; "
                         f"give one tangent per primal leaf.")
    paths = tree_paths(p_def, "primals")
    trace = ForwardTrace()
    try:
        boxed = []
        for p, t, path in zip(p_leaves, t_leaves, paths):
            p = np.asarray(p) if isinstance(p, (float, int)) and not isinstance(p, bool) else p
            _check_tangent(path, p, t)
            raw = primal_value(p)
            if getattr(raw, "dtype", np.dtype(float)).kind in "fc":
                boxed.append(ForwardTracer(p, t, trace))
            else:
                boxed.append(p)  # integer and boolean inputs are constants (their tangent is zero)
        out = fun(*tree_unflatten(p_def, boxed))
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


def _check_tangent(path, p, t):
    p_raw, t_raw = primal_value(p), primal_value(t)
    p_shape = tuple(getattr(p_raw, "shape", ()))
    t_shape = tuple(getattr(t_raw, "shape", ()))
    if p_shape != t_shape:
        raise ValueError(f"jvp: the tangent for {path} has shape {t_shape}, but the primal has "
                         f"shape {p_shape}; they must match.")
    p_dtype = getattr(p_raw, "dtype", None)
    t_dtype = getattr(t_raw, "dtype", None)
    if p_dtype is not None and t_dtype is not None and p_dtype.kind in "fc" and p_dtype != t_dtype:
        raise TypeError(f"jvp: the tangent for {path} has dtype {t_dtype}, but the primal has "
                        f"dtype {p_dtype}; use a tangent of the primal's dtype "
                        f"(t.astype({p_dtype})).")

