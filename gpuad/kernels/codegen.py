"""Source code of a group's backward kernel, for Numba on the CPU and numba.cuda on the GPU.

One kernel recomputes the group's values from its external inputs in registers and sweeps
the program backwards, writing the cotangent of every differentiable external input in a
single pass over the elements. Kernels are cached by structure: in memory, and on disk (the
source is written to a cache directory as a module, so Numba's file cache can keep the
compiled code across processes; `GPUAD_CACHE_DIR` chooses the directory).

A sample: the CPU kernel that `gpuad.grad(lambda x, y: gnp.sum(gnp.sin(x) * y),
argnums=(0, 1))` runs on two small contiguous float64 vectors (its group: `v0 = sin(x0)`,
`v1 = v0 * x1`; `v1` escapes into the sum). The kernel is named `KERNEL` here and by the hash
of its source once written out. `p0` is `sin(x0)`, recomputed beforehand by NumPy's SIMD loops
(`backward._chunked`: Numba's scalar libm is slower); `g1`, the cotangent of a sum, is one
scalar for all elements (a stride-0 broadcast); `v1` is dead code Numba drops. The derivative
of `sin` is written in its declaration (`gpuad.numpy.elementwise`) and read off by
`symbolic.scalar_forms`. tests/kernels/test_codegen.py checks this sample against the code
path::

    import math
    import numba
    F = numba.float64

    @numba.njit(parallel=False, cache=True, error_model='numpy', fastmath={'nsz', 'arcp', 'contract', 'afn', 'reassoc'})
    def KERNEL(in0, in1, g1, p0, out0, out1):
        for i0 in range(out0.shape[0]):
            x0 = in0[i0]
            x1 = in1[i0]
            v0 = p0[i0]
            v1 = (v0 * x1)
            a1 = g1
            a0 = a1 * (x1)
            d1 = a1 * (v0)
            d0 = a0 * (math.cos(x0))
            out0[i0] = d0
            out1[i0] = d1
"""
import functools
import hashlib
import importlib.util
import os
import re
import sys
import tempfile

from ..memory import untracked
from .group import CONST, IN, VALUE
from .symbolic import scalar_forms

if "NUMBA_THREADING_LAYER" not in os.environ:
    # Measured on the project's 2-core machines: Numba's OpenMP layer costs ~8 ms per call of
    # a parallel kernel here (its threads spin against the caller), so chunked backward passes
    # crawl; the workqueue layer costs ~0.1 ms. Set NUMBA_THREADING_LAYER to choose otherwise.
    import numba
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"

# Elements below which a CPU kernel runs on one thread: measured on the project's 2-core
# machines, starting Numba's worker threads costs ~0.1 ms, the work of ~100k elements.
PARALLEL_MIN_SIZE = 1 << 17

_compiled = {}          # (target, key) -> kernel


