"""Predicates and descriptions of arrays: what they hold, how they compare, how they print.

Nothing here has a derivative. Each function reads the primal value of a traced argument and
returns what NumPy returns for that value (a bool, a boolean array, a string), so code that
branches on `gnp.iscomplexobj(x)` or prints `gnp.array_str(x)` behaves the same inside `grad`.
"""
import numpy as np

from ..trace import nondiff
from .define import passthrough

# ---- the kind of values ------------------------------------------------------------------------
isrealobj = nondiff(np.isrealobj, "isrealobj")
iscomplexobj = nondiff(np.iscomplexobj, "iscomplexobj")
isscalar = nondiff(np.isscalar, "isscalar")
iterable = nondiff(np.iterable, "iterable")
isreal = passthrough("isreal")
iscomplex = passthrough("iscomplex")
isnat = passthrough("isnat")
isfortran = passthrough("isfortran")

# ---- comparisons of whole arrays and of memory -------------------------------------------------
array_equiv = passthrough("array_equiv")
isin = passthrough("isin")
may_share_memory = passthrough("may_share_memory")
shares_memory = passthrough("shares_memory")

# ---- text ------------------------------------------------------------------------------------
array2string = passthrough("array2string")
array_repr = passthrough("array_repr")
array_str = passthrough("array_str")
