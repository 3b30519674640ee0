"""The table of differentiation cases: every primitive of gpuad.numpy and gpuad.scipy, on random
inputs of several shapes (0-d to 3-d, broadcasting pairs, batches of matrices).

A case is a function plus a description of each argument: a shape and a *domain* saying where
the function is smooth there (positive for log, inside (-1, 1) for arcsin, symmetric positive
definite for cholesky...). `make_args` draws the values. tests/test_primitives.py checks every
case against finite differences in both modes, and that the cases together reach every
registered primitive.
"""
import importlib
import pathlib
from dataclasses import dataclass, field

import numpy as np

import gpuad.numpy as gnp
from gpuad.scipy import special as sp


@dataclass
class Case:
    id: str
    fun: callable
    args: tuple               # one (shape, domain) per argument
    order: int = 2
    rtol: float = 1e-5
    atol: float = 1e-6
    eps: float = 1e-6
    float32: bool = True      # also check float32 inputs give float32 gradients
    modes: tuple = ("fwd", "rev")
    tags: tuple = field(default_factory=tuple)


DOMAINS = {}  # name -> function(shape, rng): domains added by the other case tables


def draw(shape, domain, rng):
    """Random values of `shape` in `domain` (never zeros or ones only)."""
    if domain in DOMAINS:
        return DOMAINS[domain](shape, rng)
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.3, 2.5, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain == "unit":          # inside (-1, 1)
        return rng.uniform(-0.85, 0.85, shape)
    if domain == "unit01":        # inside (0, 1)
        return rng.uniform(0.1, 0.9, shape)
    if domain == "gt1":
        return rng.uniform(1.2, 3.0, shape)
    if domain == "small":         # where tan stays smooth
        return rng.uniform(-1.2, 1.2, shape)
    if domain == "spd":           # symmetric positive definite, batched over leading axes
        m = rng.standard_normal(shape)
        n = shape[-1]
        return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)
    if domain == "sym":           # symmetric with well separated eigenvalues
        n = shape[-1]
        q, _ = np.linalg.qr(rng.standard_normal(shape))
        w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
        return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    if domain == "wellcond":      # a square matrix far from singular
        n = shape[-1]
        return rng.standard_normal(shape) + 3.0 * np.eye(n)
    if domain == "distinct":      # no ties (for sort, max...)
        n = int(np.prod(shape)) if shape else 1
        return (rng.permutation(n) + rng.uniform(0.1, 0.4, n)).reshape(shape) - n / 2
    if domain == "with_zeros":    # real values with exact zeros (prod, cumprod)
        x = rng.standard_normal(shape)
        x.flat[::3] = 0.0
        return x
    raise ValueError(domain)


def make_args(case, rng, dtype=np.float64):
    """The case's arguments in `dtype` (complex draws in the complex type of that precision)."""
    def cast(value):
        if np.iscomplexobj(value):
            return np.asarray(value, dtype=np.result_type(dtype, np.complex64))
        return np.asarray(value, dtype=dtype)
    return tuple(cast(draw(shape, domain, rng)) for shape, domain in case.args)


CASES = []


def add(id, fun, *args, **kw):
    CASES.append(Case(id, fun, tuple(args), **kw))


