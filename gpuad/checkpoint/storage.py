"""Where stored carries live: one store per tier, chosen by `make_store(tier, xp)`.

- fast tier: `DeviceStore` keeps references (the arrays stay where they are).
- slow tier on a CPU: `DiskStore`, one `numpy.memmap` file per array in a private temporary
  directory (mode 0700), removed by `close()`, when the store is garbage-collected, and at
  interpreter exit, so nothing is left behind after an exception either.
- slow tier on a GPU: `HostStore`, pinned host buffers filled on a side stream, so the copy
  overlaps the next steps' compute (the CuPy calls live in `gpuad.backend`).
Every store has `put(index, leaves)`, `get(index) -> leaves`, `free(index)`, `close()` and is
a context manager. Leaves that are not plain arrays (tracers of an outer differentiation, Python
numbers) are kept by reference in every tier.
"""
import os
import shutil
import tempfile
import weakref

import numpy as np

from .. import backend


class DeviceStore:
    """The fast tier: references to the arrays."""

    def __init__(self):
        self._data = {}

    def put(self, index, leaves):
        self._data[index] = list(leaves)

    def get(self, index):
        return self._data[index]

    def free(self, index):
        del self._data[index]

    def close(self):
        self._data.clear()

    def __len__(self):
        return len(self._data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DiskStore(DeviceStore):
    """The CPU slow tier: memory-mapped files in a private temporary directory."""

    def __init__(self):
        super().__init__()
        self.directory = tempfile.mkdtemp(prefix="gpuad-snapshots-")
        os.chmod(self.directory, 0o700)
        # runs on close(), on garbage collection and at exit, whichever comes first
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.directory, True)
        self._count = 0

    def put(self, index, leaves):
        stored = []
        for leaf in leaves:
            if type(leaf) is np.ndarray and leaf.size:
                self._count += 1
                path = os.path.join(self.directory, f"{index}-{self._count}.bin")
                mapped = np.memmap(path, dtype=leaf.dtype, mode="w+", shape=leaf.shape)
                mapped[...] = leaf
                mapped.flush()
                stored.append(("file", path, leaf.dtype, leaf.shape))
                del mapped
            else:
                stored.append(("ref", leaf))
        self._data[index] = stored

    def get(self, index):
        leaves = []
        for entry in self._data[index]:
            if entry[0] == "file":
                _, path, dtype, shape = entry
                leaves.append(np.array(np.memmap(path, dtype=dtype, mode="r", shape=shape)))
            else:
                leaves.append(entry[1])
        return leaves

    def free(self, index):
        for entry in self._data.pop(index):
            if entry[0] == "file":
                os.remove(entry[1])

    def close(self):
        self._data.clear()
        self._cleanup()


class HostStore(DeviceStore):
    """The GPU slow tier: pinned host copies made on a side stream."""

    def __init__(self):
        super().__init__()
        self.stream = backend.side_stream()

    def put(self, index, leaves):
        self._data[index] = [backend.copy_to_pinned(x, self.stream)
                             if backend.is_cupy_array(x) else x for x in leaves]

    def get(self, index):
        return [backend.copy_from_pinned(x, self.stream) if type(x) is np.ndarray else x
                for x in self._data[index]]


def make_store(tier, xp):
    """The store for `tier` ("fast" or "slow") for arrays of namespace `xp`."""
    if tier == "fast":
        return DeviceStore()
    if tier != "slow":
        raise ValueError(f"unknown storage tier {tier!r}; use 'fast' or 'slow'")
    return DiskStore() if xp is np else HostStore()
