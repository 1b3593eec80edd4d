"""Pooling (max, average, adaptive; 1-D and 2-D; functional and modules): values and
gradients against torch, ties routed to the first maximum, finite differences, second
derivatives, reprs and error messages."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn as nn  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _data(shape, seed, dtype=np.float64, ties=False):
    r = np.random.default_rng(seed)
    if ties:  # few distinct values, many repeats, as after ReLU or on images
        return r.integers(-1, 3, shape).clip(0).astype(dtype)
    return r.standard_normal(shape).astype(dtype)


def parity(rg_fn, torch_fn, shape, dtype=np.float64, seed=0, ties=False):
    x = _data(shape, seed, dtype, ties)
    rx, tx = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ry, ty = rg_fn(rx), torch_fn(tx)
    assert tuple(ry.shape) == tuple(ty.shape)
    assert ry.dtype == np.dtype(dtype)
    np.testing.assert_allclose(ry.detach().numpy(), ty.detach().numpy(), **TOL[dtype])
    g = _data(tuple(ty.shape), seed + 1, dtype)
    ry.backward(rg.tensor(g))
    ty.backward(torch.tensor(g))
    assert rx.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), **TOL[dtype])
    return ry


# ------------------------------------------------------------------ max pooling
MAX2D = [
    (2, {}),
    (3, {}),
    ((2, 3), {}),
    (3, dict(stride=2)),
    (3, dict(stride=1, padding=1)),
    ((3, 2), dict(stride=(2, 1), padding=(1, 0))),
    (3, dict(stride=2, padding=1, dilation=2)),
    (2, dict(dilation=(2, 1))),
    (3, dict(stride=2, ceil_mode=True)),
    (3, dict(stride=2, padding=1, ceil_mode=True)),
    (2, dict(stride=3, ceil_mode=True)),
    ((4, 3), dict(stride=2, padding=(2, 1), dilation=(1, 2), ceil_mode=True)),
]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k, kw", MAX2D)
def test_max_pool2d_parity(k, kw, ties):
    parity(
        lambda x: F.max_pool2d(x, k, **kw),
        lambda x: TF.max_pool2d(x, k, **kw),
        (2, 3, 9, 8),
        ties=ties,
    )


@pytest.mark.parametrize("k, kw", MAX2D[::4])
def test_max_pool2d_float32_and_unbatched(k, kw):
    parity(
        lambda x: F.max_pool2d(x, k, **kw),
        lambda x: TF.max_pool2d(x, k, **kw),
        (3, 9, 8),
        dtype=np.float32,
        ties=True,
    )


def test_max_pool2d_ties_go_to_the_first_maximum():
    x = rg.zeros(1, 1, 2, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool2d_known_answer():
    x = rg.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(F.max_pool2d(x, 3, stride=1).numpy()[0, 0], [[10, 11], [14, 15]])


@pytest.mark.parametrize(
    "k, kw",
    [
        (2, {}),
        (3, dict(stride=2, padding=1)),
        (3, dict(dilation=2, ceil_mode=True)),
        (4, dict(stride=3, padding=2, ceil_mode=True)),
    ],
)
def test_max_pool1d_parity(k, kw):
    parity(
        lambda x: F.max_pool1d(x, k, **kw),
        lambda x: TF.max_pool1d(x, k, **kw),
        (2, 3, 11),
        ties=True,
    )
    parity(lambda x: F.max_pool1d(x, k, **kw), lambda x: TF.max_pool1d(x, k, **kw), (3, 11))


@pytest.mark.parametrize(
    "fn, shape, args",
    [
        ("max_pool2d", (2, 3, 9, 8), (3, 2, 1)),
        ("max_pool2d", (3, 7, 7), (2,)),
        ("max_pool1d", (2, 3, 10), (3, 2, 1, 2)),
        ("adaptive_max_pool2d", (2, 3, 9, 7), ((4, 3),)),
        ("adaptive_max_pool2d", (2, 3, 8, 6), ((4, 3),)),
        ("adaptive_max_pool1d", (2, 3, 10), (4,)),
    ],
)
def test_return_indices(fn, shape, args):
    x = _data(shape, 0, ties=True)
    ry, ri = getattr(F, fn)(rg.tensor(x), *args, return_indices=True)
    ty, ti = getattr(TF, fn)(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(ry.numpy(), ty.numpy())
    assert ri.dtype == rg.int64
    np.testing.assert_array_equal(ri.numpy(), ti.numpy())


def test_max_pool_nan_propagates():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    rx = rg.tensor(x, requires_grad=True)
    y = F.max_pool2d(rx, 2)
    assert np.isnan(y.detach().numpy()[0, 0, 0, 0]) and y.detach().numpy()[0, 0, 1, 1] == 1
    y.sum().backward()
    assert rx.grad.numpy()[0, 0, 1, 1] == 1  # the gradient goes to the NaN


# ------------------------------------------------------------------ average pooling
AVG2D = [
    (2, {}),
    ((3, 2), {}),
    (3, dict(stride=2)),
    (3, dict(stride=1, padding=1)),
    (3, dict(stride=1, padding=1, count_include_pad=False)),
    ((3, 4), dict(stride=(2, 1), padding=(1, 2), count_include_pad=False)),
    (3, dict(stride=2, ceil_mode=True)),
    (3, dict(stride=2, padding=1, ceil_mode=True)),
    (3, dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (2, dict(stride=3, ceil_mode=True)),
    (3, dict(stride=2, padding=1, divisor_override=5)),
    (2, dict(divisor_override=3, ceil_mode=True, count_include_pad=False)),
]


@pytest.mark.parametrize("k, kw", AVG2D)
def test_avg_pool2d_parity(k, kw):
    parity(lambda x: F.avg_pool2d(x, k, **kw), lambda x: TF.avg_pool2d(x, k, **kw), (2, 3, 9, 8))


@pytest.mark.parametrize("k, kw", AVG2D[::4])
def test_avg_pool2d_float32_unbatched(k, kw):
    parity(
        lambda x: F.avg_pool2d(x, k, **kw),
        lambda x: TF.avg_pool2d(x, k, **kw),
        (3, 9, 8),
        dtype=np.float32,
    )


@pytest.mark.parametrize(
    "k, kw",
    [
        (2, {}),
        (3, dict(stride=2, padding=1)),
        (3, dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ],
)
def test_avg_pool1d_parity(k, kw):
    parity(lambda x: F.avg_pool1d(x, k, **kw), lambda x: TF.avg_pool1d(x, k, **kw), (2, 3, 11))
    parity(
        lambda x: F.avg_pool1d(x, k, **kw),
        lambda x: TF.avg_pool1d(x, k, **kw),
        (3, 11),
        dtype=np.float32,
    )


def test_avg_pool2d_known_answer():
    x = rg.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])


# ------------------------------------------------------------------ adaptive pooling
@pytest.mark.parametrize(
    "shape, out",
    [
        ((2, 3, 8, 6), (4, 3)),  # divides evenly
        ((2, 3, 8, 6), 1),
        ((2, 3, 9, 7), (4, 3)),  # uneven, overlapping windows
        ((2, 3, 5, 5), (7, 6)),  # larger than the input
        ((2, 3, 9, 7), (None, 2)),
        ((3, 9, 7), 5),  # unbatched
    ],
)
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool2d_parity(shape, out, kind):
    name = f"adaptive_{kind}_pool2d"
    parity(
        lambda x: getattr(F, name)(x, out),
        lambda x: getattr(TF, name)(x, out),
        shape,
        ties=kind == "max",
    )
    parity(
        lambda x: getattr(F, name)(x, out),
        lambda x: getattr(TF, name)(x, out),
        shape,
        dtype=np.float32,
    )


@pytest.mark.parametrize("shape, out", [((2, 3, 12), 4), ((2, 3, 11), 4), ((3, 5), 7)])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool1d_parity(shape, out, kind):
    name = f"adaptive_{kind}_pool1d"
    parity(
        lambda x: getattr(F, name)(x, out),
        lambda x: getattr(TF, name)(x, out),
        shape,
        ties=kind == "max",
    )


# ------------------------------------------------------------------ finite differences, 2nd order
GRADCHECK = [
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, 2, dilation=2),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool1d(x.reshape(2, 2, -1), 3, 2, 1),
    lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    lambda x: F.adaptive_max_pool2d(x, (4, 3)),
]


@pytest.mark.parametrize("i", range(len(GRADCHECK)))
def test_gradcheck(i):
    x = rg.tensor(_data((2, 2, 6, 5), i), requires_grad=True)  # continuous data: no ties
    assert rg.autograd.gradcheck(GRADCHECK[i], (x,))


SECOND = [
    lambda f: lambda x: f.max_pool2d(x * x, 3, 2, 1, ceil_mode=True),
    lambda f: lambda x: f.max_pool2d(x * x, 2),
    lambda f: lambda x: f.avg_pool2d(x * x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda f: lambda x: f.avg_pool2d(x * x, 2),
    lambda f: lambda x: f.adaptive_avg_pool2d(x * x, (4, 3)),
    lambda f: lambda x: f.adaptive_max_pool2d(x * x, (4, 3)),
]


@pytest.mark.parametrize("i", range(len(SECOND)))
def test_double_backward_matches_torch(i):
    x = _data((2, 2, 7, 6), i)
    rx, tx = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ry, ty = SECOND[i](F)(rx), SECOND[i](TF)(tx)
    g = _data(tuple(ty.shape), 10 + i)
    (rgx,) = rg.autograd.grad(ry, [rx], rg.tensor(g), create_graph=True)
    (tgx,) = torch.autograd.grad(ty, [tx], torch.tensor(g), create_graph=True)
    u = _data(x.shape, 20 + i)
    (rgx * rg.tensor(u)).sum().backward()
    (tgx * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradgradcheck_finite_differences():
    x = rg.tensor(_data((1, 2, 5, 5), 3), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda x: F.max_pool2d(x * x, 3, 2, 1), (x,))
    assert rg.autograd.gradgradcheck(lambda x: F.avg_pool2d(x * x, 3, 2, 1, ceil_mode=True), (x,))


# ------------------------------------------------------------------ modules
MODULES = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1))),
    ("MaxPool1d", (3,), dict(stride=2)),
    ("AvgPool2d", (2,), {}),
    (
        "AvgPool2d",
        (3,),
        dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=4),
    ),
    ("AvgPool1d", (3,), dict(stride=2, padding=1)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveMaxPool2d", (3,), {}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
]


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_module_parity_and_repr(name, args, kw):
    rm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(rm) == repr(tm)
    shape = (2, 3, 9) if name.endswith("1d") else (2, 3, 9, 8)
    parity(rm, tm, shape, ties=True)


def test_max_pool_module_return_indices():
    rm, tm = nn.MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True)
    x = _data((2, 3, 6, 6), 0)
    (ry, ri), (ty, ti) = rm(rg.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_array_equal(ry.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(ri.numpy(), ti.numpy())


def test_module_input_errors_name_the_layer_and_shape():
    with pytest.raises(
        RuntimeError,
        match=r"MaxPool2d\(kernel_size=2, stride=2.*\(N, C, H, W\) or "
        r"\(C, H, W\), got \(5,\)",
    ):
        nn.MaxPool2d(2)(rg.randn(5))
    with pytest.raises(
        RuntimeError, match=r"AvgPool1d\(kernel_size=\(3,\).*\(N, C, L\) or \(C, L\)"
    ):
        nn.AvgPool1d(3)(rg.randn(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match=r"AdaptiveAvgPool2d\(output_size=1\)"):
        nn.AdaptiveAvgPool2d(1)(rg.randn(4, 5))


def test_functional_errors():
    x = rg.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half of kernel size"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(
        RuntimeError, match=r"Calculated output size: \(3x0x0\). Output size is too small"
    ):
        F.max_pool2d(x, 9)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
        F.max_pool2d(x, 0)
    with pytest.raises(RuntimeError, match="stride must be greater than zero"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match=r"expected a 3D \(unbatched\) or 4D \(batched\) input"):
        F.max_pool2d(rg.randn(8, 8), 2)
    with pytest.raises(RuntimeError, match="floating-point input"):
        F.avg_pool2d(rg.ones(1, 1, 4, 4, dtype=rg.int64), 2)


def test_max_pool_of_integers():
    x = np.random.default_rng(0).integers(-5, 5, (2, 3, 6, 6))
    np.testing.assert_array_equal(
        F.max_pool2d(rg.tensor(x), 3, 2, 1).numpy(), TF.max_pool2d(torch.tensor(x), 3, 2, 1).numpy()
    )


def test_stride_empty_list_means_kernel_size():
    x = _data((1, 2, 6, 6), 0)
    np.testing.assert_array_equal(
        F.max_pool2d(rg.tensor(x), 2, stride=[]).numpy(),
        TF.max_pool2d(torch.tensor(x), 2, stride=[]).numpy(),
    )