# ---- elementwise, unary: one line per op, on 0-d to 3-d shapes -------------------------------
UNARY = {
    "negative": (gnp.negative, "real"), "positive": (gnp.positive, "real"),
    "absolute": (gnp.absolute, "nonzero"), "sqrt": (gnp.sqrt, "positive"),
    "cbrt": (gnp.cbrt, "nonzero"), "square": (gnp.square, "real"),
    "reciprocal": (gnp.reciprocal, "nonzero"), "exp": (gnp.exp, "real"),
    "exp2": (gnp.exp2, "real"), "expm1": (gnp.expm1, "real"), "log": (gnp.log, "positive"),
    "log2": (gnp.log2, "positive"), "log10": (gnp.log10, "positive"),
    "log1p": (gnp.log1p, "positive"), "sin": (gnp.sin, "real"), "cos": (gnp.cos, "real"),
    "tan": (gnp.tan, "small"), "arcsin": (gnp.arcsin, "unit"), "arccos": (gnp.arccos, "unit"),
    "arctan": (gnp.arctan, "real"), "deg2rad": (gnp.deg2rad, "real"),
    "rad2deg": (gnp.rad2deg, "real"), "sinh": (gnp.sinh, "real"), "cosh": (gnp.cosh, "real"),
    "tanh": (gnp.tanh, "real"), "arcsinh": (gnp.arcsinh, "real"),
    "arccosh": (gnp.arccosh, "gt1"), "arctanh": (gnp.arctanh, "unit"),
    "sinc": (gnp.sinc, "real"), "real": (gnp.real, "real"), "conjugate": (gnp.conjugate, "real"),
    "imag": (gnp.imag, "real"), "copy": (gnp.copy, "real"),
    "expit": (sp.expit, "real"), "logit": (sp.logit, "unit01"), "erf": (sp.erf, "real"),
    "erfc": (sp.erfc, "real"), "gammaln": (sp.gammaln, "positive"),
    "digamma": (sp.digamma, "positive"),
}
for name, (fn, domain) in UNARY.items():
    for shape in [(), (4,), (2, 3), (2, 1, 3)]:
        add(f"{name}{shape}", fn, (shape, domain), tags=("elementwise",))
add("polygamma1", lambda x: sp.polygamma(1, x), ((3,), "positive"), tags=("elementwise",))
add("polygamma3", lambda x: sp.polygamma(3, x), ((2, 2), "positive"), tags=("elementwise",))

# ---- elementwise, binary: every broadcasting pair, both argument orders ----------------------
BROADCAST_PAIRS = [((), ()), ((), (3,)), ((3,), ()), ((2, 3), (3,)), ((3,), (2, 3)),
                   ((2, 1), (1, 3)), ((2, 1, 3), (4, 3)), ((4, 1), (2, 4, 3))]
BINARY = {
    "add": (gnp.add, "real", "real"), "subtract": (gnp.subtract, "real", "real"),
    "multiply": (gnp.multiply, "real", "real"), "divide": (gnp.divide, "real", "nonzero"),
    "power": (gnp.power, "positive", "real"), "float_power": (gnp.float_power, "positive", "real"),
    "maximum": (gnp.maximum, "real", "real"), "minimum": (gnp.minimum, "real", "real"),
    "fmax": (gnp.fmax, "real", "real"), "fmin": (gnp.fmin, "real", "real"),
    "arctan2": (gnp.arctan2, "nonzero", "nonzero"), "hypot": (gnp.hypot, "nonzero", "nonzero"),
    "logaddexp": (gnp.logaddexp, "real", "real"), "logaddexp2": (gnp.logaddexp2, "real", "real"),
    "copysign": (gnp.copysign, "nonzero", "nonzero"),
}
for name, (fn, dx, dy) in BINARY.items():
    for sx, sy in BROADCAST_PAIRS:
        add(f"{name}{sx}{sy}", fn, (sx, dx), (sy, dy), tags=("elementwise",),
            float32=name != "float_power")


def _away_from_jumps(fn):
    """mod/fmod are smooth between multiples of y: build x = y * (k + f), f in (0.2, 0.8)."""
    def f(k_plus_f, y):
        return fn(k_plus_f * y, y)
    return f


for name, fn in (("remainder", gnp.remainder), ("fmod", gnp.fmod)):
    for sx, sy in [((3,), (3,)), ((2, 3), (3,)), ((), (2,))]:
        add(f"{name}{sx}{sy}", _away_from_jumps(fn), (sx, "gt1"), (sy, "nonzero"),
            tags=("elementwise",))

