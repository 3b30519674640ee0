"""NCCL through CuPy: the device half of gpuad/backend.py for gpuad/distributed.

The only module besides backend.py that calls CuPy. It gives an *engine* (see
gpuad/distributed/world.py) whose buffer operations run on CuPy arrays with
`cupy.cuda.nccl`, on CuPy's current stream, so device arrays never visit the host. NCCL has no
allgatherv: uneven pieces are padded to the longest and cut back after.

The communicator is bootstrapped by the caller: rank 0 makes `unique_id()`, the ranks share it
over MPI, and each builds `NcclEngine(size, uid, rank)` with its own device current (NCCL
refuses two ranks on one device).
"""
import numpy as np

from .backend import import_cupy


def available():
    """(usable, reason): whether cupy.cuda.nccl imports and a device answers."""
    try:
        cupy = import_cupy()
        from cupy.cuda import nccl  # noqa: F401
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, a CuPy built without NCCL
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def unique_id():
    from cupy.cuda import nccl
    return nccl.get_unique_id()


class NcclEngine:
    """The engine interface over an NCCL communicator, on C-contiguous CuPy arrays."""

    def __init__(self, size, uid, rank):
        from cupy.cuda import nccl
        self.nccl = nccl
        self.cupy = import_cupy()
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.rank, self.size = rank, size
        self.types = {np.dtype(np.float16): nccl.NCCL_FLOAT16,
                      np.dtype(np.float32): nccl.NCCL_FLOAT32,
                      np.dtype(np.float64): nccl.NCCL_FLOAT64,
                      np.dtype(np.int32): nccl.NCCL_INT32, np.dtype(np.int64): nccl.NCCL_INT64,
                      np.dtype(np.uint8): nccl.NCCL_UINT8, np.dtype(np.int8): nccl.NCCL_INT8}

    def _flat(self, x):
        """(a real view of x's elements, its NCCL type): complex goes as pairs of reals, which
        sum correctly; bool as bytes."""
        if x.dtype.kind == "c":
            x = x.view(x.real.dtype)
        elif x.dtype.kind == "b":
            x = x.view(np.uint8)
        x = x.reshape(-1)
        kind = self.types.get(np.dtype(x.dtype))
        if kind is None:
            raise TypeError(f"gpuad.distributed over NCCL: no NCCL type for {x.dtype}; cast to "
                            f"float32/float64/int32/int64 first")
        return x, kind

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def _op(self, op):
        return self.nccl.NCCL_SUM if op == "sum" else self.nccl.NCCL_MAX

    def allreduce(self, x, op):
        out = self.cupy.empty_like(x)
        src, kind = self._flat(x)
        dst, _ = self._flat(out)
        self.comm.allReduce(src.data.ptr, dst.data.ptr, src.size, kind, self._op(op),
                            self._stream())
        return out

    def allgatherv(self, x, counts):
        cupy, longest = self.cupy, max(counts)
        padded = cupy.zeros(longest, x.dtype)
        padded[:x.size] = x
        gathered = cupy.empty(longest * self.size, x.dtype)
        src, kind = self._flat(padded)
        dst, _ = self._flat(gathered)
        self.comm.allGather(src.data.ptr, dst.data.ptr, src.size, kind, self._stream())
        return cupy.concatenate([gathered[r * longest:r * longest + c]
                                 for r, c in enumerate(counts)])

    def reduce_scatter(self, x, counts):
        cupy, longest = self.cupy, max(counts)
        padded = cupy.zeros(longest * self.size, x.dtype)
        start = 0
        for r, c in enumerate(counts):
            padded[r * longest:r * longest + c] = x[start:start + c]
            start += c
        block = cupy.empty(longest, x.dtype)
        src, kind = self._flat(padded)
        dst, _ = self._flat(block)
        self.comm.reduceScatter(src.data.ptr, dst.data.ptr, dst.size, kind, self.nccl.NCCL_SUM,
                                self._stream())
        return block[:counts[self.rank]].copy()

    def bcast(self, x, root):
        out = x.copy()
        buf, kind = self._flat(out)
        self.comm.bcast(buf.data.ptr, buf.size, kind, root, self._stream())
        return out

    def reduce(self, x, root):
        out = self.cupy.zeros_like(x)
        src, kind = self._flat(x)
        dst, _ = self._flat(out)
        self.comm.reduce(src.data.ptr, dst.data.ptr, src.size, kind, self.nccl.NCCL_SUM, root,
                         self._stream())
        if self.rank != root:
            out[...] = 0  # NCCL leaves non-root receive buffers unspecified
        return out

    def sendrecv(self, x, dest, source):
        out = self.cupy.zeros_like(x)
        src, kind = self._flat(x)
        dst, _ = self._flat(out)
        stream = self._stream()
        self.nccl.groupStart()  # both directions at once: no rank waits on its neighbour
        if dest is not None:
            self.comm.send(src.data.ptr, src.size, kind, dest, stream)
        if source is not None:
            self.comm.recv(dst.data.ptr, dst.size, kind, source, stream)
        self.nccl.groupEnd()
        return out
