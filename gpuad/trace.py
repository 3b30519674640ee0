"""Traced arrays, primitives and trace levels: how an op finds out whether it is being recorded.

A **primitive** is an op with its rules declared once (forward implementation, one VJP and one
JVP rule per differentiable argument). Calling it with no traced argument runs the forward
implementation directly: that is the fast path, and the only cost over NumPy is one type check.

A **trace** is one active transform (`grad`, `vjp`, `jvp`, ...). Each has a *level*: its nesting
depth when it was opened. A **tracer** is an array value seen by a trace. Its `value` is a raw
array, or a tracer of a lower level when transforms are nested. A primitive called with tracers
hands itself to the trace of the highest level among them (`bind`); that trace unwraps only its
own tracers and calls the primitive again on the values, so lower levels see the call too.
Tracers of other traces pass through as constants, which is what keeps nested derivatives apart
(no perturbation confusion): in `grad(lambda x: x * grad(lambda y: x + y)(1.0))`, the inner trace
treats `x` as a constant and differentiates only `y`.

Rule signature, the same everywhere: `rule(ans, *args, g, **params)`: residuals first (the
primal output and the primal arguments), then the cotangent (VJP) or tangent (JVP) `g` of one
argument, then the op's static parameters. Rules are written with `gpuad.numpy` ops, so an outer
trace can differentiate them again.
"""
import dis

import numpy as np

from . import backend


class Tracer:
    """An array value being traced by one transform. See the module docstring.

    Tracers behave like arrays: operators, indexing, `.shape`, `.dtype`, `.T` and the usual
    methods all work (they are attached by `gpuad.numpy`). They are immutable: write
    `x.at[i].set(v)` instead of `x[i] = v`.

    A tracer's `value` is always an array (a NumPy or CuPy array, a NumPy scalar) or a tracer
    of a lower level, never a Python number: the places that box values the user passed in
    (`new_input`, `jvp`, custom rules) make Python scalars 0-d arrays first, with NumPy's dtype
    rules (float -> float64, complex -> complex128), as `np.asarray` does.

    Converting a floating or complex tracer to a Python number (`float(x)`, `int(x)`,
    `complex(x)`, `x.item()`, `x.tolist()`, `operator.index(x)`, and `math.sqrt(x)` and the
    other `math` functions, which call `float`) raises `ConcretizationTypeError`: the number
    would be a constant, so the derivative through it would silently be zero. JAX raises the
    same error there. Integer and boolean tracers convert (they carry no derivative), and so
    does `bool(x)`: comparisons (`x > 0`, which return plain boolean arrays) and `if x:` work on
    the primal value, so Python control flow that depends on values works as it would on
    arrays. Under `vmap` every conversion raises, `bool` included: a batched value is one value
    per example, and Python control flow can follow only one of them.
    """

    __slots__ = ("value", "_trace")
    # Makes NumPy defer to our reflected operators (ndarray * tracer -> Tracer.__rmul__) and
    # route np.<ufunc>(tracer) to the gpuad op of the same name (see gpuad/numpy/methods.py).
    __array_priority__ = 1000.0


# Concrete tracer classes register here; the fast paths test `type(x) in TRACER_TYPES`, which
# is cheaper than isinstance with a class hierarchy.
TRACER_TYPES = set()


