"""Differentiation cases for the general eigenproblem (eig, eigvals) and for complex input to
svd, svdvals, qr, pinv, cholesky and eigh (found and imported by tests/cases.py).

Eigenvectors and singular vectors are defined only up to a phase per vector, so the cases
differentiate functions that do not depend on those phases: |V|^2 weighted, reconstructions
such as V diag(w) V^-1 or U diag(s) Vh, projectors u_j u_j^H, and the values themselves.
"""
import numpy as np

import gpuad.numpy as gnp
from gpuad.numpy import linalg as la

from . import cases_complex  # noqa: F401  (its complex domains)
from .cases import DOMAINS, add

L = ("linalg",)


def _conditioned_basis(shape, rng, complex_=False):
    n = shape[-1]
    p = rng.standard_normal(shape) + 2.5 * np.eye(n)
    if complex_:
        p = p + 0.5j * rng.standard_normal(shape)
    return p


def _general_real(shape, rng):
    """Real matrices P B P^-1 with eigenvalues well apart: 1.5, 3, ... and, for n >= 2, one
    complex-conjugate pair in place of the first two (a rotation-scaling block)."""
    n = shape[-1]
    w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
    b = w[..., :, None] * np.eye(n)
    if n >= 2:
        b[..., 0, 1], b[..., 1, 0] = 1.2, -1.2   # eigenvalues w0 +- 1.2i (w0 = b[0, 0] = b[1, 1])
        b[..., 1, 1] = b[..., 0, 0]
    p = _conditioned_basis(shape, rng)
    return p @ b @ np.linalg.inv(p)


def _general_real_spectrum(shape, rng):
    """Real matrices with real, well separated eigenvalues (NumPy returns real arrays there;
    gpuad's eig returns complex ones)."""
    n = shape[-1]
    w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
    p = _conditioned_basis(shape, rng)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


def _general_complex(shape, rng):
    n = shape[-1]
    w = (np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
         + 1j * rng.uniform(-1.0, 1.0, shape[:-1]))
    p = _conditioned_basis(shape, rng, complex_=True)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


DOMAINS["general"] = _general_real
DOMAINS["general_real_spectrum"] = _general_real_spectrum
DOMAINS["general_complex"] = _general_complex


def _weights(shape):
    return np.arange(1, int(np.prod(shape)) + 1, dtype=float).reshape(shape) / np.prod(shape)


def _abs2_weighted(v):
    m = gnp.abs(v)
    return m ** 2 * _weights(v.shape[-2:]).astype(m.dtype)


def _eig_reconstruct(a):
    w, v = la.eig(a)
    return (v * w[..., None, :]) @ la.inv(v)


# ---- eig and eigvals -------------------------------------------------------------------------
for domain in ("general", "general_real_spectrum", "general_complex"):
    for shape in [(3, 3), (2, 3, 3)]:
        real_in = domain != "general_complex"
        add(f"eig_values {domain}{shape}", lambda a: la.eig(a).eigenvalues, (shape, domain),
            float32=False, tags=L)
        add(f"eig_abs_vectors {domain}{shape}",
            lambda a: _abs2_weighted(la.eig(a).eigenvectors), (shape, domain),
            float32=real_in, tags=L)
        add(f"eig_reconstruct {domain}{shape}",
            (lambda a: gnp.real(_eig_reconstruct(a))) if real_in else _eig_reconstruct,
            (shape, domain), float32=real_in, tags=L)
        add(f"eigvals {domain}{shape}", la.eigvals, (shape, domain), float32=False, tags=L)
add("eig_loss", lambda a: gnp.sum(gnp.abs(la.eig(a)[0]) ** 2)
    + gnp.sum(gnp.abs(la.eig(a)[1][..., 0, :])), ((4, 4), "general"), tags=L)
add("eig_1x1", lambda a: la.eig(a)[0], ((1, 1), "real"), float32=False, tags=L)


