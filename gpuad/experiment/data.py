"""The experiment's batches: the adding problem in float32 on the current backend."""
import numpy as np


def batch(size, length, seed):
    """(xs, targets) of the adding problem: xs (length, size, 2), targets (size, 1)."""
    import gpuad.numpy as gnp
    from gpuad.tasks import adding_problem
    xs, targets = adding_problem(size, length, seed)
    return gnp.asarray(xs.astype(np.float32)), gnp.asarray(targets.astype(np.float32))