# The condition is computed from x (a constant mask: comparisons carry no derivative).
for sx, sy in [((3,), (3,)), ((3,), ()), ((2, 3), (2, 1)), ((), (2, 3))]:
    add(f"where{sx}{sy}", lambda x, y: gnp.where(gnp.sin(7 * x) > 0, x, y),
        (sx, "real"), (sy, "real"), tags=("elementwise",))


def _clip(x, lo, hi):
    return gnp.clip(x, lo - 1.0, hi + 1.0)


add("clip(3,)", _clip, ((6,), "real"), ((6,), "real"), ((6,), "real"), tags=("elementwise",))
add("clip(2,3)()()", lambda x, lo, hi: gnp.clip(x, lo - 0.7, hi + 0.7),
    ((2, 3), "distinct"), ((), "unit"), ((), "unit"), tags=("elementwise",))
add("clip_lo_only", lambda x: gnp.clip(x, 0.05, None), ((5,), "real"), tags=("elementwise",))
add("operators", lambda x, y: (-x + 2.0 * y - x / (1.5 + y * y)) ** 2 + abs(x) ** 0.5,
    ((2, 3), "nonzero"), ((3,), "real"), tags=("elementwise",))
add("rpow", lambda x: 2.0 ** x + x ** 3, ((4,), "real"), tags=("elementwise",))
# one tracer on both sides: square (one cotangent term, elementwise.multiply's `same`)
for shape in [(), (2, 3)]:
    add(f"multiply_same{shape}", lambda x: x * x, (shape, "real"), order=3,
        tags=("elementwise",))
add("multiply_same_composed",
    lambda x: (lambda s: gnp.multiply(s, s) * s + gnp.exp(x * x))(gnp.sin(x)),
    ((4,), "real"), order=3, tags=("elementwise",))

# ---- reductions ------------------------------------------------------------------------------
REDUCTIONS = {
    "sum": gnp.sum, "mean": gnp.mean, "prod": gnp.prod, "max": gnp.max, "min": gnp.min,
    "var": gnp.var, "std": gnp.std, "logsumexp": sp.logsumexp,
}
AXES = [((4,), None), ((4,), 0), ((2, 3), None), ((2, 3), 0), ((2, 3), -1),
        ((2, 3, 4), (0, 2)), ((2, 3, 4), 1)]
for name, fn in REDUCTIONS.items():
    domain = "distinct" if name in ("max", "min") else "real"
    for shape, axis in AXES:
        for keepdims in (False, True):
            add(f"{name}{shape}axis={axis}keep={keepdims}",
                lambda x, fn=fn, axis=axis, keepdims=keepdims: fn(x, axis=axis, keepdims=keepdims),
                (shape, domain), tags=("reduction",))
add("prod_with_zeros", lambda x: gnp.prod(x, axis=1), ((3, 4), "with_zeros"), tags=("reduction",))
add("prod_all_with_zeros", lambda x: gnp.prod(x), ((5,), "with_zeros"), order=3,
    tags=("reduction",))
add("var_ddof", lambda x: gnp.var(x, axis=0, ddof=1), ((4, 3), "real"), tags=("reduction",))
add("std_ddof", lambda x: gnp.std(x, ddof=1), ((5,), "real"), tags=("reduction",))
add("amax", lambda x: gnp.amax(x, axis=0), ((3, 2), "distinct"), tags=("reduction",))
add("amin", lambda x: gnp.amin(x, axis=1), ((3, 2), "distinct"), tags=("reduction",))
add("sum_dtype", lambda x: gnp.sum(x, dtype=np.float64), ((3,), "real"), tags=("reduction",),
    float32=False)  # the result is float64 by request
for axis in (None, 0, 1, -1):
    add(f"cumsum axis={axis}", lambda x, axis=axis: gnp.cumsum(x, axis), ((3, 4), "real"),
        tags=("reduction",))
    add(f"cumprod axis={axis}", lambda x, axis=axis: gnp.cumprod(x, axis), ((3, 4), "real"),
        tags=("reduction",))
