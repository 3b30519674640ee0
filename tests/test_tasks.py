"""gpuad.tasks: layout, determinism by seed, the task's structure, and the documented baseline
losses measured on large batches."""
import numpy as np
import pytest

from gpuad import nn, tasks


def test_adding_problem_layout_and_targets():
    xs, ys = tasks.adding_problem(batch=64, length=21, seed=3)
    assert xs.shape == (21, 64, 2) and ys.shape == (64, 1)
    assert xs.dtype == ys.dtype == np.float64
    values, markers = xs[..., 0], xs[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=0), 2.0)
    np.testing.assert_array_equal(markers[:10].sum(axis=0), 1.0)    # one in the first half
    np.testing.assert_allclose(ys[:, 0], (values * markers).sum(axis=0), rtol=1e-15)
    assert tasks.adding_problem(4, 5, dtype=np.float32)[0].dtype == np.float32


@pytest.mark.parametrize("make", [lambda s: tasks.adding_problem(8, 12, seed=s),
                                  lambda s: tasks.copy_task(8, 25, 5, seed=s)],
                         ids=["adding", "copy"])
def test_same_seed_same_batch(make):
    for a, b in zip(make(1), make(1)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(make(1)[0], make(2)[0])


def test_adding_baseline_measured():
    _, ys = tasks.adding_problem(batch=200_000, length=4, seed=0)
    baseline = float(nn.mse(np.ones_like(ys), ys))
    assert baseline == pytest.approx(tasks.adding_baseline_loss(), abs=0.003)
    assert tasks.adding_baseline_loss() == pytest.approx(1 / 6)


def test_copy_task_layout():
    length, n_symbols, n_copy = 30, 6, 4
    xs, ys = tasks.copy_task(batch=16, length=length, n_symbols=n_symbols, seed=5, n_copy=n_copy)
    assert xs.shape == (length, 16, n_symbols + 2) and ys.shape == (length, 16)
    assert ys.dtype == np.int64
    np.testing.assert_array_equal(xs.sum(axis=-1), 1.0)               # one-hot
    inputs = xs.argmax(axis=-1)
    symbols = inputs[:n_copy]
    assert symbols.min() >= 1 and symbols.max() <= n_symbols
    np.testing.assert_array_equal(inputs[n_copy:length - n_copy - 1], 0)
    np.testing.assert_array_equal(inputs[length - n_copy - 1], n_symbols + 1)
    np.testing.assert_array_equal(inputs[length - n_copy:], 0)
    np.testing.assert_array_equal(ys[:length - n_copy], 0)
    np.testing.assert_array_equal(ys[length - n_copy:], symbols)


def test_copy_baseline_measured():
    """The best memoryless predictor outputs each step's marginal distribution of targets; its
    cross-entropy, estimated from a large batch, is the documented baseline."""
    length, n_symbols, n_copy = 25, 8, 5
    _, ys = tasks.copy_task(batch=20_000, length=length, n_symbols=n_symbols, seed=1,
                            n_copy=n_copy)
    classes = n_symbols + 1
    freq = np.stack([np.bincount(row, minlength=classes) for row in ys]) / ys.shape[1]
    logits = np.log(np.maximum(freq, 1e-300))[:, None, :].repeat(ys.shape[1], axis=1)
    measured = float(nn.softmax_cross_entropy(logits, ys))
    want = tasks.copy_baseline_loss(length, n_symbols, n_copy)
    assert want == pytest.approx(n_copy * np.log(n_symbols) / length)
    assert measured == pytest.approx(want, rel=0.01)


def test_bad_sizes():
    with pytest.raises(ValueError, match="adding_problem: length must be an int >= 2"):
        tasks.adding_problem(4, 1)
    with pytest.raises(ValueError, match="adding_problem: batch must be an int >= 1"):
        tasks.adding_problem(0, 10)
    with pytest.raises(ValueError, match="copy_task: length must be an int >= 21"):
        tasks.copy_task(4, 20, n_copy=10)
    with pytest.raises(ValueError, match="copy_baseline_loss: n_symbols"):
        tasks.copy_baseline_loss(50, n_symbols=0)
