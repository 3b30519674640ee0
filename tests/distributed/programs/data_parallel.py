"""Data-parallel MLP gradients on N ranks equal the full batch's (tests/distributed/
test_data_parallel.py), and the averaging sends one message per bucket."""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp

BATCH = 12  # divisible by 2 and 3: equal parts, so the mean of the parts' means is the mean


def init(rng):
    return {"W1": rng.normal(size=(4, 16)) / 2, "b1": rng.normal(size=16),
            "W2": rng.normal(size=(16, 3)) / 4, "b2": rng.normal(size=3)}


def loss(params, x, y):
    h = gnp.tanh(x @ params["W1"] + params["b1"])
    return gnp.mean((h @ params["W2"] + params["b2"] - y) ** 2)


def close(a, b, what):
    for k in a:
        assert np.allclose(a[k], b[k], rtol=1e-12, atol=1e-12), \
            f"{what} {k}: max difference {np.max(np.abs(a[k] - b[k])):.3e}"


def count_messages(comm):
    """Count the engine's allreduce calls (each is one message); returns (calls, the original
    method to put back)."""
    calls = []
    allreduce = comm.engine.allreduce

    def counting(x, op):
        calls.append(x.size)
        return allreduce(x, op)
    comm.engine.allreduce = counting
    return calls, allreduce


def gradients_match(comm):
    rng = np.random.default_rng(0)
    params = init(rng)
    x, y = rng.normal(size=(BATCH, 4)), rng.normal(size=(BATCH, 3))
    value, grads = ga.value_and_grad(loss)(params, x, y)
    xs, ys = gd.shard(x, comm=comm), gd.shard(y, comm=comm)
    calls, original = count_messages(comm)
    try:
        for bucket_bytes in (25 * 2**20, 200, 1):
            calls.clear()
            dp_value, dp_grads = gd.data_parallel_value_and_grad(
                loss, comm=comm, bucket_bytes=bucket_bytes)(params, xs, ys)
            assert abs(dp_value - value) <= 1e-12, f"value {dp_value} vs {value}"
            close(dp_grads, grads, f"bucket_bytes={bucket_bytes}:")
            leaves = [np.asarray(value)] + ga.tree_leaves(grads)
            expected = len(gd.data_parallel.buckets(leaves, bucket_bytes)) if comm.size > 1 else 0
            assert len(calls) == expected, f"{len(calls)} messages for {expected} buckets"
        assert len(gd.data_parallel.buckets(leaves, 25 * 2**20)) == 1
    finally:
        comm.engine.allreduce = original
    g = gd.data_parallel_grad(loss, comm=comm)(params, xs, ys)
    close(g, grads, "data_parallel_grad:")


def hvp_through_average(comm):
    """The averaged gradient is differentiable: its JVP is the full batch's Hessian-vector
    product."""
    rng = np.random.default_rng(1)
    params, v = init(rng), init(rng)
    x, y = rng.normal(size=(BATCH, 4)), rng.normal(size=(BATCH, 3))
    xs, ys = gd.shard(x, comm=comm), gd.shard(y, comm=comm)
    dp = gd.data_parallel_grad(loss, comm=comm, bucket_bytes=300)
    _, hv = ga.jvp(lambda p: dp(p, xs, ys), (params,), (v,))
    expected = ga.hvp(lambda p: loss(p, x, y), (params,), (v,))
    close(hv, expected, "hvp:")


def aux_is_local(comm):
    rng = np.random.default_rng(2)
    params = init(rng)
    x, y = rng.normal(size=(BATCH, 4)), rng.normal(size=(BATCH, 3))
    xs, ys = gd.shard(x, comm=comm), gd.shard(y, comm=comm)
    grads, aux = gd.data_parallel_grad(lambda p: (loss(p, xs, ys), xs.shape[0]), has_aux=True,
                                       comm=comm)(params)
    assert aux == xs.shape[0]
    close(grads, ga.grad(loss)(params, x, y), "has_aux:")


def checks(comm):
    return [("gradients_match", gradients_match), ("hvp_through_average", hvp_through_average),
            ("aux_is_local", aux_is_local)]


def main():
    from report import run_checks  # (beside this file: the programs run as scripts)
    run_checks(checks(gd.world()))


if __name__ == "__main__":
    sys.exit(main())