class Trace:
    """One active transform. Subclasses implement `process(prim, args, params)`."""

    __slots__ = ("level", "active", "detour", "__weakref__")

    def __init__(self):
        self.level = _enter_level()
        self.active = True
        self.detour = None
        _open_traces.append(self)

    def close(self):
        if self.active:
            self.active = False
            _exit_level()
            if self in _open_traces:
                _open_traces.remove(self)

    def inactive(self, prim, args, params):
        """An op reached a tracer of this trace while it is not recording. Normally the tracer
        escaped; while checkpointing pauses or replays the trace, it sets `detour`, the one
        hook checkpointing has here (gpuad/checkpoint/replay.py's `Detour`): an object whose
        `run(trace, prim, args, params)` runs the op another way (on the values, or on
        substitutes) and whose `resolve(tracer)` says what a tracer stands for. Keeping this
        off the `active` test of the hot path makes it free when unused."""
        detour = self.detour
        if detour is None:
            raise self.escaped(prim)
        return detour.run(self, prim, args, params)

    # Unary and binary ops without parameters call these; traces with a fast path override them.
    def process1(self, prim, x):
        return self.process(prim, (x,), EMPTY)

    def process2(self, prim, x, y):
        return self.process(prim, (x, y), EMPTY)

    def unwrap(self, tracer_type, args):
        """Split `args` for this trace: the values underneath its own tracers, the positions
        and tracers that were its own, and whether any other (lower-level) tracer remains."""
        vals = list(args)
        ours = []
        nested = False
        for i, a in enumerate(args):
            if type(a) is tracer_type and a._trace is self:
                v = vals[i] = a.value
                ours.append((i, a))
                if type(v) in TRACER_TYPES:
                    nested = True
            elif type(a) in TRACER_TYPES:
                detour = a._trace.detour
                if detour is not None and not a._trace.active:
                    # a paused or replayed trace: its tracer may stand for one of ours
                    a = vals[i] = detour.resolve(a)
                    if type(a) is tracer_type and a._trace is self:
                        v = vals[i] = a.value
                        ours.append((i, a))
                        if type(v) in TRACER_TYPES:
                            nested = True
                        continue
                    if type(a) not in TRACER_TYPES:
                        continue
                nested = True
        return vals, ours, nested

    def escaped(self, prim):
        name = prim.name if prim is not None else "an operation"
        return UnexpectedTracerError(
            f"{name}: got a traced value of a {type(self).__name__} that has already "
            f"finished (level {self.level}). A value computed inside a transformed function "
            f"escaped it (a global, a closure, a list outliving the call). Return it from the "
            f"function instead, or use ga.stop_gradient(x) on it.")


class UnexpectedTracerError(RuntimeError):
    """A tracer outlived the transform that made it."""


_AT_HINT = ("gpuad: this {kind} is a plain array, not a traced one (it does not depend on the "
            "arguments being differentiated), and plain arrays have no .at. Write "
            "gnp.at(x)[idx].set(v) (or .add(v)), which works on both.")


def explain_attribute_error(exc):
    """Add a hint to an AttributeError leaving the user's function inside a transform, where
    gpuad knows the fix: `x.at[idx].set(v)` on a NumPy or CuPy array (np.ndarray cannot be
    given an `.at`). On Python 3.11+ the hint is a note on the same exception (its type,
    message and traceback stay the user's); on 3.10 a new AttributeError chained to it."""
    obj = getattr(exc, "obj", None)
    if getattr(exc, "name", None) != "at" or not hasattr(obj, "shape") \
            or type(obj) in TRACER_TYPES:
        return
    note = _AT_HINT.format(kind=f"{type(obj).__module__}.{type(obj).__name__}")
    if note in getattr(exc, "__notes__", ()) or note in str(exc):  # nested: hinted once
        return
    if hasattr(exc, "add_note"):
        exc.add_note(note)
        return
    raise AttributeError(f"{exc}\n{note}", name="at", obj=obj) from exc


class ConcretizationTypeError(TypeError):
    """A traced value was converted to a Python object where the conversion would be wrong:
    a floating value being differentiated to a number (its derivative would be lost), or a
    batched value (vmap) to one value. JAX's error of the same name."""


class ConcretizationError(ConcretizationTypeError):
    """A value computed from the arguments of a function being recorded by `ga.jit` was
    converted to a Python object (`bool`, `float`, `int`, a shape, a host index): the recording
    would bake the value of that one call into every replay (gpuad/jit/record.py)."""