@functools.lru_cache(maxsize=None)  # probed once per process, not once per new kernel
def cache_dir():
    path = os.environ.get("GPUAD_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "gpuad", "kernels")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
        return path
    except OSError:  # a read-only home: a private temporary directory still works per process
        path = os.path.join(tempfile.gettempdir(), f"gpuad-kernels-{os.getuid()}")
        os.makedirs(path, exist_ok=True)
        return path


def body_lines(structure, escapes, wanted, load, store, precomputed=()):
    """The per-element statements: recompute, then reverse.

    `load(kind, j)` gives the expression reading input j ("in"), the incoming cotangent of
    value k ("g") or constant j ("c"); `store(j, expr)` the statement writing input j's cotangent.
    """
    lines = []
    consts = 0
    operand_src = []
    for k, (name, ops) in enumerate(structure):
        srcs = []
        for kind, ref in ops:
            if kind == IN:
                srcs.append(f"x{ref}")
            elif kind == VALUE:
                srcs.append(f"v{ref}")
            else:
                srcs.append(load("c", consts))
                consts += 1
        operand_src.append(srcs)
    used_inputs = sorted({ref for _, ops in structure for kind, ref in ops if kind == IN})
    for j in used_inputs:
        lines.append(f"x{j} = {load('in', j)}")
    forms = [_FORMS[name] for name, _ in structure]
    known = {}  # expression -> the variable holding it, so derivatives reuse forward values
    for k, srcs in enumerate(operand_src):
        expr = _reuse(forms[k][0].format(*srcs), known)
        lines.append(f"v{k} = {load('p', k)}" if k in precomputed else f"v{k} = {expr}")
        if not expr.isidentifier():  # a copy of a value is no subexpression worth naming
            known.setdefault(expr, f"v{k}")
    adjoint = {k: None for k in range(len(structure))}
    for k in escapes:
        lines.append(f"a{k} = {load('g', k)}")
        adjoint[k] = f"a{k}"
    acc = {}
    for k in range(len(structure) - 1, -1, -1):
        if adjoint[k] is None:
            continue
        ops = structure[k][1]
        for i, (kind, ref) in enumerate(ops):
            d = forms[k][1][i]
            if d is None or kind == CONST or (kind == IN and ref not in wanted):
                continue
            term = f"a{k} * ({_reuse(d.format(*operand_src[k], a=f'v{k}'), known)})"
            if kind == VALUE:
                if adjoint[ref] is None:
                    lines.append(f"a{ref} = {term}")
                    adjoint[ref] = f"a{ref}"
                else:
                    lines.append(f"a{ref} += {term}")
            else:
                if ref in acc:
                    lines.append(f"d{ref} += {term}")
                else:
                    lines.append(f"d{ref} = {term}")
                    acc[ref] = True
    for j in wanted:
        lines.append(store(j, f"d{j}" if j in acc else "0.0"))
    return lines


def _reuse(expr, known):
    """`expr` with subexpressions already computed replaced by their variables (the cos of
    a sin's derivative is the sin's own value: no second call)."""
    for src in sorted(known, key=len, reverse=True):
        if src in expr and src != expr:
            # whole tokens only: the text `v1` must not match inside `v10`
            pattern = r"(?<![\w.])" + re.escape(src) + r"(?!\w)"
            expr = re.sub(pattern, lambda _: known[src], expr)
    return known.get(expr, expr)


_FORMS = {}
_FLOAT_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:e[-+]?\d+)?)")


def typed_literals(line, dtype_name):
    """Float literals as the kernel's float type, so float32 math stays float32 (single
    precision libm calls, twice the SIMD width) instead of promoting to float64."""
    if dtype_name == "float64":
        return line
    return _FLOAT_LITERAL.sub(r"F(\1)", line)


def register_forms(prim):
    forms = scalar_forms(prim)
    if forms is not None:
        _FORMS[prim.name] = forms
    return forms


# fast-math without the assumptions that change results on NaN and infinity
FASTMATH = "{'nsz', 'arcp', 'contract', 'afn', 'reassoc'}"


def cpu_source(name, structure, n_inputs, n_consts, escapes, wanted, ndim, dtype_name,
               precomputed=(), uniform=(), parallel=True):
    """A Numba function `name(inputs..., cotangents..., constants..., precomputed values...,
    outputs...)` over N-d arrays of the group's shape (inputs may be broadcast views)."""
    idx = ", ".join(f"i{d}" for d in range(ndim))
    args = ([f"in{j}" for j in range(n_inputs)] + [f"g{k}" for k in escapes]
            + [f"c{c}" for c in range(n_consts)] + [f"p{k}" for k in precomputed]
            + [f"out{j}" for j in wanted])
    lines = body_lines(structure, escapes, wanted,
                       lambda kind, j: {"in": f"in{j}[{idx}]",
                                        "g": f"g{j}" if j in uniform else f"g{j}[{idx}]",
                                        "c": f"c{j}", "p": f"p{j}[{idx}]"}[kind],
                       lambda j, expr: f"out{j}[{idx}] = {expr}", precomputed)
    first_out = f"out{wanted[0]}"
    src = ["import math", "import numba", f"F = numba.{dtype_name}", "",
           f"@numba.njit(parallel={parallel}, cache=True, error_model='numpy', "
           f"fastmath={FASTMATH})",
           f"def {name}({', '.join(args)}):"]
    indent = "    "
    for d in range(ndim):
        loop = "numba.prange" if d == 0 and parallel else "range"
        src.append(f"{indent}for i{d} in {loop}({first_out}.shape[{d}]):")
        indent += "    "
    src += [indent + typed_literals(line, dtype_name) for line in lines]
    return "\n".join(src) + "\n"


