"""Fused elementwise adjoints: runs of elementwise ops become one group on the tape, whose
backward pass is one generated Numba kernel (CPU) or numba.cuda kernel (GPU).

- `group.py`: the recorded program (SSA list, external inputs; no intermediates).
- `symbolic.py`: each primitive's scalar forward and derivatives, read off its declaration.
- `codegen.py`: kernel source, compilation and the in-memory and on-disk caches.
- `backward.py`: the group's VJP (fused kernel, or replayed per-op rules).
- `forward.py`: the group's forward values on NumPy arrays, computed only when read, chunk by
  chunk (a chain of k ops holds no intermediate forwards either).
- `tape.py`: the fusing tape (`FusingTrace`), installed as the recorder
  `ReverseTrace()` gives (`reverse.install_recorder`) when gpuad is imported.
- `record.py`: how its record paths grow groups.

Switches: `gpuad.config.fusion` (`GPUAD_FUSION=0`), `gpuad.config.fusion_min_size`
(`GPUAD_FUSION_MIN_SIZE`): smaller arrays are recorded op by op, and
`gpuad.config.fusion_forward` (`GPUAD_FUSION_FORWARD=0`): forward values computed at once.
"""
