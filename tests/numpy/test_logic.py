"""Bitwise and integer ops (gpuad/numpy/logic.py): NumPy's values, on traced operands too."""
import numpy as np
import pytest

from .numpy_reference import matches_numpy

A = np.array([12, 18, 7, 255], dtype=np.int64)
B = np.array([8, 27, 3, 1], dtype=np.int64)

CASES = [(name, lambda m, name=name: getattr(m, name)(A, B))
         for name in ("gcd", "lcm", "left_shift", "right_shift", "bitwise_left_shift",
                      "bitwise_right_shift", "bitwise_and", "bitwise_or", "bitwise_xor")]
CASES += [(name, lambda m, name=name: getattr(m, name)(A))
          for name in ("invert", "bitwise_not", "bitwise_invert", "bitwise_count")]
CASES += [("packbits", lambda m: m.packbits(np.array([[1, 0, 1], [0, 1, 1]], np.uint8), axis=1)),
          ("unpackbits", lambda m: m.unpackbits(np.array([[5], [255]], np.uint8), axis=1))]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn):
    matches_numpy(fn, ())


def test_comparisons_of_traced_values_are_plain_booleans():
    x = np.array([0.5, -1.0, 2.0])
    matches_numpy(lambda m, x: m.less(x, 0.7) & m.isfinite(x), (x,))