add("cumprod_with_zeros", lambda x: gnp.cumprod(x, axis=0), ((6, 2), "with_zeros"), order=3,
    tags=("reduction",))
add("cumprod_with_zeros axis=-1", lambda x: gnp.cumprod(x, axis=-1), ((2, 3, 7), "with_zeros"),
    order=2, tags=("reduction",))
add("cumprod_scalar", lambda x: gnp.cumprod(x), ((), "real"), order=3, tags=("reduction",))
add("cumprod_single", lambda x: gnp.cumprod(x, axis=0), ((1, 3), "with_zeros"), order=3,
    tags=("reduction",))
add("average", lambda x, w: gnp.average(x, axis=1, weights=gnp.exp(w)), ((2, 3), "real"),
    ((3,), "real"), tags=("reduction",))
add("average_plain", lambda x: gnp.average(x), ((2, 3), "real"), tags=("reduction",))
add("log_softmax", lambda x: sp.log_softmax(x, axis=-1), ((2, 4), "real"), tags=("reduction",))
add("softmax", lambda x: sp.softmax(x, axis=0), ((3, 2), "real"), tags=("reduction",))
add("log_expit", sp.log_expit, ((5,), "real"), tags=("elementwise",))

# ---- linear algebra --------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (1, 3, 4)), ((2, 3), (5, 3, 4)),
                 ((3,), (5, 3, 2)), ((5, 2, 3), (3,))]
for sa, sb in MATMUL_SHAPES:
    add(f"matmul{sa}{sb}", gnp.matmul, (sa, "real"), (sb, "real"), tags=("linalg",))
add("matmul_operator", lambda a, b: a @ b, ((2, 3), "real"), ((3, 2), "real"), tags=("linalg",))
add("dot_scalar", gnp.dot, ((), "real"), ((3,), "real"), tags=("linalg",))
add("dot_nd", gnp.dot, ((2, 3), "real"), ((4, 3, 2), "real"), tags=("linalg",))
add("tensordot2", lambda a, b: gnp.tensordot(a, b), ((2, 3, 4), "real"), ((3, 4, 2), "real"),
    tags=("linalg",))
add("tensordot_axes", lambda a, b: gnp.tensordot(a, b, axes=([0, 2], [2, 0])),
    ((2, 3, 4), "real"), ((4, 5, 2), "real"), tags=("linalg",))
add("inner", gnp.inner, ((2, 3), "real"), ((4, 3), "real"), tags=("linalg",))
add("outer", gnp.outer, ((3,), "real"), ((2, 2), "real"), tags=("linalg",))
add("vdot", gnp.vdot, ((2, 3), "real"), ((6,), "real"), tags=("linalg",))
add("kron", gnp.kron, ((2, 3), "real"), ((3, 2), "real"), tags=("linalg",))
add("kron_1d_2d", gnp.kron, ((3,), "real"), ((2, 2), "real"), tags=("linalg",))
EINSUMS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
           ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]),
           ("...i,...i->...", [(2, 3), (3,)]), ("bij,bjk->bik", [(4, 2, 3), (4, 3, 2)]),
           ("i,i,i->", [(3,), (3,), (3,)]), ("ij,ij->i", [(2, 3), (1, 3)]),
           ("iij,j->i", [(3, 3, 2), (2,)]), ("i,j->ij", [(2,), (3,)]),
           ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)])]
for spec, shapes in EINSUMS:
    add(f"einsum {spec}", lambda *ops, spec=spec: gnp.einsum(spec, *ops),
        *[(s, "real") for s in shapes], tags=("linalg",))
add("einsum_interleaved", lambda a, b: gnp.einsum(a, [Ellipsis, 0, 1], b, [1, 2], [0, Ellipsis, 2]),
    ((4, 2, 3), "real"), ((3, 2), "real"), tags=("linalg",))
