"""NumPy's own objects, re-exported: constants, scalar types (dtype aliases), dtype functions,
the floating-point error state, printing options and index helpers.

They carry no derivative and need no gpuad version, so `gnp.float64 is numpy.float64`,
`gnp.errstate is numpy.errstate`. The dtype functions that take arrays (`result_type`,
`can_cast`, `min_scalar_type`, `common_type`) read a traced array's primal value, so they work
inside `grad` as well (NumPy's own would refuse the tracer).

`seterr`, `geterr`, `errstate` and the other error-state functions govern NumPy's floating-point
warnings, so they apply to gpuad on the CPU (its ops run NumPy's ufuncs); CuPy never reports
floating-point errors, so on the GPU they change nothing, as with plain CuPy code.
"""
import numpy as np

from ..trace import nondiff

# Every NumPy scalar type, which is every dtype alias (`longdouble`, `intp`, `single`, `bool`...):
# read off NumPy so the platform-dependent ones (`float128`, `complex256`) appear where they exist.
_SCALAR_TYPES = {name: obj for name, obj in vars(np).items()
                 if not name.startswith("_") and isinstance(obj, type)
                 and issubclass(obj, np.generic)}
globals().update(_SCALAR_TYPES)

pi, e, inf, nan, newaxis, euler_gamma = np.pi, np.e, np.inf, np.nan, np.newaxis, np.euler_gamma
False_, True_, ScalarType, little_endian = np.False_, np.True_, np.ScalarType, np.little_endian
typecodes, sctypeDict = np.typecodes, np.sctypeDict
dtype, finfo, iinfo, ndarray = np.dtype, np.finfo, np.iinfo, np.ndarray
dtypes, exceptions = np.dtypes, np.exceptions

promote_types, issubdtype, isdtype = np.promote_types, np.issubdtype, np.isdtype
mintypecode, typename = np.mintypecode, np.typename
format_float_positional, format_float_scientific = (np.format_float_positional,
                                                    np.format_float_scientific)
base_repr, binary_repr = np.base_repr, np.binary_repr
result_type = nondiff(np.result_type, "result_type")
can_cast = nondiff(np.can_cast, "can_cast")
min_scalar_type = nondiff(np.min_scalar_type, "min_scalar_type")
common_type = nondiff(np.common_type, "common_type")

seterr, geterr, errstate = np.seterr, np.geterr, np.errstate
seterrcall, geterrcall, setbufsize, getbufsize = (np.seterrcall, np.geterrcall, np.setbufsize,
                                                  np.getbufsize)
set_printoptions, get_printoptions, printoptions = (np.set_printoptions, np.get_printoptions,
                                                    np.printoptions)

broadcast_shapes, ndindex, s_, index_exp = np.broadcast_shapes, np.ndindex, np.s_, np.index_exp

__all__ = list(_SCALAR_TYPES) + [
           "pi", "e", "inf", "nan", "newaxis", "euler_gamma", "False_", "True_", "ScalarType",
           "little_endian", "typecodes", "sctypeDict", "dtype", "finfo", "iinfo", "ndarray",
           "dtypes", "exceptions", "promote_types", "issubdtype", "isdtype", "mintypecode",
           "typename", "format_float_positional", "format_float_scientific", "base_repr",
           "binary_repr", "result_type", "can_cast", "min_scalar_type", "common_type", "seterr",
           "geterr", "errstate", "seterrcall", "geterrcall", "setbufsize", "getbufsize",
           "set_printoptions", "get_printoptions", "printoptions", "broadcast_shapes", "ndindex",
           "s_", "index_exp"]
