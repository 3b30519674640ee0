"""Products of arrays: matmul, einsum and the products built on them (dot, vdot, inner, outer,
tensordot, kron), diagonals and triangles, all in `gnp` (`linalg.py` re-exports them in
`gnp.linalg`). Every rule works on stacks of matrices (leading batch axes) and on complex
matrices.
"""
import builtins
import string

import numpy as np

from .. import backend
from ..trace import Primitive, namespace_of, primal_value
from .batch_rules import aligned, example_ndim
from .define import binary_op
from .elementwise import conjugate, multiply, where
from .helpers import mT, shape_of, shaped, unbroadcast
from .indexing import getitem, unindex
from .reductions import sum as _sum
from .shapes import (
    asarray_traced,
    broadcast_to,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    transpose,
)


def _xp(*xs):
    return backend.namespace(*xs)


# ---- matmul ----------------------------------------------------------------------------------
def _promote(x, y, g):
    """Views of a matmul as matrix x matrix: 1-D operands get the axis NumPy adds for them."""
    xs, ys = shape_of(x), shape_of(y)
    x2 = x if len(xs) >= 2 else reshape(x, (1,) + xs)
    y2 = y if len(ys) >= 2 else reshape(y, ys + (1,))
    g2 = g
    if len(xs) == 1:
        g2 = expand_dims(g2, -2 if len(ys) >= 2 else -1)
    if len(ys) == 1:
        g2 = expand_dims(g2, -1)
    return x2, y2, g2


# The common cases get direct rules (one or two ops instead of the general promote, multiply,
# sum-back): on small arrays the op count is the cost (benchmarks/helmholtz.py).
def _matmul_vjp_x(ans, x, y, g):
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 1 and ny == 1:                       # dot of vectors: g y
        return g * y
    if nx == 2 and ny == 1:                       # matrix-vector: the outer product g y^T
        return expand_dims(g, -1) * y
    if nx == 1 and ny == 2:                       # vector-matrix: y g
        return matmul(y, g)
    if nx == ny == 2:
        return matmul(g, mT(y))
    x2, y2, g2 = _promote(x, y, g)
    gx = unbroadcast(g2 @ mT(y2), shaped(shape_of(x2), x.dtype))
    return reshape(gx, shape_of(x))


def _matmul_vjp_y(ans, x, y, g):
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 1 and ny == 1:
        return g * x
    if nx == 2 and ny == 1:                       # matrix-vector: x^T g
        return matmul(g, x)
    if nx == 1 and ny == 2:                       # vector-matrix: the outer product x g^T
        return expand_dims(x, -1) * g
    if nx == ny == 2:
        return matmul(mT(x), g)
    x2, y2, g2 = _promote(x, y, g)
    gy = unbroadcast(mT(x2) @ g2, shaped(shape_of(y2), y.dtype))
    return reshape(gy, shape_of(y))


def _batch_matmul(trace, prim, vals, batched, params):
    """Promote 1-D examples to matrices (as matmul does), align batch axes, multiply, squeeze."""
    x, y = vals
    bx, by = batched
    x_vec, y_vec = example_ndim(x, bx) == 1, example_ndim(y, by) == 1
    if x_vec:
        x = expand_dims(x, -2)
    if y_vec:
        y = expand_dims(y, -1)
    x, y = aligned([x, y], [bx, by])
    out = prim.bind(x, y)
    if y_vec:
        out = squeeze(out, -1)
    if x_vec:
        out = squeeze(out, -2 if not y_vec else -1)
    return out


matmul_p = Primitive("matmul", np.matmul, vjp=[_matmul_vjp_x, _matmul_vjp_y],
                     jvp=[lambda ans, x, y, t: matmul(t, y), lambda ans, x, y, t: matmul(x, t)],
                     batch=_batch_matmul)


_matmul = binary_op(matmul_p)


def matmul(x1, x2):
    """`numpy.matmul` (`x1 @ x2`), differentiable, with NumPy's 1-D and batch rules."""
    try:
        return _matmul(x1, x2)
    except ValueError:  # checked only on failure: the common path stays one call
        _explain_matmul_shapes(x1, x2)
        raise


def _explain_matmul_shapes(x1, x2):
    for name, a in (("x1", x1), ("x2", x2)):
        if len(shape_of(a)) == 0:
            raise ValueError(f"matmul: {name} is a scalar (shape ()); use multiply (*) instead")
    xs, ys = shape_of(x1), shape_of(x2)
    inner_y = -2 if len(ys) >= 2 else -1
    if xs[-1] != ys[inner_y]:
        raise ValueError(f"matmul: shapes {xs} and {ys} do not align: the last axis of x1 "
                         f"({xs[-1]}) must equal the "
                         f"{'second-to-last' if len(ys) >= 2 else 'only'} axis of x2 "
                         f"({ys[inner_y]})")


