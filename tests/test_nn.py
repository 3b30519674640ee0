"""gpuad.nn: initializer statistics, cells against PyTorch's and finite differences, losses
against plain NumPy formulas, dropout's replayable masks."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import nn

INITIALIZERS = [nn.glorot_uniform, nn.glorot_normal, nn.he_normal, nn.orthogonal]


# ---- initializers -----------------------------------------------------------------------------
def test_initializer_scales():
    shape = (300, 200)
    w = nn.glorot_uniform(0, shape)
    limit = np.sqrt(6.0 / 500)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert np.var(w) == pytest.approx(limit ** 2 / 3, rel=0.02)
    assert np.std(nn.glorot_normal(0, shape)) == pytest.approx(np.sqrt(2.0 / 500), rel=0.02)
    assert np.std(nn.he_normal(0, shape)) == pytest.approx(np.sqrt(2.0 / 300), rel=0.02)
    for w in (nn.glorot_normal(1, shape), nn.he_normal(1, shape)):
        assert abs(np.mean(w)) < 0.02 * np.std(w)


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7), (2, 3, 4)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    w = nn.orthogonal(np.random.default_rng(2), shape, gain=1.5)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-12)


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda f: f.__name__)
def test_initializers_seed_dtype_and_generator(init):
    a, b = init(7, (4, 6)), init(7, (4, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, init(8, (4, 6)))
    rng = np.random.default_rng(0)
    assert not np.allclose(init(rng, (4, 6)), init(rng, (4, 6)))  # the generator advances
    assert init(0, (4, 6), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match=f"{init.__name__}: dtype"):
        init(0, (2, 2), dtype=np.int32)
    with pytest.raises(TypeError, match="key must be"):
        init("0", (2, 2))


def test_lstm_init_blocks():
    p = nn.init_lstm_cell(0, 3, 5, forget_bias=2.0)
    assert p["w_x"].shape == (3, 20) and p["w_h"].shape == (5, 20) and p["b"].shape == (20,)
    np.testing.assert_array_equal(p["b"], np.repeat([0.0, 2.0, 0.0, 0.0], 5))
    for k in range(4):
        block = p["w_h"][:, 5 * k:5 * (k + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-12)


# ---- cells: values against PyTorch, derivatives against finite differences ---------------------
def _torch_cell(torch, kind, params, n_in, n_hidden):
    """A torch cell holding `params` (gpuad stores (n_in, k H), torch (k H, n_in))."""
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind]
    cell = cls(n_in, n_hidden).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(params["w_x"].T))
        cell.weight_hh.copy_(torch.tensor(params["w_h"].T))
        cell.bias_ih.copy_(torch.tensor(params["b"]))
        cell.bias_hh.copy_(torch.tensor(params.get("b_h", np.zeros_like(params["b"]))))
    return cell


def _randomized(params, rng):
    """Parameters with every entry random (biases too), so no term is silently zero."""
    return ga.tree_map(lambda x: x + 0.3 * rng.standard_normal(x.shape), params)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    n_in, n_hidden, batch = 3, 5, 4
    init = {"rnn": nn.init_rnn_cell, "lstm": nn.init_lstm_cell, "gru": nn.init_gru_cell}[kind]
    params = _randomized(init(rng, n_in, n_hidden), rng)
    x, h, c = (rng.standard_normal((batch, n)) for n in (n_in, n_hidden, n_hidden))
    cell = _torch_cell(torch, kind, params, n_in, n_hidden)
    tx, th, tc = (torch.tensor(a) for a in (x, h, c))
    with torch.no_grad():
        if kind == "lstm":
            want = [t.numpy() for t in cell(tx, (th, tc))]
            got = nn.lstm_cell(params, (h, c), x)
        else:
            want = [cell(tx, th).numpy()]
            got = [(nn.rnn_cell if kind == "rnn" else nn.gru_cell)(params, h, x)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


CELL_SHAPES = [((3,), (3,)),             # batch axes of x and of the state: a batch of 3
               ((2, 3), (2, 3)),         # two leading batch axes
               ((), (3,))]               # one input broadcast against a batch of states


@pytest.mark.parametrize("batch_x, batch_h", CELL_SHAPES, ids=["batch", "2d-batch", "broadcast"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_gradients(kind, batch_x, batch_h):
    rng = np.random.default_rng(5)
    n_in, n_hidden = 2, 4
    x = rng.standard_normal(batch_x + (n_in,))
    h = 0.5 * rng.standard_normal(batch_h + (n_hidden,))
    if kind == "lstm":
        params = _randomized(nn.init_lstm_cell(rng, n_in, n_hidden), rng)
        state = (h, 0.5 * rng.standard_normal(h.shape))
        fun = nn.lstm_cell
    else:
        init = nn.init_rnn_cell if kind == "rnn" else nn.init_gru_cell
        params = _randomized(init(rng, n_in, n_hidden), rng)
        state = h
        fun = nn.rnn_cell if kind == "rnn" else nn.gru_cell
    out = fun(params, state, x)
    for o in ga.tree_leaves(out):
        assert o.shape == h.shape
    ga.check_grads(fun, (params, state, x), order=2, rtol=1e-5, atol=1e-7)


def test_linear_and_mlp():
    rng = np.random.default_rng(6)
    params = _randomized(nn.init_mlp(rng, [3, 5, 2]), rng)
    x = rng.standard_normal((4, 3))
    want = np.tanh(x @ params[0]["w"] + params[0]["b"]) @ params[1]["w"] + params[1]["b"]
    np.testing.assert_allclose(nn.mlp(params, x), want, rtol=1e-13)
    ga.check_grads(nn.mlp, (params, x), order=2)
    with pytest.raises(ValueError, match=r"linear: input has shape \(4, 2\).*3 features"):
        nn.linear(params[0], x[:, :2])
    with pytest.raises(ValueError, match="lstm_cell: input has shape"):
        nn.lstm_cell(nn.init_lstm_cell(0, 3, 2), nn.lstm_zero_state(4, 2), x[:, :2])
    with pytest.raises(ValueError, match="init_mlp"):
        nn.init_mlp(0, [3])


# ---- losses -----------------------------------------------------------------------------------
def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_loss_values_match_numpy():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 5, 3))
    assert float(nn.mse(a, b)) == pytest.approx(np.mean((a - b) ** 2), rel=1e-14)
    logits = 3.0 * rng.standard_normal((2, 5, 4))
    labels = rng.integers(0, 4, (2, 5))
    want = -np.mean(np.take_along_axis(_log_softmax(logits), labels[..., None], -1))
    assert float(nn.softmax_cross_entropy(logits, labels)) == pytest.approx(want, rel=1e-13)
    one_hot = np.eye(4)[labels]
    assert float(nn.softmax_cross_entropy(logits, one_hot)) == pytest.approx(want, rel=1e-13)
    soft = rng.dirichlet(np.ones(4), (2, 5))
    assert float(nn.softmax_cross_entropy(logits, soft)) == pytest.approx(
        -np.mean(np.sum(soft * _log_softmax(logits), -1)), rel=1e-13)
    targets = rng.uniform(0, 1, (2, 5, 4))
    p = 1.0 / (1.0 + np.exp(-logits))
    assert float(nn.binary_cross_entropy_with_logits(logits, targets)) == pytest.approx(
        -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rel=1e-12)


def test_losses_are_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 900.0]])
    ce = nn.softmax_cross_entropy(logits, np.array([0, 1]))
    assert float(ce) == pytest.approx(np.log(2.0) / 2)           # row 2: two tied at 900
    g = ga.grad(nn.softmax_cross_entropy)(logits, np.array([0, 1]))
    np.testing.assert_allclose(g, np.array([[0, 0, 0], [0, -0.25, 0.25]]), atol=1e-15)
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    t = np.array([1.0, 0.0, 0.0, 1.0])
    assert float(nn.binary_cross_entropy_with_logits(x, t)) == pytest.approx(500.0)  # 2 wrong
    assert np.all(np.isfinite(ga.grad(nn.binary_cross_entropy_with_logits)(x, t)))


def test_loss_gradients():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3, 4))
    ga.check_grads(nn.mse, (a, b), order=2)
    labels = rng.integers(0, 4, 3)
    ga.check_grads(lambda z: nn.softmax_cross_entropy(z, labels), (a,), order=2)
    ga.check_grads(nn.softmax_cross_entropy, (a, rng.dirichlet(np.ones(4), 3)), order=2)
    ga.check_grads(nn.binary_cross_entropy_with_logits, (2.0 * a, rng.uniform(0, 1, (3, 4))),
                   order=2)


def test_loss_errors():
    z = np.zeros((3, 4)) + np.arange(4.0)
    with pytest.raises(ValueError, match=r"mse: pred has shape \(3, 1\) but target has shape"):
        nn.mse(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\), got values in \[0, 4\]"):
        nn.softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"must have shape \(3,\)"):
        nn.softmax_cross_entropy(z, np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="probability labels have shape"):
        nn.softmax_cross_entropy(z, np.ones((3, 3)))
    with pytest.raises(TypeError, match="labels must be integer class indices"):
        nn.softmax_cross_entropy(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: logits have shape"):
        nn.binary_cross_entropy_with_logits(z, np.ones(4))


# ---- dropout ----------------------------------------------------------------------------------
def test_dropout_mask_scale_and_replay():
    x = np.random.default_rng(9).standard_normal((200, 50)).astype(np.float32)
    gnp.random.seed(11)
    state = gnp.random.get_state()
    y = nn.dropout(x, 0.3)
    assert y.dtype == np.float32 and y.shape == x.shape
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    np.testing.assert_allclose(y[kept], x[kept] / np.float32(0.7), rtol=1e-6)
    assert gnp.random.get_state() != state                        # the global state moved on
    np.testing.assert_array_equal(nn.dropout(x, 0.3, key=state), y)   # explicit key: same mask
    after = gnp.random.get_state()
    nn.dropout(x, 0.3, key=state)
    assert gnp.random.get_state() == after                        # a key leaves the state alone
    gnp.random.set_state(state)
    np.testing.assert_array_equal(nn.dropout(x, 0.3), y)          # restored state: same mask
    assert nn.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
        nn.dropout(x, 1.0)


def test_dropout_gradient_is_the_mask():
    x = np.random.default_rng(10).standard_normal((6, 5))
    state = (3, 0)
    g = ga.grad(lambda x: gnp.sum(nn.dropout(x, 0.5, key=state) * x))(x)
    y = nn.dropout(x, 0.5, key=state)
    np.testing.assert_allclose(g, 2.0 * y, rtol=1e-15)             # d/dx (m x) x = 2 m x
    ga.check_grads(lambda x: nn.dropout(x, 0.5, key=state), (x,), order=2)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy
    rng = np.random.default_rng(12)
    params = _randomized(ga.to_numpy(nn.init_lstm_cell(rng, 2, 4)), rng)
    state = (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))
    x, labels = rng.standard_normal((3, 2)), rng.integers(0, 4, 3)

    def loss(params, state, x, labels):
        h, c = nn.lstm_cell(params, state, x)
        return nn.softmax_cross_entropy(h, labels) + nn.mse(c, gnp.tanh(h))

    want = ga.value_and_grad(loss)(params, state, x, labels)
    got = ga.value_and_grad(loss)(*ga.tree_map(cupy.asarray, (params, state, x, labels)))
    assert isinstance(got[1]["w_h"], cupy.ndarray)
    for a, b in zip(ga.tree_leaves(ga.to_numpy(got)), ga.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    y = nn.dropout(cupy.ones((50, 40), dtype=cupy.float32), 0.25, key=(1, 0))
    assert isinstance(y, cupy.ndarray) and y.dtype == cupy.float32
    assert set(cupy.asnumpy(cupy.unique(y)).tolist()) == {0.0, np.float32(1 / 0.75)}