# ---- complex svd, svdvals, qr, pinv ----------------------------------------------------------
def _complex_separated(shape, rng):
    """Complex U diag(s) V^H with singular values well apart and away from zero."""
    m, n = shape[-2:]
    k = min(m, n)
    c = lambda s: rng.standard_normal(s) + 1j * rng.standard_normal(s)
    u, _ = np.linalg.qr(c(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(c(shape[:-2] + (n, k)))
    s = np.arange(k, 0, -1) * 1.3 + rng.uniform(-0.2, 0.2, shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))


def _complex_hpd(shape, rng):
    """Hermitian positive definite."""
    m = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return m @ np.conj(np.swapaxes(m, -1, -2)) + shape[-1] * np.eye(shape[-1])


def _complex_hermitian(shape, rng):
    """Hermitian with well separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
    return (q * w[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))


DOMAINS["complex_separated"] = _complex_separated
DOMAINS["complex_hpd"] = _complex_hpd
DOMAINS["complex_hermitian"] = _complex_hermitian


def _svd(a):
    return la.svd(a, full_matrices=False)


C = ("linalg", "complex")
for shape in [(3, 3), (4, 2), (2, 4), (2, 4, 3)]:
    dom = (shape, "complex_separated")
    add(f"complex_svdvals{shape}", la.svdvals, dom, float32=False, tags=C)
    add(f"complex_svd_s{shape}", lambda a: _svd(a).S, dom, float32=False, tags=C)
    add(f"complex_svd_abs_u{shape}", lambda a: _abs2_weighted(_svd(a).U), dom, float32=False,
        tags=C)
    add(f"complex_svd_abs_vh{shape}", lambda a: _abs2_weighted(_svd(a).Vh), dom, float32=False,
        tags=C)
    add(f"complex_svd_polar{shape}", lambda a: _svd(a).U @ _svd(a).Vh, dom, float32=False,
        tags=C)
    add(f"complex_svd_reconstruct{shape}",
        lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(*_svd(a)), dom, float32=False,
        tags=C)
    add(f"complex_pinv{shape}", la.pinv, dom, float32=False, tags=C)
add("complex_svd_projectors", lambda a: (lambda u, s, vh: u[:, :1] * gnp.conj(u[:, :1]).T
                                         + vh[:1].T * gnp.conj(vh[:1]))(*_svd(a)),
    ((3, 3), "complex_separated"), float32=False, tags=C)
add("complex_svd_full_square", lambda a: gnp.abs(la.svd(a).U), ((3, 3), "complex_separated"),
    float32=False, tags=C)
add("complex_pinv_of_real_times_complex", lambda x, z: la.pinv(x * z),
    ((3, 2), "separated"), ((), "complex_right"), float32=False, tags=C)
for shape in [(3, 3), (4, 2), (2, 4), (2, 4, 3), (2, 2, 3)]:
    add(f"complex_qr{shape}", la.qr, (shape, "complex"), float32=False, tags=C)
add("complex_qr_mode_r", lambda a: la.qr(a, mode="r"), ((4, 3), "complex"), float32=False,
    tags=C)

# ---- complex (Hermitian) cholesky and eigh ---------------------------------------------------
for shape in [(3, 3), (2, 3, 3)]:
    add(f"complex_cholesky{shape}", la.cholesky, (shape, "complex_hpd"), float32=False, tags=C)
    add(f"complex_cholesky_upper{shape}", lambda a: la.cholesky(a, upper=True),
        (shape, "complex_hpd"), float32=False, tags=C)
    add(f"complex_eigvalsh{shape}", la.eigvalsh, (shape, "complex_hermitian"), float32=False,
        tags=C)
    add(f"complex_eigh_U_values{shape}", lambda a: la.eigh(a, UPLO="U").eigenvalues,
        (shape, "complex_hermitian"), float32=False, tags=C)
    add(f"complex_eigh_abs_vectors{shape}", lambda a: _abs2_weighted(la.eigh(a).eigenvectors),
        (shape, "complex_hermitian"), float32=False, tags=C)
    add(f"complex_eigh_reconstruct{shape}",
        lambda a: (lambda w, v: (v * w[..., None, :]) @ gnp.conj(v).mT)(*la.eigh(a, UPLO="U")),
        (shape, "complex_hermitian"), float32=False, tags=C)