# ---- products built on matmul ----------------------------------------------------------------
def tensordot(a, b, axes=2):
    """`numpy.tensordot`, differentiable (a transpose, a reshape and a matmul, as NumPy does)."""
    a, b = asarray_traced(a), asarray_traced(b)
    sa, sb = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        axes_a = list(range(len(sa) - axes, len(sa)))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    axes_a = [int(i) % len(sa) for i in axes_a]
    axes_b = [int(i) % len(sb) for i in axes_b]
    for i, j in zip(axes_a, axes_b):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: shape mismatch: axis {i} of a has size {sa[i]}, "
                             f"axis {j} of b has size {sb[j]}")
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [j for j in range(len(sb)) if j not in axes_b]
    k = int(np.prod([sa[i] for i in axes_a]))
    a2 = reshape(transpose(a, free_a + axes_a), (-1, k))
    b2 = reshape(transpose(b, axes_b + free_b), (k, -1))
    return reshape(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def dot(a, b):
    """`numpy.dot`, differentiable."""
    a, b = asarray_traced(a), asarray_traced(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    if nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def inner(a, b):
    """`numpy.inner`, differentiable."""
    a, b = asarray_traced(a), asarray_traced(b)
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    """`numpy.outer`, differentiable."""
    return expand_dims(ravel(asarray_traced(a)), 1) * expand_dims(ravel(asarray_traced(b)), 0)


def vdot(a, b):
    """`numpy.vdot`: the dot product of the flattened arrays, conjugating the first."""
    return _sum(conjugate(ravel(asarray_traced(a))) * ravel(asarray_traced(b)))


def kron(a, b):
    """`numpy.kron`, differentiable (a broadcast product and a reshape)."""
    a, b = asarray_traced(a), asarray_traced(b)
    sa, sb = shape_of(a), shape_of(b)
    nd = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = reshape(a, tuple(n for d in sa for n in (d, 1)))
    b2 = reshape(b, tuple(n for d in sb for n in (1, d)))
    return reshape(a2 * b2, tuple(p * q for p, q in zip(sa, sb)))


# ---- einsum ----------------------------------------------------------------------------------
_LETTERS = string.ascii_letters


def parse_einsum(subscripts, shapes):
    """Explicit subscripts with '...' spelled out as letters: (list of input terms, output term).

    Ellipsis axes are right-aligned across operands and named with letters the expression does
    not use, so the rules below can treat every axis alike.
    """
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, rhs = subscripts.split("->")
    else:
        lhs, rhs = subscripts, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand terms in {subscripts!r} but "
                         f"{len(shapes)} operands")
    used = set(subscripts) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    ell_ndim = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_ndim = builtins.max(ell_ndim, len(shape) - (len(term) - 3))
    ell = "".join(spare[:ell_ndim])
    explicit = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[ell_ndim - n:] if n else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum: term {term!r} has {len(term)} indices but its operand has "
                             f"shape {shape}")
        explicit.append(term)
    if rhs is None:
        counts = {}
        for term in explicit:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return explicit, rhs


def _sizes(terms, shapes):
    """Each letter's size after broadcasting: a size other than 1 wins (0 too: an empty axis
    broadcast against a size-1 one stays empty)."""
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if n != 1 or c not in sizes:
                sizes[c] = n
    return sizes


def _einsum_operand_cotangent(k, terms, out, operands, g):
    """The VJP of an einsum for operand k: another einsum, plus the two things einsum cannot do,
    broadcasting axes summed out before the output (k's letters found nowhere else) and writing
    back onto repeated letters (a diagonal such as 'ii')."""
    shapes = [shape_of(op) for op in operands]
    sizes = _sizes(terms, shapes)
    term = terms[k]
    unique = "".join(dict.fromkeys(term))
    others = [(t, op) for i, (t, op) in enumerate(zip(terms, operands)) if i != k]
    # Broadcast size-1 axes of the other operands and of g to full size, so letters agree.
    full = lambda t, x: broadcast_to(x, tuple(sizes[c] for c in t))
    available = set(out).union(*[set(t) for t, _ in others])
    produced = "".join(c for c in unique if c in available)
    spec = ",".join([out] + [t for t, _ in others]) + "->" + produced
    gk = einsum(spec, full(out, g), *[full(t, x) for t, x in others])
    for i, c in enumerate(unique):  # letters only k had were summed: broadcast back along them
        if c not in available:
            gk = expand_dims(gk, i)
    gk = broadcast_to(gk, tuple(sizes[c] for c in unique))
    if len(unique) != len(term):  # repeated letters: place values on the diagonal via eye
        spare = iter(c for c in _LETTERS if c not in set("".join(terms) + out))
        renamed, eyes = [], []
        seen = set()
        for c in term:
            if c in seen:
                fresh = next(spare)
                renamed.append(fresh)
                eyes.append((c + fresh, namespace_of(g).eye(sizes[c],
                                                                 dtype=g.dtype)))
            else:
                seen.add(c)
                renamed.append(c)
        spec = ",".join([unique] + [t for t, _ in eyes]) + "->" + "".join(renamed)
        gk = einsum(spec, gk, *[e for _, e in eyes])
    return unbroadcast(gk, shaped(shapes[k], primal_value(operands[k]).dtype))


