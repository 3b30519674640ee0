"""How the family modules declare ops: a `Primitive` plus the public function users call.

The public function is the fast path. Called with no traced argument it runs the forward
implementation at once (one type test per array argument over plain NumPy). Called with a tracer
it hands the primitive to the innermost trace (`gpuad.trace.bind`).

Elementwise ops are declared by their scalar derivatives: `defunary("sin", np.sin,
d=lambda ans, x: cos(x))`. The VJP (`g * d`) and JVP (`t * d`) rules are built from `d`, so the
derivative is written once, and the fused kernels (gpuad/kernels) reuse the same `d`.
"""
import dis

import numpy as np

from .. import backend
from ..trace import (
    DROP,
    EMPTY,
    KEEP,
    TRACER_TYPES,
    Primitive,
    nondiff,
    parameter_names,
    referenced_names,
)
from .helpers import holds_tracer, ops


def _device_error(prim, args):
    backend.check_devices(prim.name, args)


def unary_op(prim, doc=None):
    """The public function of a one-argument primitive without parameters."""
    impl = prim.impl

    def op(x):
        if type(x) in TRACER_TYPES:
            trace = x._trace
            if not trace.active:
                return trace.inactive(prim, (x,), EMPTY)
            return trace.process1(prim, x)
        try:
            return impl(x)
        except TypeError:  # NumPy refuses a list holding tracers: stack it (array_like)
            if not _holds_tracer(x):
                raise
            return op(_array_like(x))

    return _named(op, prim.name, doc)


def binary_op(prim, doc=None, same=None):
    """The public function of a two-argument primitive without parameters. `same(x)`, if
    given, is called instead for a tracer given as both operands (see `defbinary`)."""
    impl, array_impl = prim.impl, prim.array_impl

    def op(x, y):
        if type(x) in TRACER_TYPES:
            ty = type(y)
            if ty not in TRACER_TYPES:
                if ty in _SEQUENCES:  # beside a tracer, a list is an array: rules read its shape
                    return op(x, _array_like(y))
                trace = x._trace
            elif x is y and same is not None:
                return same(x)
            else:
                trace = x._trace if x._trace.level >= y._trace.level else y._trace
        elif type(y) in TRACER_TYPES:
            if type(x) in _SEQUENCES:
                return op(_array_like(x), y)
            trace = y._trace
        else:
            try:
                return (array_impl if type(x) is _ndarray else impl)(x, y)
            except TypeError:
                if _holds_tracer(x) or _holds_tracer(y):  # lists holding tracers (array_like)
                    return op(_array_like(x), _array_like(y))
                _device_error(prim, (x, y))  # a NumPy/CuPy mix surfaces as TypeError
                raise
        if not trace.active:
            return trace.inactive(prim, (x, y), EMPTY)
        return trace.process2(prim, x, y)

    return _named(op, prim.name, doc)


_SEQUENCES = frozenset({list, tuple})


def _holds_tracer(x):
    return type(x) in _SEQUENCES and holds_tracer(x)


def _array_like(x):
    """A list or tuple as an array (holding tracers: stacked, as every array_like argument is,
    see `shapes.asarray_traced`, which imports this module and so is handed over in
    `helpers.ops`); other values as they are."""
    return ops.asarray_traced(x) if type(x) in _SEQUENCES else x


