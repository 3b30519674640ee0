"""Differentiation cases at the degenerate points users hit, where the mathematics is finite
(found and imported by tests/cases.py): repeated eigenvalues and singular values, exact zeros
under powers and moduli, one-element variances.

Only functions that are smooth at those points are here, so finite differences apply: at a tie
of eigenvalues, symmetric functions of them (sum f(w), the nuclear norm), at first order (their
second derivatives pass through the eigenvectors, which are not determined there: see
`gnp.linalg.eigh`). Eigenvector functions at ties, which have no right finite derivative
through the decomposition, are tested in tests/numpy/test_linalg.py.
"""
import numpy as np

import gpuad.numpy as gnp
from gpuad.numpy import linalg as la
from gpuad.scipy import linalg as sla

from . import cases_complex  # noqa: F401  (its complex domains)
from .cases import DOMAINS, add

D = ("degenerate",)


def _tied_values(shape, rng):
    """Per matrix: the first two values equal, the others apart, all in [1, 4]."""
    n = shape[-1]
    w = np.sort(rng.uniform(1.0, 4.0, shape[:-2] + (n,)), axis=-1)
    w[..., 1] = w[..., 0]
    return w


def _sym_tied(shape, rng):
    """Q diag(w) Q^T with a repeated eigenvalue: the computed eigenvalues are apart by a few
    rounding errors, not exactly equal."""
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    return (q * _tied_values(shape, rng)[..., None, :]) @ np.swapaxes(q, -1, -2)


def _sym_tied_exact(shape, rng):
    """A permuted diagonal matrix with a repeated entry: eigenvalues exactly equal."""
    n = shape[-1]
    w = _tied_values(shape, rng)
    p = rng.permutation(n)
    return (w[..., None, :] * np.eye(n))[..., p, :][..., :, p]