def _einsum_vjp(ans, *args, argnum, subscripts):
    *operands, g = args
    terms, out = parse_einsum(subscripts, [shape_of(x) for x in operands])
    return _einsum_operand_cotangent(argnum, terms, out, operands, g)


def _einsum_jvp_joint(ans, operands, tangents, *, subscripts):
    total = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        args = list(operands)
        args[k] = t
        term = einsum(subscripts, *args)
        total = term if total is None else total + term
    return total


_BATCH_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _batch_einsum(trace, prim, vals, batched, params):
    """One more letter, free in the subscripts, for the batch axis of the batched operands."""
    shapes = [tuple(v.shape)[1:] if b else tuple(getattr(v, "shape", ()))
              for v, b in zip(vals, batched)]
    terms, out = parse_einsum(params["subscripts"], shapes)
    letter = next(c for c in _BATCH_LETTERS if c not in "".join(terms) + out)
    terms = [letter + t if b else t for t, b in zip(terms, batched)]
    return prim.bind(*vals, subscripts=",".join(terms) + "->" + letter + out)


einsum_p = Primitive(
    "einsum", lambda *ops, subscripts: _xp(*ops).einsum(subscripts, *ops, optimize=len(ops) > 2),
    vjp=_einsum_vjp, jvp_joint=_einsum_jvp_joint, variadic=True, batch=_batch_einsum)


def einsum(subscripts, *operands):
    """`numpy.einsum`, differentiable in every operand: repeated indices (diagonals),
    summed-out indices and broadcasting (also against empty axes) all have exact rules.

    Both of NumPy's forms: a subscripts string (explicit or implicit, '...' allowed), or
    operands interleaved with lists of axis numbers, `einsum(a, [0, 1], b, [1, 2], [0, 2])`
    (numbers 0-51, `Ellipsis` for '...', the output list optional).
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_subscripts((subscripts,) + operands)
    operands = [asarray_traced(x) for x in operands]
    parse_einsum(subscripts, [shape_of(x) for x in operands])  # validates early, names the op
    return einsum_p.bind(*operands, subscripts=subscripts)


def _interleaved_subscripts(args):
    """`(a, [0, 1], b, [1, 2], [0, 2])` as `('AB,BC->AC', [a, b])`. Numbers map to letters in
    their own order (0-25 to 'A'-'Z', 26-51 to 'a'-'z', as NumPy's C einsum), so the implicit
    output, sorted by letter, is sorted by number as in NumPy."""
    out = None
    if len(args) % 2 == 1:  # an odd count: the last entry is the output's list
        out, args = _sublist_term(args[-1], "output"), args[:-1]
    if not args:
        raise ValueError("einsum: the interleaved form needs operands, each followed by the "
                         "list of its axes")
    operands = list(args[0::2])
    spec = ",".join(_sublist_term(s, i) for i, s in enumerate(args[1::2]))
    return (spec if out is None else spec + "->" + out), operands


def _sublist_term(sublist, where):
    if isinstance(sublist, str) or not hasattr(sublist, "__iter__"):
        raise TypeError(f"einsum: the axis list of operand {where} must be a list of ints "
                        f"(and Ellipsis), got {sublist!r}")
    term = []
    for s in sublist:
        if s is Ellipsis:
            term.append("...")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < 52:
            term.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
        else:
            raise ValueError(f"einsum: axis label {s!r} in the list of operand {where} is not "
                             f"an int in the valid range [0, 52) or Ellipsis")
    return "".join(term)


# ---- diagonals and triangles -----------------------------------------------------------------
def _diagonal_positions(n1, n2, offset, xp):
    k = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else builtins.min(n1 + offset, n2))
    i = xp.arange(k)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """`numpy.diagonal` (the diagonal becomes the last axis), differentiable."""
    a = asarray_traced(a)
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    n1, n2 = shape_of(moved)[-2:]
    rows, cols = _diagonal_positions(n1, n2, offset, namespace_of(a))
    return getitem(moved, (Ellipsis, rows, cols))


def trace(a, offset=0, axis1=0, axis2=1):
    """`numpy.trace`, differentiable."""
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """`numpy.diag`: the k-th diagonal of a matrix, or a matrix with v on its k-th diagonal."""
    v = asarray_traced(v)
    shape = shape_of(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {shape}")
    n = shape[0] + builtins.abs(k)
    rows, cols = _diagonal_positions(n, n, k, namespace_of(v))
    return unindex(v, (n, n), (rows, cols))


def _triangle_mask(shape, k, lower, xp):
    n, m = shape[-2:]
    mask = xp.tri(n, m, k, dtype=bool)
    return mask if lower else ~xp.tri(n, m, k - 1, dtype=bool)


def tril(m, k=0):
    """`numpy.tril`, differentiable."""
    m = asarray_traced(m)
    return where(_triangle_mask(shape_of(m), k, True, namespace_of(m)), m, 0.0)


def triu(m, k=0):
    """`numpy.triu`, differentiable."""
    m = asarray_traced(m)
    return where(_triangle_mask(shape_of(m), k, False, namespace_of(m)), m, 0.0)
