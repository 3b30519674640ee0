"""`ga.jit`: record a function once per argument signature, replay the recording afterwards."""
import functools
import inspect
import types
import warnings

import numpy as np

from ..readonly import release
from ..trace import PYTHON_NUMBERS, TRACER_TYPES, as_value
from ..tree import tree_flatten, tree_paths, tree_unflatten
from . import draws
from .program import Program
from .record import JitTrace, JitTracer

# A 9th distinct signature warns: a training loop normally needs one or two (the last batch).
MAX_QUIET_KEYS = 8

_recording = [0]  # how many recordings are running (a jitted call inside one runs inline)

# `grad(jit(f))`: a call whose arguments are tracers of the innermost reverse trace replays f
# with its VJP (gpuad/jit/steps.py puts `differentiated_call` here; it returns NotImplemented
# where it does not apply, and the call then runs f under the transform).
DIFFERENTIATED = []


def jit(fun, static_argnums=(), static_argnames=()):
    """`fun` recorded on its first call with each argument signature and replayed afterwards.

    The cache key is the pytree structure of the arguments, the type, shape and dtype (and the
    CuPy device) of each array leaf, the type of each Python-number leaf, and the values of the
    static arguments (which must be hashable). The first call with a new key runs `fun` eagerly
    while recording the raw-array calls it makes (gpuad/jit/record.py): those of its own ops and,
    for `jit(value_and_grad(f))`, those of the backward sweep too. Later calls with that key
    replay the flat program (gpuad/jit/program.py): the same NumPy/CuPy calls in the same order,
    so results equal the eager call's bit for bit, without tracers, tape or dispatch.

    Args:
      fun: a function of arrays (pytrees of them) returning arrays (pytrees of them).
      static_argnums: positions of arguments that are settings (ints, strings, flags): keyed on
        their value, passed to `fun` as they are. Python control flow may depend on them.
      static_argnames: the same, by keyword name. As in JAX, a static argument is keyed on
        its hash and equality, so it must not change between calls (a plain class instance
        hashes by identity: changing its attributes would not be seen).

    Returns:
      A function with `fun`'s signature, and `clear_cache()`, `cache_size()` (signatures
      recorded, replayable or not), `replayable(*args)`, `why_not_replayed(*args)`.

    Semantics:
      * Value dependence: while recording, converting a value computed from the arguments to a
        Python object (`bool`/`if`, `float`, `int`, `.item()`, `.tolist()`, `__index__`, a
        shape, `np.asarray`, a boolean mask, `zeros(n)` of a computed n, a `while_loop`
        condition) raises `ga.ConcretizationError`. Results whose shape depends on the values
        (nonzero, unique) are checked on each replay and raise the same error if it changed.
      * Values read on the host: an op whose rule reads the value of a traced array
        (`primal_value`: a sign, a shift or a mask computed in NumPy, as some stats and
        linalg rules do) taints the recording (gpuad/jit/record.py). A tainted recording is
        never replayed: that signature runs `fun` eagerly on every call (correct, not
        faster), after one warning naming the function and line that read the value;
        `replayable(*args)` is then False and `why_not_replayed(*args)` says why. So no
        replay can differ from the eager call without an error. Reading shapes and dtypes
        does not taint.
      * Loops: `scan` of a fixed length records (every schedule: forward, recomputations and
        backward sweep are all steps); a `while_loop` whose condition is computed from the
        arguments raises ConcretizationError (its trip count would be the recording's).
      * Results: bit for bit those of the traced eager call (the call `grad` would make). A
        few functions take another NumPy route on plain arrays than when traced (abs of a
        complex array is hypot of its parts, qr of a wide matrix factors its square part):
        for those, `ga.jit(f)` agrees with plain `f` to rounding, not bit for bit. Nor where
        the eager call fuses an elementwise chain into one kernel (arrays of at least
        `GPUAD_FUSION_MIN_SIZE` elements, 65,536 by default): a replay runs each op as its
        own NumPy call (fused groups in replays are not done yet), which rounds differently
        by an ulp or so (tests/jit, run with every op fused, differ from eager there).
      * Random numbers: `gnp.random`, `RandomState` and `Generator` draws are steps; each
        replay draws from the state as it is then and advances it, as the eager call would.
        (NumPy's own `np.random` is not recorded: a recording that moved its state warns, and
        that function then runs eagerly every call.)
      * Closed-over arrays are captured at recording time: a replay reads the array the
        recording read. NumPy arrays captured so are read-only while the cache holds the
        program (`clear_cache()` gives them back), so writing to one raises at the write
        instead of being silently ignored. Rebinding a name the function reads (a global or
        a closed-over variable: an array, a Python number, a helper function) is not seen, as
        in JAX: a replay uses the value the recording read. Call `clear_cache()` after it,
        or pass the value as an argument.
      * Python numbers passed as arguments are traced as 0-d arrays of NumPy's default dtype,
        as `grad` boxes them. Other leaves that are not arrays are constants of the recording,
        keyed on their value: strings, None, frozen dataclasses; functions, classes and
        modules by identity (as code, like a closure). An object that hashes by its identity
        (a plain class instance) or not at all (a mutable dataclass, a set) raises TypeError
        naming the argument, since a replay could not see its attributes change: pass its
        arrays, register it as a pytree, or mark it static.
      * Composition: `jit(value_and_grad(f))`, `jit(vjp...)` record forward and backward. When
        the arguments are traced by an outer transform (`grad(jit(f))`, `jvp`, `vmap`, `hvp`
        of a jitted function), or while another function is being recorded, `fun` runs as it
        is under that transform (eagerly, correct, not replayed yet).
      * `scan(step, ..., jit=True)` (or a jitted `step`) records the step once per scan call
        and replays it in the first pass, every recomputation and the backward sweep
        (gpuad/jit/steps.py); that works under `grad` of an un-jitted function too.
      * `grad(jit(f))` (`vjp`, `value_and_grad`): when the arguments are tracers of the
        innermost reverse trace over arrays, f is recorded once per signature with its VJP
        and replayed: the forward part now, the backward part in the backward sweep
        (gpuad/jit/steps.py, `differentiated_call`). Gradients equal grad(f)'s to rounding
        (the cotangents of f's inputs are summed inside f first). A function closing over
        traced values runs eagerly. Not yet: CUDA graphs, `out=` buffers, fused groups.

    Example:
      >>> import gpuad as ga, gpuad.numpy as gnp, numpy as np
      >>> step = ga.jit(ga.value_and_grad(lambda w, x: gnp.sum(gnp.tanh(x @ w) ** 2)))
      >>> w, x = np.ones((3, 2)), np.ones((4, 3))
      >>> value, g = step(w, x)   # recorded
      >>> value, g = step(w, x)   # replayed
      >>> step.cache_size()
      1
    """
    return Jitted(fun, static_argnums, static_argnames)


