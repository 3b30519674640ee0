"""The recompute check's fast path for plain NumPy leaves (`Checker._keys` in
gpuad/checkpoint/verify.py): C-contiguous arrays of a numeric dtype and NumPy scalars are
fingerprinted without a call per leaf; the fingerprints must be those of the general path
(`_fingerprint`), whatever the layout, and any one changed bit must still raise in "exact"."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import EveryK, Plan, RecomputationMismatchError, Revolve, StoreAll, scan
from gpuad.checkpoint.actions import Advance, Record, Restore, Reverse, Snapshot
from gpuad.checkpoint.verify import _UINT, Checker, _fingerprint

DTYPES = [np.bool_, np.int8, np.uint16, np.int32, np.int64, np.uint64, np.float16, np.float32,
          np.float64, np.complex64, np.complex128]
# large leaves (over 512 bytes at every dtype): 64-bit words of their bytes, and (an odd
# number of elements of 1, 2 or 4 bytes: not a multiple of 8 bytes) words of their itemsize
SHAPES = [(40, 30), (1029,), (3, 301)]


def values(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 100
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype) if dtype is not np.bool_ else x > 0


def checker(mode="exact"):
    return Checker(mode, lambda i: ("scan (a test)", ["carry"], f"step {i}"))


def flip_bit(x, bit):
    """A copy of `x` with bit number `bit` of its bytes (C order) flipped."""
    y = np.array(x, order="C", copy=True)
    raw = y.reshape(-1).view(np.uint8)
    raw[bit // 8] ^= np.uint8(1 << (bit % 8))
    return y


def layouts(x):
    """`x` in other layouts with the same values: Fortran order, a strided slice, reversed."""
    big = np.zeros((2,) + x.shape, x.dtype)
    big[1] = x
    out = [np.asfortranarray(x), big[1], np.ascontiguousarray(x[::-1])[::-1]]
    for y in out:
        np.testing.assert_array_equal(y, x)
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_fast_fingerprints_are_the_general_ones_in_every_layout(dtype, shape):
    x = values(dtype, shape)
    c = checker()
    assert x.flags.c_contiguous and x.nbytes > 512
    want = [_fingerprint(x, True)]
    assert c._keys([x]) == want
    for y in layouts(x):
        assert c._keys([y]) == want, y.strides


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_any_changed_bit_of_a_large_leaf_raises_in_exact_mode(dtype, shape):
    x = values(dtype, shape)
    bits = 8 * x.nbytes
    rng = np.random.default_rng(1)
    for bit in [0, bits - 1, *rng.integers(0, bits, 6)]:
        y = flip_bit(x, int(bit))
        c = checker()
        c.note(3, [x])
        c.check(3, [x.copy()])  # the same values pass
        for other in [y, *layouts(y)]:
            with pytest.raises(RecomputationMismatchError,
                               match=r"step 3 .*\n  carry: its bits differ"):
                c.check(3, [other])


def test_non_contiguous_first_pass_and_contiguous_recomputation():
    x = values(np.float32, (40, 30))
    c = checker()
    c.note(0, [np.asfortranarray(x)])
    c.check(0, [x])
    with pytest.raises(RecomputationMismatchError, match="bits differ"):
        c.check(0, [flip_bit(x, 77)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_scalar_leaves_keep_their_bytes(dtype):
    """NumPy scalars: the fingerprint of their 0-d array, an exact report on a mismatch."""
    s = values(dtype, (), seed=2)[()]
    assert type(s) is np.dtype(dtype).type
    c = checker()
    assert c._keys([s]) == [_fingerprint(np.asarray(s), True)] == c._keys([np.asarray(s)])
    c.note(1, [s])
    c.check(1, [np.asarray(s)])  # a 0-d array of the same value and dtype is the same leaf
    c.check(1, [type(s)(s)])
    changed = flip_bit(np.asarray(s), 0)[()]
    with pytest.raises(RecomputationMismatchError, match=r"carry: largest difference "):
        c.check(1, [changed])


def test_scalar_sign_of_zero_and_nan():
    c = checker()
    c.note(0, [np.float32(0.0), np.float64(np.nan), np.float32(1.5)])
    c.check(0, [np.float32(0.0), np.float64(np.nan), np.float32(1.5)])
    with pytest.raises(RecomputationMismatchError, match="largest difference 0 "):
        c.check(0, [np.float32(-0.0), np.float64(np.nan), np.float32(1.5)])
    for other in (1.5, np.float64(1.5), np.array(1.5)):  # a Python float is float64
        with pytest.raises(RecomputationMismatchError,
                           match="changed dtype, from float32 to float64"):
            c.check(0, [np.float32(0.0), np.float64(np.nan), other])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
def test_nan_payloads_match(dtype):
    """A signaling NaN scalar's bytes may come back quiet (struct goes through a double):
    NaN matches NaN whatever its payload, in kept bytes; a number where NaN was still differs."""
    bits = {2: 0x7C01, 4: 0x7F800001, 8: 0x7FF0000000000001}
    part = np.dtype(dtype).type(0).real.dtype
    snan = np.array(bits[part.itemsize], _UINT[part.itemsize]).view(part)
    quiet = np.array(np.nan, part)
    assert np.isnan(snan) and snan.tobytes() != quiet.tobytes()
    first, again = (np.array([v, v]).view(dtype).reshape(()) if part != dtype else v
                    for v in (snan, quiet))
    for mode in ("exact", "allclose"):
        c = checker(mode)
        c.note(0, [first[()], first])
        c.check(0, [again[()], again])
        c.check(0, [first, first[()]])
        with pytest.raises(RecomputationMismatchError, match="largest difference nan"):
            c.check(0, [np.zeros((), dtype)[()], first])


def test_allclose_mode_is_unchanged_for_large_leaves():
    x = values(np.float32, (40, 30))
    c = checker("allclose")
    c.note(0, [x])
    assert c.notes[0] == [_fingerprint(x, False)]
    c.check(0, [np.nextafter(x, np.float32(np.inf))])  # one ulp: within tolerance
    with pytest.raises(RecomputationMismatchError, match="sum of its elements went from"):
        c.check(0, [x + 1])


def test_one_changed_bit_in_a_scan_carry_raises():
    """End to end, a float32 carry as in benchmarks/bptt.py: the first pass's step k and
    its recomputation differ in the lowest bit of one element."""
    h0 = np.zeros((32, 64), np.float32)
    xs = np.random.default_rng(3).standard_normal((10, 32, 64)).astype(np.float32)

    def loss(w, flip):
        calls = [0]

        def step(h, x):
            calls[0] += 1
            h = gnp.tanh(h * w + x)
            if flip and calls[0] == 12:  # the step's second evaluation: a recomputation
                h = h + ga.stop_gradient(flip_bit(ga.stop_gradient(h), 8 * 4 * 100) -
                                         ga.stop_gradient(h))
            return h, gnp.sum(h)
        _, ys = scan(step, h0, xs, schedule=EveryK(4))
        return gnp.sum(ys)
    assert np.isfinite(ga.grad(loss)(np.float32(0.5), False))
    with pytest.raises(RecomputationMismatchError, match=r"carry: its bits differ"):
        ga.grad(loss)(np.float32(0.5), True)


@pytest.mark.parametrize("schedule", [EveryK(1), EveryK(3), EveryK(32), Revolve(1), Revolve(4),
                                      Revolve(32)], ids=repr)
@pytest.mark.parametrize("length", [1, 2, 10, 100])
def test_evaluated_once_from_is_where_every_step_is_evaluated_once(schedule, length):
    plan = schedule.plan(length)
    counts = np.zeros(length + 1, int)
    for act in plan.actions:
        if type(act) in (Advance, Record):
            counts[act.start:act.stop] += 1
    counts = counts[:length]
    k = plan.evaluated_once_from
    assert (counts[k:] == 1).all() and (k == 0 or counts[k - 1] > 1)


def test_steps_evaluated_once_are_not_fingerprinted(monkeypatch):
    """A plan that records steps 6..9 in its forward phase and recomputes 0..5: only those
    are fingerprinted, and an impure step among them still raises."""
    actions = [Snapshot(0), Advance(0, 6), Record(6, 10), Reverse(9), Reverse(8), Reverse(7),
               Reverse(6), Restore(0), Record(0, 6)] + [Reverse(i) for i in range(5, -1, -1)]

    class Partial(StoreAll):
        def plan(self, length):
            return Plan(length, actions, "Partial")
    seen = []
    check = Checker.check
    monkeypatch.setattr(Checker, "check", lambda self, i, leaves: (seen.append(i),
                                                                   check(self, i, leaves)))
    assert Partial().plan(10).evaluated_once_from == 6
    xs = np.arange(10.0)

    def loss(w, impure):
        calls = [0]

        def step(h, x):
            calls[0] += 1
            return gnp.tanh(h * w + x) + (1e-9 * calls[0] if impure else 0), None
        h, _ = scan(step, 0.1, xs, schedule=Partial())
        return h
    np.testing.assert_allclose(ga.grad(loss)(0.5, False), ga.grad(
        lambda w: scan(lambda h, x: (gnp.tanh(h * w + x), None), 0.1, xs,
                       schedule=StoreAll())[0])(0.5), rtol=1e-12)
    assert sorted(seen) == sorted(2 * list(range(6)))
    with pytest.raises(RecomputationMismatchError, match="step 0"):
        ga.grad(loss)(0.5, True)
