"""Scalar code of an elementwise primitive, read off its own declaration.

A primitive's forward (`prim.impl`, a NumPy ufunc or a function of ufuncs) and its derivatives
(`prim.elementwise`, written with `gpuad.numpy` functions) are *called* on `Sym` placeholders.
NumPy hands each ufunc applied to a `Sym` to `Sym.__array_ufunc__`, which returns the
expression as Python source for one scalar. So the fused kernels compute exactly what the
declarations say, with no second table of derivatives to keep in step. A primitive whose
declaration does something a placeholder cannot follow (a non-ufunc NumPy call, data-dependent
Python control flow) is simply not fused.
"""
import numpy as np

# ufunc name -> scalar source (`{0}`, `{1}`: the operands)
_SCALAR = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "divide": "({0} / {1})", "true_divide": "({0} / {1})", "power": "({0} ** {1})",
    "float_power": "({0} ** {1})", "negative": "(-{0})", "positive": "(+{0})",
    "absolute": "abs({0})", "fabs": "abs({0})", "square": "({0} * {0})",
    "reciprocal": "(1.0 / {0})", "sqrt": "math.sqrt({0})",
    "cbrt": "math.copysign(abs({0}) ** (1.0 / 3.0), {0})",
    "exp": "math.exp({0})", "exp2": "(2.0 ** {0})", "expm1": "math.expm1({0})",
    "log": "math.log({0})", "log2": "math.log2({0})", "log10": "math.log10({0})",
    "log1p": "math.log1p({0})", "sin": "math.sin({0})", "cos": "math.cos({0})",
    "tan": "math.tan({0})", "arcsin": "math.asin({0})", "arccos": "math.acos({0})",
    "arctan": "math.atan({0})", "sinh": "math.sinh({0})", "cosh": "math.cosh({0})",
    "tanh": "math.tanh({0})", "arcsinh": "math.asinh({0})", "arccosh": "math.acosh({0})",
    "arctanh": "math.atanh({0})", "arctan2": "math.atan2({0}, {1})",
    "hypot": "math.hypot({0}, {1})", "maximum": "max({0}, {1})", "minimum": "min({0}, {1})",
    "fmax": "max({0}, {1})", "fmin": "min({0}, {1})",
    "sign": "(1.0 if {0} > 0 else (-1.0 if {0} < 0 else 0.0))",
    "floor": "math.floor({0})", "ceil": "math.ceil({0})", "trunc": "math.trunc({0})",
    "copysign": "math.copysign({0}, {1})", "deg2rad": "({0} * 0.017453292519943295)",
    "rad2deg": "({0} * 57.29577951308232)",
    "greater": "({0} > {1})", "greater_equal": "({0} >= {1})", "less": "({0} < {1})",
    "less_equal": "({0} <= {1})", "equal": "({0} == {1})", "not_equal": "({0} != {1})",
    "logical_and": "({0} and {1})", "logical_or": "({0} or {1})", "logical_not": "(not {0})",
    "logaddexp": "(max({0}, {1}) + math.log1p(math.exp(-abs({0} - {1}))))",
}


class NotScalar(TypeError):
    """The declaration used something a scalar placeholder cannot follow."""


class Sym:
    """A scalar expression, as Python source, that NumPy's ufuncs and operators extend."""

    __slots__ = ("src",)
    __array_priority__ = 1000

    def __init__(self, src):
        self.src = src

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        template = _SCALAR.get(ufunc.__name__)
        if method != "__call__" or template is None or kwargs.get("out") is not None:
            raise NotScalar(f"no scalar form for {ufunc.__name__}.{method}")
        return Sym(template.format(*(_src(x) for x in inputs)))

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            c, a, b = (_src(x) for x in args)
            return Sym(f"({a} if {c} else {b})")
        if func is np.clip and len(args) == 3 and not kwargs:
            x, lo, hi = (_src(v) for v in args)
            return Sym(f"min(max({x}, {lo}), {hi})")
        raise NotScalar(f"no scalar form for numpy.{func.__name__}")

    # operators go through the ufuncs, so one table serves both
    def __add__(self, o): return np.add(self, o)
    def __radd__(self, o): return np.add(o, self)
    def __sub__(self, o): return np.subtract(self, o)
    def __rsub__(self, o): return np.subtract(o, self)
    def __mul__(self, o): return np.multiply(self, o)
    def __rmul__(self, o): return np.multiply(o, self)
    def __truediv__(self, o): return np.divide(self, o)
    def __rtruediv__(self, o): return np.divide(o, self)
    def __pow__(self, o): return np.power(self, o)
    def __rpow__(self, o): return np.power(o, self)
    def __neg__(self): return np.negative(self)
    def __pos__(self): return self
    def __abs__(self): return np.absolute(self)
    def __gt__(self, o): return np.greater(self, o)
    def __ge__(self, o): return np.greater_equal(self, o)
    def __lt__(self, o): return np.less(self, o)
    def __le__(self, o): return np.less_equal(self, o)
    def __eq__(self, o): return np.equal(self, o)  # noqa: PLR2004
    def __ne__(self, o): return np.not_equal(self, o)

    def __invert__(self): return Sym(f"(not {self.src})")
    def __and__(self, o): return Sym(f"({self.src} and {_src(o)})")
    def __rand__(self, o): return Sym(f"({_src(o)} and {self.src})")
    def __or__(self, o): return Sym(f"({self.src} or {_src(o)})")
    def __ror__(self, o): return Sym(f"({_src(o)} or {self.src})")

    def __bool__(self):
        raise NotScalar("Python control flow on a scalar placeholder")

    __hash__ = None

    def astype(self, dtype, copy=True):
        if np.dtype(dtype).kind in "fc":
            return Sym(f"F({self.src})")  # F: the kernel's float type
        raise NotScalar("integer cast")

    # the kernels compute in the arrays' float type; casts to a float type are no-ops there
    dtype = np.dtype(np.float64)


def _src(x):
    if isinstance(x, Sym):
        return x.src
    if isinstance(x, (bool, np.bool_)):
        return "1.0" if x else "0.0"
    if isinstance(x, (int, float, np.integer, np.floating)):
        return repr(float(x))
    raise NotScalar(f"operand {type(x).__name__}")


def scalar_forms(prim):
    """(forward source template, [derivative source template per argument]) of an
    elementwise primitive, with `{a}` for the result and `{0}`, `{1}` for the arguments; None
    where the declaration has no scalar form. Cached on `prim.scalar`."""
    cached = prim.scalar
    if cached is not None:
        return cached or None
    forms = False
    if prim.elementwise is not None and not prim.multiple_results:
        arity = len(prim.elementwise)
        args = [Sym("{%d}" % i) for i in range(arity)]
        try:
            ans = prim.impl(*args)
            derivs = []
            for d in prim.elementwise:
                if d is None:
                    derivs.append(None)
                    continue
                value = d(Sym("{a}"), *args)
                derivs.append(_src(value))
            if isinstance(ans, Sym):
                forms = (ans.src, derivs)
        except (NotScalar, TypeError, AttributeError, ValueError):
            forms = False
    prim.scalar = forms
    return forms or None
