"""Checking recomputed steps against the first forward pass (`config.recompute_check`).

Checkpointing recomputes in the backward pass what it did not store, and differentiates the
recomputation, so a step that gives something else the second time (NumPy's own random
numbers, a counter in a closure, mutable Python state) silently gets another function's
gradient. So the first pass keeps a fingerprint of every output leaf of every step that may be
recomputed, and every recomputation is compared with it:

- small leaves (up to 512 bytes: scalars, per-step losses) keep their bytes, so a mismatch
  reports the exact largest difference;
- larger ones keep one reduction, no copy. "exact": the wrapping sum of the leaf's bits read as
  unsigned integers, 64-bit words of its bytes in C order when their number is a multiple of 8
  (else words of its itemsize), which any one changed bit changes. "allclose": the float64 sum, which passes if |sum - sum'| <= size·atol +
  rtol·sum(|x'|), as every pair passing `np.allclose(x, x', rtol, atol)` does.
- "allclose" uses NumPy's atol 1e-8 and rtol 1e-5 (or 4 ulps of the dtype if larger); NaN
  matches NaN. "auto" (the default) is exact on NumPy arrays and allclose on CuPy arrays,
  whose reductions (and cuBLAS) need not be bitwise reproducible.

The check runs on every evaluation of a step, so its cost is Python's per leaf: plain NumPy
leaves (C-contiguous arrays of a numeric dtype, NumPy scalars) take one fast path (`_keys`:
one reduction or one copy of their bytes, no tracer unwrapping), and a recomputation whose
fingerprints all equal the first pass's passes with one list comparison. Recomputed steps
are compared where a record or a snapshot uses their outputs (region.advance): a carry that
only feeds further advances is not compared, since a difference in it either reaches a
compared carry or no tape; every tape is still recorded at the first pass's inputs, with its
outputs. On NumPy each compared step is compared at once. Fingerprints of CuPy arrays stay on the
device and are compared in one batch when the region's backward pass ends: one host sync per
region instead of one per step. (PyTorch's checkpoint compares only the shapes and dtypes of
recomputed tensors; comparing values is the point here.) Cost: benchmarks/README.md.
"""
import struct

import numpy as np

from .. import backend
from ..config import config
from ..trace import value_for_check
from ..tree import tree_paths


class RecomputationMismatchError(RuntimeError):
    """A step recomputed by checkpointing gave other values than in the first forward pass."""


ATOL = 1e-8
RTOL = 1e-5
SMALL_BYTES = 512  # leaves up to this size keep their bytes (cheaper than a reduction)

ADVICE = (
    "Checkpointing recomputes what it did not store and differentiates the recomputation, so "
    "the gradient would silently be that of another function: the code must give the same "
    "outputs for the same inputs. Likely causes: NumPy's own random numbers (np.random.*, or "
    "a np.random.default_rng() Generator made outside the step), a counter in a closure, or "
    "other mutable Python state that it reads or changes. Fix: draw random numbers from "
    "gnp.random (its state is saved with each stored carry and restored for the "
    "recomputation), and put any state the step updates in the carry. To turn the check off: "
    "ga.config.recompute_check = 'off' (env GPUAD_RECOMPUTE_CHECK=off).")

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_NUMBERS = (bool, int, float, complex)
_U64 = np.dtype(np.uint64)
# dtypes (native byte order) all of whose bytes are value bits, and their scalar types: the
# fast path (`_keys`)
_PLAIN = frozenset(np.dtype(c) for c in "?bBhHiIlLqQefdFD")
_SCALARS = frozenset(d.type for d in _PLAIN)
_add = np.add.reduce


def _packers():
    """{scalar type: (its bytes, dtype)}: `struct` packs a NumPy scalar's value into the bytes
    of its 0-d array faster than any NumPy call (a signaling NaN may come back quiet: NaN
    matches NaN, `_only_nans_differ`). Complex scalars go by their buffer."""
    out = {}
    for code in "?bBhHiIlLqQefd":
        dtype = np.dtype(code)
        packer = struct.Struct(code)
        one = dtype.type(1)
        if packer.size == dtype.itemsize and packer.pack(one) == one.tobytes():
            out[dtype.type] = (packer.pack, dtype)
    return out


_PACK = _packers()

