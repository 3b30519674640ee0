"""The modified Bessel functions of the first kind: iv(v, x), i0 and i1.

`numpy.i0` is one of them, and its derivatives need the others: I_0' = I_1,
I_1' = (I_0 + I_2) / 2, and I_v' = (I_{v-1} + I_{v+1}) / 2 for the order-v function (v a
constant, not differentiable). `gpuad.scipy.special` re-exports them under SciPy's names.
"""
from .define import binary_op, defunary, elementwise_primitive
from .special_calls import special_impl

iv_p = elementwise_primitive(
    "iv", special_impl("iv"),
    derivatives=(None, lambda ans, v, x: 0.5 * (iv(v - 1, x) + iv(v + 1, x))))
iv = binary_op(iv_p, "The modified Bessel function of the first kind I_v(x), order v constant.")

i0, i0_p = defunary("i0", special_impl("i0"), d=lambda ans, x: i1(x),
                    doc="The modified Bessel function of order 0.")
i1, i1_p = defunary("i1", special_impl("i1"), d=lambda ans, x: 0.5 * (i0(x) + iv(2, x)),
                    doc="The modified Bessel function of order 1.")
