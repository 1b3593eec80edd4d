"""The backward pass: accumulation, retain_graph, retain_grad, autograd.grad, gradient= for
non-scalars, dtypes of gradients, deep graphs, branching, and parity with torch."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def test_gradients_accumulate_across_backward_calls():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad.zero_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_second_backward_without_retain_graph_raises():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)


def test_diamond_graph_sums_branches_and_leaf_used_twice():
    for lib in (rg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        a = x.sin()
        b = a * x          # x used twice, a used twice
        c = a.exp() + b
        d = (c * c).sum() + (x * x).sum()
        d.backward()
        if lib is rg:
            mine = x.grad.numpy().copy()
        else:
            np.testing.assert_allclose(mine, x.grad.numpy(), rtol=1e-5)


def test_retain_grad_on_intermediates():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = y * y
    z.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z.sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert z.grad.tolist() == [1.0, 1.0]
    w = x * 3
    (w * w).sum().backward()
    assert w.grad is None  # not retained: intermediate grads are dropped
    with pytest.raises(RuntimeError, match="retain_grad"):
        rg.ones(2).retain_grad()


def test_backward_with_gradient_for_non_scalars():
    for lib in (rg, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        y.backward(lib.tensor([[1.0, 0.5], [0.0, 2.0]]))
        assert x.grad.tolist() == [[2.0, 2.0], [0.0, 16.0]]
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(gradient=np.array([1.0, 1.0]))  # an array is accepted too
    assert x.grad.tolist() == [2.0, 2.0]
    rg.autograd.backward([x * 1, (x * x).sum()], [rg.ones(2), None])
    assert x.grad.tolist() == [2 + 1 + 2, 2 + 1 + 4]


def test_backward_on_leaf_and_inputs_argument():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(rg.tensor([3.0, 4.0]))
    assert x.grad.tolist() == [3.0, 4.0]
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_grad_dtype_equals_parameter_dtype():
    for dt in (rg.float32, rg.float64):
        w = rg.ones(3, dtype=dt, requires_grad=True)
        other = rg.ones(3, dtype=rg.float64 if dt == rg.float32 else rg.float32)
        (w * other * 2.5).sum().backward()  # float32 * float64 computes in float64
        assert w.grad.dtype == dt
        (w @ other.to(dt) + rg.tensor(1.0, dtype=rg.float64)).backward()
        assert w.grad.dtype == dt
    i = rg.tensor([1, 2, 3])
    f = rg.ones(3, requires_grad=True)
    (f * i).sum().backward()  # float32 grad through an int operand
    assert f.grad.dtype == rg.float32 and f.grad.tolist() == [1.0, 2.0, 3.0]


def test_autograd_grad_basic_and_does_not_touch_grad():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = rg.tensor([3.0], requires_grad=True)
    out = (x * x).sum() * y
    gx, gy = rg.autograd.grad(out, [x, y])
    assert gx.tolist() == [6.0, 12.0] and gy.tolist() == [5.0]
    assert x.grad is None and y.grad is None
    (g,) = rg.autograd.grad((x * 2).sum(), x)
    assert g.tolist() == [2.0, 2.0] and not g.requires_grad


def test_autograd_grad_allow_unused():
    x = rg.tensor([1.0], requires_grad=True)
    z = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        rg.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = rg.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None
    gx, gz = rg.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_autograd_grad_create_graph_matches_torch():
    def run(lib):
        x = lib.tensor([0.3, -0.7, 1.2], dtype=lib.float64, requires_grad=True)
        y = (x.sin() * x.exp()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad((g * g).sum(), x)
        return g.detach().numpy(), h.numpy()

    for a, b in zip(run(rg), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_autograd_grad_of_intermediate_and_grad_outputs():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = h * h
    (gh,) = rg.autograd.grad(out, h, grad_outputs=rg.tensor([1.0, 0.5]))
    assert gh.tolist() == [6.0, 6.0]


def test_deep_chain_does_not_recurse():
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)
    z = x
    for _ in range(10_000):
        z = z.sin() + z
    (g,) = rg.autograd.grad(z.sum(), x)  # autograd.grad walks it iteratively too
    assert np.isfinite(g.numpy()).all()


def test_deep_chain_of_unary_ops_and_long_reduction():
    x = rg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y.tanh()
    total = y.sum()
    total.backward()
    assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy() > 0).all()


def test_requires_grad_propagation_and_leaf_status():
    a = rg.ones(2, requires_grad=True)
    b = rg.ones(2)
    c = a + b
    d = b * 2
    assert a.is_leaf and b.is_leaf and not c.is_leaf and d.is_leaf
    assert c.requires_grad and not d.requires_grad and d.grad_fn is None
    assert c.grad_fn is not None and c.grad_fn.name() == "AddBackward0"
    names = [type(fn).__name__ if fn is not None else None for fn, _ in c.grad_fn.next_functions]
    assert names == ["AccumulateGrad", None]
    e = c.detach()
    assert e.is_leaf and not e.requires_grad and np.shares_memory(e.numpy(), c._data)
    with pytest.raises(RuntimeError, match="leaf"):
        c.requires_grad_(False)


def test_non_leaf_grad_is_none_and_leaf_grad_shape():
    x = rg.ones(2, 3, requires_grad=True)
    y = x.sum(0)
    y.sum().backward()
    assert y.grad is None and x.grad.shape == (2, 3)


def test_branches_with_broadcast_accumulate_to_leaf_shape():
    w = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = rg.ones(4, 3)
    ((x * w).sum() + (x + w).sum() + w.sum()).backward()
    assert w.grad.tolist() == [9.0, 9.0, 9.0]
