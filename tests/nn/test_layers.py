"""gpuad.nn.layers: cells against PyTorch's and finite differences, linear and MLP, layer norm,
standardize, one_hot and embed against jax.nn's (skipped without jax), dropout's replayable masks."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import nn


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


# ---- normalization ----------------------------------------------------------------------------
def _jax_nn():
    jax = pytest.importorskip("jax")
    return jax


@pytest.mark.parametrize("axis", [-1, 0, (1, 2), None], ids=str)
def test_standardize_matches_jax_and_its_formula(axis):
    rng = np.random.default_rng(13)
    x = 3.0 + 2.0 * rng.standard_normal((3, 4, 5))
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    np.testing.assert_allclose(nn.standardize(x, axis=axis), (x - mu) / np.sqrt(var + 1e-5),
                               rtol=1e-13)
    mask = rng.uniform(size=x.shape) > 0.3
    jax = _jax_nn()
    with jax.enable_x64(True):
        for kwargs in [dict(), dict(epsilon=0.1), dict(where=mask),
                       dict(mean=np.float64(1.5), variance=np.float64(4.0))]:
            want = np.asarray(jax.nn.standardize(x, axis=axis, algorithm="stable", **kwargs))
            np.testing.assert_allclose(nn.standardize(x, axis=axis, **kwargs), want,
                                       rtol=1e-12, atol=1e-13, err_msg=str(kwargs))
    ga.check_grads(lambda x: nn.standardize(x, axis=axis), (x,), order=2)
    ga.check_grads(lambda x: nn.standardize(x, axis=axis, where=mask), (x,), order=2)


def test_standardize_keeps_its_digits_for_a_large_mean():
    """The two-pass variance: float32 values 1e4 apart by about 1 standardize correctly (the
    one-pass mean(x**2) - mean(x)**2 would be off by whole units in the variance)."""
    x = np.random.default_rng(14).standard_normal((4, 256))
    got = nn.standardize((1e4 + x).astype(np.float32))
    assert got.dtype == np.float32
    want = nn.standardize(x)
    np.testing.assert_allclose(got, want, atol=5e-3)
    ga.check_grads(lambda x: nn.standardize(x, mean=np.float64(0.5)), (x[:2, :5],), order=2)


def test_layer_norm():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 3, 6))
    params = nn.init_layer_norm(6)
    np.testing.assert_array_equal(nn.layer_norm(x, **params), nn.standardize(x))
    scale, offset = rng.standard_normal(6), rng.standard_normal(6)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(nn.layer_norm(x, scale, offset, epsilon=1e-3),
                               (x - mu) / np.sqrt(var + 1e-3) * scale + offset, rtol=1e-13)
    ga.check_grads(nn.layer_norm, (x, scale, offset), order=2)
    assert nn.layer_norm(x.astype(np.float32), **nn.init_layer_norm(6, np.float32)).dtype == \
        np.float32
    with pytest.raises(ValueError, match=r"layer_norm: scale of shape \(2, 1, 1\) would enlarge"):
        nn.layer_norm(x[:1], scale=np.ones((2, 1, 1)))


# ---- indices ----------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 0, 1, -3])
def test_one_hot_matches_jax(axis):
    ids = np.array([[0, 3, -1], [2, 5, 1]])                 # -1 and 5: out of range, zero rows
    got = nn.one_hot(ids, 4, axis=axis)
    assert got.dtype == np.float64
    jax = _jax_nn()
    with jax.enable_x64(True):
        np.testing.assert_array_equal(got, np.asarray(jax.nn.one_hot(ids, 4, axis=axis)))


def test_one_hot_values_and_errors():
    ids = np.array([[0, 3], [2, 1]])
    got = nn.one_hot(ids, 4, dtype=np.float32)
    assert got.shape == (2, 2, 4) and got.dtype == np.float32
    np.testing.assert_array_equal(got, np.eye(4, dtype=np.float32)[ids])
    np.testing.assert_array_equal(nn.one_hot(ids, 4, axis=0), np.moveaxis(np.eye(4)[ids], -1, 0))
    np.testing.assert_array_equal(nn.one_hot(np.array([7, -1]), 3), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="one_hot: indices must be integers, got float64"):
        nn.one_hot(np.array([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="one_hot: axis 3 is out of range"):
        nn.one_hot(ids, 4, axis=3)


def test_embed_looks_up_rows_and_accumulates_their_gradients():
    rng = np.random.default_rng(16)
    table = nn.init_embed(rng, 5, 3)
    assert table.shape == (5, 3)
    ids = np.array([[1, 4, 1], [0, 1, 2]])
    out = nn.embed(table, ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out, table[ids])
    weights = rng.standard_normal((2, 3, 3))
    g = ga.grad(lambda t: gnp.sum(nn.embed(t, ids) * weights))(table)
    want = np.zeros_like(table)
    np.add.at(want, ids, weights)
    np.testing.assert_allclose(g, want, rtol=1e-15)         # row 1, looked up 3 times: summed
    ga.check_grads(lambda t: nn.embed(t, ids) ** 2, (table,), order=2)
    np.testing.assert_array_equal(nn.embed(table, np.int64(3)), table[3])
    with pytest.raises(ValueError, match=r"embed: ids must be in \[0, 5\).*\[-1, 2\]"):
        nn.embed(table, np.array([0, -1, 2]))
    with pytest.raises(TypeError, match="embed: indices must be integers"):
        nn.embed(table, np.array([0.0, 1.0]))


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
    params = dict(_randomized(ga.to_numpy(nn.init_lstm_cell(rng, 2, 4)), rng))
    state = (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))
    x, labels = rng.standard_normal((3, 2)), rng.integers(0, 4, 3)

    params["table"], params["norm"] = rng.standard_normal((4, 4)), nn.init_layer_norm(4)

    def loss(params, state, x, labels):
        h, c = nn.lstm_cell(params, state, x)
        h = nn.layer_norm(h, **params["norm"]) + nn.embed(params["table"], labels)
        return (nn.softmax_cross_entropy(h, labels) + nn.mse(c, gnp.tanh(h))
                + gnp.sum(nn.one_hot(labels, 4) * nn.gelu(h)))

    want = ga.value_and_grad(loss)(params, state, x, labels)
    got = ga.value_and_grad(loss)(*ga.tree_map(cupy.asarray, (params, state, x, labels)))
    assert isinstance(got[1]["w_h"], cupy.ndarray)
    for a, b in zip(ga.tree_leaves(ga.to_numpy(got)), ga.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    y = nn.dropout(cupy.ones((50, 40), dtype=cupy.float32), 0.25, key=(1, 0))
    assert isinstance(y, cupy.ndarray) and y.dtype == cupy.float32
    assert set(cupy.asnumpy(cupy.unique(y)).tolist()) == {0.0, np.float32(1 / 0.75)}
