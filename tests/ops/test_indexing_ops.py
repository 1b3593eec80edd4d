"""Indexing: __getitem__ with ints, slices (steps, negatives), None, Ellipsis, bool masks and
integer arrays (repeated indices accumulate), gather, index_select, masked_fill, take_along_dim,
__setitem__; parity with torch, gradchecks and clear errors."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import SETTINGS, check, float_dtypes, gradcheck, randn, seeds, shapes  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import retrograd as rg  # noqa: E402


@st.composite
def basic_index(draw, shape):
    """A basic index for ``shape``: ints, slices with steps, None and at most one Ellipsis."""
    parts = []
    dims = list(shape)
    used_ellipsis = False
    i = 0
    while i < len(dims):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis", "stop"]))
        if kind == "stop":
            break
        if kind == "none":
            parts.append(None)
            continue
        if kind == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            parts.append(Ellipsis)
            skip = draw(st.integers(0, len(dims) - i))
            i += skip
            continue
        n = dims[i]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            parts.append(slice(start, stop, step))
        i += 1
    if draw(st.booleans()) and len(parts) == 1:
        return parts[0]  # a bare index, not a tuple
    return tuple(parts)


@SETTINGS
@given(shape=shapes(min_dims=0, max_dims=4), seed=seeds, dtype=float_dtypes, data=st.data())
def test_basic_indexing(shape, seed, dtype, data):
    x = randn(shape, seed, dtype)
    idx = data.draw(basic_index(shape))
    check(lambda t: t[idx], lambda t: t[idx], x, seed=seed)


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds, data=st.data())
def test_integer_array_indexing_accumulates(shape, seed, data):
    x = randn(shape, seed)
    n = shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6)),
                   dtype=np.int64)
    check(lambda t: t[idx], lambda t: t[torch.from_numpy(idx)], x, seed=seed)
    check(lambda t: t[rg.tensor(idx)], lambda t: t[torch.from_numpy(idx)], x, seed=seed)
    check(lambda t: t[idx.tolist()], lambda t: t[idx.tolist()], x, seed=seed)
    if len(shape) >= 2:
        m = shape[1]
        j = np.array(data.draw(st.lists(st.integers(0, m - 1), min_size=len(idx),
                                        max_size=len(idx))), dtype=np.int64)
        check(lambda t: t[idx, j], lambda t: t[torch.from_numpy(idx), torch.from_numpy(j)], x,
              seed=seed)
        check(lambda t: t[:, j], lambda t: t[:, torch.from_numpy(j)], x, seed=seed)
        check(lambda t: t[..., idx[:1] % m], lambda t: t[..., torch.from_numpy(idx[:1] % m)], x,
              seed=seed)


def test_repeated_indices_known_answer():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    (y * rg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [7.0, 0.0, 3.0]
    w = rg.tensor(randn((4, 3), 0), requires_grad=True)
    rows = rg.tensor([[1, 1], [3, 1]])
    w[rows].sum().backward()  # a 2-D index array (embedding-style lookup)
    assert w.grad[:, 0].tolist() == [0, 3, 0, 1]


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds, data=st.data())
def test_boolean_mask_indexing(shape, seed, data):
    x = randn(shape, seed)
    full = randn(shape, seed + 3) > 0
    check(lambda t: t[full], lambda t: t[torch.from_numpy(full)], x, seed=seed)
    check(lambda t: t[rg.tensor(full)], lambda t: t[torch.from_numpy(full)], x, seed=seed)
    first = full.reshape(shape[0], -1)[:, 0]
    check(lambda t: t[first], lambda t: t[torch.from_numpy(first)], x, seed=seed)
    check(lambda t: t[t > 0], lambda t: t[t > 0], x, seed=seed)
    check(lambda t: rg.masked_select(t, rg.tensor(full)),
          lambda t: torch.masked_select(t, torch.from_numpy(full)), x, seed=seed)


def test_mixed_and_zero_dim_indexing():
    x = randn((3, 4, 5), 1)
    i = np.array([2, 0], np.int64)
    for rf, tf in [
        (lambda t: t[1, :, i], lambda t: t[1, :, torch.from_numpy(i)]),
        (lambda t: t[None, ..., 1::2], lambda t: t[None, ..., 1::2]),
        (lambda t: t[rg.tensor(1)], lambda t: t[torch.tensor(1)]),
        (lambda t: t[::2, -1], lambda t: t[::2, -1]),
        (lambda t: t[i, 1, i], lambda t: t[torch.from_numpy(i), 1, torch.from_numpy(i)]),
        (lambda t: t[None, 2, ..., i], lambda t: t[None, 2, ..., torch.from_numpy(i)]),
        (lambda t: t[..., None], lambda t: t[..., None]),
        (lambda t: t[i[:, None], i[None, :]],
         lambda t: t[torch.from_numpy(i[:, None]), torch.from_numpy(i[None, :])]),
    ]:
        check(rf, tf, x)
    s = randn((), 2)
    check(lambda t: t[None], lambda t: t[None], s)
    check(lambda t: t[...], lambda t: t[...], s)


def test_getitem_gradcheck():
    x = randn((3, 4), 3, np.float64)
    gradcheck(lambda t: t[1:, ::2], x)
    gradcheck(lambda t: t[[0, 0, 2]], x)
    gradcheck(lambda t: t[rg.tensor([[True, False, True, True]] * 3)], x)
    gradcheck(lambda t: t[:, [3, 3, 1]][None, ..., 0], x)


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds, data=st.data())
def test_gather_index_select(shape, seed, data):
    x = randn(shape, seed)
    n = len(shape)
    d = data.draw(st.integers(-n, n - 1))
    size_d = shape[d]
    idx_shape = list(shape)
    idx_shape[d] = data.draw(st.integers(1, 4))
    # along dim any length (repeats allowed); elsewhere at most the input's size
    idx_shape = [s if i == d % n else data.draw(st.integers(1, s)) for i, s in enumerate(idx_shape)]
    idx = np.random.default_rng(seed).integers(0, size_d, size=idx_shape).astype(np.int64)
    check(lambda t: t.gather(d, rg.tensor(idx)), lambda t: t.gather(d, torch.from_numpy(idx)), x,
          seed=seed)
    check(lambda t: rg.gather(t, d, rg.tensor(idx)),
          lambda t: torch.gather(t, d, torch.from_numpy(idx)), x, seed=seed)
    sel = np.random.default_rng(seed + 1).integers(0, size_d, size=data.draw(st.integers(0, 4)))
    check(lambda t: t.index_select(d, rg.tensor(sel)),
          lambda t: t.index_select(d, torch.from_numpy(sel)), x, seed=seed)


def test_take_along_dim():
    x = randn((3, 4), 0)
    idx = np.argsort(x, axis=1)
    check(lambda t: rg.take_along_dim(t, rg.tensor(idx), 1),
          lambda t: torch.take_along_dim(t, torch.from_numpy(idx), 1), x)


@SETTINGS
@given(shape=shapes(min_dims=0, max_dims=3), seed=seeds, value=st.sampled_from([0.0, -1.5, 7]))
def test_masked_fill(shape, seed, value):
    x = randn(shape, seed)
    mask = np.asarray(randn(shape, seed + 1) > 0)
    check(lambda t: t.masked_fill(rg.tensor(mask), value),
          lambda t: t.masked_fill(torch.from_numpy(mask), value), x, seed=seed)
    if shape:
        row = mask.reshape(-1)[: shape[-1]]  # a mask broadcast along the leading dims
        check(lambda t: rg.masked_fill(t, rg.tensor(row), value),
              lambda t: torch.masked_fill(t, torch.from_numpy(row), value), x, seed=seed)


def test_masked_fill_tensor_value_gets_gradient():
    x = randn((2, 3), 0)
    v = np.array(2.5, np.float32)
    mask = np.array([[True, False, True], [False, False, True]])
    check(lambda t, val: t.masked_fill(rg.tensor(mask), val),
          lambda t, val: t.masked_fill(torch.from_numpy(mask), val), x, v)


def test_setitem_autograd():
    def f(mod, x, v):
        y = x * 1
        y[0, 1:] = v
        y[1] = y[1] * 2
        y[y > 100] = 0.0
        return y

    x = randn((3, 3), 0)
    v = randn((2,), 1)
    check(lambda a, b: f(rg, a, b), lambda a, b: f(torch, a, b), x, v)


def test_gather_index_select_gradcheck():
    x = randn((3, 4), 4, np.float64)
    gradcheck(lambda t: t.gather(1, rg.tensor([[0, 0], [3, 1], [2, 2]])), x)
    gradcheck(lambda t: t.index_select(0, rg.tensor([2, 0, 2])), x)
    gradcheck(lambda t: t.masked_fill(rg.tensor([True, False, True, False]), 1.0), x)


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda x: x[3], IndexError, r"3.*\(3, 4\)"),
    (lambda x: x[:, -5], IndexError, r"\(3, 4\)"),
    (lambda x: x[0, 0, 0], IndexError, r"\(3, 4\)"),
    (lambda x: x[[0, 7]], IndexError, r"\(3, 4\)"),
    (lambda x: x[rg.tensor([1.0])], IndexError, r"float32"),
    (lambda x: x.gather(1, rg.tensor([[4]])), RuntimeError, r"gather.*4.*dimension 1.*4"),
    (lambda x: x.gather(1, rg.tensor([0, 1])), RuntimeError, r"gather.*same number of dimensions"),
    (lambda x: x.gather(1, rg.tensor([[0.0]])), RuntimeError, r"gather.*int64.*float32"),
    (lambda x: x.index_select(2, rg.tensor([0])), IndexError, r"index_select.*range"),
    (lambda x: x.index_select(0, rg.tensor([5])), IndexError, r"5.*\(3, 4\)"),
    (lambda x: x.masked_fill(rg.tensor([1, 0, 1, 0]), 0.0), RuntimeError, r"masked_fill.*bool"),
    (lambda x: x.masked_fill(rg.tensor([True, False]), 0.0), RuntimeError,
     r"masked_fill.*\(2,\).*\(3, 4\)"),
])
def test_index_errors(call, exc, pattern):
    x = rg.zeros(3, 4)
    with pytest.raises(exc, match=pattern):
        call(x)


def test_setitem_shape_mismatch_error():
    x = rg.zeros(3, 4)
    with pytest.raises(ValueError, match=r"setitem.*\(5,\).*\(3, 4\)"):
        x[0] = rg.zeros(5)
