"""Second derivatives: torch.autograd.grad with create_graph=True, then grad again, must match
retrograd for the elementwise ops, matmul and a few reductions; plus gradgradcheck."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import away_from, double_backward, randn  # noqa: E402

import retrograd as rg  # noqa: E402


def _pos(shape, seed):
    return randn(shape, seed, np.float64, low=0.3, high=2.0)


def _any(shape, seed):
    return away_from(randn(shape, seed, np.float64), [0.0], 0.1)


UNARY = {
    "exp": (lambda x: x.exp(), _any), "log": (lambda x: x.log(), _pos),
    "log1p": (lambda x: x.log1p(), _pos), "sqrt": (lambda x: x.sqrt(), _pos),
    "rsqrt": (lambda x: x.rsqrt(), _pos), "abs": (lambda x: x.abs() * x, _any),
    "sin": (lambda x: x.sin(), _any), "cos": (lambda x: x.cos(), _any),
    "tanh": (lambda x: x.tanh(), _any), "sigmoid": (lambda x: x.sigmoid(), _any),
    "relu": (lambda x: x.relu() * x, _any), "neg": (lambda x: -x * x, _any),
    "square": (lambda x: x * x * x, _any), "pow_scalar": (lambda x: x ** 3, _any),
    "pow_frac": (lambda x: x ** 1.5, _pos), "rpow": (lambda x: 2.0 ** x, _any),
    "reciprocal": (lambda x: 1.0 / x, _pos), "clamp": (lambda x: x.clamp(-0.5, 0.5) * x, _any),
    "sign": (lambda x: x.sign() * x * x, _any),
    "sum": (lambda x: (x * x).sum(1), _any), "mean": (lambda x: (x * x).mean(), _any),
    "prod": (lambda x: x.prod(1), _any), "amax": (lambda x: (x * x).amax(1), _any),
    "max_dim": (lambda x: (x * x).max(0)[0], _any), "var": (lambda x: x.var(1), _any),
    "std": (lambda x: x.std(0), _any), "logsumexp": (lambda x: x.logsumexp(1), _any),
    "norm": (lambda x: x.norm(), _any), "norm_dim": (lambda x: x.norm(dim=1), _any),
    "softmax": (lambda x: x.softmax(1), _any), "log_softmax": (lambda x: x.log_softmax(0), _any),
    "reshape_t": (lambda x: (x.reshape(-1) ** 2).reshape(3, 2).t(), _any),
    "getitem": (lambda x: x[1:, [0, 0, 2]] ** 2, _any),
    "cat": (lambda x: rg_or_t(x).cat([x, x * x], 0), _any),
    "expand": (lambda x: x[:1].expand(3, 3) ** 2, _any),
    "gather": (lambda x: (x * x).gather(1, rg_or_t(x).tensor([[0, 2], [1, 1]])), _any),
    "cumsum": (lambda x: (x * x).cumsum(1), _any),
    "pad": (lambda x: pad(x * x, (1, 2, 0, 1)), _any),
}


def rg_or_t(x):
    return rg if isinstance(x, rg.Tensor) else torch


def pad(x, p):
    if isinstance(x, rg.Tensor):
        from retrograd.ops.shape import pad as rg_pad

        return rg_pad(x, p)
    return torch.nn.functional.pad(x, p)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_double_backward(name):
    f, data = UNARY[name]
    x = data((2, 3), 3)
    double_backward(f, f, x)


BINARY = {
    "add": lambda a, b: (a + b) * a, "sub": lambda a, b: (a - b) * b,
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: rg_or_t(a).maximum(a, b) * a,
    "minimum": lambda a, b: rg_or_t(a).minimum(a, b) * b,
    "where": lambda a, b: rg_or_t(a).where(a > b, a * a, b * a),
    "matmul": lambda a, b: a @ b.T, "matmul_vec": lambda a, b: a @ b[0],
    "matmul_batched": lambda a, b: a.reshape(2, 1, 3) @ b.reshape(2, 3, 1),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_double_backward(name):
    f = BINARY[name]
    a = _pos((2, 3), 5)
    b = _pos((2, 3), 6) + 0.1
    double_backward(f, f, a, b)
    if name in ("add", "mul", "div", "pow", "maximum"):
        double_backward(f, f, a, b[:1])  # with broadcasting


def test_third_derivative_known_answer():
    x = rg.tensor(2.0, dtype=rg.float64, requires_grad=True)
    y = x ** 4
    (g1,) = rg.autograd.grad(y, x, create_graph=True)
    (g2,) = rg.autograd.grad(g1, x, create_graph=True)
    (g3,) = rg.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_then_backward_of_grad():
    # the classic gradient-penalty pattern: backward(create_graph=True), then backprop x.grad
    for lib in (rg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        x.grad = None
        (g * g).sum().backward()
        if lib is rg:
            mine = x.grad.numpy().copy()
        else:
            np.testing.assert_allclose(mine, x.grad.numpy())


@pytest.mark.parametrize("name", ["mul", "div", "matmul", "pow"])
def test_gradgradcheck(name):
    f = BINARY[name]
    a = rg.tensor(_pos((2, 3), 1), requires_grad=True)
    b = rg.tensor(_pos((2, 3), 2), requires_grad=True)
    assert rg.autograd.gradgradcheck(f, (a, b))