# fingerprint kinds: (kind, key)
_BYTES = 0    # key: (bytes, dtype, shape) of a small NumPy array or scalar
_NUMBER = 1   # key: a Python number
_SUM = 2      # key: a NumPy scalar, the bits' sum (exact) or the float64 sum (allclose)
_DEVICE = 3   # key: a 0-d device array, as _SUM
_COPY = 4     # key: a copy (object arrays, longdouble: whose padding bytes are not values)


def mode_for(leaves):
    """The check for a region whose carry or inputs are `leaves`: "exact", "allclose" or
    "off", "auto" resolved by where the arrays live."""
    mode = config.recompute_check
    if mode != "auto":
        return mode
    for x in leaves:
        if backend.is_cupy_array(value_for_check(x)):
            return "allclose"
    return "exact"


class Checker:
    """The fingerprints of one region's step outputs, and the comparison of recomputations.

    `note(i, leaves)` in the first pass; `check(i, leaves)` at every later evaluation of step
    i; `flush()` compares what is left on a device. `describe(i)` gives the region's words
    for the error: (what, names of the leaves, which step).
    """

    __slots__ = ("deferred", "describe", "devices", "exact", "notes")

    def __init__(self, mode, describe):
        self.exact = mode == "exact"
        self.describe = describe
        self.notes = {}
        self.deferred = []
        self.devices = False  # whether a fingerprint stays on a device (compared in flush)

    def note(self, i, leaves):
        self.notes[i] = self._keys(leaves)

    def check(self, i, leaves):
        keys = self._keys(leaves)
        # the first evaluation (a plan may make it outside the sweep) keeps its fingerprints;
        # equal ones mean the same values (bits, or NaN where NaN was); device fingerprints
        # are compared in flush, without a host sync per step
        first = self.notes.setdefault(i, keys)
        if first is keys or keys == first and not self.devices:
            return
        exact = self.exact
        rows = None
        for k, (x, old, new) in enumerate(zip(leaves, first, keys)):
            if old[0] != _DEVICE and old == new:  # (== on device keys would sync)
                continue
            raw = value_for_check(x)
            if old[0] == _DEVICE and new[0] == _DEVICE:
                scale = None if exact else (abs(raw).sum(dtype=np.float64), raw.size,
                                            raw.dtype)
                self.deferred.append((i, k, old[1], new[1], scale))
            elif old[1] != new[1] or old[0] != new[0]:
                if old[0] != new[0] and _NUMBER in (old[0], new[0]):
                    # a Python number and a 0-d array of NumPy's default dtype for it are one
                    # value: a step run plainly (the first pass's Advance) keeps a Python
                    # float carry leaf a float, the same step replayed on a tape boxes it
                    old, new = _number_as_array(old, exact), _number_as_array(new, exact)
                    if old == new:
                        continue
                if old[0] == new[0] and (_both_nan(old[1], new[1])
                                         or old[0] == _BYTES and _only_nans_differ(old, new)
                                         or not exact and _close(old, new, raw)):
                    continue
                rows = (rows or []) + [(k, _difference(old, new, raw, exact))]
        if rows:
            self.fail(i, rows)

    def _keys(self, leaves):
        """The fingerprints of `leaves` (`_fingerprint`), plain NumPy leaves without a call."""
        exact = self.exact
        keys = []
        for x in leaves:
            kind = type(x)
            if kind is np.ndarray:
                dtype = x.dtype
                if dtype in _PLAIN:
                    nbytes = x.nbytes
                    if nbytes <= SMALL_BYTES:
                        keys.append((_BYTES, (x.tobytes(), dtype, x.shape)))
                        continue
                    if exact and nbytes % 8 == 0 and x.flags.c_contiguous:
                        # a view, not np.frombuffer: exporting x's buffer leaves NumPy's
                        # buffer info on x (72 B) for as long as x, a stored carry, lives
                        keys.append((_SUM, _add(x.reshape(-1).view(_U64))))
                        continue
            elif kind in _PACK:
                pack, dtype = _PACK[kind]
                keys.append((_BYTES, (pack(x), dtype, ())))
                continue
            elif kind in _SCALARS:
                keys.append((_BYTES, (memoryview(x).tobytes(), x.dtype, ())))
                continue
            key = _fingerprint(value_for_check(x), exact)
            if key[0] == _DEVICE:
                self.devices = True
            keys.append(key)
        return keys

    def flush(self):
        """Compare the fingerprints left on a device (one host sync); raise on a mismatch."""
        deferred, self.deferred = self.deferred, []
        if not deferred:
            return
        xp = backend.namespace(deferred[0][2])
        old = xp.stack([d[2] for d in deferred])
        new = xp.stack([d[3] for d in deferred])
        if self.exact:
            bad = old != new
        else:
            tol = xp.stack([_tolerance(*d[4]) for d in deferred])
            bad = ~((old == new) | (xp.abs(old - new) <= tol)
                    | (xp.isnan(old) & xp.isnan(new)))
        bad = backend.to_numpy_array(bad)
        if not bad.any():
            return
        i = deferred[int(np.argmax(bad))][0]
        rows = [(d[1], _sum_difference(backend.to_numpy_array(d[2]),
                                       backend.to_numpy_array(d[3]), d[4], self.exact))
                for d, b in zip(deferred, bad) if b and d[0] == i]
        self.fail(i, rows)

    def fail(self, i, rows):
        self.deferred = []
        what, names, where = self.describe(i)
        lines = [f"  {names[k] if k < len(names) else f'output leaf {k}'}: {words}"
                 for k, words in rows]
        mode = "exact" if self.exact else "allclose"
        raise RecomputationMismatchError(
            f"{what}: recomputing {where} in the backward pass gave other values than "
            f"the first forward pass (ga.config.recompute_check is {mode!r}):\n"
            + "\n".join(lines) + "\n" + ADVICE)


