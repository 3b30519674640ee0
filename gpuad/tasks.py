"""`gpuad.tasks`: synthetic sequence tasks that need long memory, generated from a seed.

Both tasks follow Hochreiter & Schmidhuber (1997) in the forms later RNN papers standardised
(the adding problem of Le, Jaitly & Hinton 2015; the copy task of Arjovsky, Shah & Bengio 2016).
Nothing is downloaded: each batch is drawn on the host from `numpy.random.default_rng(seed)`
(the same numbers on every backend) and placed on the default backend's device. Layout is time
major: `xs[t]` is the batch at step t, ready for a Python loop or `scan` over time.

Each task states the loss of the best predictor that remembers nothing (`adding_baseline_loss`,
`copy_baseline_loss`): a model whose loss stays there has learned nothing about the past.
"""
import math

import numpy as np

from . import backend


def _check(name, **sizes):
    for what, (value, least) in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name}: {what} must be an int >= {least}, got {value!r}")


def adding_problem(batch, length, seed=0, dtype=np.float64):
    """The adding problem: remember two marked numbers of a long sequence and add them.

    Each sequence has `length` steps of two features: a value drawn from U(0, 1), and a marker
    that is 1 at exactly two steps (one drawn uniformly in the first half, one in the second
    half) and 0 elsewhere. The target is the sum of the two marked values.

    Args:
      batch: number of sequences B.
      length: number of steps T (>= 2).
      seed: an int; the same seed gives the same batch.
      dtype: floating dtype of both outputs.

    Returns:
      `(xs, targets)`: xs of shape (T, B, 2) (`xs[..., 0]` values, `xs[..., 1]` markers),
      targets of shape (B, 1).

    Baseline: predicting the mean 1.0 gives an MSE of Var(u1 + u2) = 2/12 = 1/6 ~ 0.167
    (`adding_baseline_loss()`).

    Example:
      >>> xs, ys = adding_problem(batch=4, length=50, seed=0)
      >>> xs.shape, ys.shape
      ((50, 4, 2), (4, 1))
    """
    _check("adding_problem", batch=(batch, 1), length=(length, 2))
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (length, batch))
    half = length // 2
    first = rng.integers(0, half, batch)
    second = rng.integers(half, length, batch)
    markers = np.zeros((length, batch))
    columns = np.arange(batch)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    xs = np.stack([values, markers], axis=-1)
    targets = (values[first, columns] + values[second, columns])[:, None]
    return (backend.to_device_array(xs.astype(dtype)),
            backend.to_device_array(targets.astype(dtype)))


def adding_baseline_loss():
    """The MSE of always predicting 1.0 on `adding_problem`: 1/6, the variance of the sum of
    two independent U(0, 1) values (the best any predictor can do without memory, up to
    O(1/T) from the last steps' values)."""
    return 1.0 / 6.0


def copy_task(batch, length, n_symbols=8, seed=0, n_copy=10, dtype=np.float64):
    """The copy task: read `n_copy` symbols, wait, then write them out in order.

    Inputs and outputs use the alphabet 0 = blank, 1..n_symbols = data symbols,
    n_symbols + 1 = delimiter ("start writing"). For a sequence of `length` = T steps:

        step:    0 .. n_copy-1    n_copy .. T-n_copy-2   T-n_copy-1   T-n_copy .. T-1
        input:   s_1 .. s_n       blank                  delimiter    blank
        target:  blank            blank                  blank        s_1 .. s_n

    so the symbols must be remembered for T - n_copy steps. The data symbols are drawn
    uniformly and independently from 1..n_symbols.

    Args:
      batch: number of sequences B.
      length: total number of steps T; at least 2 * n_copy + 1.
      n_symbols: number of data symbols (>= 1).
      seed: an int; the same seed gives the same batch.
      n_copy: how many symbols to copy.
      dtype: floating dtype of the inputs.

    Returns:
      `(xs, targets)`: xs one-hot of shape (T, B, n_symbols + 2) in `dtype`; targets integer
      class indices (int64) of shape (T, B) in 0..n_symbols (the delimiter is never a target),
      for `softmax_cross_entropy` with n_symbols + 1 logits.

    Baseline: a predictor without memory does best by writing blank with certainty where the
    target is always blank and the uniform distribution over the data symbols in the last
    n_copy steps; its mean cross-entropy per step is `n_copy * log(n_symbols) / T`
    (`copy_baseline_loss(length, n_symbols, n_copy)`; 0.083 for T = 100, 8 symbols, 10 copied).

    Example:
      >>> xs, ys = copy_task(batch=4, length=30, n_symbols=8, seed=0)
      >>> xs.shape, ys.shape
      ((30, 4, 10), (30, 4))
    """
    _check("copy_task", batch=(batch, 1), n_symbols=(n_symbols, 1), n_copy=(n_copy, 1))
    _check("copy_task", length=(length, 2 * n_copy + 1))
    rng = np.random.default_rng(seed)
    symbols = rng.integers(1, n_symbols + 1, (n_copy, batch))
    inputs = np.zeros((length, batch), dtype=np.int64)
    inputs[:n_copy] = symbols
    inputs[length - n_copy - 1] = n_symbols + 1
    targets = np.zeros((length, batch), dtype=np.int64)
    targets[length - n_copy:] = symbols
    xs = np.eye(n_symbols + 2, dtype=dtype)[inputs]
    return backend.to_device_array(xs), backend.to_device_array(targets)


def copy_baseline_loss(length, n_symbols=8, n_copy=10):
    """The mean cross-entropy per step of the best memoryless predictor on `copy_task`:
    `n_copy * log(n_symbols) / length` nats (certain blanks, then uniform guesses)."""
    _check("copy_baseline_loss", n_symbols=(n_symbols, 1), n_copy=(n_copy, 1))
    _check("copy_baseline_loss", length=(length, 2 * n_copy + 1))
    return n_copy * math.log(n_symbols) / length