# Tracers of a recording (`ga.jit`): every conversion of one to a Python object raises, and the
# message comes from its trace (`concretization_error(conversion)`), so that this module needs
# nothing from gpuad/jit.
STAGED_TRACER_TYPES = set()


def concrete_value(x, conversion):
    """The raw value under every level of the tracer `x`, for a conversion to a Python object;
    raises ConcretizationTypeError where the conversion would give a wrong result.

    `conversion` is what the user wrote ("float()", "bool()", "x.item()"...). `bool()` is
    checked only against batching: a truth value carries no derivative. A trace that has
    finished (an escaped tracer read after its transform returned) no longer differentiates
    anything, so its level does not count; a paused one (checkpointing) does, since its code
    runs again to be differentiated.
    """
    batched = differentiated = False
    v = x
    while type(v) in TRACER_TYPES:
        trace = v._trace
        if type(v) in STAGED_TRACER_TYPES and trace.active:
            raise trace.concretization_error(conversion)
        if trace.active or trace.detour is not None:
            if type(v) in BATCH_TRACER_TYPES:
                batched = True
            else:
                differentiated = True
        v = v.value
    if batched:
        raise ConcretizationTypeError(
            f"{conversion} of a value batched by vmap: Python sees one value, but vmap runs the "
            f"function on every example at once, each with its own value, so Python control "
            f"flow cannot follow them. Use array operations: gnp.where(cond, a, b) chooses per "
            f"example; a loop whose stopping test depends on the value can run a fixed number "
            f"of steps with gnp.where keeping finished examples unchanged. If the value is the "
            f"same for every example, pass it unbatched (in_axes=None).")
    if differentiated and conversion != "bool()":
        dtype = getattr(v, "dtype", None)
        if dtype is None or dtype.kind in "fc":
            raise ConcretizationTypeError(_lost_derivative(conversion, dtype))
    return v


# conversion -> (what else calls it, the array form that keeps the derivative)
_CONVERSIONS = {
    "float()": (" (math.sqrt, math.sin and the other math functions call float(), and so does "
                "'%f' % x)", "gnp.sqrt(x), gnp.sin(x)...; to print it, f'{x:.3f}' works"),
    "int()": ("", "gnp.floor(x), gnp.round(x) or x.astype(int)"),
    "complex()": ("", "x.astype(complex)"),
    "operator.index()": (" (range(x), seq[x] and operator.index(x) call it)", "x.astype(int)"),
    "x.item()": ("", "x itself, or x[i] for one element"),
    "x.tolist()": ("", "x itself, or x[i] for one element"),
}


def _lost_derivative(conversion, dtype):
    callers, fix = _CONVERSIONS.get(conversion, ("", "gpuad.numpy operations"))
    return (f"{conversion} of a traced {dtype} value being differentiated{callers}: the Python "
            f"number would be a constant, so the derivative through it would silently be 0. "
            f"Keep it an array ({fix}); if a constant is meant, convert ga.stop_gradient(x) "
            f"instead.")


_depth = [0]
_open_traces = []  # traces that are recording, innermost last


def innermost_trace():
    """The most recently opened trace that is still recording, or None."""
    return _open_traces[-1] if _open_traces else None


def open_traces():
    """The traces recording now, outermost first (gpuad/distributed makes every rank's
    collectives visible to the same traces)."""
    return tuple(_open_traces)


def raise_level_above(level):
    """Make the next trace opened get a level above `level` (and above every open trace).
    Returns the depth to give back to `restore_depth` when that trace is closed."""
    saved = _depth[0]
    _depth[0] = max(saved, level)
    return saved


def restore_depth(saved):
    _depth[0] = saved


def _enter_level():
    _depth[0] += 1
    return _depth[0]


def _exit_level():
    _depth[0] -= 1


# Tracers of transforms that change what a value *is* (vmap's batch) rather than what it is
# differentiated against; they survive stop_gradient and non-differentiable ops.
BATCH_TRACER_TYPES = set()


