"""`gpuad.nn` losses: mean squared error and the cross-entropies of logits, in stable forms."""
from .. import numpy as gnp
from ..scipy.special import logsumexp
from ..trace import primal_value


def mse(pred, target):
    """The mean squared error `mean((pred - target) ** 2)` over all elements.

    Shapes must match exactly: broadcasting (B, 1) against (B,) would silently average a
    (B, B) matrix of errors, so it is refused.

    Example:
      >>> mse(gnp.asarray([1.0, 2.0]), gnp.asarray([1.0, 4.0]))
      np.float64(2.0)
    """
    if tuple(gnp.shape(pred)) != tuple(gnp.shape(target)):
        raise ValueError(f"mse: pred has shape {tuple(gnp.shape(pred))} but target has shape "
                         f"{tuple(gnp.shape(target))}; reshape one so they match.")
    d = pred - target
    return gnp.mean(d * d)


def softmax_cross_entropy(logits, labels):
    """The mean cross-entropy of `softmax(logits)` against `labels`, via logsumexp (stable).

    Args:
      logits: (..., C) floating.
      labels: integer class indices of shape (...) in [0, C), or probabilities (one-hot or soft)
        of shape (..., C).

    Returns:
      A scalar: `mean(logsumexp(logits) - logits[label])` over the leading axes.

    Example:
      >>> logits = gnp.asarray([[2.0, 0.0], [0.0, 2.0]])
      >>> softmax_cross_entropy(logits, np.array([0, 1]))         # log(1 + e^-2)
      np.float64(0.1269280110429727)
    """
    shape = tuple(gnp.shape(logits))
    raw = primal_value(labels)
    kind = getattr(getattr(raw, "dtype", None), "kind", None)
    log_z = logsumexp(logits, axis=-1)
    if kind is not None and kind in "iu":
        if tuple(raw.shape) != shape[:-1]:
            raise ValueError(f"softmax_cross_entropy: integer labels have shape "
                             f"{tuple(raw.shape)}; for logits of shape {shape} they must have "
                             f"shape {shape[:-1]} (one class index per row).")
        if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= shape[-1]):
            raise ValueError(f"softmax_cross_entropy: labels must be class indices in "
                             f"[0, {shape[-1]}), got values in [{int(raw.min())}, "
                             f"{int(raw.max())}].")
        picked = gnp.take_along_axis(logits, gnp.expand_dims(raw, -1), axis=-1)[..., 0]
        return gnp.mean(log_z - picked)
    if kind is None or kind not in "f":
        raise TypeError(f"softmax_cross_entropy: labels must be integer class indices or "
                        f"floating probabilities, got {getattr(raw, 'dtype', type(raw).__name__)}")
    if tuple(gnp.shape(labels)) != shape:
        raise ValueError(f"softmax_cross_entropy: probability labels have shape "
                         f"{tuple(gnp.shape(labels))} but logits have shape {shape}; they must "
                         f"match (or pass integer labels of shape {shape[:-1]}).")
    return gnp.mean(log_z * gnp.sum(labels, axis=-1) - gnp.sum(labels * logits, axis=-1))


def binary_cross_entropy_with_logits(logits, targets):
    """The mean binary cross-entropy of `sigmoid(logits)` against `targets` in [0, 1].

    Computed as `log(1 + exp(x)) - t * x` with `logaddexp(0, x)`, which equals
    `-t log sigmoid(x) - (1 - t) log(1 - sigmoid(x))` and never overflows or takes log(0), for
    any size of logit.

    Example:
      >>> binary_cross_entropy_with_logits(gnp.asarray([1000.0, -1000.0]),
      ...                                  gnp.asarray([1.0, 0.0]))
      np.float64(0.0)
    """
    if tuple(gnp.shape(logits)) != tuple(gnp.shape(targets)):
        raise ValueError(f"binary_cross_entropy_with_logits: logits have shape "
                         f"{tuple(gnp.shape(logits))} but targets have shape "
                         f"{tuple(gnp.shape(targets))}; they must match.")
    return gnp.mean(gnp.logaddexp(0.0, logits) - targets * logits)