class Jitted:
    """The function `jit` returns (see `jit`): the cache of programs and the call."""

    def __init__(self, fun, static_argnums=(), static_argnames=()):
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        self.fun = fun
        self.static_argnums = frozenset(static_argnums)
        self.static_argnames = frozenset(static_argnames)
        self._cache = {}  # key -> Program, or None: recorded, not replayable (runs eagerly)
        self._why = {}  # key -> why its recording is not replayed
        self._warned = False
        self._vjp = {}  # key -> StepPrograms of grad(jit(f)) (gpuad/jit/steps.py), or None
        functools.update_wrapper(self, fun)

    def clear_cache(self):
        """Drop every recording (their captured arrays become writeable again)."""
        for program in self._cache.values():
            if program is not None:
                program.release()
        self._cache.clear()
        self._why.clear()
        self._vjp = {}

    def cache_size(self):
        """How many signatures are recorded (replayable or not: see `replayable`)."""
        return len(self._cache)

    def __get__(self, obj, objtype=None):  # a jitted method binds like a function
        return self if obj is None else functools.partial(self, obj)

    def static_parts(self, args, kwargs):
        """The static arguments as they enter a cache key: ((position, value)...,) and
        ((name, value)...,) sorted by name."""
        if not (self.static_argnums or self.static_argnames):
            return (), ()
        return (tuple((i, args[i]) for i in sorted(self.static_argnums) if i < len(args)),
                tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames)))

    def _key(self, args, kwargs):
        """(cache key or None under an outer transform / a recording, leaves, treedef)."""
        statics, kw_static = self.static_parts(args, kwargs)
        if statics or kw_static:
            dyn_args = tuple(_Static if i in self.static_argnums else a
                             for i, a in enumerate(args))
            dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        else:  # (the common case: the key is the flattened arguments' signature)
            dyn_args, dyn_kwargs = args, kwargs
        leaves, treedef = tree_flatten((dyn_args, dyn_kwargs))
        if _recording[0] or any(type(x) in TRACER_TYPES for x in leaves):
            return None, leaves, treedef
        try:
            key = (treedef, statics, kw_static, tuple([_leaf_key(x) for x in leaves]))
        except _MutableLeaf as exc:
            raise self._mutable_leaf_error(exc.args[0], leaves, treedef) from None
        try:
            hash(key)  # (the TreeDef keeps its hash: the cache lookup hashes it again cheaply)
        except TypeError as exc:
            raise TypeError(f"jit({_name(self.fun)}): the static arguments must be hashable "
                            f"(they key the cache): {exc}. Pass arrays as ordinary arguments, "
                            f"or a tuple instead of a list.") from None
        return key, leaves, treedef

    def replayable(self, *args, **kwargs):
        """Whether calls with the signature of these arguments replay a recording: True if
        they do, False if the recording could not be replayed (a rule read a traced value,
        numpy.random draws, a closure over an outer transform's value...: those calls run
        `fun` eagerly, correct but not faster; `why_not_replayed` says why), None if nothing
        is recorded for it yet. Nothing is run."""
        key = self._key(args, kwargs)[0]
        if key is None or key not in self._cache:
            return None
        return self._cache[key] is not None

    def why_not_replayed(self, *args, **kwargs):
        """Why calls with this signature run eagerly (see `replayable`), or None."""
        key = self._key(args, kwargs)[0]
        return self._why.get(key)

    def __call__(self, *args, **kwargs):
        key, leaves, treedef = self._key(args, kwargs)
        if key is None:
            if DIFFERENTIATED and not _recording[0]:
                out = DIFFERENTIATED[0](self, args, kwargs, leaves, treedef)
                if out is not NotImplemented:
                    return out
            return self.fun(*args, **kwargs)  # under an outer transform, or inside a recording
        program = self._cache.get(key, False)
        if program is False:
            return self._record(key, args, kwargs, leaves, treedef)
        if program is None:  # recorded, but not replayable (see _record)
            return self.fun(*args, **kwargs)
        mask = program.input_mask
        if mask is not None:
            leaves = [x for x, m in zip(leaves, mask) if m]
        out_leaves = program.run([as_value(x) if type(x) in PYTHON_NUMBERS else x
                                  for x in leaves])
        return tree_unflatten(program.out_tree, out_leaves)

    def _record(self, key, args, kwargs, leaves, treedef):
        if len(self._cache) == MAX_QUIET_KEYS and not self._warned:
            self._warned = True
            warnings.warn(f"jit({_name(self.fun)}): recording for a {MAX_QUIET_KEYS + 1}th "
                          f"distinct argument signature; {self._changing(key, treedef)}. Each "
                          f"new signature is recorded anew: pad or bucket the shapes, or mark "
                          f"settings static.", stacklevel=3)
        trace = JitTrace()
        np_state = np.random.get_state()
        _recording[0] += 1
        try:
            inputs, traced = [], []
            for x in leaves:
                if _is_traced_leaf(x):
                    t = trace.new_input(x)
                    inputs.append(t.slot)
                    traced.append(t)
                else:
                    traced.append(x)
            dyn_args, dyn_kwargs = tree_unflatten(treedef, traced)
            call_args = tuple(a if a is not _Static else args[i] for i, a in enumerate(dyn_args))
            call_kwargs = dict(kwargs)
            call_kwargs.update(dyn_kwargs)
            with draws.recording(trace):
                out = self.fun(*call_args, **call_kwargs)
        except BaseException:
            # (a refused recording must give its read-only holds back: dropped with the trace,
            # the arrays would stay read-only, and their ids, once reused, confuse readonly.py)
            release(trace.held)
            raise
        finally:
            _recording[0] -= 1
            trace.close()
        out_leaves, out_tree = tree_flatten(out)
        outputs, values = [], []
        for x in out_leaves:
            if type(x) is JitTracer and x._trace is trace:
                outputs.append(x.slot)
                values.append(x.value)
            else:
                if type(x) in TRACER_TYPES:
                    trace.impure = "it returns a value traced by an outer transform"
                outputs.append((None, x))
                values.append(x)
        if not _same_np_state(np_state, np.random.get_state()):
            warnings.warn(f"jit({_name(self.fun)}): numpy.random's global state moved while "
                          f"recording: NumPy's own draws would be replayed as constants. Use "
                          f"gnp.random (whose draws replay).", stacklevel=3)
            trace.impure = "numpy.random draws"  # (warned above)
        if trace.impure is not None:
            if "outer transform" not in trace.impure:
                warnings.warn(f"jit({_name(self.fun)}): not replayed, since {trace.impure}: "
                              f"a replay would not do the same. It runs eagerly on every call "
                              f"with these argument shapes.", stacklevel=3)
            self._cache[key] = None
            self._why[key] = trace.impure
            release(trace.held)
        else:
            program = Program(trace, inputs, outputs)
            program.out_tree = out_tree
            mask = tuple(_is_traced_leaf(x) for x in leaves)
            program.input_mask = None if all(mask) else mask
            self._cache[key] = program
        return tree_unflatten(out_tree, values)

    def _mutable_leaf_error(self, leaf, leaves, treedef):
        names = _argument_names(self.fun, tree_paths(treedef))
        where = next((names[i] for i, x in enumerate(leaves) if x is leaf), "an argument")
        kind = type(leaf).__name__
        how = ("is not hashable" if type(leaf).__hash__ is None
               else "hashes by its identity")
        return TypeError(
            f"jit({_name(self.fun)}): {where} is a {kind}, neither an array nor a number, and "
            f"it {how}: a replay could not see a change to its contents and would compute "
            f"with the recording's values. Pass the arrays or numbers it holds as arguments, "
            f"register {kind} as a pytree (gpuad.tree_util.register_pytree_node) so they "
            f"become leaves, or, for a setting that never changes, mark it static "
            f"(static_argnums/static_argnames, keyed on its hash and equality).")

    def _changing(self, key, treedef):
        """Which argument leaves differ in shape or dtype across the keys recorded."""
        keys = [k for k in self._cache if k[0] == key[0]] + [key]
        paths = tree_paths(treedef)
        names = _argument_names(self.fun, paths)
        changing = [names[i] for i in range(len(key[3]))
                    if len({k[3][i] for k in keys}) > 1]
        if changing:
            return f"the shape or dtype of {', '.join(changing)} keeps changing"
        return "the argument structure or the static arguments keep changing"


