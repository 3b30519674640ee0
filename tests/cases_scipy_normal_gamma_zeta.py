"""Differentiation cases for the second batch of gpuad.scipy.special functions: the normal
distribution function, incomplete gamma and beta, kv/kve/yn, exponential integrals, zeta,
spence and the entropies (imported by tests/cases.py, which collects every tests/cases_*.py).
Orders and shape parameters are constants here: their derivatives raise (tests/scipy/
test_special_normal_gamma_zeta.py)."""
import numpy as np

from gpuad.scipy import special as sp

from .cases import DOMAINS, add

DOMAINS["log_ndtr_x"] = lambda shape, rng: rng.uniform(-9.0, 3.0, shape)   # into the left tail
DOMAINS["bessel_k_x"] = lambda shape, rng: rng.uniform(0.4, 4.0, shape)
DOMAINS["gamma_a"] = lambda shape, rng: rng.uniform(1.2, 4.0, shape)       # a > (d-1)/2, d <= 3
DOMAINS["spence_lo"] = lambda shape, rng: rng.uniform(0.2, 0.8, shape)     # both sides of the
DOMAINS["spence_hi"] = lambda shape, rng: rng.uniform(1.2, 3.0, shape)     # removable z = 1

SHAPES = [(), (4,), (2, 3), (2, 1, 3)]
E = ("elementwise",)

UNARY = {
    "ndtr": (sp.ndtr, "real"), "log_ndtr": (sp.log_ndtr, "log_ndtr_x"),
    "ndtri": (sp.ndtri, "unit01"), "rgamma": (sp.rgamma, "positive"),
    "entr": (sp.entr, "positive"), "exp1": (sp.exp1, "positive"),
    "expi": (sp.expi, "nonzero"), "spence_lo": (sp.spence, "spence_lo"),
    "spence_hi": (sp.spence, "spence_hi"),
}
for name, (fn, domain) in UNARY.items():
    for shape in SHAPES:
        add(f"special.{name}{shape}", fn, (shape, domain), tags=E)

for d, shape in [(1, (3,)), (2, ()), (3, (2, 3))]:
    add(f"special.multigammaln(d={d}){shape}", lambda a, d=d: sp.multigammaln(a, d),
        (shape, "gamma_a"), tags=E)

for name, fn in (("rel_entr", sp.rel_entr), ("kl_div", sp.kl_div)):
    for sx, sy in [((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3))]:
        add(f"special.{name}{sx}{sy}", fn, (sx, "positive"), (sy, "positive"), tags=E)

# ---- constant first arguments: orders, shape parameters, the zeta exponent -------------------
A_ARRAY = np.array([0.7, 1.6, 3.2])
CONSTANT_FIRST = {
    "kv": (sp.kv, "bessel_k_x", (0, 1.5, 2)), "kve": (sp.kve, "bessel_k_x", (0, 1.5, 2)),
    "yn": (sp.yn, "bessel_k_x", (0, 1, 3)), "expn": (sp.expn, "positive", (0, 1, 3)),
    "gammainc": (sp.gammainc, "positive", (0.7, 2.5, A_ARRAY)),
    "gammaincc": (sp.gammaincc, "positive", (0.7, 2.5, A_ARRAY)),
    "zeta": (sp.zeta, "positive", (2.5, 4.0, A_ARRAY + 1.5)),
}
for name, (fn, domain, constants) in CONSTANT_FIRST.items():
    for c, shape in zip(constants, [(3,), (2, 3), (4, 3)]):
        if isinstance(c, np.ndarray):
            shape = (2, 3)
        label = "array" if isinstance(c, np.ndarray) else c
        # a float64 array constant promotes float32 x to float64, as in NumPy
        add(f"special.{name}({label}){shape}", lambda x, fn=fn, c=c: fn(c, x), (shape, domain),
            float32=label != "array", tags=E)
    add(f"special.{name}({constants[1]})()", lambda x, fn=fn, c=constants[1]: fn(c, x),
        ((), domain), tags=E)

for a, b, shape in [(0.8, 2.5, (3,)), (2.0, 3.5, (2, 3)), (A_ARRAY + 0.5, 1.5, (2, 3)),
                    (3.0, 1.2, ())]:
    add(f"special.betainc({'array' if isinstance(a, np.ndarray) else a},{b}){shape}",
        lambda x, a=a, b=b: sp.betainc(a, b, x), (shape, "unit01"),
        float32=not isinstance(a, np.ndarray), tags=E)