PYTHON_NUMBERS = frozenset({float, complex, int, bool})


def as_value(x):
    """`x` as a tracer may hold it: a Python number becomes a 0-d NumPy array of NumPy's
    default dtype for it (`np.asarray`: float -> float64, complex -> complex128), so rules
    can read `.shape` and `.dtype` at every level. Called where a tracer boxes a value that
    came from outside the primitives (a transform's inputs, custom rules' results), never on
    the per-op paths."""
    return np.asarray(x) if type(x) in PYTHON_NUMBERS else x


def primal_value(x):
    """Strip every level of tracing: the raw array (or scalar) underneath."""
    while type(x) in TRACER_TYPES:
        x = x.value
    return x


def staged_trace(x):
    """The `ga.jit` recording under the tracers of `x` while it records, else None: for the
    places that would otherwise read the value of a recording tracer to decide something
    (a loop's condition, a boolean mask's count), so they can raise ConcretizationError."""
    while type(x) in TRACER_TYPES:
        if type(x) in STAGED_TRACER_TYPES:
            return x._trace if x._trace.active else None
        x = x.value
    return None


def value_for_check(x):
    """`primal_value(x)` for a check that only compares or reports (the recompute check of
    checkpointed loops): it may read a `ga.jit` recording's value without marking the recording
    unreplayable, since nothing computed from it flows into results. Never for computing."""
    while type(x) in TRACER_TYPES:
        if type(x) in STAGED_TRACER_TYPES:
            return x.peek()
        x = x.value
    return x


def raw_shape(x):
    """`np.shape(primal_value(x))` (the whole batch's under vmap) without reading the value of a
    `ga.jit` recording's tracer (see namespace_of)."""
    while type(x) in TRACER_TYPES and type(x) not in STAGED_TRACER_TYPES:
        x = x.value
    return np.shape(x) if type(x) not in TRACER_TYPES else x.shape


def namespace_of(*xs):
    """The array namespace (numpy or cupy) of the raw arrays under `xs`, tracers or not.

    Reads metadata only: a recording tracer (`ga.jit`, STAGED_TRACER_TYPES) answers with its
    `xp` instead of handing out its value, which would mark the recording as unreplayable
    (gpuad/jit/record.py). Rules that need only the namespace use this, not primal_value."""
    raws = []
    for x in xs:
        while type(x) in TRACER_TYPES:
            if type(x) in STAGED_TRACER_TYPES:
                xp = x.xp
                if xp is not np:
                    return xp
                x = None
                break
            x = x.value
        if x is not None:
            raws.append(x)
    return backend.namespace(*raws)


def strip_derivatives(x):
    """Remove the differentiation tracers above `x`; a batch tracer (vmap) stays, since the
    value it stands for is the whole batch."""
    while type(x) in TRACER_TYPES and type(x) not in BATCH_TRACER_TYPES:
        x = x.value
    return x


class Meta:
    """Shape, dtype and namespace of an array a rule needs only the metadata of.

    Saving a `Meta` instead of the array lets the backward pass free the array early: `sum`
    needs only its input's shape, `add` only its inputs' shapes and dtypes.
    """

    __slots__ = ("shape", "dtype", "xp")

    @classmethod
    def of(cls, shape, dtype, xp):
        """The Meta of an array not computed (yet): a fused group's pending result."""
        meta = cls.__new__(cls)
        meta.shape, meta.dtype, meta.xp = shape, dtype, xp
        return meta

    def __init__(self, x):
        if type(x) is np.ndarray:
            self.xp = np
        elif not hasattr(x, "shape"):  # a Python scalar
            x = np.asarray(x)
            self.xp = np
        else:
            self.xp = namespace_of(x)
        self.shape = x.shape  # a tracer's own shape (one example's, under vmap)
        self.dtype = x.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self):
        return f"Meta(shape={self.shape}, dtype={self.dtype})"


