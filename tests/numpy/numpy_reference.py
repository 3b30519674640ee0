"""Checking a gpuad.numpy function against NumPy's on plain and on traced arguments.

A case is `fn(m, *args)` with `m` the module (numpy or gpuad.numpy): `matches_numpy` runs it
with NumPy, with gpuad on the plain arguments, and with gpuad on the floating arguments traced
(the primal output of `ga.jvp`), and compares values, shapes and dtypes.
"""
import numpy as np

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.trace import primal_value


def assert_same(expected, got, where=""):
    """Equal values (to 1e-12), shapes and dtypes, through tuples and lists."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), where
        for e, g in zip(expected, got):
            assert_same(e, g, where)
        return
    if isinstance(expected, (str, bool, type, np.dtype)) or expected is None:
        assert got == expected, where
        return
    e, g = np.asarray(expected), np.asarray(got)
    assert g.shape == e.shape, f"{where}: shape {g.shape}, NumPy's {e.shape}"
    assert g.dtype == e.dtype, f"{where}: dtype {g.dtype}, NumPy's {e.dtype}"
    if e.dtype.kind in "fc":
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, err_msg=where)
    else:
        np.testing.assert_array_equal(g, e, err_msg=where)


def traced_output(fn, args):
    """fn(gnp, *args) with the floating-point array arguments traced (forward mode)."""
    positions = [i for i, a in enumerate(args)
                 if isinstance(a, np.ndarray) and a.dtype.kind in "fc"]

    captured = []

    def f(*traced):
        full = list(args)
        for i, t in zip(positions, traced):
            full[i] = t
        captured.append(fn(gnp, *full))  # any result: arrays, tuples, bools, strings
        return traced[0] * 1.0

    primals = tuple(args[i] for i in positions)
    if not primals:
        return fn(gnp, *args)
    ga.jvp(f, primals, tuple(np.ones_like(p) for p in primals))
    return _primal(captured[0])


def _primal(out):
    if isinstance(out, (tuple, list)):
        return type(out)(_primal(o) for o in out) if not hasattr(out, "_fields") else \
            type(out)(*(_primal(o) for o in out))
    return primal_value(out)


def matches_numpy(fn, args, traced=True):
    expected = fn(np, *args)
    assert_same(expected, fn(gnp, *args), "plain arguments")
    if traced:
        assert_same(expected, traced_output(fn, args), "traced arguments")
