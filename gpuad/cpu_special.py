"""Special functions for NumPy arrays, compiled by Numba, so `gpuad.scipy.special` needs no SciPy.

On the ground floor with `backend.py`, which calls it (`special_function`); it imports nothing
of gpuad.

erf, erfc, gamma and gammaln come from C's libm (`math.erf`, `math.gamma`, `math.lgamma`),
which Numba compiles to vectorized ufuncs; xlogy and xlog1py follow SciPy's convention
0 * log(0) = 0. digamma and polygamma (the derivatives of gammaln) are computed here: the
recurrence moves the argument above 10, then the asymptotic series (digamma) or the
Euler-Maclaurin sum of the Hurwitz zeta function (polygamma) converge to double precision.
Compiled on first use and cached on disk (Numba's `cache=True`).
"""
import math

import numba
import numpy as np

# float32 first: a DUFunc takes the first loop the input casts to safely.
_SIGNATURES = ["float32(float32)", "float64(float64)"]

# Bernoulli numbers B2, B4, ..., B16 for the asymptotic series.
_BERNOULLI = np.array([1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510])


@numba.vectorize(_SIGNATURES, cache=True)
def erf(x):
    return math.erf(x)


@numba.vectorize(_SIGNATURES, cache=True)
def erfc(x):
    return math.erfc(x)


@numba.vectorize(_SIGNATURES, cache=True)
def gammaln(x):
    return math.lgamma(x)


@numba.vectorize(_SIGNATURES, cache=True)
def gamma(x):
    if x <= 0.0 and math.floor(x) == x:
        return math.nan  # poles (math.gamma raises there; SciPy returns nan or inf)
    return math.gamma(x)


_BINARY_SIGNATURES = ["float32(float32, float32)", "float64(float64, float64)"]


@numba.vectorize(_BINARY_SIGNATURES, cache=True)
def xlogy(x, y):
    if x == 0.0 and not math.isnan(y):
        return 0.0
    if y == 0.0:  # x log 0 without the divide-by-zero flag (SciPy raises no warning)
        return -math.inf if x > 0.0 else math.inf
    return x * math.log(y) if y >= 0.0 else math.nan  # nan for y < 0 and for y nan


@numba.vectorize(_BINARY_SIGNATURES, cache=True)
def xlog1py(x, y):
    if x == 0.0 and not math.isnan(y):
        return 0.0
    if y == -1.0:
        return -math.inf if x > 0.0 else math.inf
    return x * math.log1p(y) if y >= -1.0 else math.nan  # nan for y < -1 and for y nan


@numba.njit(cache=True)
def _digamma_scalar(x):
    if x <= 0.0 and math.floor(x) == x:
        return math.nan  # poles at 0, -1, -2, ...
    result = 0.0
    if x < 0.0:  # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
        result -= math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 10.0:  # psi(x) = psi(x + 1) - 1 / x
        result -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = 0.0
    power = inv2
    for k in range(_BERNOULLI.size):
        series += _BERNOULLI[k] / (2 * (k + 1)) * power
        power *= inv2
    return result + math.log(x) - 0.5 / x - series


@numba.vectorize(_SIGNATURES, cache=True)
def digamma(x):
    return _digamma_scalar(x)


@numba.njit(cache=True)
def _hurwitz_zeta(s, x):
    """zeta(s, x) = sum_k (x + k)^-s for integer s >= 2, by direct sum then Euler-Maclaurin."""
    total = 0.0
    while x < 10.0:
        total += (x) ** (-s)
        x += 1.0
    total += x ** (1.0 - s) / (s - 1.0) + 0.5 * x ** (-s)
    # sum_j B_2j / (2j)! * s (s+1) ... (s+2j-2) * x^(-s-2j+1)
    rising = s
    factorial = 2.0
    power = x ** (-s - 1.0)
    for j in range(1, _BERNOULLI.size + 1):
        total += _BERNOULLI[j - 1] / factorial * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
        power /= x * x
    return total


@numba.njit(cache=True)
def _polygamma_scalar(n, x):
    if n == 0:
        return _digamma_scalar(x)
    if x <= 0.0 and math.floor(x) == x:
        return math.nan
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * math.gamma(n + 1.0) * _hurwitz_zeta(n + 1.0, x)


@numba.vectorize(["float32(int64, float32)", "float64(int64, float64)"], cache=True)
def polygamma(n, x):
    return _polygamma_scalar(n, x)