class _StaticMarker:
    def __repr__(self):
        return "<static>"

    def __hash__(self):  # one instance: a constant key (`_leaf_key`)
        return 0x57A71C


_Static = _StaticMarker()  # stands for a static positional argument in the flattened tree


def _is_traced_leaf(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") or type(x) in PYTHON_NUMBERS


# leaves keyed by identity although they hash by it: code, not state, as a closure is
_CODE_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
               types.ModuleType, type, functools.partial, np.ufunc)


class _MutableLeaf(Exception):
    """A leaf a cache key cannot stand for (`_leaf_key`): `Jitted._key` names it."""


def _leaf_key(x):
    if type(x) in PYTHON_NUMBERS:
        return type(x)
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        device = getattr(x, "device", None)
        device = getattr(device, "id", None) if device is not None else None
        return (type(x), x.shape, x.dtype, device)
    # any other leaf is a constant of the recording: its key must change when it does. An
    # object hashed by its identity (a plain class instance) or not hashable at all (a
    # mutable dataclass, a set) can change its attributes under the same key, and a replay
    # would silently compute with the recording's values
    kind_hash = type(x).__hash__
    if kind_hash is None or (kind_hash is object.__hash__ and not isinstance(x, _CODE_TYPES)):
        raise _MutableLeaf(x)
    return ("value", type(x), x)


def _same_np_state(a, b):
    return a[0] == b[0] and a[2:] == b[2:] and np.array_equal(a[1], b[1])


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _argument_names(fun, paths):
    """Leaf paths of the flattened (args, kwargs) written with the parameter names of `fun`:
    `[0][1]['w']` -> `params['w']`."""
    try:
        params = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        params = []
    names = []
    for p in paths:
        if p.startswith("[0]["):
            i = p[4:].split("]", 1)
            pos = int(i[0]) if i[0].isdigit() else None
            rest = i[1] if len(i) > 1 else ""
            label = params[pos] if pos is not None and pos < len(params) else f"args[{i[0]}]"
            names.append(f"{label}{rest}")
        elif p.startswith("[1]"):
            names.append(p[3:].strip("[]'\"") or p)
        else:
            names.append(p)
    return names
