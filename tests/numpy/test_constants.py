"""NumPy's own constants, dtype aliases, dtype functions and error state in gpuad.numpy
(gpuad/numpy/constants.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


@pytest.mark.parametrize("name", ["longdouble", "clongdouble", "single", "double", "intp",
                                  "uintp", "int_", "bool", "byte", "ubyte", "short", "half",
                                  "csingle", "cdouble", "longlong", "object_", "str_", "generic",
                                  "signedinteger", "datetime64"])
def test_dtype_aliases_are_numpys(name):
    assert getattr(gnp, name) is getattr(np, name)


def test_every_numpy_scalar_type_is_there():
    for name, obj in vars(np).items():
        if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, np.generic):
            assert getattr(gnp, name) is obj, name


def test_error_state_is_numpys_and_governs_gpuad_on_the_cpu():
    assert gnp.errstate is np.errstate and gnp.seterr is np.seterr
    old = gnp.geterr()
    try:
        with gnp.errstate(divide="raise"):
            with pytest.raises(FloatingPointError):
                gnp.log(np.zeros(2))
            with pytest.raises(FloatingPointError):
                ga.grad(lambda x: gnp.sum(gnp.log(x * 0.0)))(np.ones(2))
        assert gnp.geterr() == old
    finally:
        gnp.seterr(**old)


def test_dtype_functions_read_traced_values():
    x32 = np.ones(3, np.float32)

    def f(x):
        assert gnp.result_type(x, np.float16) == np.float32
        assert np.result_type(x, 1.0) == np.float32      # NumPy's own, through __array_function__
        assert gnp.can_cast(x, np.float64)
        assert gnp.min_scalar_type(x) == np.float32
        assert gnp.common_type(x) is np.float32
        return gnp.sum(x)

    ga.grad(f)(x32)
