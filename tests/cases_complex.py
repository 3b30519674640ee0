"""Complex inputs through every family with complex support: holomorphic elementwise ops, the
non-holomorphic ones (abs, angle, real, imag, conj), mixes of real and complex operands,
reductions, linear algebra and shape ops.

check_grads pairs complex values as Re(sum(a * b)) (no conjugation), which is the convention of
autograd and JAX: a VJP is the transpose of the JVP as a real-linear map, and `grad` of a real
loss L(z) is dL/dx - i dL/dy. So these cases check that convention, not only the values.
"""
import numpy as np

import gpuad.numpy as gnp
from gpuad.numpy import linalg as la

from .cases import DOMAINS, add


def _complex(scale=1.0, re_shift=0.0):
    def draw(shape, rng):
        return (rng.standard_normal(shape) * scale + re_shift
                + 1j * rng.standard_normal(shape) * scale)
    return draw


DOMAINS["complex"] = _complex()
DOMAINS["complex_small"] = _complex(0.4)             # tan, tanh, arcsin: far from poles and cuts
DOMAINS["complex_right"] = _complex(0.5, 2.0)        # log, sqrt, power: right half-plane
DOMAINS["complex_wellcond"] = lambda shape, rng: (_complex()(shape, rng)
                                                  + 3.0 * np.eye(shape[-1]))


def cadd(id, fun, *args, **kw):
    add(f"complex_{id}", fun, *args, float32=False, tags=("complex",), **kw)


HOLOMORPHIC = {
    "negative": (gnp.negative, "complex"), "square": (gnp.square, "complex"),
    "reciprocal": (gnp.reciprocal, "complex_right"), "sqrt": (gnp.sqrt, "complex_right"),
    "exp": (gnp.exp, "complex"), "expm1": (gnp.expm1, "complex"),
    "log": (gnp.log, "complex_right"), "log10": (gnp.log10, "complex_right"),
    "log1p": (gnp.log1p, "complex_right"), "sin": (gnp.sin, "complex"),
    "cos": (gnp.cos, "complex"), "tan": (gnp.tan, "complex_small"),
    "sinh": (gnp.sinh, "complex"), "cosh": (gnp.cosh, "complex"),
    "tanh": (gnp.tanh, "complex_small"), "arcsin": (gnp.arcsin, "complex_small"),
    "arctan": (gnp.arctan, "complex_small"), "arcsinh": (gnp.arcsinh, "complex_small"),
}
for name, (fn, domain) in HOLOMORPHIC.items():
    for shape in [(), (2, 3)]:
        cadd(f"{name}{shape}", fn, (shape, domain))

for name, fn in (("abs", gnp.abs), ("angle", gnp.angle), ("real", gnp.real),
                 ("imag", gnp.imag), ("conj", gnp.conj)):
    cadd(name, fn, ((2, 3), "complex_right"))
cadd("abs_squared_loss", lambda z: gnp.sum(gnp.abs(z) ** 2), ((4,), "complex"))
cadd("angle_deg", lambda z: gnp.angle(z, deg=True), ((3,), "complex_right"))
cadd("builtin_abs", lambda z: abs(z * 2.0), ((3,), "complex"))

# binary ops: complex with complex, and real with complex (the real operand's cotangent is the
# real part), with broadcasting
for name, fn in (("add", gnp.add), ("subtract", gnp.subtract), ("multiply", gnp.multiply),
                 ("divide", gnp.divide)):
    cadd(f"{name}_cc", fn, ((2, 3), "complex"), ((3,), "complex_right"))
    cadd(f"{name}_rc", fn, ((2, 3), "positive"), ((2, 1), "complex_right"))
    cadd(f"{name}_cr", fn, ((3,), "complex"), ((2, 3), "positive"))
cadd("power_cc", gnp.power, ((3,), "complex_right"), ((3,), "complex_small"))
cadd("power_int", lambda z: z ** 3, ((3,), "complex"))
cadd("real_times_complex_abs", lambda x, z: gnp.abs(x * z), ((4,), "real"), ((4,), "complex"))

# reductions
cadd("sum", lambda z: gnp.sum(z, axis=0), ((3, 2), "complex"))
cadd("mean", lambda z: gnp.mean(z, axis=1), ((3, 2), "complex"))
cadd("prod", lambda z: gnp.prod(z, axis=0), ((3, 2), "complex"))
cadd("cumsum", lambda z: gnp.cumsum(z, axis=1), ((2, 3), "complex"))
cadd("var", lambda z: gnp.var(z, axis=0), ((4, 2), "complex"))
cadd("std", gnp.std, ((5,), "complex"))

# linear algebra
cadd("matmul", gnp.matmul, ((2, 3), "complex"), ((3, 2), "complex"))
cadd("matmul_real_complex", gnp.matmul, ((2, 3), "real"), ((3,), "complex"))
cadd("einsum", lambda a, b: gnp.einsum("ij,jk->ik", a, b), ((2, 3), "complex"),
     ((3, 2), "complex"))
cadd("vdot", gnp.vdot, ((4,), "complex"), ((4,), "complex"))
cadd("outer", gnp.outer, ((3,), "complex"), ((2,), "complex"))
cadd("inv", la.inv, ((3, 3), "complex_wellcond"))
cadd("solve", la.solve, ((3, 3), "complex_wellcond"), ((3, 2), "complex"))
cadd("det", la.det, ((2, 3, 3), "complex_wellcond"))
cadd("slogdet", la.slogdet, ((2, 3, 3), "complex_wellcond"))  # the sign turns with a
cadd("norm", la.norm, ((2, 3), "complex"))
cadd("trace", gnp.trace, ((3, 3), "complex"))

# shape and indexing
cadd("reshape_transpose", lambda z: gnp.transpose(gnp.reshape(z, (3, 2))), ((2, 3), "complex"))
cadd("concatenate", lambda a, b: gnp.concatenate([a, b], axis=0), ((2, 2), "complex"),
     ((1, 2), "complex"))
cadd("getitem", lambda z: z[1:, ::-1], ((3, 3), "complex"))
cadd("multiply_same", lambda z: z * z, ((2, 3), "complex"))
cadd("split", lambda z: gnp.split(z, 3, axis=1)[::2], ((2, 6), "complex"))
cadd("at_set", lambda z, v: gnp.at(z)[0].set(v), ((3, 2), "complex"), ((2,), "complex"))