add("trace", gnp.trace, ((3, 3), "real"), tags=("linalg",))
add("trace_offset_axes", lambda x: gnp.trace(x, 1, 1, 2), ((2, 3, 4), "real"), tags=("linalg",))
add("diagonal", lambda x: gnp.diagonal(x, -1), ((4, 3), "real"), tags=("linalg",))
add("diag_of_matrix", lambda x: gnp.diag(x, 1), ((3, 4), "real"), tags=("linalg",))
add("diag_of_vector", lambda x: gnp.diag(x, -2), ((3,), "real"), tags=("linalg",))
add("triu", lambda x: gnp.triu(x, 1), ((3, 4), "real"), tags=("linalg",))
add("tril", lambda x: gnp.tril(x, -1), ((2, 4, 3), "real"), tags=("linalg",))
for shape in [(3, 3), (2, 3, 3)]:
    add(f"inv{shape}", gnp.linalg.inv, (shape, "wellcond"), tags=("linalg",))
    add(f"det{shape}", gnp.linalg.det, (shape, "wellcond"), tags=("linalg",))
    add(f"slogdet{shape}", lambda a: gnp.linalg.slogdet(a).logabsdet, (shape, "wellcond"),
        tags=("linalg",))
    add(f"slogdet_both{shape}", lambda a: gnp.linalg.slogdet(a), (shape, "wellcond"),
        tags=("linalg",))
    add(f"cholesky{shape}", gnp.linalg.cholesky, (shape, "spd"), tags=("linalg",))
    add(f"cholesky_upper{shape}", lambda a: gnp.linalg.cholesky(a, upper=True), (shape, "spd"),
        tags=("linalg",))
    add(f"eigh{shape}", gnp.linalg.eigh, (shape, "sym"), tags=("linalg",))
    add(f"eigh_U{shape}", lambda a: gnp.linalg.eigh(a, UPLO="U"), (shape, "sym"),
        tags=("linalg",))
    add(f"eigvalsh{shape}", gnp.linalg.eigvalsh, (shape, "sym"), tags=("linalg",))
for sa, sb in [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 3, 3), (3, 4)),
               ((3, 3), (2, 3, 4)), ((3, 3, 3), (3,)), ((2, 1, 3, 3), (3,))]:
    add(f"solve{sa}{sb}", gnp.linalg.solve, (sa, "wellcond"), (sb, "real"), tags=("linalg",))
NORMS = [((4,), None, None), ((4,), 1, None), ((4,), np.inf, None), ((4,), -np.inf, None),
         ((4,), 3, None), ((4,), 2, None), ((2, 3), None, None), ((2, 3), "fro", None),
         ((2, 3), "nuc", None), ((2, 3), 2, None), ((3, 2), -2, None), ((2, 3), 1, None),
         ((2, 3), -1, None), ((2, 3), np.inf, None), ((2, 3), -np.inf, None),
         ((2, 3, 4), None, 1), ((2, 3, 4), "fro", (0, 2)), ((2, 3, 4), 2, (1, 2))]
for shape, ord, axis in NORMS:
    add(f"norm{shape}ord={ord}axis={axis}",
        lambda x, ord=ord, axis=axis: gnp.linalg.norm(x, ord, axis),
        (shape, "distinct" if ord in (np.inf, -np.inf, 1, -1) else "real"), tags=("linalg",))
add("norm_keepdims", lambda x: gnp.linalg.norm(x, axis=1, keepdims=True), ((2, 3), "real"),
    tags=("linalg",))

