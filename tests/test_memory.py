"""gpuad.memory: peaks of nested blocks, and blocks left out of them (untracked)."""
import numpy as np

import gpuad.memory as memory

MB = 1_000_000


def test_untracked_memory_is_left_out_of_every_open_block():
    with memory.track() as outer:
        before = np.ones(300_000)                 # 2.4 MB, counted
        with memory.track() as inner:
            with memory.untracked():
                transient = np.ones(1_000_000)    # 8 MB at once: not the program's
                del transient
                left_alive = np.ones(500_000)     # 4 MB still alive after the block
            counted = np.ones(100_000)            # 0.8 MB, counted
    assert 0.8 * MB <= inner.peak_bytes < 1.2 * MB
    assert 0.8 * MB <= inner.end_bytes < 1.2 * MB
    assert 3.2 * MB <= outer.peak_bytes < 3.6 * MB    # before + counted
    assert 3.2 * MB <= outer.end_bytes < 3.6 * MB
    del before, left_alive, counted


def test_peaks_before_an_untracked_block_are_kept():
    with memory.track() as m:
        spike = np.ones(1_000_000)
        del spike
        with memory.untracked():
            pass
        small = np.ones(1000)
    assert 8 * MB <= m.peak_bytes < 8.4 * MB
    del small


def test_untracked_outside_any_block_does_nothing():
    with memory.untracked():
        a = np.ones(10)
    assert a.sum() == 10