def cuda_source(name, structure, n_inputs, n_consts, escapes, wanted, dtype_name):
    """A numba.cuda kernel over flat (contiguous) arrays with a grid-stride loop."""
    args = ([f"in{j}" for j in range(n_inputs)] + [f"g{k}" for k in escapes]
            + [f"c{c}" for c in range(n_consts)] + [f"out{j}" for j in wanted])
    lines = body_lines(structure, escapes, wanted,
                       lambda kind, j: {"in": f"in{j}[i]", "g": f"g{j}[i]", "c": f"c{j}"}[kind],
                       lambda j, expr: f"out{j}[i] = {expr}")
    first_out = f"out{wanted[0]}"
    src = ["import math", "import numba", "from numba import cuda", f"F = numba.{dtype_name}",
           "", "@cuda.jit", f"def {name}({', '.join(args)}):",
           "    start = cuda.grid(1)",
           "    stride = cuda.gridsize(1)",
           f"    for i in range(start, {first_out}.shape[0], stride):"]
    src += ["        " + typed_literals(line, dtype_name) for line in lines]
    return "\n".join(src) + "\n"


def kernel(target, structure, n_inputs, n_consts, escapes, wanted, dtype_name, ndim=1,
           precomputed=(), uniform=(), parallel=True):
    """The compiled kernel for this structure (generated, written and imported once).
    `uniform`: escapes whose cotangent is one value for all elements (the cotangent of a sum,
    a stride-0 broadcast), passed as a scalar: strided loads would cost 6x the kernel.
    `parallel`: a CPU kernel over threads; starting them costs ~0.1 ms, so small groups
    run a serial kernel (see `PARALLEL_MIN_SIZE`)."""
    key = (target, structure, n_inputs, n_consts, tuple(escapes), tuple(wanted), dtype_name,
           ndim, tuple(precomputed), tuple(uniform), parallel)
    fn = _compiled.get(key)
    if fn is not None:
        return fn
    if target == "cpu":
        source = cpu_source("KERNEL", structure, n_inputs, n_consts, escapes, wanted, ndim,
                            dtype_name, precomputed, uniform, parallel)
    else:
        source = cuda_source("KERNEL", structure, n_inputs, n_consts, escapes, wanted,
                             dtype_name)
    # named by content, so a change in code generation never meets a stale file
    name = f"gpuad_{target}_{hashlib.sha1(source.encode()).hexdigest()[:20]}"
    source = source.replace("KERNEL", name)
    directory = cache_dir() if target == "cpu" else tempfile.gettempdir()
    path = os.path.join(directory, name + ".py")
    if not os.path.exists(path):
        tmp = path + f".{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(source)
        os.replace(tmp, path)  # atomic: concurrent processes never read half a file
    with untracked():  # importing, and below compiling, are not the program's memory
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    fn = _compiled[key] = getattr(module, name)
    if target == "cpu":
        fn = _compiled[key] = _compiling_first_call(fn)
    return fn


def _compiling_first_call(fn):
    """`fn`, whose first call (where Numba compiles it, or loads it from the disk cache) runs
    under `gpuad.memory.untracked`: `Budget` measures a scan's first step, and with a cold
    cache it saw the compiler's 1-40 MiB."""
    compiled = []

    def call(*args):
        if compiled:
            return fn(*args)
        with untracked():
            result = fn(*args)
        compiled.append(True)
        return result

    return call


def uses_libm(name):
    """Whether an op's scalar forward calls a math-library function (sin, exp, tanh...)."""
    return "math." in _FORMS[name][0]
