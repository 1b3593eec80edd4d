"""The Tensor API: attributes, conversions, copies and views, printing, creation functions
and their dtype defaults, random seeding, devices, and the legacy ``.data``."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def _np_dtype(t):
    return np.dtype(str(t.dtype).replace("torch.", ""))


# ------------------------------------------------------------------ attributes
def test_basic_attributes():
    x = rg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert repr(x.shape) == "retrograd.Size([2, 3, 4])"
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dtype == rg.float32 and x.dtype is np.dtype(np.float32)
    assert x.ndim == 3 and x.dim() == 3
    assert x.numel() == 24 and x.shape.numel() == 24
    assert x.device == rg.device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
    assert not x.requires_grad and x.grad is None and x.grad_fn is None and x.is_leaf
    assert x.is_floating_point() and not rg.tensor([1]).is_floating_point()
    s = rg.tensor(5.0)
    assert s.shape == () and s.ndim == 0 and s.numel() == 1 and s.size() == ()
    with pytest.raises(IndexError, match="size"):
        x.size(3)


def test_T_and_mT():
    a = np.arange(24.0).reshape(2, 3, 4)
    for arr in (a[0], a[0, 0], a):
        r, t = rg.tensor(arr), torch.tensor(arr)
        if arr.ndim == 3:
            np.testing.assert_array_equal(r.mT.numpy(), t.mT.numpy())
            np.testing.assert_array_equal(r.permute(2, 1, 0).numpy(), t.permute(2, 1, 0).numpy())
        else:
            np.testing.assert_array_equal(r.T.numpy(), t.T.numpy())
    x = rg.tensor(a[0], requires_grad=True)
    (x.T * rg.arange(3.0)).sum().backward()
    assert x.grad.tolist() == [[0.0] * 4, [1.0] * 4, [2.0] * 4]


def test_item_tolist_numpy_array_interface():
    x = rg.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x[0, 0].item() == 1.5 and isinstance(x[0, 0].item(), float)
    assert rg.tensor([7]).item() == 7 and isinstance(rg.tensor([7]).item(), int)
    assert rg.tensor(True).item() is True
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]] and rg.tensor(2.5).tolist() == 2.5
    n = x.numpy()
    assert isinstance(n, np.ndarray) and n.dtype == np.float32
    n[0, 0] = 9.0  # numpy() shares memory, like torch
    assert x[0, 0].item() == 9.0
    assert np.asarray(x).dtype == np.float32 and np.shares_memory(np.asarray(x), n)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert float(rg.tensor([2.5])) == 2.5 and int(rg.tensor(3.7)) == 3
    assert [10, 20, 30][rg.tensor(1)] == 20  # __index__
    assert f"{rg.tensor(3.14159):.2f}" == "3.14"


def test_len_and_iteration():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[1].tolist() == [3.0, 4.0]
    (rows[0] * 2 + rows[2]).sum().backward()  # rows stay in the graph
    assert x.grad.tolist() == [[2, 2], [0, 0], [1, 1]]
    with pytest.raises(TypeError, match="0-d"):
        len(rg.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(rg.tensor(1.0))


def test_detach_clone_requires_grad_():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), x._data)
    c = x.clone()
    assert c.requires_grad and not c.is_leaf and not np.shares_memory(c._data, x._data)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    y = rg.tensor([1.0])
    assert y.requires_grad_() is y and y.requires_grad
    y.requires_grad_(False)
    assert not y.requires_grad
    nc = rg.ones(2).clone()
    assert not nc.requires_grad


def test_to_and_dtype_conversions():
    x = rg.tensor([1.7, -2.2], requires_grad=True)
    assert x.to(rg.float32) is x and x.to("cpu") is x and x.to(device="cpu") is x
    for method, dt in [("float", "float32"), ("double", "float64"), ("long", "int64"),
                       ("int", "int32"), ("bool", "bool"), ("half", "float16")]:
        r = getattr(x, method)()
        t = getattr(torch.tensor([1.7, -2.2]), method)()
        assert r.dtype == np.dtype(dt) == _np_dtype(t)
        assert r.tolist() == t.tolist()
    assert x.to(rg.float64).dtype == rg.float64 and x.to("float64").dtype == rg.float64
    assert x.to(rg.zeros(1, dtype=rg.float64)).dtype == rg.float64
    assert x.type_as(rg.tensor([1])).dtype == rg.int64
    d = x.double()
    assert d.requires_grad
    (d * 2).sum().backward()
    assert x.grad.dtype == rg.float32 and x.grad.tolist() == [2.0, 2.0]
    assert not x.long().requires_grad


def test_zero_fill_copy():
    x = rg.ones(2, 3)
    assert x.zero_() is x and x.tolist() == [[0.0] * 3] * 2
    assert x.fill_(2.5) is x and x.tolist() == [[2.5] * 3] * 2
    x.fill_(rg.tensor(1.0))
    assert x.sum().item() == 6.0
    src = rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=rg.float64)
    assert x.copy_(src) is x and x.dtype == rg.float32 and x.tolist() == src.tolist()
    with pytest.raises(RuntimeError, match=r"copy_.*\(4,\).*\(2, 3\)"):
        x.copy_(rg.zeros(4))
    # copy_ is differentiable with respect to the source
    w = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = rg.zeros(2, 3)
    buf.copy_(w)
    (buf * buf).sum().backward()
    assert w.grad.tolist() == [4.0, 8.0, 12.0]


def test_legacy_data_attribute():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = x.data
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), x._data)
    d[0] = 10.0
    assert x[0].item() == 10.0
    assert y.data.grad_fn is None and not y.data.requires_grad
    x.data = rg.tensor([3.0, 4.0])
    assert x.tolist() == [3.0, 4.0] and x.requires_grad and x.is_leaf
    with rg.no_grad():
        x.data.mul_(2)
    assert x.tolist() == [6.0, 8.0]


# ------------------------------------------------------------------ printing
@pytest.mark.parametrize("expr", [
    "lib.tensor([[1., 2.], [3., 40.]])",
    "lib.tensor([[1.5, -2.25], [3., 4.]], requires_grad=True)",
    "lib.tensor([1, 200, -3])", "lib.tensor([True, False])", "lib.tensor(3.5)", "lib.tensor(2)",
    "lib.tensor([1., 2.], dtype=lib.float64)", "lib.tensor([1, 2], dtype=lib.int32)",
    "lib.zeros(0)", "lib.zeros(2, 0)", "lib.tensor([1e-5, 1.0])", "lib.tensor([1e10, 1.0])",
    "lib.tensor([float('nan'), float('inf'), 1.5])", "lib.arange(2000.)", "lib.arange(10.)",
    "lib.tensor([0.1, 0.25]) * lib.tensor([1., 1.], requires_grad=True)",
    "lib.ones(2, requires_grad=True).sum()", "lib.ones(2, 3, 2)",
    "lib.tensor([[1., 2., 3.]] * 3, dtype=lib.float64, requires_grad=True)",
])
def test_repr_matches_torch(expr):
    mine = repr(eval(expr, {"lib": rg}))
    theirs = repr(eval(expr, {"lib": torch}))
    theirs = theirs.replace("torch.", "retrograd.")
    # grad_fn names are ours (e.g. SumBackward0 is the same; MulBackward0 too)
    assert mine == theirs
    assert str(eval(expr, {"lib": rg})) == mine


# ------------------------------------------------------------------ creation
@pytest.mark.parametrize("data", [
    1.5, 2, True, [1.0, 2.0], [1, 2], [True, False], [[1, 2], [3, 4]], [1, 2.5],
    [[1.0], [2.0]], np.float64(1.5), np.int32(3), np.array([1, 2], np.int32),
    np.array([1.0], np.float64), np.array([1.0], np.float16), np.array([True]), [],
])
def test_tensor_dtype_inference_matches_torch(data):
    r, t = rg.tensor(data), torch.tensor(data)
    assert r.dtype == _np_dtype(t) and tuple(r.shape) == tuple(t.shape)
    assert r.tolist() == t.tolist()


def test_tensor_copies_and_as_tensor_from_numpy_share():
    a = np.array([1.0, 2.0], np.float32)
    t = rg.tensor(a)
    a[0] = 5.0
    assert t[0].item() == 1.0
    s = rg.as_tensor(a)
    f = rg.from_numpy(a)
    a[1] = 7.0
    assert s[1].item() == 7.0 and f[1].item() == 7.0 and f.dtype == rg.float32
    assert rg.as_tensor(a, dtype=rg.float64).dtype == rg.float64
    x = rg.ones(2)
    assert rg.as_tensor(x) is x
    assert rg.tensor(x).tolist() == [1.0, 1.0] and not np.shares_memory(rg.tensor(x)._data, x._data)
    assert rg.tensor([rg.tensor(1.0), rg.tensor(2.0)]).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="from_numpy"):
        rg.from_numpy([1, 2])


@pytest.mark.parametrize("expr", [
    "lib.zeros(2, 3)", "lib.zeros((2, 3))", "lib.ones(4)", "lib.ones([2, 2], dtype=lib.float64)",
    "lib.full((2, 2), 3.5)", "lib.full((2,), 7)", "lib.full((2,), True)", "lib.empty(3).shape",
    "lib.arange(5)", "lib.arange(1, 4)", "lib.arange(0, 1, 0.25)", "lib.arange(5.0)",
    "lib.arange(1, 10, 3, dtype=lib.float64)", "lib.arange(0, -3, -1)",
    "lib.linspace(0, 1, 5)", "lib.linspace(-1, 1, 3, dtype=lib.float64)", "lib.eye(3)",
    "lib.eye(2, 3)", "lib.zeros(0, 3)", "lib.zeros(())", "lib.ones(2, dtype=lib.int64)",
    "lib.zeros_like(lib.ones(2, 3, dtype=lib.int32))",
    "lib.ones_like(lib.zeros(2), dtype=lib.float64)",
    "lib.full_like(lib.zeros(2), 4)", "lib.full_like(lib.tensor([1, 2]), 2.7)",
    "lib.empty_like(lib.zeros(3)).shape", "lib.logspace(0, 2, 3)",
])
def test_creation_functions_match_torch(expr):
    r = eval(expr, {"lib": rg})
    t = eval(expr, {"lib": torch})
    if isinstance(t, torch.Tensor):
        assert r.dtype == _np_dtype(t) and tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-6)
    else:
        assert tuple(r) == tuple(t)


def test_like_functions_with_requires_grad_and_dtype():
    base = rg.ones(2, 3, dtype=rg.float64)
    for fn in (rg.zeros_like, rg.ones_like, rg.empty_like, rg.rand_like, rg.randn_like):
        a = fn(base)
        assert a.dtype == rg.float64 and a.shape == (2, 3) and not a.requires_grad
        b = fn(base, dtype=rg.float32, requires_grad=True)
        assert b.dtype == rg.float32 and b.requires_grad and b.is_leaf
    f = rg.full_like(base, 2.0, requires_grad=True)
    assert f.requires_grad and f.dtype == rg.float64
    i = rg.randint_like(base, 0, 5)
    assert i.shape == (2, 3) and (i.numpy() >= 0).all() and (i.numpy() < 5).all()
    with pytest.raises(RuntimeError, match="floating point"):
        rg.zeros_like(rg.tensor([1, 2]), requires_grad=True)
    assert rg.zeros(2, requires_grad=True).requires_grad


def test_random_creation_shapes_dtypes_and_ranges():
    assert rg.rand(2, 3).dtype == rg.float32 and rg.randn(4).shape == (4,)
    assert rg.rand(3, dtype=rg.float64).dtype == rg.float64
    u = rg.rand(10_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = rg.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = rg.randint(3, 7, (1000,))
    assert r.dtype == rg.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert rg.randint(5, (2, 2)).shape == (2, 2)
    p = rg.randperm(10)
    assert p.dtype == rg.int64 and sorted(p.tolist()) == list(range(10))
    assert rg.randn(2, 2, requires_grad=True).requires_grad


def test_manual_seed_reproducibility():
    def draw():
        return [rg.rand(3).tolist(), rg.randn(2, 2).tolist(), rg.randint(0, 100, (4,)).tolist(),
                rg.randperm(6).tolist(), rg.ones(3).uniform_().tolist()]

    rg.manual_seed(123)
    a = draw()
    rg.manual_seed(123)
    b = draw()
    rg.manual_seed(124)
    c = draw()
    assert a == b and a != c
    state = rg.get_rng_state()
    d = draw()
    rg.set_rng_state(state)
    assert draw() == d
    g = rg.Generator().manual_seed(7)
    x = rg.randn(3, generator=g).tolist()
    g.manual_seed(7)
    assert rg.randn(3, generator=g).tolist() == x
    assert rg.initial_seed() == 124


# ------------------------------------------------------------------ devices
def test_cpu_device_accepted_and_cuda_rejected_clearly():
    assert rg.zeros(2, device="cpu").device.type == "cpu"
    assert rg.tensor([1.0], device=rg.device("cpu")).device == "cpu"
    assert rg.ones(1).to("cpu").cpu().device == rg.device("cpu")
    assert rg.cuda.is_available() is False and rg.cuda.device_count() == 0
    dev = rg.device("cuda" if rg.cuda.is_available() else "cpu")
    assert rg.ones(2, device=dev).device == dev
    for call in (lambda: rg.zeros(2, device="cuda"), lambda: rg.ones(1).to("cuda"),
                 lambda: rg.ones(1).cuda(), lambda: rg.tensor([1.0], device="cuda:0"),
                 lambda: rg.randn(2, device=rg.device("cuda"))):
        with pytest.raises(RuntimeError, match=r"cuda.*not available.*cpu"):
            call()
    assert repr(rg.device("cuda:1")) == "device(type='cuda', index=1)"


def test_default_dtype_switch():
    try:
        rg.set_default_dtype(rg.float64)
        assert rg.get_default_dtype() == rg.float64
        assert rg.tensor([1.5]).dtype == rg.float64 and rg.zeros(2).dtype == rg.float64
        assert (rg.tensor([1, 2]) / 2).dtype == rg.float64
    finally:
        rg.set_default_dtype(rg.float32)
    assert rg.tensor([1.5]).dtype == rg.float32
    with pytest.raises(TypeError, match="floating"):
        rg.set_default_dtype(rg.int64)


def test_creation_accepts_size_keyword_like_torch():
    torch = __import__("torch")
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        assert tuple(getattr(rg, name)(size=(2, 3)).shape) == tuple(getattr(torch, name)(size=(2, 3)).shape)
    assert rg.zeros(size=[4]).shape == (4,)
