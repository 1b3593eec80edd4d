"""Custom differentiable operations with ``retrograd.autograd.Function``: save_for_backward,
saved_tensors, needs_input_grad, several outputs, non-tensor arguments, setup_context,
once_differentiable, mark_non_differentiable, and checks with gradcheck and torch."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function
from retrograd.autograd.gradcheck import GradcheckError

torch = pytest.importorskip("torch")


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y


class ScaledMul(Function):
    """x * y * scale, with a Python number argument and needs_input_grad checks."""

    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        ctx.calls = []
        return x * y * scale

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * y * ctx.scale if ctx.needs_input_grad[0] else None
        gy = g * x * ctx.scale if ctx.needs_input_grad[1] else None
        return gx, gy, None


class SumAndProd(Function):
    """Two outputs: the sum and the product along dim 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sum(1), x.prod(1)

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        (x,) = ctx.saved_tensors
        p = x.prod(1, keepdim=True)
        return g_sum.unsqueeze(1) + g_prod.unsqueeze(1) * p / x


def test_exp_function_value_grad_and_gradcheck():
    x = rg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = MyExp.apply(x)
    assert y.grad_fn is not None and "MyExp" in y.grad_fn.name()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -1.0, 2.0]), rtol=1e-6)
    assert rg.autograd.gradcheck(MyExp.apply, (rg.tensor([0.1, 0.7], dtype=rg.float64,
                                                         requires_grad=True),))


def test_forward_runs_without_recording():
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(rg.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = rg.ones(2, requires_grad=True)
    y = Spy.apply(x)
    assert seen == [False] and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_needs_input_grad_and_non_tensor_args():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = rg.tensor([3.0, 4.0])
    out = ScaledMul.apply(x, y, 0.5)
    assert out.grad_fn.needs_input_grad == (True, False, False)
    out.sum().backward()
    assert x.grad.tolist() == [1.5, 2.0] and y.grad is None
    a = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    b = rg.tensor([3.0, -1.0], dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda p, q: ScaledMul.apply(p, q, 3.0), (a, b))


def test_multiple_outputs_match_torch():
    data = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    x = rg.tensor(data, requires_grad=True)
    s, p = SumAndProd.apply(x)
    (s * 2 + p * 3).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    (tx.sum(1) * 2 + tx.prod(1) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_multiple_outputs_only_one_used():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    s, p = SumAndProd.apply(x)
    p.sum().backward()  # the unused output's gradient is materialised as zeros
    assert x.grad.tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_no_record_when_inputs_need_no_grad_or_no_grad_mode():
    y = MyExp.apply(rg.ones(2))
    assert not y.requires_grad and y.grad_fn is None
    with rg.no_grad():
        z = MyExp.apply(rg.ones(2, requires_grad=True))
    assert not z.requires_grad


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = rg.tensor([2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0]


def test_custom_function_double_backward_and_once_differentiable():
    x = rg.tensor([0.5, 1.5], dtype=rg.float64, requires_grad=True)
    (g,) = rg.autograd.grad(MyExp.apply(x).sum(), x, create_graph=True)
    (h,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.5]))

    class Once(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @rg.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    y = Once.apply(x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 3.0])
    with pytest.raises(RuntimeError, match="once_differentiable"):
        rg.autograd.grad(Once.apply(x).sum(), x, create_graph=True)


def test_mark_non_differentiable_output():
    class ArgmaxAndMax(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(0)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return x.max(), idx

        @staticmethod
        def backward(ctx, g, g_idx):
            x, idx = ctx.saved_tensors
            out = rg.zeros_like(x)
            out[idx] = g
            return out

    x = rg.tensor([1.0, 5.0, 2.0], requires_grad=True)
    m, i = ArgmaxAndMax.apply(x)
    assert m.requires_grad and not i.requires_grad and i.item() == 1
    m.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_saved_tensor_modified_in_place_raises():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = MyExp.apply(x * 1)
    with rg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_save_for_backward_rejects_non_tensors_and_wrong_grad_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(3.0)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="save_for_backward"):
        Bad.apply(rg.ones(1, requires_grad=True))

    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(rg.ones(1, requires_grad=True)).sum().backward()


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    x = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        rg.autograd.gradcheck(Wrong.apply, (x,))
    assert rg.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False
