"""Complex inputs through the gpuad.scipy.special functions SciPy defines on complex input
(imported by tests/cases.py, which collects every tests/cases_*.py).

Holomorphic functions: check_grads pairs complex values without conjugation, so these cases
check f'(z) and the project's convention for real-valued results of complex input (see
tests/cases_complex.py). `ive` is not holomorphic (its scale exp(-|Re z|)), nor are the
real log|sum| and the phase that logsumexp returns with return_sign. First order only where
the second derivative needs polygamma, which SciPy defines for real input only (gamma,
loggamma, rgamma); digamma's first derivative is polygamma: tests/scipy/test_special_complex.py
checks that these raise.
"""
from gpuad.scipy import special as sp

from .cases import DOMAINS, add


def _complex(scale, re_shift=0.0):
    return lambda shape, rng: (rng.standard_normal(shape) * scale + re_shift
                               + 1j * rng.standard_normal(shape) * scale)


DOMAINS["complex_half"] = _complex(0.5)                 # near 0: erfcx, ndtr, log_ndtr
DOMAINS["complex_right_far"] = _complex(0.4, 2.5)       # Re z > 1: gamma, Bessel K and Y, E1


def cadd(id, fun, *args, **kw):
    add(f"complex_special.{id}", fun, *args, float32=False, tags=("complex",), **kw)


HOLOMORPHIC = {
    "erf": (sp.erf, "complex", 2), "erfc": (sp.erfc, "complex", 2),
    "erfcx": (sp.erfcx, "complex_half", 2), "ndtr": (sp.ndtr, "complex", 2),
    "log_ndtr": (sp.log_ndtr, "complex_half", 2), "exp1": (sp.exp1, "complex_right_far", 2),
    "expi": (sp.expi, "complex_right_far", 2), "spence": (sp.spence, "complex_right_far", 2),
    "gamma": (sp.gamma, "complex_right_far", 1), "loggamma": (sp.loggamma, "complex_right_far", 1),
    "rgamma": (sp.rgamma, "complex_right_far", 1),
}
for name, (fn, domain, order) in HOLOMORPHIC.items():
    for shape in [(), (2, 3)]:
        cadd(f"{name}{shape}", fn, (shape, domain), order=order)

for name, fn, domain in (("iv", sp.iv, "complex"), ("jv", sp.jv, "complex"),
                         ("jn", sp.jn, "complex"), ("yv", sp.yv, "complex_right_far"),
                         ("kv", sp.kv, "complex_right_far"), ("kve", sp.kve, "complex_right_far"),
                         ("ive", sp.ive, "complex")):
    for v in (0, 1.5):
        dom = "complex_right_far" if v == 1.5 else domain  # non-integer orders: a cut at Re < 0
        cadd(f"{name}(v={v})", lambda z, fn=fn, v=v: fn(v, z), ((2, 3), dom))

for name, fn in (("xlogy", sp.xlogy), ("xlog1py", sp.xlog1py)):
    cadd(f"{name}_cc", fn, ((2, 3), "complex"), ((3,), "complex_right_far"))
    cadd(f"{name}_rc", fn, ((2, 3), "real"), ((3,), "complex_right_far"))

cadd("logsumexp", lambda z: sp.logsumexp(z, axis=1), ((2, 3), "complex"))
cadd("logsumexp_b", lambda z, b: sp.logsumexp(z, b=b), ((4,), "complex"), ((4,), "complex"))
cadd("logsumexp_sign_value", lambda z: sp.logsumexp(z, axis=0, return_sign=True)[0],
     ((3, 2), "complex"))
cadd("logsumexp_sign_phase", lambda z: sp.logsumexp(z, axis=0, return_sign=True)[1],
     ((3, 2), "complex"))
cadd("logsumexp_b_sign", lambda z, b: sp.logsumexp(z, b=b, return_sign=True),
     ((4,), "complex"), ((4,), "complex"))
cadd("softmax", lambda z: sp.softmax(z, axis=0), ((3, 2), "complex_half"))
cadd("log_softmax", lambda z: sp.log_softmax(z, axis=1), ((2, 3), "complex_half"))