# How each positional argument is kept on the tape for the backward pass.
DROP, KEEP, META = 0, 1, 2


_LOCAL_LOADS = ("FAST", "DEREF", "CLOSURE", "MAKE_CELL")


_names_by_code = {}  # code object -> frozenset: 319 rules share 126 code objects at import


def referenced_names(fn):
    """Names a rule's code reads from its locals and cells: which parameters it actually uses.

    Depends on the code object only, so it is computed once per code: the generated rules of
    one family share theirs, and disassembling was 4% of `import gpuad` (benchmarks/
    import_time.py)."""
    code = getattr(fn, "__code__", None)
    names = _names_by_code.get(code) if code is not None else None
    if names is not None:
        return names
    try:
        instructions = list(dis.get_instructions(fn))
    except TypeError:
        return None
    found = set()
    for ins in instructions:
        if any(kind in ins.opname for kind in _LOCAL_LOADS):
            value = ins.argval
            found.update(value if isinstance(value, tuple) else (value,))
    names = frozenset(found)
    if code is not None:
        _names_by_code[code] = names
    return names


def parameter_names(fn):
    """The names of a rule's positional parameters, or None when it is not plain Python."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return code.co_varnames[:code.co_argcount]


EMPTY = {}  # the params of a primitive without parameters (shared, never modified)
PRIMITIVES = {}  # name -> Primitive: every declared primitive, for the table-driven tests


class Primitive:
    """An op with its derivative rules. Declared once, in the `gpuad/numpy` module of its family.

    Args:
      name: the public name, used in every error message.
      impl: the forward computation on raw arrays: `impl(*args, **params)`.
      vjp: one VJP rule per positional argument, `rule(ans, *args, g, **params)`, or None for an
        argument that is not differentiable. Static parameters are keyword-only in rules
        (`lambda ans, x, g, *, axis, keepdims: ...`), so a rule's positional parameters say
        which residuals it reads. A variadic primitive (concatenate, stack) gives one
        rule called with the extra keyword `argnum`.
      jvp: one JVP rule per positional argument, same signature, linear in `g` (a tangent of that
        argument's shape); its results are summed over the arguments.
      jvp_joint: instead of `jvp`, one rule for all arguments at once,
        `jvp_joint(ans, args, tangents, **params)` with None for untraced arguments; for ops
        where per-argument tangents would each cost a full result (concatenate).
      vjp_joint: instead of `vjp`, one rule returning the cotangents of all arguments at once,
        `vjp_joint(ans, saved, g, **params)` -> a list indexed by argument position (used by
        custom rules, whose user function computes them together).
      register: list the primitive in PRIMITIVES (the table the tests walk); False for the
        per-function primitives of custom rules.
      broadcasting: the op broadcasts its arguments (elementwise). Cotangents are then summed back
        to each argument's shape by the trace (`unbroadcast`), so rules can ignore broadcasting.
      meta_only: positions (or "ans") whose VJP needs only shape and dtype: a `Meta` is kept
        instead of the array. Other positions are kept if some VJP rule reads them. For a
        variadic primitive, "all" keeps only metadata of every argument.
      multiple_results: `impl` returns a tuple; rules get `ans` and `g` as tuples.
      variadic: all positional arguments are alike (a list of arrays).
      elementwise: the scalar derivative functions `(d/dx, d/dy, ...)` of an elementwise op, each
        `d(ans, *args)`; kept for the fused kernels, which need the derivative, not the VJP.
      scalar: how the fused kernels compute the op on scalars (see gpuad/kernels/codegen.py).
      collective: the op communicates between ranks (gpuad/distributed), so every rank must run
        its rules in step: the backward sweep runs its VJP with a zero cotangent where the result
        got none, instead of skipping it (which would leave the other ranks waiting).
      batch: the op's vmap rule, `batch(trace, prim, vals, batched, params)` -> the result for
        the stacked values (batch axis first), where `batched[i]` says whether `vals[i]` carries
        the batch axis (shift an axis parameter, align operands, add an einsum letter...; the
        rule makers are in gpuad/numpy/batch_rules.py). None: a broadcasting op aligns its
        operands and runs once, any other runs once per example (gpuad/batching.py).
    """

    __slots__ = ("name", "impl", "vjp", "jvp", "broadcasting", "multiple_results", "variadic",
                 "keep", "keep_ans", "elementwise", "scalar", "jvp_joint", "vjp_joint", "fast",
                 "sparse_cotangents", "array_impl", "collective", "batch", "__weakref__")

    def __init__(self, name, impl, vjp=(), jvp=(), *, broadcasting=False, meta_only=(),
                 multiple_results=False, variadic=False, elementwise=None, scalar=None,
                 jvp_joint=None, vjp_joint=None, register=True, collective=False,
                 batch=None):
        self.name = name
        self.collective = collective
        self.batch = batch
        self.impl = impl
        # what impl runs when its first argument is a NumPy array (for the arithmetic ops: the
        # ufunc itself, without the scalar test of `scalar_aware`)
        self.array_impl = getattr(impl, "ufunc", impl)
        self.vjp = vjp if variadic else tuple(vjp)
        self.jvp = jvp if variadic else tuple(jvp)
        self.broadcasting = broadcasting
        self.multiple_results = multiple_results
        self.variadic = variadic
        self.elementwise = elementwise
        self.scalar = scalar
        self.sparse_cotangents = False  # vjp_joint takes None for missing output cotangents
        self.jvp_joint = jvp_joint
        self.vjp_joint = vjp_joint
        self.keep, self.keep_ans = self._residuals(meta_only)
        self.update_fast()
        if register:
            PRIMITIVES[name] = self

    def update_fast(self):
        """Whether the traces' one- and two-argument fast paths apply: a fixed arity, one result,
        a VJP rule for every argument, and residuals that are whole arrays or nothing."""
        self.fast = (not self.variadic and not self.multiple_results and self.jvp_joint is None
                     and self.vjp_joint is None
                     and len(self.vjp) in (1, 2) and all(r is not None for r in self.vjp)
                     and len(self.keep) == len(self.vjp)
                     and all(k in (DROP, KEEP) for k in self.keep)
                     and self.keep_ans in (DROP, KEEP))

    def _residuals(self, meta_only):
        """Which arguments the tape keeps, read off the VJP rules' code (Chainer's retain_inputs,
        inferred). Returns (per-position DROP/KEEP/META tuple, or META for all if variadic;
        KEEP/META/DROP for ans)."""
        if self.variadic:  # all arguments alike: keep them all, or only their metadata
            return (META if meta_only == "all" else KEEP), (META if "ans" in meta_only else KEEP)
        rules = [r for r in self.vjp if r is not None]
        arity = max((len(parameter_names(r) or ()) - 2 for r in rules), default=0)
        used = [False] * arity
        ans_used = False
        for rule in rules:
            params = parameter_names(rule)
            names = referenced_names(rule)
            if params is None or names is None:  # not plain Python: keep everything
                used = [True] * arity
                ans_used = True
                continue
            ans_used |= params[0] in names
            for i, p in enumerate(params[1:-1]):
                if i < arity and p in names:
                    used[i] = True
        keep = tuple(META if i in meta_only else (KEEP if u else DROP) for i, u in enumerate(used))
        keep_ans = META if "ans" in meta_only else (KEEP if ans_used else DROP)
        return keep, keep_ans

    def vjp_rule(self, argnum):
        rule = self.vjp if self.variadic else (self.vjp[argnum] if argnum < len(self.vjp) else None)
        if rule is None:
            raise NotImplementedError(
                f"{self.name}: no VJP (reverse-mode) rule for argument {argnum}. Differentiate "
                f"with respect to another argument, wrap this one in ga.stop_gradient, or give "
                f"the op a rule with ga.custom_vjp.")
        return rule

    def jvp_rule(self, argnum):
        if self.jvp_joint is not None:
            return self.jvp_joint
        rule = self.jvp if self.variadic else (self.jvp[argnum] if argnum < len(self.jvp) else None)
        if rule is None:
            raise NotImplementedError(
                f"{self.name}: no JVP (forward-mode) rule for argument {argnum}. Use reverse mode "
                f"(ga.grad, ga.jacrev) for it, wrap it in ga.stop_gradient, or give the op a "
                f"rule with ga.custom_jvp.")
        return rule

    def bind(self, *args, **params):
        """Apply the primitive: trace it if any argument is traced, else run `impl`."""
        return bind(self, args, params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def find_top_trace(args):
    """The trace of the highest level among the tracers in `args`, or None."""
    top = None
    for a in args:
        if type(a) in TRACER_TYPES:
            t = a._trace
            if top is None or t.level > top.level:
                top = t
    return top


def run_impl(prim, args, params):
    """The primitive's forward implementation on values, with device errors naming it."""
    impl = prim.array_impl if args and type(args[0]) is np.ndarray else prim.impl
    try:
        return impl(*args, **params)
    except backend.DeviceMismatchError as exc:
        raise backend.DeviceMismatchError(f"{prim.name}: {exc}") from None
    except TypeError:
        backend.check_devices(prim.name, args)  # a CuPy/NumPy mix surfaces as TypeError
        raise


