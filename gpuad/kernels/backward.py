"""The backward pass of a fused group: one generated kernel, or the per-op rules.

The kernel runs when every incoming cotangent is a plain array on the group's device. Otherwise
(the cotangents are traced, as under `vmap` of a VJP, or `config.fusion` was switched off after
recording) the group replays its ops with NumPy/CuPy and applies each op's own VJP rule, so the
result is the same to rounding either way.
"""
import numpy as np

from .. import backend
from ..config import config
from ..trace import Primitive
from .codegen import PARALLEL_MIN_SIZE, kernel, register_forms, uses_libm
from .group import CONST, IN, VALUE


def _group_vjp(ans, group, g):
    """Cotangents of the group's external inputs (a list indexed by input position)."""
    if not group.parents:
        return []
    if len(group.instrs) == 1:  # nothing to fuse: the op's own rule, on its saved result
        lone = group.lone_result  # (None if the value was never computed: recomputed here)
        return _replayed(group, g, None if lone is None else [lone])
    escapes = [k for k, gk in enumerate(g) if gk is not None]
    xp = backend.namespace(*[x for x in group.inputs if hasattr(x, "shape")])
    if config.fusion and all(type(gk) is type(group.inputs[0]) or _is_device_array(gk, xp)
                             for gk in (g[k] for k in escapes)) and _kernel_ready(group):
        return _fused(group, g, escapes, xp)
    return _replayed(group, g)


def _is_device_array(x, xp):
    return xp is not np and backend.is_cupy_array(x)


def _kernel_ready(group):
    return all(register_forms(prim) is not None for prim, _ in group.instrs)


def _fused(group, g, escapes, xp):
    wanted = [j for j, _, _ in group.parents]
    structure = group.structure()
    consts = group.constants()
    shape = group.shape
    if xp is np:
        ndim = max(len(shape), 1)
        view = (lambda a: np.broadcast_to(a, shape).reshape((1,))) if not shape else \
            (lambda a: np.broadcast_to(a, shape))
        flat = shape and _flat_ok(group, g, escapes, shape)  # all contiguous: one flat loop
        kept = sorted(group.kept)  # values stored instead of inputs: loaded, not recomputed
        if flat:
            libm = _libm_values(group)
            if libm:
                return _chunked(group, g, escapes, wanted, libm)
        outs = {j: np.empty(shape or (1,), dtype=group.dtype) for j in wanted}
        if flat:
            ndim = 1
            view = lambda a: _flat(a, shape)  # noqa: E731
            outs = {j: o.reshape(-1) for j, o in outs.items()}
        uniform = _uniform(g, escapes)
        fn = kernel("cpu", structure, len(group.inputs), len(consts), escapes, wanted,
                    group.dtype.name, ndim, tuple(kept), uniform,
                    parallel=int(np.prod(shape)) >= PARALLEL_MIN_SIZE)
        args = ([view(np.asarray(x)) for x in group.inputs]
                + [_scalar(g[k], group.dtype) if k in uniform else view(g[k]) for k in escapes]
                + [group.dtype.type(c) for c in consts] + [view(group.kept[k]) for k in kept]
                + [outs[j] for j in wanted])
        fn(*args)
    else:
        outs = {j: xp.empty(shape, dtype=group.dtype) for j in wanted}
        fused_cuda(group, g, escapes, xp, outs, backend.launch_cuda)
    return _by_input(group, outs)


def _by_input(group, outs):
    """The cotangents as the tape wants them: a list by input position, in the group's shape
    (the tape then sums each back to its input's shape through the parent's target)."""
    result = [None] * len(group.inputs)
    for j, out in outs.items():
        result[j] = out.reshape(group.shape)
    return result


CHUNK = 1 << 20  # elements per chunk: each call of a parallel kernel costs ~0.1 ms here


def _libm_values(group):
    """The values whose forward calls libm and that the backward pass computes (all of them,
    unless `Group.compact` stored some values instead of the inputs they come from)."""
    libm = [k for k, (prim, _) in enumerate(group.instrs)
            if uses_libm(prim.name) and k not in group.kept]
    if group.kept:
        needed = group.needed(group.kept)[0]
        libm = [k for k in libm if k in needed]
    return libm


