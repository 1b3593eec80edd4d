"""The graph frees itself: intermediates die with the last reference to the output, saved
arrays are dropped by backward, no reference cycles, and memory stays flat over a training
loop. Also anomaly detection."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import retrograd as rg


def _no_gc(fn):
    """Run ``fn`` with the cycle collector off: anything freed was freed by refcounting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn()
    finally:
        if enabled:
            gc.enable()


def test_intermediate_array_freed_after_backward():
    def run():
        x = rg.randn(500, 200, requires_grad=True)
        h = x.exp()
        ref_t = weakref.ref(h)
        ref_a = weakref.ref(h._data)
        loss = (h * h).sum()
        del h
        assert ref_t() is None  # the graph keeps arrays, never the intermediate Tensor
        assert ref_a() is not None  # ... the array is still needed by backward
        loss.backward()
        assert ref_a() is None  # backward dropped it (no retain_graph)
        assert x.grad.shape == (500, 200)

    _no_gc(run)


def test_dropping_the_output_frees_the_graph():
    def run():
        x = rg.randn(300, 300, requires_grad=True)
        h = x.sin()
        ref = weakref.ref(h._data)
        node = weakref.ref(h.grad_fn)
        loss = (h * 2).sum()
        del h
        del loss
        assert ref() is None and node() is None

    _no_gc(run)


def test_retain_graph_keeps_saved_arrays_until_released():
    def run():
        x = rg.randn(100, 100, requires_grad=True)
        h = x.tanh()
        ref = weakref.ref(h._data)
        loss = (h * h).sum()
        del h
        loss.backward(retain_graph=True)
        assert ref() is not None
        loss.backward()
        assert ref() is None

    _no_gc(run)


def test_training_loop_makes_no_reference_cycles_and_memory_stays_flat():
    from retrograd.autograd.graph import Node

    # hidden activations of 128 x 32 float32 = 16 KiB per step: a graph kept alive by
    # mistake would grow memory by tens of MiB over the loop
    rng = np.random.default_rng(0)
    X = rg.tensor(rng.standard_normal((128, 10)).astype(np.float32))
    Y = rg.tensor(rng.standard_normal((128, 1)).astype(np.float32))
    w1 = rg.tensor(rng.standard_normal((10, 32)).astype(np.float32) * 0.1, requires_grad=True)
    w2 = rg.tensor(rng.standard_normal((32, 1)).astype(np.float32) * 0.1, requires_grad=True)
    params = [w1, w2]

    def step():
        loss = (((X @ w1).tanh() @ w2 - Y) ** 2).mean()
        loss.backward()
        with rg.no_grad():
            for p in params:
                p -= 0.05 * p.grad
                p.grad = None
        return loss.item()

    def live_graph_objects():
        return sum(isinstance(o, (rg.Tensor, Node)) for o in gc.get_objects())

    losses = [step() for _ in range(50)]  # warm up caches before measuring
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    n_before = live_graph_objects()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        losses += [step() for _ in range(1000)]
        after = tracemalloc.get_traced_memory()[0]
        cycles = gc.collect()
    finally:
        tracemalloc.stop()
        if enabled:
            gc.enable()
    # Python's free lists make tracemalloc drift by some hundred KiB; a leak would be far more
    assert after - before < 1024 * 1024, f"memory grew by {after - before} bytes over 1000 steps"
    assert cycles == 0, f"{cycles} objects were only collectable as reference cycles"
    assert live_graph_objects() == n_before
    assert losses[-1] < losses[0]


def test_views_and_inplace_ops_make_no_reference_cycles():
    w = rg.randn(4, 3, requires_grad=True)

    def run():
        gc.collect()
        for _ in range(20):
            y = w * 2
            v = y[1:]
            v.mul_(3)
            z = y.T.reshape(-1)[::2]
            loss = (z * z).sum() + v.sum() + w[0].sum()
            loss.backward()
        return gc.collect()

    assert _no_gc(run) == 0


def test_anomaly_detection_names_the_forward_op():
    x = rg.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()  # d/dx sqrt at 0 is inf
    loss = (y * 0.0).sum()  # 0 * inf = nan in the backward of sqrt
    with pytest.raises(RuntimeError, match="SqrtBackward0"):
        with rg.autograd.detect_anomaly():
            loss2 = (x.sqrt() * 0.0).sum()
            loss2.backward()
    loss.backward()  # outside anomaly mode, no check: nan flows quietly (as in torch)
    assert np.isnan(x.grad.numpy()[0])
    assert not rg.autograd.is_anomaly_enabled()