def _with_singular_values(shape, rng, s):
    """U diag(s) V^T with random orthonormal U, V; s (..., min(m, n))."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def _sv_tied(shape, rng):
    """A repeated singular value (all in [1, 4])."""
    k = min(shape[-2:])
    return _with_singular_values(shape, rng, _tied_values(shape[:-2] + (k, k), rng))


def _sv_tied_exact(shape, rng):
    """A scaled partial permutation with signs and a repeated entry: singular values exactly
    equal."""
    m, n = shape[-2:]
    k = min(m, n)
    out = np.zeros(shape)
    for index in np.ndindex(*shape[:-2]):
        s = _tied_values((k, k), rng) * rng.choice([-1.0, 1.0], k)
        out[index][rng.permutation(m)[:k], rng.permutation(n)[:k]] = s
    return out


def _rank_deficient(shape, rng):
    """The last singular value 0 (computed: a rounding error), the others apart."""
    k = min(shape[-2:])
    s = np.arange(k, 0, -1) * 1.2 + rng.uniform(-0.2, 0.2, shape[:-2] + (k,))
    s[..., -1] = 0.0
    return _with_singular_values(shape, rng, s)


def _negative_eigenvalue(shape, rng):
    """P diag(w) P^-1 with one negative eigenvalue: no principal square root, SciPy's complex
    one instead."""
    n = shape[-1]
    w = rng.uniform(1.0, 3.0, shape[:-1])
    w[..., 0] = -rng.uniform(0.5, 2.0, shape[:-2])
    p = rng.standard_normal(shape) + 2.5 * np.eye(n)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


def _complex_with_zeros(shape, rng):
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    z.flat[::3] = 0.0
    return z


def _complex_centered_zero(shape, rng):
    """Complex lanes (along axis 0) [z, 0, -z]: mean exactly 0, so the middle element is exactly
    its mean."""
    z = rng.standard_normal(shape[1:]) + 1j * rng.standard_normal(shape[1:])
    return np.stack([z, np.zeros_like(z), -z])


DOMAINS["sym_tied"] = _sym_tied
DOMAINS["sym_tied_exact"] = _sym_tied_exact
DOMAINS["sv_tied"] = _sv_tied
DOMAINS["sv_tied_exact"] = _sv_tied_exact
DOMAINS["rank_deficient"] = _rank_deficient
DOMAINS["negative_eigenvalue"] = _negative_eigenvalue
DOMAINS["complex_with_zeros"] = _complex_with_zeros
DOMAINS["complex_centered_zero"] = _complex_centered_zero


def _svd_reconstruction(a):
    u, s, vh = la.svd(a, full_matrices=False)
    return (u * s[..., None, :]) @ vh


# ---- repeated eigenvalues and singular values: symmetric functions, first order -------------
for domain in ("sym_tied", "sym_tied_exact"):
    for shape in [(3, 3), (2, 4, 4)]:
        add(f"eigvalsh_cubes {domain}{shape}", lambda a: gnp.sum(la.eigvalsh(a) ** 3, axis=-1),
            (shape, domain), order=1, tags=D)
        add(f"eigh_values_only_U {domain}{shape}",
            lambda a: gnp.sum(gnp.exp(la.eigh(a, UPLO="U").eigenvalues), axis=-1),
            (shape, domain), order=1, tags=D)
for domain in ("sv_tied", "sv_tied_exact"):
    for shape in [(3, 3), (4, 3), (3, 4), (2, 3, 3)]:
        add(f"svd_s_only {domain}{shape}",
            lambda a: gnp.sum(la.svd(a, full_matrices=False).S ** 3, axis=-1), (shape, domain),
            order=1, tags=D)
        add(f"svdvals_sum {domain}{shape}", lambda a: gnp.sum(la.svdvals(a), axis=-1),
            (shape, domain), order=1, tags=D)
    add(f"norm_nuc {domain}", lambda a: la.norm(a, "nuc"), ((3, 3), domain), order=1, tags=D)
for shape in [(4, 3), (3, 4), (3, 3)]:
    add(f"svd_s_only rank_deficient{shape}",
        lambda a: gnp.sum(la.svd(a, full_matrices=False).S ** 2), (shape, "rank_deficient"),
        order=1, tags=D)
    # U and Vh of a near-zero singular value are not unique, their product with it is
    add(f"svd_reconstruct rank_deficient{shape}", _svd_reconstruction, (shape, "rank_deficient"),
        order=1, tags=D)
# matrix functions made for repeated eigenvalues are smooth there, at every order
for shape in [(3, 3), (2, 3, 3)]:
    add(f"sqrtm sym_tied_exact{shape}", sla.sqrtm, (shape, "sym_tied_exact"), tags=D)
    add(f"expm sym_tied_exact{shape}", sla.expm, (shape, "sym_tied_exact"), tags=D)
    add(f"sqrtm negative_eigenvalue{shape}", sla.sqrtm, (shape, "negative_eigenvalue"),
        float32=False, tags=D)
add("eig_values_only_tied", lambda a: gnp.sum(gnp.real(la.eig(a).eigenvalues) ** 2),
    ((3, 3), "sym_tied_exact"), order=1, float32=False, tags=D)

# ---- exact zeros under powers and moduli --------------------------------------------------------
add("power_int_exponents_with_zeros", lambda x: x ** np.array([0.0, 1.0, 2.0, 3.0]),
    ((3, 4), "with_zeros"), order=3, float32=False, tags=D)
add("power_python_zero_with_zeros", lambda x: gnp.power(x, 0) + gnp.float_power(x, 0.0),
    ((5,), "with_zeros"), order=2, float32=False, tags=D)
add("abs_squared_with_zeros", lambda x: gnp.abs(x) ** 2 + gnp.abs(x) ** 3,
    ((7,), "with_zeros"), order=2, tags=D)
# first order only: no finite second derivative of |z| at 0 gives |z|^2 its own (see gnp.abs)
add("complex_abs_squared_with_zeros", lambda z: gnp.sum(gnp.abs(z) ** 2),
    ((7,), "complex_with_zeros"), order=1, float32=False, tags=D)
add("power_spectrum_with_zero_bin",
    lambda x: gnp.abs(gnp.fft.fft(gnp.concatenate([x, -x]), n=16)) ** 2, ((4,), "real"),
    order=1, tags=D)

# ---- one element per group, and complex data equal to its mean --------------------------------
for axis, keepdims, shape in [(1, False, (3, 1)), (1, True, (3, 1)), (None, False, (1,)),
                              ((0, 2), True, (1, 2, 1))]:
    add(f"std_one_element axis={axis} keep={keepdims}{shape}",
        lambda x, axis=axis, keepdims=keepdims: gnp.std(x, axis=axis, keepdims=keepdims),
        (shape, "real"), order=2, tags=D)
    add(f"var_one_element axis={axis} keep={keepdims}{shape}",
        lambda x, axis=axis, keepdims=keepdims: gnp.var(x, axis=axis, keepdims=keepdims),
        (shape, "real"), order=2, tags=D)
add("std_one_element_ddof_negative", lambda x: gnp.std(x, axis=0, ddof=-1), ((1, 3), "real"),
    order=2, tags=D)
add("complex_var_centered_zero", lambda z: gnp.var(z, axis=0), ((3, 2), "complex_centered_zero"),
    order=2, float32=False, tags=D)
add("complex_std_centered_zero", lambda z: gnp.std(z, axis=0),
    ((3, 2), "complex_centered_zero"), order=2, float32=False, tags=D)
