"""benchmarks/bptt.py on CuPy, for a machine with a GPU: the same models and schedules, with
peak bytes from CuPy's allocator (`gpuad.memory.track()` on the cupy backend).

    python benchmarks/gpu/bptt.py [--length 1000] [--hidden 256] [--json out.json]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gpuad  # noqa: E402
import bptt  # noqa: E402

if __name__ == "__main__":
    gpuad.set_backend("cupy")  # raises, saying why, where CuPy or the device cannot run
    bptt.main(sys.argv[1:] + ["--no-peers"])