def _chunked(group, g, escapes, wanted, libm):
    """CPU kernels recompute transcendental values badly: Numba from PyPI calls scalar libm
    (no SVML), while NumPy's float loops are SIMD. So, chunk by chunk, NumPy recomputes the
    values whose forward calls libm, and the kernel reads them and does the rest (the
    arithmetic, the derivatives, every cotangent) in one pass. Extra memory: a few chunks."""
    n = int(np.prod(group.shape))
    flat = [_flat(x, group.shape) for x in group.inputs]
    g_flat = [_flat(g[k], group.shape) for k in escapes]
    kept_flat = {k: _flat(v, group.shape) for k, v in group.kept.items()}
    precomputed = sorted(set(libm) | set(kept_flat))
    outs = {j: np.empty(n, dtype=group.dtype) for j in wanted}
    consts = [group.dtype.type(c) for c in group.constants()]
    uniform = _uniform(g, escapes)
    fn = kernel("cpu", group.structure(), len(group.inputs), len(consts), escapes, wanted,
                group.dtype.name, 1, tuple(precomputed), uniform,
                parallel=n >= PARALLEL_MIN_SIZE)
    for start in range(0, n, CHUNK):
        part = slice(start, min(start + CHUNK, n))
        chunk = [x[part] for x in flat]
        values = {k: v[part] for k, v in kept_flat.items()}
        values.update(_replay_values(group, chunk, libm, values))
        fn(*chunk, *[_scalar(gk, group.dtype) if k in uniform else gk[part]
                     for k, gk in zip(escapes, g_flat)],
           *consts, *[values[k] for k in precomputed], *[outs[j][part] for j in wanted])
    return _by_input(group, outs)


def _replay_values(group, inputs, targets, known):
    """Forward values of the `targets` with NumPy, from the inputs and the `known` values."""
    return group.run(group.forward_order(targets, known), targets, inputs, known)


def _uniform(g, escapes):
    """Escapes whose cotangent is one value broadcast to every element."""
    return tuple([k for k in escapes if g[k].ndim and not any(g[k].strides)])


def _scalar(a, dtype):
    return dtype.type(a[(0,) * a.ndim])  # a stride-0 broadcast: reshape(-1) would copy it


def _flat(a, shape):
    """A 1-D view of `a` over the group's elements in C order, or None if that needs a copy.
    0-d inputs and the cotangents of sums (stride-0 broadcasts) become stride-0 views."""
    if np.ndim(a) == 0:
        return np.broadcast_to(a, (int(np.prod(shape)),))
    if np.shape(a) != shape:
        return None
    if a.ndim == 1 or a.flags.c_contiguous:
        return a.reshape(-1)
    if not any(a.strides):
        return np.broadcast_to(a[(0,) * a.ndim], (a.size,))  # reshape(-1) would copy
    return None


def _flat_ok(group, g, escapes, shape):
    return all(_flat(a, shape) is not None for a in
               list(group.inputs) + [g[k] for k in escapes] + list(group.kept.values()))


def _replayed(group, g, values=None):
    """The per-op rules, on values recomputed from the inputs (or the `values` given). Like the
    kernel, it returns each input's cotangent in the group's shape: the tape sums it back to
    the input's shape (and dtype) through the parent's broadcast target."""
    def resolve(op):
        kind, ref = op
        return group.inputs[ref] if kind == IN else values[ref] if kind == VALUE else ref

    if values is None:  # the values the rules read (all of them, unless some were stored)
        targets = sorted(group.needed(group.kept)[0]) if group.kept else range(len(group.instrs))
        computed = _replay_values(group, group.inputs, targets, group.kept)
        values = [group.kept.get(k, computed.get(k)) for k in range(len(group.instrs))]
    adjoints = list(g)
    result = [None] * len(group.inputs)
    wanted = {j for j, _, _ in group.parents}
    for k in range(len(group.instrs) - 1, -1, -1):
        a = adjoints[k]
        if a is None:
            continue
        prim, ops = group.instrs[k]
        args = [resolve(op) for op in ops]
        for i, (kind, ref) in enumerate(ops):
            rule = prim.vjp[i] if i < len(prim.vjp) else None
            if rule is None or kind == CONST or (kind == IN and ref not in wanted):
                continue
            term = rule(values[k], *args, a)
            slot = adjoints if kind == VALUE else result
            slot[ref] = term if slot[ref] is None else slot[ref] + term
    return result


FUSED = Primitive("fused_elementwise", None, multiple_results=True, vjp_joint=_group_vjp,
                  register=False)
FUSED.sparse_cotangents = True


def fused_cuda(group, g, escapes, xp, outs, launch):
    """The CUDA kernel on flat contiguous arrays (broadcast inputs are expanded first).
    `launch(kernel, n, args)` runs it: on CuPy's stream, or plainly under the simulator."""
    wanted = [j for j, _, _ in group.parents]
    consts = group.constants()
    shape = group.shape
    fn = kernel("cuda", group.structure(), len(group.inputs), len(consts), escapes, wanted,
                group.dtype.name)
    def flat(a):
        a = xp.asarray(a)
        if a.shape != shape or not a.flags.c_contiguous:  # broadcast inputs are expanded
            a = xp.ascontiguousarray(xp.broadcast_to(a, shape))
        return a.reshape(-1)
    args = ([flat(x) for x in group.inputs] + [flat(g[k]) for k in escapes]
            + [group.dtype.type(c) for c in consts] + [outs[j].reshape(-1) for j in wanted])
    launch(fn, int(np.prod(shape)), args)
    return outs