def scalar_aware(ufunc, operator):
    """`ufunc(x, y)`, computed by the Python operator when neither operand is an array.

    NumPy's scalar arithmetic (`np.float64 * float`) gives the ufunc's result and dtype (NEP 50
    promotion) at a seventh of the cost of calling the ufunc on scalars (0.12 against 0.84 us
    on the project's machines). Scalar chains are common in real losses: the Helmholtz energy
    (benchmarks/helmholtz.py) has twelve of its nineteen ops on scalars, forward and backward.
    At least one operand must be a NumPy scalar, so two Python numbers still give a NumPy
    scalar as the ufunc would.
    """
    def impl(x, y):
        tx = type(x)
        if tx is _ndarray:  # arrays first: they must pay as little as possible for the test
            return ufunc(x, y)
        ty = type(y)
        if ty is not _ndarray and (tx in _NUMPY_SCALARS and (ty in _NUMPY_SCALARS
                                                             or ty in _PYTHON_NUMBERS)
                                   or ty in _NUMPY_SCALARS and tx in _PYTHON_NUMBERS
                                   and not (tx is complex and ty is np.float64)):
            # (np.float64 subclasses float, so `1j * np.float64(2)` runs complex.__mul__ and
            # gives a Python complex, not NumPy's complex128: that pair goes to the ufunc)
            return operator(x, y)
        return ufunc(x, y)

    impl.__name__ = impl.__qualname__ = ufunc.__name__
    impl.__doc__ = ufunc.__doc__
    impl.ufunc = ufunc  # the traces call it directly when x is an array (Primitive.array_impl)
    return impl


_NUMPY_SCALARS = frozenset({np.float64, np.float32, np.float16, np.complex128, np.complex64,
                            np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32,
                            np.uint16, np.uint8, np.bool_})
_PYTHON_NUMBERS = frozenset({float, int, complex})
_ndarray = np.ndarray


def _named(fn, name, doc):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


# ---------------------------------------------------------------------------------------------
# Elementwise declarations

def _constant_value(d, arity):
    """If the derivative `d` ignores its arguments (add: 1, negative: -1), its value; else None."""
    names = referenced_names(d)
    params = parameter_names(d)
    if names is None or params is None or names & set(params):
        return None
    return d(*([None] * (arity + 1)))


def _returned_parameter(d):
    """The position of the parameter `d` returns unchanged (`lambda ans, x, y: y` -> 2), read
    off its bytecode; None for any other function."""
    try:
        ops = [ins for ins in dis.get_instructions(d)
               if ins.opname not in ("RESUME", "NOP", "CACHE")]
    except TypeError:
        return None
    params = parameter_names(d)
    if (params and len(ops) == 2 and ops[0].opname == "LOAD_FAST"
            and ops[1].opname == "RETURN_VALUE" and ops[0].argval in params):
        return params.index(ops[0].argval)
    return None


def _scaled(g, c):
    if c == 1:
        return g
    if c == -1:
        return -g
    return g * c


def _rules_from_derivative(d, arity):
    """VJP and JVP rule of one argument from its scalar derivative `d(ans, *args)`.

    For an elementwise op both are `g * d`: the Jacobian is diagonal, so it is its own transpose.
    Broadcasting is handled by the trace (`Primitive(broadcasting=True)`).
    """
    c = _constant_value(d, arity)
    if c is not None:
        if arity == 1:
            return ((lambda ans, x, g: g) if c == 1 else (lambda ans, x, g: -g) if c == -1
                    else (lambda ans, x, g: g * c)), c
        if arity == 2:  # add and subtract: the cotangent as it is, or negated
            return ((lambda ans, x, y, g: g) if c == 1 else (lambda ans, x, y, g: -g) if c == -1
                    else (lambda ans, x, y, g: g * c)), c
        return (lambda ans, *args_g: _scaled(args_g[-1], c)), c
    # A derivative that is one of the arguments (exp's is ans, multiply's are y and x): the
    # rule multiplies by it without calling d, one Python call less per use.
    returned = _returned_parameter(d)
    if returned is not None and arity <= 2:
        if arity == 1:
            return ((lambda ans, x, g: g * ans) if returned == 0 else
                    (lambda ans, x, g: g * x)), None
        return ((lambda ans, x, y, g: g * ans) if returned == 0 else
                (lambda ans, x, y, g: g * x) if returned == 1 else
                (lambda ans, x, y, g: g * y)), None
    if arity == 1:
        return (lambda ans, x, g: g * d(ans, x)), None
    if arity == 2:
        return (lambda ans, x, y, g: g * d(ans, x, y)), None
    return (lambda ans, *args_g: args_g[-1] * d(ans, *args_g[:-1])), None