# ---- shape manipulation and indexing ---------------------------------------------------------
MANIPULATION = [
    ("reshape", lambda x: gnp.reshape(x, (3, -1)), (2, 3, 2)),
    ("reshape_method", lambda x: x.reshape(6, 2), (2, 3, 2)),
    ("ravel", gnp.ravel, (2, 3)),
    ("flatten", lambda x: x.flatten(), (2, 3)),
    ("transpose", gnp.transpose, (2, 3, 4)),
    ("transpose_axes", lambda x: gnp.transpose(x, (1, 2, 0)), (2, 3, 4)),
    ("T", lambda x: x.T, (2, 3)),
    ("mT", lambda x: x.mT, (4, 2, 3)),
    ("swapaxes", lambda x: gnp.swapaxes(x, 0, 2), (2, 3, 4)),
    ("moveaxis", lambda x: gnp.moveaxis(x, 0, -1), (2, 3, 4)),
    ("expand_dims", lambda x: gnp.expand_dims(x, (0, 2)), (2, 3)),
    ("squeeze", lambda x: gnp.squeeze(x), (2, 1, 3, 1)),
    ("squeeze_axis", lambda x: gnp.squeeze(x, 1), (2, 1, 3)),
    ("broadcast_to", lambda x: gnp.broadcast_to(x, (4, 2, 3)), (2, 1)),
    ("broadcast_arrays", lambda x: gnp.broadcast_arrays(x, np.ones((3, 1)))[0], (4,)),
    ("concatenate", lambda x: gnp.concatenate([x, 2 * x, x[:1]], axis=0), (2, 3)),
    ("concatenate_axis1", lambda x: gnp.concatenate([x, gnp.sin(x)], axis=-1), (2, 3)),
    ("concatenate_none", lambda x: gnp.concatenate([x, x[0]], axis=None), (2, 3)),
    ("stack", lambda x: gnp.stack([x, x * x], axis=1), (2, 3)),
    ("hstack", lambda x: gnp.hstack([x, x]), (3,)),
    ("vstack", lambda x: gnp.vstack([x, x[::-1]]), (3,)),
    ("dstack", lambda x: gnp.dstack([x, x]), (2, 3)),
    ("column_stack", lambda x: gnp.column_stack([x, 2 * x]), (3,)),
    ("split", lambda x: gnp.split(x, 2, axis=1), (2, 4)),
    ("array_split", lambda x: gnp.array_split(x, 3), (5,)),
    ("split_indices", lambda x: gnp.split(x, [1, 3]), (5, 2)),
    # pieces without a cotangent: split's VJP fills zeros for them (sparse cotangents)
    ("split_some_used", lambda x: (lambda p: gnp.sin(p[1]) * p[3])(gnp.split(x, 4, axis=-1)),
     (2, 3, 8)),
    ("split_one_used", lambda x: gnp.split(x, 3)[2] ** 2, (6,)),
    ("array_split_empty", lambda x: gnp.array_split(x, [2, 2, 9], axis=0)[1:], (4, 2)),
    # decreasing indices: overlapping pieces (getitem each, not split's joined VJP)
    ("array_split_decreasing", lambda x: gnp.array_split(x, [3, 1]), (5,)),
    ("tile", lambda x: gnp.tile(x, (2, 1, 3)), (2, 3)),
    ("repeat", lambda x: gnp.repeat(x, 3, axis=1), (2, 3)),
    ("repeat_array", lambda x: gnp.repeat(x, [1, 0, 2], axis=1), (2, 3)),
    ("repeat_flat", lambda x: gnp.repeat(x, 2), (2, 3)),
    ("flip", lambda x: gnp.flip(x, 1), (2, 3)),
    ("fliplr", gnp.fliplr, (2, 3)),
    ("flipud", gnp.flipud, (2, 3)),
    ("roll", lambda x: gnp.roll(x, 2, axis=0), (5, 2)),
    ("roll_flat", lambda x: gnp.roll(x, -1), (2, 3)),
    ("roll_multi", lambda x: gnp.roll(x, (1, 2), axis=(0, 1)), (3, 4)),
    ("pad", lambda x: gnp.pad(x, ((1, 2), (0, 1))), (2, 3)),
    ("pad_const", lambda x: gnp.pad(x, 1, constant_values=3.5), (3,)),
    ("take", lambda x: gnp.take(x, [0, 0, 3], axis=1), (2, 4)),
    ("take_flat", lambda x: gnp.take(x, np.array([[5, 1], [1, 1]])), (2, 3)),
    ("take_along_axis", lambda x: gnp.take_along_axis(x, np.array([[2, 0, 0], [1, 1, 2]]), 1),
     (2, 3)),
    ("sort", lambda x: gnp.sort(x, axis=0), (4, 3)),
    ("sort_flat", lambda x: gnp.sort(x, axis=None), (2, 3)),
    ("getitem_basic", lambda x: x[1, ::-2, None, ...], (3, 5, 2)),
    ("getitem_int", lambda x: x[-1], (3, 2)),
    ("getitem_advanced_dup", lambda x: x[[0, 2, 0, 0], 1:], (3, 4)),
    ("getitem_two_arrays", lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 0])], (2, 3)),
    ("getitem_mask", lambda x: x[x > 0.1], (3, 4)),
    ("getitem_mask_row", lambda x: x[np.array([True, False, True])], (3, 2)),
    ("iterate", lambda x: sum(row * i for i, row in enumerate(x)), (3, 2)),
    ("at_set_basic", lambda x: gnp.at(x)[1:, 0].set(gnp.sin(x[0, 1:])), (3, 3)),
    ("at_set_dup", lambda x: gnp.at(x)[[0, 0, 2]].set(x[1] * 2), (3, 2)),
    ("at_set_broadcast", lambda x: gnp.at(x)[[1, 2]].set(x[0, 0] * 3), (3, 2)),
    ("at_add_dup", lambda x: gnp.at(x)[[0, 0, 2]].add(x[1] ** 2), (3, 2)),
    ("at_add_basic", lambda x: gnp.at(x)[:, 1].add(x[:, 0]), (3, 2)),
    ("atleast_1d", gnp.atleast_1d, ()),
    ("atleast_2d", gnp.atleast_2d, (3,)),
    ("atleast_3d", gnp.atleast_3d, (2, 3)),
    ("astype", lambda x: gnp.astype(x, np.float32) * 1.5, (2, 3)),
    ("array_of_traced", lambda x: gnp.array([[x[0], x[1]], [x[1] * x[0], 2.0]]), (2,)),
    ("take_along_axis_broadcast",
     lambda x: gnp.take_along_axis(x, np.array([[2, 0], [1, 1]])[:, None, :], 2), (2, 3, 4)),
    # an index array computed from traced values (the column of constants glued on is not
    # perturbed by the finite differences, so the index is stable)
    ("getitem_traced_index", lambda x: x[gnp.concatenate(
        [x, np.array([[2.0], [0.0], [2.0]])], axis=1)[:, -1].astype(int)], (3, 2)),
    ("at_add_traced_index", lambda x: gnp.at(x)[gnp.concatenate(
        [x, np.array([[1.0], [1.0], [0.0]])], axis=1)[:, -1].astype(int)].add(x ** 2), (3, 2)),
    ("mean_of_list", lambda x: gnp.mean([x[0], 2.0 * x[1], np.float64(0.5), x[1] ** 2]), (2,)),
    ("full_traced", lambda x: gnp.full((2, 3), x) * x, (3,)),
    ("linspace_traced", lambda x: gnp.linspace(x[0], x[1:], 4, axis=1), (3,)),
    ("r_traced", lambda x: gnp.r_[x, 1.0, x[0]:x[1]:3j], (2,)),
]
for name, fn, shape in MANIPULATION:
    # astype to float32 is linear: a large step keeps float32 rounding out of the differences.
    extra = {"eps": 0.1, "rtol": 1e-5, "atol": 1e-5} if name == "astype" else {}
    if name in ("array_of_traced", "mean_of_list"):
        extra = {"float32": False}  # NumPy makes [float32, Python float] float64 too
    add(name, fn, (shape, "distinct" if "sort" in name else "real"), tags=("manipulation",),
        **extra)

# Other families add their cases in tests/cases_<family>.py (calling `add` from here), found
# by name so that new tables never edit this file.
for _path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    importlib.import_module(f"{__package__}.{_path.stem}")

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
