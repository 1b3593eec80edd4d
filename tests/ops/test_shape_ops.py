"""Shape ops: reshape/view, flatten, transpose, permute, squeeze/unsqueeze, expand,
broadcast_to, repeat, cat, stack, split, chunk, flip, pad; parity with torch on random
shapes, gradchecks, views sharing memory, and clear errors."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import SETTINGS, check, float_dtypes, gradcheck, randn, seeds, shapes  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import retrograd as rg  # noqa: E402
from retrograd.ops.shape import pad as rg_pad  # noqa: E402


def _same(f):
    return f, f


@SETTINGS
@given(shape=shapes(max_dims=4), seed=seeds, dtype=float_dtypes, data=st.data())
def test_reshape_view_flatten(shape, seed, dtype, data):
    x = randn(shape, seed, dtype)
    n = x.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = data.draw(st.sampled_from(divisors))
    for f in [lambda t: t.reshape(d, -1), lambda t: t.reshape(-1), lambda t: t.view(n // d, d),
              lambda t: t.view(-1, 1), lambda t: t.flatten(),
              lambda t: rg_or_torch(t).reshape(t, (d, n // d)),
              lambda t: t.reshape(()) if n == 1 else t.reshape(n)]:
        check(f, f, x, seed=seed)
    if x.ndim >= 2:
        s = data.draw(st.integers(0, x.ndim - 1))
        e = data.draw(st.integers(s, x.ndim - 1))
        check(*_same(lambda t: t.flatten(s, e)), x, seed=seed)
        check(*_same(lambda t: t.flatten(-2)), x, seed=seed)


def rg_or_torch(t):
    return rg if isinstance(t, rg.Tensor) else torch


@SETTINGS
@given(shape=shapes(min_dims=1), seed=seeds, dtype=float_dtypes, data=st.data())
def test_permute_transpose(shape, seed, dtype, data):
    x = randn(shape, seed, dtype)
    n = x.ndim
    perm = data.draw(st.permutations(range(n)))
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    check(*_same(lambda t: t.permute(*perm)), x, seed=seed)
    check(*_same(lambda t: t.permute(perm)), x, seed=seed)
    check(*_same(lambda t: t.transpose(d0, d1)), x, seed=seed)
    check(*_same(lambda t: t.T if t.ndim <= 2 else t.permute(*reversed(range(t.ndim)))), x,
          seed=seed)
    check(*_same(lambda t: t.mT if t.ndim >= 2 else t), x, seed=seed)
    check(*_same(lambda t: t.movedim(0, -1)), x, seed=seed)


@SETTINGS
@given(shape=shapes(max_side=3), seed=seeds, data=st.data())
def test_squeeze_unsqueeze(shape, seed, data):
    x = randn(shape, seed)
    n = x.ndim
    check(*_same(lambda t: t.squeeze()), x, seed=seed)
    if n:
        d = data.draw(st.integers(-n, n - 1))
        check(*_same(lambda t: t.squeeze(d)), x, seed=seed)
    u = data.draw(st.integers(-n - 1, n))
    check(*_same(lambda t: t.unsqueeze(u)), x, seed=seed)
    check(*_same(lambda t: rg_or_torch(t).unsqueeze(t, u)), x, seed=seed)


def test_squeeze_tuple_dims():
    x = randn((1, 3, 1, 2), 0)
    check(*_same(lambda t: t.squeeze((0, 2))), x)
    check(*_same(lambda t: t.squeeze(1)), x)


@SETTINGS
@given(shape=shapes(max_side=3, max_dims=3), seed=seeds, data=st.data())
def test_expand_broadcast_to(shape, seed, data):
    x = randn(shape, seed)
    # grow size-1 dims and add up to two leading dims
    target = tuple(data.draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    full = lead + target
    if not full:
        full = (2,)
    check(*_same(lambda t: t.expand(*full)), x, seed=seed)
    check(lambda t: rg.broadcast_to(t, full), lambda t: torch.broadcast_to(t, full), x, seed=seed)
    keep = lead + tuple(-1 if s == t_ else t_ for s, t_ in zip(shape, target))
    check(*_same(lambda t: t.expand(keep)), x, seed=seed)
    check(*_same(lambda t: t.expand_as(torch.zeros(full) if isinstance(t, torch.Tensor)
                                       else rg.zeros(full))), x, seed=seed)


@SETTINGS
@given(shape=shapes(max_side=3, max_dims=3), seed=seeds, data=st.data())
def test_repeat(shape, seed, data):
    x = randn(shape, seed)
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape),
                                    max_size=len(shape) + 2)))
    if not reps:
        reps = (2,)
    check(*_same(lambda t: t.repeat(*reps)), x, seed=seed)
    check(*_same(lambda t: t.repeat(reps)), x, seed=seed)


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds, dtype=float_dtypes, data=st.data())
def test_cat_stack(shape, seed, dtype, data):
    n = len(shape)
    d = data.draw(st.integers(-n, n - 1))
    k = data.draw(st.integers(1, 3))
    arrays = []
    for i in range(k):
        s = list(shape)
        s[d] = data.draw(st.integers(0 if k > 1 else 1, 3))
        arrays.append(randn(tuple(s), seed + i, dtype))
    check(lambda *ts: rg.cat(ts, d), lambda *ts: torch.cat(ts, d), *arrays, seed=seed)
    same = [randn(shape, seed + i, dtype) for i in range(k)]
    sd = data.draw(st.integers(-n - 1, n))
    check(lambda *ts: rg.stack(ts, sd), lambda *ts: torch.stack(ts, sd), *same, seed=seed)
    check(lambda *ts: rg.stack(list(ts), dim=sd), lambda *ts: torch.stack(list(ts), dim=sd),
          *same, seed=seed)


def test_cat_mixed_dtypes_and_constants():
    a = randn((2, 3), 0)
    b = randn((1, 3), 1, np.float64)
    check(lambda x, y: rg.cat([x, y]), lambda x, y: torch.cat([x, y]), a, b)
    x = rg.tensor(a, requires_grad=True)
    y = rg.cat([x, rg.zeros(2, 3)], 1)
    y.sum().backward()
    assert x.grad.tolist() == np.ones((2, 3)).tolist()


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=3, max_side=6), seed=seeds, data=st.data())
def test_split_chunk(shape, seed, data):
    x = randn(shape, seed)
    n = len(shape)
    d = data.draw(st.integers(-n, n - 1))
    size = data.draw(st.integers(1, 4))
    check(*_same(lambda t: t.split(size, d)), x, seed=seed)
    check(lambda t: rg.split(t, size, dim=d), lambda t: torch.split(t, size, dim=d), x, seed=seed)
    total = shape[d]
    cut = data.draw(st.integers(0, total))
    check(*_same(lambda t: t.split([cut, total - cut], d)), x, seed=seed)
    chunks = data.draw(st.integers(1, 5))
    check(*_same(lambda t: t.chunk(chunks, d)), x, seed=seed)
    check(*_same(lambda t: t.unbind(d)), x, seed=seed)


def test_split_gradient_when_only_some_pieces_used():
    x = rg.tensor(randn((5, 2), 0), requires_grad=True)
    a, b, c = x.split(2)
    (a.sum() * 2 + c.sum()).backward()
    assert x.grad.tolist() == [[2, 2], [2, 2], [0, 0], [0, 0], [1, 1]]


@SETTINGS
@given(shape=shapes(min_dims=1, max_dims=4), seed=seeds, data=st.data())
def test_flip(shape, seed, data):
    x = randn(shape, seed)
    n = len(shape)
    dims = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    check(*_same(lambda t: t.flip(dims)), x, seed=seed)
    check(lambda t: rg.flip(t, dims), lambda t: torch.flip(t, dims), x, seed=seed)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@SETTINGS
@given(seed=seeds, data=st.data())
def test_pad(mode, seed, data):
    k = data.draw(st.integers(1, 2 if mode != "constant" else 3))
    lead = data.draw(st.integers(1 if mode != "constant" else 0, 2))
    shape = tuple(data.draw(st.integers(2, 4)) for _ in range(lead + k))
    if mode != "constant" and len(shape) < k + 1:
        shape = (1,) + shape
    lo = 0 if mode == "constant" else 0
    widths = []
    for i in range(k):
        side = shape[-1 - i]
        hi = side - 1 if mode == "reflect" else side
        widths += [data.draw(st.integers(lo, hi)), data.draw(st.integers(lo, hi))]
    x = randn(shape, seed)
    value = data.draw(st.sampled_from([None, 1.5]))
    if mode == "constant" and value is not None:
        check(lambda t: rg_pad(t, widths, value=value),
              lambda t: torch.nn.functional.pad(t, widths, value=value), x, seed=seed)
    else:
        check(lambda t: rg_pad(t, widths, mode=mode),
              lambda t: torch.nn.functional.pad(t, widths, mode=mode), x, seed=seed)


def test_pad_negative_crops():
    x = randn((3, 5), 0)
    widths = (-1, 2, 1, -1)
    check(lambda t: rg_pad(t, widths), lambda t: torch.nn.functional.pad(t, widths), x)


GRADCHECK = {
    "reshape": lambda x: x.reshape(3, 4), "view": lambda x: x.view(-1),
    "flatten": lambda x: x.flatten(1), "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(1, 2, 0), "squeeze": lambda x: x[:1].squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1), "expand": lambda x: x[:, :1].expand(2, 3, 2),
    "broadcast_to": lambda x: rg.broadcast_to(x, (2, 2, 3, 2)),
    "repeat": lambda x: x.repeat(2, 1, 3),
    "cat": lambda x: rg.cat([x, x * 2], 1), "stack": lambda x: rg.stack([x, x.exp()], -1),
    "split": lambda x: x.split(2, 1)[1], "chunk": lambda x: x.chunk(2, 2)[0],
    "flip": lambda x: x.flip((0, 2)), "pad": lambda x: rg_pad(x, (1, 2, 0, 1)),
    "pad_reflect": lambda x: rg_pad(x, (1, 1), mode="reflect"),
    "pad_replicate": lambda x: rg_pad(x, (2, 1), mode="replicate"),
    "pad_circular": lambda x: rg_pad(x, (1, 1), mode="circular"),
    "roll": lambda x: x.roll(1, 1), "tril": lambda x: x[0].tril(),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_shape_gradcheck(name):
    gradcheck(GRADCHECK[name], randn((2, 3, 2), 5, np.float64))


def test_views_share_memory_and_version():
    base = rg.zeros(2, 3)
    for v in (base.view(6), base.reshape(3, 2), base.T, base.transpose(0, 1), base[0], base[:, 1:],
              base.unsqueeze(0), base.permute(1, 0)):
        assert np.shares_memory(v.numpy(), base.numpy())
    v = base.view(6)
    v[0] = 5.0
    assert base[0, 0].item() == 5.0


def test_view_incompatible_stride_raises():
    x = rg.zeros(2, 3).T
    with pytest.raises(RuntimeError, match="view.*reshape"):
        x.view(6)
    assert x.reshape(6).shape == (6,)


@pytest.mark.parametrize("call,pattern", [
    (lambda: rg.zeros(2, 3).reshape(4, 2), r"reshape.*\[4, 2\].*size 6"),
    (lambda: rg.zeros(2, 3).view(-1, 4), r"view.*\[-1, 4\].*size 6"),
    (lambda: rg.zeros(2, 3).reshape(-1, -1), r"reshape.*one dimension"),
    (lambda: rg.zeros(2, 3).permute(0, 0), r"permute"),
    (lambda: rg.zeros(2, 3).permute(0), r"permute.*2.*1"),
    (lambda: rg.zeros(2, 3).expand(4, 3), r"expand.*\(4\).*\(2\).*dimension 0"),
    (lambda: rg.zeros(2, 3).expand(3), r"expand.*sizes provided"),
    (lambda: rg.cat([rg.zeros(2, 3), rg.zeros(2, 4)]), r"cat.*\(\*, 3\).*\(2, 4\).*1"),
    (lambda: rg.cat([rg.zeros(2, 3), rg.zeros(3)], 0), r"cat.*\(3,\)"),
    (lambda: rg.cat([]), r"cat.*non-empty"),
    (lambda: rg.stack([rg.zeros(2), rg.zeros(3)]), r"stack.*\(2,\).*\(3,\)"),
    (lambda: rg.zeros(4).split([1, 2]), r"split.*4.*\[1, 2\]"),
    (lambda: rg.zeros(2, 3).repeat(2), r"repeat.*1 < 2"),
    (lambda: rg.zeros(2, 3).transpose(0, 2), r"transpose.*range.*2"),
    (lambda: rg_pad(rg.zeros(3), (1, 1, 1, 1)), r"pad.*\(3,\)"),
    (lambda: rg_pad(rg.zeros(1, 3), (3, 0), mode="reflect"), r"pad.*reflect"),
    (lambda: rg.zeros(2, 3).flatten(1, 0), r"flatten.*start_dim"),
    (lambda: rg.zeros(2, 3).chunk(0), r"chunk.*0"),
])
def test_shape_errors(call, pattern):
    with pytest.raises((RuntimeError, IndexError, ValueError), match=pattern):
        call()