def bind(prim, args, params):
    top = find_top_trace(args)
    if top is None:
        return run_impl(prim, args, params)
    if not top.active:
        return top.inactive(prim, args, params)
    return top.process(prim, args, params)


def bind1(prim, x, params):
    """`bind` for a primitive with one array argument (reductions, reshape...): skips the
    search for the top trace."""
    if type(x) in TRACER_TYPES:
        trace = x._trace
        if not trace.active:
            return trace.inactive(prim, (x,), params)
        return trace.process(prim, (x,), params)
    return prim.impl(x, **params)


def nondiff(fn, name=None):
    """Wrap a function whose result carries no derivative (argmax, floor, comparisons...).

    Tracers in the arguments (also inside lists and tuples) are replaced by their primal values,
    so the result is a raw array at every level.
    """
    def strip(a):
        t = type(a)
        if t in TRACER_TYPES:
            return strip_derivatives(a)
        if (t is list or t is tuple) and any(type(b) in TRACER_TYPES for b in a):
            return t(strip_derivatives(b) for b in a)
        return a

    def wrapper(*args, **kwargs):
        args = [strip(a) for a in args]
        kwargs = {k: strip(v) for k, v in kwargs.items()}
        batch = find_top_trace([a for a in args if type(a) in BATCH_TRACER_TYPES])
        if batch is not None:  # under vmap: the batch trace applies fn example by example
            return batch.apply_nondiff(fn, args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__name__ = name or getattr(fn, "__name__", "op")
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    wrapper.__wrapped__ = fn
    return wrapper


def check_nans(value, op_name, where):
    """debug_nans: raise FloatingPointError if `value` (array or tuple of arrays) holds a NaN."""
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if v is None:
            continue
        raw = primal_value(v)
        dtype = getattr(raw, "dtype", None)
        if dtype is None or dtype.kind not in "fc":
            continue
        xp = backend.namespace(raw)
        if bool(xp.isnan(raw).any()):
            inside = f", in {NAN_CONTEXT[-1]}" if NAN_CONTEXT else ""
            raise FloatingPointError(f"debug_nans: {op_name} produced a NaN in its {where}"
                                     f"{inside}. Turn off with ga.config.debug_nans = False.")


# Where debug_nans is looking, innermost last: checkpointing pushes "scan step 3 (first forward
# pass)" around each step it runs, so a NaN is blamed on the step's op, not on an op after the
# loop that merely reads it (only while config.debug_nans is on).
NAN_CONTEXT = []
