"""Tensor hooks (leaves and intermediates, replacing the gradient, removal) and the grad
modes: no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ hooks
def test_hook_on_leaf_sees_gradient():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [3.0, 3.0]


def test_hook_on_intermediate_sees_its_gradient():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    (y * 5).sum().backward()
    assert seen == [[5.0, 5.0]]
    assert x.grad.tolist() == [10.0, 20.0]


@pytest.mark.parametrize("where", ["leaf", "intermediate"])
def test_hook_returning_a_tensor_replaces_the_gradient(where):
    results = []
    for lib in (rg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        target = x if where == "leaf" else y
        target.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
        results.append(x.grad.tolist())
    assert results[0] == results[1]


def test_hook_returning_none_keeps_gradient_and_hooks_chain():
    x = rg.tensor([1.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append("a"))
    x.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: order.append(g.item()) or g + 1)
    (x * 3).sum().backward()
    assert order == ["a", 6.0] and x.grad.tolist() == [7.0]


def test_handle_remove():
    x = rg.tensor([1.0], requires_grad=True)
    calls = []
    h = x.register_hook(lambda g: calls.append(1))
    y = x * 2
    hy = y.register_hook(lambda g: g * 0)
    (y * 1).sum().backward(retain_graph=True)
    assert calls == [1] and x.grad.tolist() == [0.0]
    h.remove()
    hy.remove()
    h.remove()  # removing twice is harmless
    x.grad = None
    (y * 1).sum().backward()
    assert calls == [1] and x.grad.tolist() == [2.0]


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        rg.ones(2).register_hook(lambda g: g)


def test_hook_runs_once_per_backward_with_summed_gradient():
    x = rg.tensor([1.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.item()))
    (y * 3 + y * 4).sum().backward()
    assert seen == [7.0]


def test_post_accumulate_grad_hook():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (p * 2).sum().backward()
    assert seen == [[2.0, 2.0]]


# ------------------------------------------------------------------ grad modes
def test_no_grad_context():
    x = rg.ones(2, requires_grad=True)
    assert rg.is_grad_enabled()
    with rg.no_grad():
        assert not rg.is_grad_enabled()
        y = x * 2
        z = x[0] + x.sum()
    assert rg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and not z.requires_grad


def test_no_grad_decorator_and_nesting():
    @rg.no_grad()
    def f(t):
        assert not rg.is_grad_enabled()
        with rg.enable_grad():
            assert rg.is_grad_enabled()
            inner = t * 2
        return t * 2, inner

    x = rg.ones(2, requires_grad=True)
    a, b = f(x)
    assert not a.requires_grad and b.requires_grad
    assert rg.is_grad_enabled()

    @rg.enable_grad()
    def g(t):
        return t * 3

    with rg.no_grad():
        assert g(x).requires_grad
        assert not rg.is_grad_enabled()


def test_no_grad_restores_state_after_exception():
    with pytest.raises(ValueError):
        with rg.no_grad():
            raise ValueError("boom")
    assert rg.is_grad_enabled()


def test_set_grad_enabled_forms():
    x = rg.ones(2, requires_grad=True)
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    rg.set_grad_enabled(False)
    try:
        assert not rg.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        rg.set_grad_enabled(True)
    assert rg.is_grad_enabled()

    @rg.set_grad_enabled(False)
    def f():
        return rg.is_grad_enabled()

    assert rg.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False and rg.is_grad_enabled()
    with rg.no_grad():
        with rg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not rg.is_grad_enabled()


def test_inference_mode():
    x = rg.ones(2, requires_grad=True)
    with rg.inference_mode():
        assert not (x * 2).requires_grad
    with rg.inference_mode(False):
        assert (x * 2).requires_grad

    @rg.inference_mode()
    def f():
        return (x * 2).requires_grad

    assert f() is False


def test_autograd_namespace_exports_grad_modes():
    assert rg.autograd.no_grad is rg.no_grad
    assert rg.autograd.grad_mode.is_grad_enabled() is True
    with rg.autograd.set_grad_enabled(False):
        assert not rg.autograd.is_grad_enabled()


def test_no_grad_skips_graph_but_values_match():
    x = rg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with_graph = (x.exp() @ x.T).sum()
    with rg.no_grad():
        without = (x.exp() @ x.T).sum()
    assert without.grad_fn is None
    assert with_graph.item() == without.item()