def elementwise_primitive(name, impl, derivatives, vjp=None, jvp=None, scalar=None):
    """A broadcasting elementwise primitive whose rules come from its scalar derivatives.

    Args:
      derivatives: one `d(ans, *args)` per argument (None: not differentiable).
      vjp, jvp: optional explicit rules replacing the generated ones for some arguments (a tuple
        with None where the generated rule stays), for ops where `g * d` wastes work (`where`).
    """
    arity = len(derivatives)
    gen = []
    for d in derivatives:
        gen.append(None if d is None else _rules_from_derivative(d, arity)[0])
    vjp_rules = tuple((vjp[i] if vjp and vjp[i] is not None else gen[i]) for i in range(arity))
    jvp_rules = tuple((jvp[i] if jvp and jvp[i] is not None else gen[i]) for i in range(arity))
    prim = Primitive(name, impl, vjp_rules, jvp_rules, broadcasting=True,
                     elementwise=tuple(derivatives), scalar=scalar)
    # Residuals: what the derivatives read (the generated rules read everything).
    prim.keep, prim.keep_ans = _keep_from(derivatives, vjp, arity)
    prim.update_fast()
    return prim


def _keep_from(derivatives, explicit_vjp, arity):
    used = [False] * arity
    ans_used = False
    sources = []
    for i in range(arity):
        if explicit_vjp and explicit_vjp[i] is not None:
            sources.append((explicit_vjp[i], True))
        elif derivatives[i] is not None:
            sources.append((derivatives[i], False))
    for fn, has_g in sources:
        params = parameter_names(fn)
        names = referenced_names(fn)
        if params is None or names is None:
            return tuple([KEEP] * arity), KEEP
        ans_used |= params[0] in names
        args = params[1:-1] if has_g else params[1:]
        for j, p in enumerate(args[:arity]):
            used[j] |= p in names
    return tuple(KEEP if u else DROP for u in used), (KEEP if ans_used else DROP)


def defunary(name, impl, d, scalar=None, doc=None):
    """Declare a one-argument elementwise op by its derivative `d(ans, x)`."""
    prim = elementwise_primitive(name, impl, (d,), scalar=scalar)
    return unary_op(prim, doc or _ufunc_doc(name, impl)), prim


def defbinary(name, impl, dx, dy, scalar=None, doc=None, same=None):
    """Declare a two-argument broadcasting elementwise op by its partial derivatives.

    `same(x)`: what `op(x, x)` of one tracer computes instead, if given: an op of x alone with
    the same value bit for bit, whose rules make one term where the two arguments' rules
    would make two to be summed (multiply(x, x) is square(x): VJP g * 2x, one product and one
    cotangent, not g * x twice and their sum)."""
    prim = elementwise_primitive(name, impl, (dx, dy), scalar=scalar)
    return binary_op(prim, doc or _ufunc_doc(name, impl), same), prim


def _ufunc_doc(name, impl):
    return (f"`numpy.{name}`, differentiable (VJP and JVP from its derivative in "
            f"gpuad/numpy/elementwise.py).\n\n{getattr(impl, '__doc__', '') or ''}")


# ---------------------------------------------------------------------------------------------
# Pass-through declarations

def passthrough(name, doc=None):
    """`numpy.<name>` as a function whose result carries no derivative (indices, booleans,
    counts, dtypes, text): traced arguments are read by their primal values and the function of
    the namespace their arrays live in runs on them (the default backend without arrays).

    `gnp.argwhere(x)` inside `grad` is `numpy.argwhere` of x's value, a plain array.
    """
    def call(*args, **kwargs):
        arrays = [a for a in args if hasattr(a, "shape")]
        arrays += [b for a in args if isinstance(a, (list, tuple)) for b in a
                   if hasattr(b, "shape")]
        xp = backend.namespace(*arrays) if arrays else backend.default_namespace()
        fn = getattr(xp, name, None)
        if fn is None:
            raise NotImplementedError(
                f"{name}: {xp.__name__} has no {name}; move the arguments to the host with "
                f"ga.to_numpy(...) to run numpy.{name} there")
        return fn(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = doc or (f"`numpy.{name}` of the primal values (no derivative: the result "
                           f"is a plain array or value).")
    return nondiff(call, name)