# ---- fingerprints --------------------------------------------------------------------------

def _fingerprint(raw, exact):
    if type(raw) is np.ndarray or isinstance(raw, np.generic):
        dtype = raw.dtype
        if dtype.kind not in "biufc" or dtype.itemsize > 8 and dtype != np.complex128:
            return _COPY, _Copy(raw)
        if raw.nbytes <= SMALL_BYTES:
            return _BYTES, (raw.tobytes(), dtype, raw.shape)
        return _SUM, _reduce(np, raw, exact)
    if type(raw) in _NUMBERS:
        return _NUMBER, raw
    if backend.is_cupy_array(raw):
        return _DEVICE, _reduce(backend.namespace(raw), raw, exact)
    return _COPY, _Copy(raw)


def _reduce(xp, raw, exact):
    """One reduction of `raw`: its bits' wrapping sum (exact, and always for integers), or
    its float64 (complex128) sum."""
    dtype = raw.dtype
    if exact or dtype.kind in "biu":
        if not raw.nbytes & 7:  # 64-bit words of the bytes in C order (as `Checker._keys`)
            return xp.ascontiguousarray(raw).reshape(-1).view(np.uint64).sum(dtype=np.uint64)
        uint = _UINT[dtype.itemsize]
        return raw.view(uint).sum(dtype=uint)
    return raw.sum(dtype=np.complex128 if dtype.kind == "c" else np.float64)


class _Copy:
    """A copied leaf, compared elementwise (== between two of them)."""

    __slots__ = ("value",)

    def __init__(self, raw):
        self.value = np.array(raw, copy=True)

    def __eq__(self, other):
        a, b = self.value, other.value
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind == "O":
            return all(x is y or x == y for x, y in zip(a.ravel(), b.ravel()))
        return bool(np.all((a == b) | (_isnan(a) & _isnan(b))))

    def __ne__(self, other):
        return not self == other


def _isnan(a):
    return a != a  # noqa: PLR0124 (NaN is the one value unequal to itself)


def _number_as_array(fingerprint, exact):
    if fingerprint[0] != _NUMBER:
        return fingerprint
    return _fingerprint(np.asarray(fingerprint[1]), exact)


def _both_nan(a, b):
    return type(a) in _NUMBERS and _isnan(a) and _isnan(b)


def _only_nans_differ(old, new):
    """Kept bytes that differ only where both are NaN (in their payloads): NaN matches NaN."""
    a, b = _values(old[1]).reshape(-1), _values(new[1]).reshape(-1)
    if a.shape != b.shape or a.dtype != b.dtype or a.dtype.kind not in "fc":
        return False
    if a.dtype.kind == "c":  # its real and imaginary parts
        a, b = a.view(a.real.dtype), b.view(b.real.dtype)
    uint = _UINT[a.dtype.itemsize]
    with np.errstate(invalid="ignore"):
        return bool(np.all((a.view(uint) == b.view(uint)) | (_isnan(a) & _isnan(b))))


