"""Comparisons, logical ops, predicates and integer ops: results are booleans or integers, so
they carry no derivative.

On traced values they return plain arrays, which is what lets Python control flow depend on
values (`if x > 0:`) inside a differentiated function.
"""
import numpy as np

from ..trace import nondiff
from .define import passthrough

equal = nondiff(np.equal, "equal")
not_equal = nondiff(np.not_equal, "not_equal")
less = nondiff(np.less, "less")
less_equal = nondiff(np.less_equal, "less_equal")
greater = nondiff(np.greater, "greater")
greater_equal = nondiff(np.greater_equal, "greater_equal")
logical_and = nondiff(np.logical_and, "logical_and")
logical_or = nondiff(np.logical_or, "logical_or")
logical_xor = nondiff(np.logical_xor, "logical_xor")
logical_not = nondiff(np.logical_not, "logical_not")
isnan = nondiff(np.isnan, "isnan")
isinf = nondiff(np.isinf, "isinf")
isfinite = nondiff(np.isfinite, "isfinite")
isposinf = nondiff(np.isposinf, "isposinf")
isneginf = nondiff(np.isneginf, "isneginf")
bitwise_and = nondiff(np.bitwise_and, "bitwise_and")
bitwise_or = nondiff(np.bitwise_or, "bitwise_or")
bitwise_xor = nondiff(np.bitwise_xor, "bitwise_xor")
invert = nondiff(np.invert, "invert")
left_shift = nondiff(np.left_shift, "left_shift")
right_shift = nondiff(np.right_shift, "right_shift")
bitwise_count = nondiff(np.bitwise_count, "bitwise_count")
gcd = nondiff(np.gcd, "gcd")
lcm = nondiff(np.lcm, "lcm")
# NumPy 2's array-API names for the same ufuncs.
bitwise_not = bitwise_invert = invert
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift

packbits = passthrough("packbits")
unpackbits = passthrough("unpackbits")
