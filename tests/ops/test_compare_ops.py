"""Comparisons, logical ops, isnan/isfinite and rounding: bool (or integer) results, no
gradient, broadcasting and dtype promotion as in torch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import SETTINGS, assert_same, broadcast_pair, float_dtypes, randn, seeds  # noqa: E402
from hypothesis import given  # noqa: E402

import retrograd as rg  # noqa: E402

CMP = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
       "maximum", "minimum", "isclose"]
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
       "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _data(shape, seed, dtype):
    # small integers make ties (equal elements) common
    return np.asarray(np.round(randn(shape, seed, dtype) * 2), dtype=dtype)


@pytest.mark.parametrize("name", CMP)
@SETTINGS
@given(shapes=broadcast_pair(), seed=seeds, dtype=float_dtypes)
def test_binary_comparisons(name, shapes, seed, dtype):
    a, b = _data(shapes[0], seed, dtype), _data(shapes[1], seed + 1, dtype)
    ra = rg.tensor(a, requires_grad=True)
    r = getattr(rg, name)(ra, rg.tensor(b))
    t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert_same(r, t)
    if name not in ("maximum", "minimum"):
        assert not r.requires_grad and r.grad_fn is None


@pytest.mark.parametrize("op", list(OPS))
@SETTINGS
@given(shapes=broadcast_pair(), seed=seeds)
def test_comparison_operators(op, shapes, seed):
    a, b = _data(shapes[0], seed, np.float32), _data(shapes[1], seed + 1, np.float32)
    f = OPS[op]
    assert_same(f(rg.tensor(a, requires_grad=True), rg.tensor(b)),
                f(torch.tensor(a), torch.tensor(b)))
    assert_same(f(rg.tensor(a), 0.0), f(torch.tensor(a), 0.0))
    assert_same(f(rg.tensor(a), 1), f(torch.tensor(a), 1))
    assert_same(f(rg.tensor(a), b), f(torch.tensor(a), torch.from_numpy(b)))


def test_mixed_dtype_comparisons():
    i = [1, 2, 3]
    f = [1.0, 2.5, 3.0]
    assert_same(rg.tensor(i) == rg.tensor(f), torch.tensor(i) == torch.tensor(f))
    assert_same(rg.tensor(i) < 2.5, torch.tensor(i) < 2.5)
    assert_same(rg.tensor([True, False]) == 1, torch.tensor([True, False]) == 1)


def test_logical_and_bitwise_on_bools_and_ints():
    a = [True, False, True, False]
    b = [True, True, False, False]
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert_same(getattr(rg, name)(rg.tensor(a), rg.tensor(b)),
                    getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    assert_same(rg.logical_not(rg.tensor(a)), torch.logical_not(torch.tensor(a)))
    assert_same(rg.logical_and(rg.tensor([0.0, 1.5]), rg.tensor([2, 0])),
                torch.logical_and(torch.tensor([0.0, 1.5]), torch.tensor([2, 0])))
    ra, rb, ta, tb = rg.tensor(a), rg.tensor(b), torch.tensor(a), torch.tensor(b)
    assert_same(ra & rb, ta & tb)
    assert_same(ra | rb, ta | tb)
    assert_same(ra ^ rb, ta ^ tb)
    assert_same(~ra, ~ta)
    assert_same(~rg.tensor([5, 0]), ~torch.tensor([5, 0]))


@SETTINGS
@given(shapes=broadcast_pair(), seed=seeds, dtype=float_dtypes)
def test_isnan_isfinite_isinf(shapes, seed, dtype):
    a = randn(shapes[0], seed, dtype)
    flat = a.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf], dtype)
    flat[: min(3, flat.size)] = specials[: min(3, flat.size)]
    ra, ta = rg.tensor(a, requires_grad=False), torch.tensor(a)
    for name in ("isnan", "isfinite", "isinf", "isposinf", "isneginf"):
        assert_same(getattr(rg, name)(ra), getattr(torch, name)(ta))
    assert_same(ra.isnan(), ta.isnan())
    assert_same(ra.isfinite(), ta.isfinite())
    assert_same(rg.isfinite(rg.tensor([1, 2])), torch.isfinite(torch.tensor([1, 2])))


def test_rounding_and_integer_division_match_torch():
    a = np.array([-2.5, -1.5, -0.4, 0.5, 1.5, 2.7], np.float32)
    for name in ("floor", "ceil", "round", "trunc", "frac"):
        assert_same(getattr(rg, name)(rg.tensor(a)), getattr(torch, name)(torch.tensor(a)))
    i, j = [7, -7, 6], [2, 2, -4]
    assert_same(rg.tensor(i) // rg.tensor(j), torch.tensor(i) // torch.tensor(j))
    assert_same(rg.tensor(i) % rg.tensor(j), torch.tensor(i) % torch.tensor(j))
    assert_same(rg.tensor(a) // 2, torch.tensor(a) // 2)
    assert_same(rg.fmod(rg.tensor(a), 1.0), torch.fmod(torch.tensor(a), 1.0))
    for mode in ("floor", "trunc"):
        assert_same(rg.div(rg.tensor(i), rg.tensor(j), rounding_mode=mode),
                    torch.div(torch.tensor(i), torch.tensor(j), rounding_mode=mode))
        assert_same(rg.div(rg.tensor(a), 2, rounding_mode=mode),
                    torch.div(torch.tensor(a), 2, rounding_mode=mode))


def test_comparison_results_have_no_grad_and_block_backward():
    x = rg.tensor([1.0, -1.0], requires_grad=True)
    m = x > 0
    assert m.dtype == rg.bool_ and not m.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        m.float().sum().backward()
    assert x.eq(x).all().item() is True
    assert rg.equal(x, x.detach().clone()) and rg.allclose(x, x + 1e-9)


def test_comparison_broadcast_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"lt.*\(2, 3\).*\(4,\)"):
        _ = rg.zeros(2, 3) < rg.zeros(4)
    with pytest.raises(RuntimeError, match=r"eq.*\(2,\).*\(3,\)"):
        rg.eq(rg.zeros(2), rg.zeros(3))