def _tolerance(scale, size, dtype):
    rtol = RTOL
    if dtype.kind in "fc":
        rtol = max(RTOL, 4 * float(np.finfo(dtype).eps))
    return size * ATOL + rtol * scale


def _values(key):
    data, dtype, shape = key
    return np.frombuffer(data, dtype).reshape(shape)


def _close(old, new, raw):
    """allclose mode, fingerprints that differ: whether within tolerance."""
    kind = old[0]
    if kind == _BYTES:
        a, b = _values(old[1]), _values(new[1])
        if a.dtype.kind in "biu":
            return False
        rtol = max(RTOL, 4 * float(np.finfo(a.dtype).eps))
        return a.shape == b.shape and bool(np.allclose(a, b, rtol, ATOL, equal_nan=True))
    if kind == _NUMBER:
        a, b = old[1], new[1]
        if type(a) in (bool, int) or type(b) in (bool, int):
            return False
        return abs(a - b) <= ATOL + RTOL * abs(b)
    if kind == _SUM:
        if raw.dtype.kind in "biu":
            return False
        a, b = old[1], new[1]
        if _isnan(a) and _isnan(b):
            return True
        return bool(abs(a - b) <= _tolerance(abs(raw).sum(dtype=np.float64), raw.size,
                                             raw.dtype))
    return False


def _difference(old, new, raw, exact):
    """The words for one mismatching leaf."""
    kind = old[0]
    if kind != new[0]:
        return f"changed type, from {_describe(old)} to {_describe(new)}"
    if kind == _BYTES:
        a, b = _values(old[1]), _values(new[1])
        if a.shape != b.shape:
            return f"changed shape, from {a.shape} to {b.shape}"
        if a.dtype != b.dtype:  # (a Python float is float64)
            return f"changed dtype, from {a.dtype} to {b.dtype}"
        return (f"largest difference {_largest(a, b):.6g} (shape {a.shape}, {a.dtype}; first "
                f"pass {_short(a)}, recomputed {_short(b)})")
    if kind == _NUMBER:
        a, b = old[1], new[1]
        return f"largest difference {abs(a - b):.6g} (first pass {a!r}, recomputed {b!r})"
    if kind == _COPY:
        a, b = old[1].value, new[1].value
        if a.shape == b.shape and a.dtype.kind in "biufc":
            return f"largest difference {_largest(a, b):.6g} (shape {a.shape}, {a.dtype})"
        return f"first pass {_short(a)}, recomputed {_short(b)}"
    scale = None if exact else (float(abs(raw).sum(dtype=np.float64)), raw.size, raw.dtype)
    words = _sum_difference(old[1], new[1], scale, exact)
    return f"{words} (shape {raw.shape}, {raw.dtype})"


def _sum_difference(a, b, scale, exact):
    if exact:
        return ("its bits differ (the first pass kept a checksum of this leaf, not its values, "
                "so the largest difference is not known)")
    a, b = complex(a), complex(b)
    if a.imag == 0 and b.imag == 0:
        a, b = a.real, b.real
    size = scale[1]
    return (f"the sum of its elements went from {a:.9g} to {b:.9g}, so the largest difference "
            f"is at least {abs(a - b) / max(size, 1):.6g}")


def _largest(a, b):
    with np.errstate(invalid="ignore", over="ignore"):  # (signaling NaNs too)
        d = np.abs(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64) - b)
        d = d[~(_isnan(a) & _isnan(b))] if d.size else d  # NaN matching NaN is no difference
    return float(np.nanmax(d)) if d.size and not np.isnan(d).all() else float("nan")


def _short(a):
    return np.array2string(np.asarray(a), threshold=6, precision=6, edgeitems=2)


def _describe(fingerprint):
    kind, key = fingerprint
    if kind == _BYTES:
        return f"an array of shape {key[2]} and dtype {key[1]}"
    if kind == _NUMBER:
        return f"a Python {type(key).__name__}"
    return "an array"


def leaf_names(prefix, treedef):
    """`carry['h']`-style names of a pytree's leaves."""
    if treedef is None:
        return []
    return [prefix + (p if p != "<root>" else "") for p in tree_paths(treedef)]
