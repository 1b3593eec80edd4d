"""Elementwise ops: parity with torch (values, dtypes, gradients) on random broadcast shapes,
finite-difference gradchecks in float64, and a few known answers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import (  # noqa: E402
    FEW,
    SETTINGS,
    away_from,
    broadcast_pair,
    check,
    float_dtypes,
    gradcheck,
    randn,
    seeds,
    shapes,
)
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import retrograd as rg  # noqa: E402

# ------------------------------------------------------------------ binary, with broadcasting
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "add_fn_alpha": (lambda a, b: rg.add(a, b, alpha=0.5), lambda a, b: torch.add(a, b, alpha=0.5)),
    "sub_fn_alpha": (lambda a, b: rg.sub(a, b, alpha=2), lambda a, b: torch.sub(a, b, alpha=2)),
    "mul_fn": (rg.mul, torch.mul),
    "div_fn": (rg.div, torch.div),
    "maximum": (rg.maximum, torch.maximum),
    "minimum": (rg.minimum, torch.minimum),
    "pow_tt": (lambda a, b: a ** b, lambda a, b: a ** b),
    "pow_fn": (rg.pow, torch.pow),
}


def _binary_data(name, sa, sb, seed, dtype):
    a = randn(sa, seed, dtype)
    b = randn(sb, seed + 1, dtype)
    if name.startswith("div"):
        b = away_from(b, [0.0], 0.3)
    if name.startswith("pow"):
        a = randn(sa, seed, dtype, low=0.3, high=2.0)
    return a, b


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(shapes=broadcast_pair(), seed=seeds, dtype=float_dtypes)
def test_binary_parity(name, shapes, seed, dtype):
    f_rg, f_t = BINARY[name]
    a, b = _binary_data(name, *shapes, seed, dtype)
    if name in ("maximum", "minimum"):
        b = np.where(np.abs(a - b) < 1e-3, b + 0.1, b).astype(dtype)  # ties tested separately
    check(f_rg, f_t, a, b, seed=seed)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_gradcheck(name):
    f_rg, _ = BINARY[name]
    a, b = _binary_data(name, (2, 3), (3,), 3, np.float64)
    gradcheck(f_rg, a, b)
    gradcheck(f_rg, b[:1], a)  # broadcast the other way round, 1-element first operand


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_max_min_ties_split_gradient(name):
    f_rg, f_t = BINARY[name]
    a = np.array([1.0, 2.0, 3.0], np.float32)
    b = np.array([1.0, 0.0, 5.0], np.float32)
    check(f_rg, f_t, a, b)


def test_where_parity_broadcast():
    for seed in range(4):
        cond = randn((3, 1), seed) > 0
        a = randn((1, 4), seed + 1)
        b = randn((3, 4), seed + 2)
        check(lambda x, y, c=cond: rg.where(rg.tensor(c), x, y),
              lambda x, y, c=cond: torch.where(torch.tensor(c), x, y), a, b)
    gradcheck(lambda x, y: rg.where(rg.tensor(cond), x, y), a, b)


def test_where_with_scalar_and_single_arg():
    x = rg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = rg.where(x > 0, x, 0.0)
    assert y.dtype == rg.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 1])
    idx = rg.where(rg.tensor([[True, False], [False, True]]))
    assert [i.tolist() for i in idx] == [[0, 1], [0, 1]]
    with pytest.raises(TypeError, match="where"):
        rg.where(rg.tensor([1.0, 0.0]), x, x)


# ------------------------------------------------------------------ pow in its three forms
@SETTINGS
@given(shape=shapes(), seed=seeds, exp=st.sampled_from([2, 3, 0.5, -1, -1.5, 0, 1, 2.0]))
def test_pow_tensor_scalar(shape, seed, exp):
    a = randn(shape, seed, low=0.2, high=2.0)
    check(lambda x: x ** exp, lambda x: x ** exp, a, seed=seed)


@SETTINGS
@given(shape=shapes(), seed=seeds, base=st.sampled_from([2, 0.5, 3.0, 1.0]))
def test_pow_scalar_tensor(shape, seed, base):
    a = randn(shape, seed)
    check(lambda x: base ** x, lambda x: base ** x, a, seed=seed)


def test_pow_gradcheck_all_forms():
    a = randn((2, 3), 1, np.float64, low=0.3, high=2.0)
    b = randn((3,), 2, np.float64)
    gradcheck(lambda x: x ** 3, a)
    gradcheck(lambda x: x ** -0.5, a)
    gradcheck(lambda x: 2.5 ** x, b)
    gradcheck(lambda x, y: x ** y, a, b)
    gradcheck(lambda x: rg.pow(x, 2), a)


def test_pow_zero_base_gradients_match_torch():
    # d/dx x**2 at 0 is 0; d/db 0**b is taken as 0 (not nan), both as in torch
    a = np.array([0.0, 1.0, 2.0], np.float32)
    b = np.array([2.0, 2.0, 0.5], np.float32)
    check(lambda x, y: x ** y, lambda x, y: x ** y, a, b)
    check(lambda x: x ** 2, lambda x: x ** 2, a)
    check(lambda x: x ** 0, lambda x: x ** 0, a)


# ------------------------------------------------------------------ reflected and mixed operands
SCALAR_OPS = {
    "radd": (lambda x: 2 + x), "rsub": (lambda x: 2 - x), "rmul": (lambda x: 3 * x),
    "rdiv": (lambda x: 2 / x), "rpow": (lambda x: 2 ** x), "add_s": (lambda x: x + 1.5),
    "sub_s": (lambda x: x - 1), "mul_s": (lambda x: x * 0.5), "div_s": (lambda x: x / 4),
    "pow_s": (lambda x: x ** 2), "neg": (lambda x: -x), "pos": (lambda x: +x),
    "rsub_f": (lambda x: 1.5 - x), "rdiv_f": (lambda x: 1.0 / x),
}


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@FEW
@given(shape=shapes(), seed=seeds, dtype=float_dtypes)
def test_python_scalar_operands(name, shape, seed, dtype):
    f = SCALAR_OPS[name]
    a = away_from(randn(shape, seed, dtype), [0.0], 0.3)
    check(f, f, a, seed=seed)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_numpy_array_operands(op, side):
    """A NumPy array on either side behaves like a constant tensor of its dtype."""
    import operator

    f = getattr(operator, op)
    arr32 = randn((3, 1), 5, np.float32, low=0.5, high=1.5)
    arr64 = arr32.astype(np.float64)
    x_np = randn((4,), 6, np.float32, low=0.5, high=1.5)
    for arr in (arr32, arr64):
        if side == "left":
            rfun = lambda x, arr=arr: f(arr, x)
            tfun = lambda x, arr=arr: f(torch.from_numpy(arr), x)
        else:
            rfun = lambda x, arr=arr: f(x, arr)
            tfun = lambda x, arr=arr: f(x, torch.from_numpy(arr))
        (_,), out = check(rfun, tfun, x_np)
        assert isinstance(out, rg.Tensor)


def test_numpy_scalar_operands_keep_float32():
    x = rg.ones(3)
    assert (x * np.float32(2)).dtype == rg.float32
    assert (np.float32(2) * x).dtype == rg.float32
    assert (x + 1).dtype == rg.float32
    assert (x + 1.5).dtype == rg.float32


# ------------------------------------------------------------------ unary
def _pos(s, seed, dt):
    return randn(s, seed, dt, low=0.2, high=3.0)


UNARY = {
    "exp": (rg.exp, torch.exp, lambda s, seed, dt: randn(s, seed, dt)),
    "log": (rg.log, torch.log, _pos),
    "log1p": (rg.log1p, torch.log1p, lambda s, seed, dt: randn(s, seed, dt, low=-0.8, high=3.0)),
    "sqrt": (rg.sqrt, torch.sqrt, _pos),
    "rsqrt": (rg.rsqrt, torch.rsqrt, _pos),
    "abs": (rg.abs, torch.abs, lambda s, seed, dt: away_from(randn(s, seed, dt), [0.0])),
    "sign": (rg.sign, torch.sign, lambda s, seed, dt: randn(s, seed, dt)),
    "sin": (rg.sin, torch.sin, lambda s, seed, dt: randn(s, seed, dt)),
    "cos": (rg.cos, torch.cos, lambda s, seed, dt: randn(s, seed, dt)),
    "tanh": (rg.tanh, torch.tanh, lambda s, seed, dt: randn(s, seed, dt)),
    "sigmoid": (rg.sigmoid, torch.sigmoid, lambda s, seed, dt: 4 * randn(s, seed, dt)),
    "relu": (rg.relu, torch.relu, lambda s, seed, dt: away_from(randn(s, seed, dt), [0.0])),
    "neg": (rg.neg, torch.neg, lambda s, seed, dt: randn(s, seed, dt)),
    "square": (rg.square, torch.square, lambda s, seed, dt: randn(s, seed, dt)),
    "reciprocal": (rg.reciprocal, torch.reciprocal, _pos),
    "clamp_min": (lambda x: rg.clamp(x, min=-0.5), lambda x: torch.clamp(x, min=-0.5),
                  lambda s, seed, dt: away_from(randn(s, seed, dt), [-0.5])),
    "clamp_max": (lambda x: rg.clamp(x, max=0.3), lambda x: torch.clamp(x, max=0.3),
                  lambda s, seed, dt: away_from(randn(s, seed, dt), [0.3])),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5),
                   lambda s, seed, dt: away_from(randn(s, seed, dt), [-0.5, 0.5])),
    "clip": (lambda x: rg.clip(x, -1, 1), lambda x: torch.clip(x, -1, 1),
             lambda s, seed, dt: away_from(randn(s, seed, dt), [-1.0, 1.0])),
    "exp_method": (lambda x: x.exp(), lambda x: x.exp(), lambda s, seed, dt: randn(s, seed, dt)),
    "tanh_method": (lambda x: x.tanh(), lambda x: x.tanh(), lambda s, seed, dt: randn(s, seed, dt)),
    "abs_builtin": (abs, abs, lambda s, seed, dt: away_from(randn(s, seed, dt), [0.0])),
    "np_exp": (np.exp, torch.exp, lambda s, seed, dt: randn(s, seed, dt)),
}


@pytest.mark.parametrize("name", list(UNARY))
@SETTINGS
@given(shape=shapes(), seed=seeds, dtype=float_dtypes)
def test_unary_parity(name, shape, seed, dtype):
    f_rg, f_t, data = UNARY[name]
    check(f_rg, f_t, data(shape, seed, dtype), seed=seed)


@pytest.mark.parametrize("name", [n for n in UNARY if n != "sign"])
def test_unary_gradcheck(name):
    f_rg, _, data = UNARY[name]
    gradcheck(f_rg, data((2, 3), 11, np.float64))
    gradcheck(f_rg, data((), 12, np.float64))


def test_unary_known_answers():
    x = rg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    np.testing.assert_array_equal(x.relu().detach().numpy(), [0, 0, 3])
    np.testing.assert_array_equal(x.sign().detach().numpy(), [-1, 0, 1])
    np.testing.assert_array_equal(x.clamp(-1, 1).detach().numpy(), [-1, 0, 1])
    x.sign().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])  # sign has zero gradient
    # sigmoid is stable in both tails: no overflow warning, exact limits
    big = rg.tensor([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(rg.sigmoid(big).numpy(), [0.0, 1.0])


def test_relu_and_abs_at_zero_match_torch():
    a = np.array([-1.0, 0.0, 2.0], np.float32)
    check(rg.relu, torch.relu, a)
    check(rg.abs, torch.abs, a)
    check(lambda x: x.clamp(0.0, 2.0), lambda x: x.clamp(0.0, 2.0), a)


def test_clamp_with_tensor_bounds():
    a = randn((3, 4), 3)
    lo = randn((4,), 4) - 0.5
    hi = lo + 1.0
    check(lambda x, l, h: rg.clamp(x, l, h), lambda x, l, h: torch.clamp(x, l, h), a, lo, hi)
    with pytest.raises(RuntimeError, match="clamp"):
        rg.clamp(rg.ones(2))


# ------------------------------------------------------------------ dtype rules (PyTorch's)
def test_float32_stays_float32():
    x = rg.randn(3, 4)
    for y in (x + 1, x * 2.5, x / 3, 2 ** x, x ** 2, x.exp(), x.sigmoid(), x.clamp(0, 1),
              rg.maximum(x, rg.zeros(4)), x - np.float32(1), x.sqrt().abs()):
        assert y.dtype == rg.float32


@pytest.mark.parametrize("expr", [
    "i + 1.5", "i * 0.5", "i / 2", "i / j", "1.0 / i", "i - 0.5", "i ** 0.5",
    "i + j", "i * 2", "i // 2", "b + 1", "b + 1.5", "i + f", "f64 + f", "f + 1",
    "f * z64", "i * z32", "i32 + i", "rg.div(i, j)",
])
def test_type_promotion_matches_torch(expr):
    env_rg = dict(i=rg.tensor([1, 2, 3]), j=rg.tensor([2, 2, 2]), b=rg.tensor([True, False, True]),
                  f=rg.tensor([1.0, 2.0, 3.0]), f64=rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64),
                  z64=rg.tensor(2.0, dtype=rg.float64), z32=rg.tensor(2.0),
                  i32=rg.tensor([1, 2, 3], dtype=rg.int32), rg=rg)
    env_t = dict(i=torch.tensor([1, 2, 3]), j=torch.tensor([2, 2, 2]),
                 b=torch.tensor([True, False, True]), f=torch.tensor([1.0, 2.0, 3.0]),
                 f64=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
                 z64=torch.tensor(2.0, dtype=torch.float64), z32=torch.tensor(2.0),
                 i32=torch.tensor([1, 2, 3], dtype=torch.int32), rg=torch)
    r = eval(expr, env_rg)
    t = eval(expr, env_t)
    from _compare import assert_same

    assert_same(r, t)


def test_integer_results_carry_no_grad_and_int_pow_negative_raises():
    i = rg.tensor([1, 2, 3])
    assert (i * 2).dtype == rg.int64 and not (i * 2).requires_grad
    with pytest.raises(RuntimeError, match="pow"):
        i ** rg.tensor([-1, 1, 1])
