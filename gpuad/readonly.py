"""NumPy arrays a tape still needs, made read-only meanwhile, so a write to one is an error at
the write instead of a wrong value or gradient later.

The tape keeps references, not copies: an array handed to a traced op (a constant, a closure's
buffer, a primal input) is read by the backward pass, and by fused groups' lazy forward values
(`gpuad/kernels/forward.py`), after the op has returned. `hold(a, held)` clears `a`'s WRITEABLE
flag, and that of the array owning its memory where `a` is a view (a write through the base
would change the view); `release(held)` sets back the flags it cleared once no holder is left.
Traces nest and share arrays, so each array held has a count, and an array is restored only by
the last release of it, and only if `hold` was what cleared its flag. A view is restored after
the array owning its memory (NumPy refuses a writeable view of a read-only base).

Not covered: other views of the same memory made before the hold (their own flags stay as they
were), arrays on memory NumPy does not own (`np.memmap`, `np.frombuffer`, buffers of C
extensions: NumPy may refuse to make them writeable again), and CuPy arrays, which have no
WRITEABLE flag.
"""
import numpy as np

_ndarray = np.ndarray

# Kept lean: a grad call holds each array it is handed once and releases it once (measured
# with benchmarks/callgrind.py: ~9k instructions a hold and release, most of it this code).
_counts = {}   # id(array) -> holders, for the arrays whose flag `hold` cleared
_roots = {}    # id(view) -> the array owning its memory, for those views
_waiting = {}  # id(root) -> views no longer held whose root still is: restored after it


def hold(a, held):
    """Keep NumPy array `a` read-only until `release(held)` (one count in `held`)."""
    k = id(a)
    n = _counts.get(k)
    if n is None:
        if a.base is not None:
            return _hold_view(a, held)
        if not a.flags.writeable:
            return  # read-only already (not by us): nothing to set back
        a.setflags(False)  # (a fifth of the instructions of `a.flags.writeable = False`)
        _counts[k] = 1
    else:
        _counts[k] = n + 1
        if a.base is not None:  # a view held already: its root once more
            hold(_roots[k], held)
    held.append(a)


def _hold_view(a, held):
    root = a.base  # the array owning the memory
    while isinstance(root, _ndarray) and root.base is not None:
        root = root.base
    if not isinstance(root, _ndarray):
        # memory of another kind of object (a memoryview, an mmap, a C extension's buffer):
        # NumPy may refuse to make the array writeable again, so it is left alone
        return
    hold(root, held)
    if id(root) not in _counts or not a.flags.writeable:
        return  # the memory was read-only already, or `a` is (or waits to be set back)
    a.setflags(False)
    k = id(a)
    _counts[k] = 1
    _roots[k] = root
    held.append(a)


def release(held):
    """Give back the counts in `held` (emptied); restore the flags no one holds any longer."""
    for a in held:
        k = id(a)
        n = _counts[k] - 1
        if n:
            _counts[k] = n
            continue
        del _counts[k]
        if a.base is None:
            a.setflags(True)
            if _waiting:
                for view in _waiting.pop(k, ()):
                    view.setflags(True)
            continue
        root = _roots.pop(k)
        if id(root) in _counts:  # NumPy refuses a writeable view of a read-only base
            _waiting.setdefault(id(root), []).append(a)
        else:
            a.setflags(True)
    del held[:]
