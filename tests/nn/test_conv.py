"""Convolutions (F.conv1d/conv2d/conv_transpose1d/conv_transpose2d, nn.Conv*): values and
gradients against torch over many argument combinations, finite differences, second
derivatives, module init/repr/errors, and a LeNet-5 forward/backward parity test."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn as nn  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402

TF = torch.nn.functional
# torch warns that it copies the input for padding='same' with even kernels; not our concern
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


def _data(shape, seed, dtype):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def parity(rg_fn, torch_fn, shapes, dtype=np.float64, seed=0, grad=True):
    """Same arrays through retrograd and torch: compare the output and every input gradient."""
    arrays = [_data(s, seed + i, dtype) for i, s in enumerate(shapes)]
    rins = [rg.tensor(a, requires_grad=grad) for a in arrays]
    tins = [torch.tensor(a, requires_grad=grad) for a in arrays]
    rout, tout = rg_fn(*rins), torch_fn(*tins)
    assert tuple(rout.shape) == tuple(tout.shape)
    assert rout.dtype == np.dtype(dtype)
    tol = TOL[dtype]
    np.testing.assert_allclose(
        rout.detach().numpy(), tout.detach().numpy(), **tol, err_msg="output"
    )
    if grad:
        g = _data(tuple(tout.shape), seed + 99, dtype)
        rout.backward(rg.tensor(g))
        tout.backward(torch.tensor(g))
        for i, (r, t) in enumerate(zip(rins, tins)):
            assert r.grad is not None and r.grad.dtype == np.dtype(dtype), f"grad {i}"
            np.testing.assert_allclose(
                r.grad.numpy(), t.grad.numpy(), **tol, err_msg=f"grad of input {i}"
            )
    return rout


# ------------------------------------------------------------------ conv2d
# (input shape, weight shape, keyword arguments)
CONV2D = [
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(padding=1)),
    ((2, 3, 9, 8), (4, 3, 5, 3), dict(padding=(2, 1))),
    ((2, 3, 9, 8), (4, 3, 3, 2), dict(stride=2)),
    ((2, 3, 10, 9), (4, 3, 3, 3), dict(stride=(2, 3), padding=(1, 2))),
    ((2, 3, 11, 10), (4, 3, 3, 3), dict(dilation=2)),
    ((2, 3, 11, 10), (4, 3, 3, 2), dict(dilation=(2, 3), padding=(2, 1))),
    ((2, 3, 12, 11), (4, 3, 3, 3), dict(stride=2, dilation=2, padding=2)),
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(padding="same")),
    ((2, 3, 9, 8), (4, 3, 4, 2), dict(padding="same")),  # even kernel: extra zero bottom/right
    ((2, 3, 9, 8), (4, 3, 4, 3), dict(padding="same", dilation=(1, 2))),
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(padding="valid")),
    ((2, 6, 8, 8), (4, 3, 3, 3), dict(groups=2)),
    ((2, 6, 8, 8), (9, 2, 3, 2), dict(groups=3, stride=2, padding=1)),
    ((2, 4, 7, 7), (4, 1, 3, 3), dict(groups=4, padding=1)),  # depthwise
    ((2, 4, 7, 7), (8, 1, 3, 3), dict(groups=4, padding="same", dilation=2)),
    ((1, 3, 6, 6), (5, 3, 1, 1), {}),  # 1x1, batch 1
    ((2, 3, 6, 6), (5, 3, 1, 1), dict(stride=2)),
    ((1, 1, 5, 5), (1, 1, 5, 5), {}),  # kernel as large as the input
    ((3, 2, 7, 1), (2, 2, 3, 1), dict(padding=(1, 0))),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(stride=4, padding=2)),
    ((40, 8, 12, 12), (16, 8, 5, 5), dict(padding=2)),  # several cache blocks in col2im
    ((40, 8, 12, 12), (16, 4, 3, 3), dict(groups=2, padding=1)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONV2D)
def test_conv2d_parity_float64(xs, ws, kw, bias):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    parity(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), shapes)


@pytest.mark.parametrize("xs, ws, kw", CONV2D[::3])
def test_conv2d_parity_float32(xs, ws, kw):
    out = parity(
        lambda x, w, b: F.conv2d(x, w, b, **kw),
        lambda x, w, b: TF.conv2d(x, w, b, **kw),
        [xs, ws, (ws[0],)],
        dtype=np.float32,
    )
    assert out.dtype == rg.float32


def test_conv2d_positional_arguments():
    # torch order: input, weight, bias, stride, padding, dilation, groups
    parity(
        lambda x, w, b: F.conv2d(x, w, b, 2, 1, 2, 2),
        lambda x, w, b: TF.conv2d(x, w, b, 2, 1, 2, 2),
        [(2, 4, 9, 9), (6, 2, 3, 3), (6,)],
    )


def test_conv2d_unbatched():
    out = parity(
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        [(3, 7, 6), (4, 3, 3, 3), (4,)],
    )
    assert out.shape == (4, 7, 6)


def test_conv2d_known_answer():
    x = rg.arange(16, dtype=rg.float32).reshape(1, 1, 4, 4)
    w = rg.ones(1, 1, 2, 2)
    y = F.conv2d(x, w)
    # each output is the sum of a 2x2 block: 0+1+4+5 = 10, then steps of +4 per row, +1 per column
    expected = np.array([[10, 14, 18], [26, 30, 34], [42, 46, 50]], np.float32)
    np.testing.assert_array_equal(y.numpy()[0, 0], expected)


def test_conv2d_noncontiguous_input():
    a = _data((2, 8, 9, 3), 0, np.float64)
    w = _data((4, 3, 3, 3), 1, np.float64)
    r = F.conv2d(rg.tensor(a).permute(0, 3, 1, 2), rg.tensor(w), padding=1)
    t = TF.conv2d(torch.tensor(a).permute(0, 3, 1, 2), torch.tensor(w), padding=1)
    np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ conv1d
CONV1D = [
    ((2, 3, 11), (4, 3, 3), {}),
    ((2, 3, 11), (4, 3, 3), dict(padding=1, stride=2)),
    ((2, 3, 11), (4, 3, 4), dict(padding="same", dilation=2)),
    ((2, 3, 11), (4, 3, 3), dict(padding="valid", dilation=3)),
    ((2, 4, 10), (6, 2, 3), dict(groups=2, stride=3, padding=2)),
    ((1, 2, 5), (3, 2, 1), {}),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONV1D)
def test_conv1d_parity(xs, ws, kw, bias):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    parity(lambda *a: F.conv1d(*a, **kw), lambda *a: TF.conv1d(*a, **kw), shapes)


def test_conv1d_unbatched_and_float32():
    out = parity(
        lambda x, w: F.conv1d(x, w, padding=1),
        lambda x, w: TF.conv1d(x, w, padding=1),
        [(3, 9), (5, 3, 3)],
        dtype=np.float32,
    )
    assert out.shape == (5, 9)


# ------------------------------------------------------------------ transposed convolutions
CONVT2D = [
    ((2, 3, 5, 4), (3, 4, 3, 3), {}),
    ((2, 3, 5, 4), (3, 4, 3, 2), dict(stride=2)),
    ((2, 3, 5, 4), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 3, 5, 4), (3, 2, 3, 3), dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2))),
    ((2, 4, 5, 4), (4, 3, 3, 3), dict(groups=2, stride=2, padding=1)),
    ((2, 3, 5, 4), (3, 2, 3, 3), dict(dilation=2, padding=2)),
    ((2, 3, 5, 4), (3, 2, 2, 3), dict(stride=2, dilation=3, output_padding=2)),  # op < dilation
    ((1, 2, 3, 3), (2, 2, 4, 4), dict(stride=2, padding=1)),
    ((2, 2, 4, 4), (2, 3, 1, 1), {}),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONVT2D)
def test_conv_transpose2d_parity(xs, ws, kw, bias):
    G = kw.get("groups", 1)
    shapes = [xs, ws] + ([(ws[1] * G,)] if bias else [])
    parity(
        lambda *a: F.conv_transpose2d(*a, **kw), lambda *a: TF.conv_transpose2d(*a, **kw), shapes
    )


def test_conv_transpose2d_positional_float32_unbatched():
    # torch order: input, weight, bias, stride, padding, output_padding, groups, dilation
    parity(
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1),
        [(4, 5, 5), (4, 3, 3, 3), (6,)],
        dtype=np.float32,
    )


@pytest.mark.parametrize(
    "kw", [{}, dict(stride=2, padding=1, output_padding=1), dict(dilation=2, groups=2)]
)
def test_conv_transpose1d_parity(kw):
    parity(
        lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw),
        [(2, 4, 7), (4, 3, 3), (3 * kw.get("groups", 1),)],
    )


def test_conv_transpose_is_the_input_gradient_of_conv():
    x = rg.tensor(_data((2, 3, 9, 9), 0, np.float64), requires_grad=True)
    w = rg.tensor(_data((4, 3, 3, 3), 1, np.float64))
    y = F.conv2d(x, w, stride=2, padding=1)
    g = rg.tensor(_data(tuple(y.shape), 2, np.float64))
    y.backward(g)
    np.testing.assert_allclose(
        F.conv_transpose2d(g, w, stride=2, padding=1).numpy(),
        x.grad.numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


# ------------------------------------------------------------------ finite differences, 2nd order
GRADCHECK = [
    (
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=(1, 2), dilation=(2, 1), groups=2),
        [(2, 4, 6, 5), (4, 2, 3, 2), (4,)],
    ),
    (lambda x, w, b: F.conv2d(x, w, b, padding="same"), [(1, 2, 4, 5), (3, 2, 2, 3), (3,)]),
    (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 7), (3, 2, 3), (3,)]),
    (
        lambda x, w, b: F.conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1, groups=2
        ),
        [(1, 4, 3, 3), (4, 1, 3, 2), (2,)],
    ),
]


@pytest.mark.parametrize("i", range(len(GRADCHECK)))
def test_gradcheck(i):
    fn, shapes = GRADCHECK[i]
    ins = tuple(
        rg.tensor(_data(s, j, np.float64), requires_grad=True) for j, s in enumerate(shapes)
    )
    assert rg.autograd.gradcheck(fn, ins)


SECOND = [
    (
        lambda f: (
            lambda x, w, b: f.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2) ** 2
        ),
        [(2, 4, 7, 6), (4, 2, 3, 2), (4,)],
    ),
    (lambda f: lambda x, w: f.conv2d(x, w, padding="same") ** 2, [(2, 3, 5, 5), (2, 3, 2, 3)]),
    (
        lambda f: (
            lambda x, w, b: f.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1) ** 2
        ),
        [(1, 3, 3, 4), (3, 2, 3, 3), (2,)],
    ),
    (lambda f: lambda x, w: f.conv1d(x, w, stride=2, dilation=2) ** 2, [(2, 3, 9), (2, 3, 3)]),
]


@pytest.mark.parametrize("i", range(len(SECOND)))
def test_double_backward_matches_torch(i):
    make, shapes = SECOND[i]
    rf, tf = make(F), make(TF)
    arrays = [_data(s, j, np.float64) for j, s in enumerate(shapes)]
    rins = [rg.tensor(a, requires_grad=True) for a in arrays]
    tins = [torch.tensor(a, requires_grad=True) for a in arrays]
    rout, tout = rf(*rins), tf(*tins)
    g = _data(tuple(tout.shape), 50, np.float64)
    rgr = rg.autograd.grad(rout, rins, rg.tensor(g), create_graph=True)
    tgr = torch.autograd.grad(tout, tins, torch.tensor(g), create_graph=True)
    us = [_data(tuple(t.shape), 60 + j, np.float64) for j, t in enumerate(tgr)]
    sum((a * rg.tensor(u)).sum() for a, u in zip(rgr, us)).backward()
    sum((a * torch.tensor(u)).sum() for a, u in zip(tgr, us)).backward()
    for r, t in zip(rins, tins):
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_gradgradcheck_finite_differences():
    ins = tuple(rg.tensor(_data(s, j, np.float64), requires_grad=True)
                for j, s in enumerate([(1, 4, 5, 4), (2, 2, 3, 2), (2,)]))
    def conv(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1, groups=2)

    assert rg.autograd.gradgradcheck(conv, ins)
    ins = tuple(rg.tensor(_data(s, j, np.float64), requires_grad=True)
                for j, s in enumerate([(1, 2, 3, 3), (2, 2, 2, 3)]))
    def deconv(x, w):
        return F.conv_transpose2d(x, w, stride=2, output_padding=1)

    assert rg.autograd.gradgradcheck(deconv, ins)


def test_backward_twice_with_retain_graph():
    x = rg.tensor(_data((2, 3, 6, 6), 0, np.float64), requires_grad=True)
    w = rg.tensor(_data((4, 3, 3, 3), 1, np.float64), requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-12)


# ------------------------------------------------------------------ functional errors
def test_functional_errors():
    x = rg.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 8, 8\] to have 2 channels"):
        F.conv2d(x, rg.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Invalid padding string"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), padding="foo")
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(x, rg.randn(4, 3, 9, 9))
    with pytest.raises(RuntimeError, match="non-positive stride"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="negative padding"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), bias=rg.randn(3))
    with pytest.raises(RuntimeError, match="float64.*float32|should be the same"):
        F.conv2d(x.double(), rg.randn(4, 3, 3, 3))
    with pytest.raises(
        RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"
    ):
        F.conv2d(rg.randn(8, 8), rg.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="a list of 2 values"):
        F.conv2d(x, rg.randn(4, 3, 3, 3), stride=(1, 2, 3))
    with pytest.raises(RuntimeError, match="floating-point input"):
        F.conv2d(rg.ones(2, 3, 8, 8, dtype=rg.int64), rg.ones(4, 3, 3, 3, dtype=rg.int64))
    with pytest.raises(
        RuntimeError, match="output padding must be smaller than either stride or dilation"
    ):
        F.conv_transpose2d(x, rg.randn(3, 2, 3, 3), stride=2, output_padding=2)


# ------------------------------------------------------------------ modules
def _copy_params(rm, tm):
    rm.load_state_dict(
        {k: rg.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )


MODULES = [
    ("Conv2d", (3, 6, 3), dict(padding=1), (2, 3, 8, 7)),
    (
        "Conv2d",
        (4, 6, (3, 2)),
        dict(stride=(2, 1), dilation=(1, 2), groups=2, bias=False),
        (2, 4, 9, 8),
    ),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 3, 7, 6)),
    ("Conv2d", (3, 4, 4), dict(padding="same", padding_mode="replicate", dilation=2), (2, 3, 9, 8)),
    ("Conv2d", (3, 4, 3), dict(padding=(1, 2), padding_mode="circular"), (2, 3, 6, 6)),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="reflect"), (3, 6, 6)),  # unbatched
    ("Conv1d", (3, 4, 3), dict(padding=1, stride=2), (2, 3, 9)),
    ("Conv1d", (4, 4, 3), dict(padding=1, padding_mode="circular", groups=2), (2, 4, 9)),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 5, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2, dilation=2, bias=False), (4, 3, 3)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=3), (2, 3, 5)),
]


@pytest.mark.parametrize("name, args, kw, xs", MODULES)
def test_module_parity(name, args, kw, xs):
    tm = getattr(torch.nn, name)(*args, **kw).double()
    rm = getattr(nn, name)(*args, **kw, dtype=rg.float64)
    _copy_params(rm, tm)
    assert repr(rm) == repr(tm)
    x = _data(xs, 3, np.float64)
    rx, tx = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ry, ty = rm(rx), tm(tx)
    np.testing.assert_allclose(ry.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = _data(tuple(ty.shape), 4, np.float64)
    ry.backward(rg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    for (k, rp), (_, tp) in zip(rm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(
            rp.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=k
        )


@pytest.mark.parametrize(
    "name, args, kw",
    [
        ("Conv2d", (4, 4, 3), dict(padding="same")),
        ("Conv2d", (4, 4, 3), dict(padding="valid")),
        ("Conv2d", (1, 6, 5), {}),
        (
            "Conv2d",
            (4, 8, (3, 5)),
            dict(stride=2, padding=(1, 2), dilation=3, groups=4, bias=False),
        ),
        (
            "Conv1d",
            (4, 4, 3),
            dict(dilation=2, groups=2, bias=False, padding_mode="circular", padding=1),
        ),
        ("ConvTranspose2d", (4, 4, 3), dict(stride=2, output_padding=1)),
        ("ConvTranspose1d", (2, 4, 3), dict(padding=1, groups=2)),
    ],
)
def test_module_repr_and_attributes(name, args, kw):
    rm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(rm) == repr(tm)
    for attr in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "transposed",
        "output_padding",
        "groups",
        "padding_mode",
        "_reversed_padding_repeated_twice",
    ):
        assert getattr(rm, attr) == getattr(tm, attr), attr
    assert tuple(rm.weight.shape) == tuple(tm.weight.shape)
    assert list(rm.state_dict()) == list(tm.state_dict())


@pytest.mark.parametrize(
    "name, args, fan_in",
    [
        ("Conv2d", (3, 64, 5), 3 * 25),
        ("Conv2d", (8, 64, 3, 1, 0, 1, 4), 2 * 9),
        ("Conv1d", (4, 64, 7), 4 * 7),
        ("ConvTranspose2d", (64, 6, 3), 6 * 9),  # weight (in, out/groups, k, k): fan_in = out * k*k
    ],
)
def test_default_init_bounds(name, args, fan_in):
    m = getattr(nn, name)(*args)
    # kaiming_uniform_(a=sqrt(5)): bound = sqrt(6 / ((1 + 5) * fan_in)) = 1/sqrt(fan_in)
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert m.weight.dtype == rg.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # uniform: std = bound / sqrt(3)
    assert np.abs(b).max() <= bound


def test_init_is_reproducible():
    rg.manual_seed(3)
    a = nn.Conv2d(3, 8, 3).weight.detach().numpy().copy()
    rg.manual_seed(3)
    b = nn.Conv2d(3, 8, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string"):
        nn.Conv1d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_module_input_errors_name_the_layer_and_shape():
    conv = nn.Conv2d(1, 6, kernel_size=(5, 5))
    with pytest.raises(RuntimeError) as e:
        conv(rg.randn(32, 3, 28, 28))
    msg = str(e.value)
    assert "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))" in msg
    assert "(N, 1, H, W) or (1, H, W)" in msg and "(32, 3, 28, 28)" in msg
    with pytest.raises(
        RuntimeError, match=r"expected input of shape \(N, 1, H, W\).*got \(32, 784\)"
    ):
        conv(rg.randn(32, 784))
    with pytest.raises(RuntimeError, match=r"channels-last .*permute\(0, 3, 1, 2\)"):
        nn.Conv2d(3, 6, 3)(rg.randn(4, 28, 28, 3))
    with pytest.raises(
        RuntimeError, match=r"Conv1d\(4, 2, kernel_size=\(3,\).*\(N, 4, L\) or \(4, L\)"
    ):
        nn.Conv1d(4, 2, 3)(rg.randn(2, 3, 10))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(4, 2.*\(N, 4, H, W\)"):
        nn.ConvTranspose2d(4, 2, 3)(rg.randn(2, 3, 5, 5))


def test_conv_transpose_output_size():
    rm = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    _copy_params(rm, tm)
    x = _data((1, 4, 5, 5), 0, np.float32)
    for size in [(9, 9), (10, 9), (1, 2, 10, 10)]:
        r, t = rm(rg.tensor(x), output_size=size), tm(torch.tensor(x), output_size=size)
        assert tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of"):
        rm(rg.tensor(x), output_size=(12, 12))


def test_conv_under_no_grad_records_nothing():
    conv = nn.Conv2d(3, 4, 3)
    with rg.no_grad():
        y = conv(rg.randn(2, 3, 8, 8))
    assert y.grad_fn is None and not y.requires_grad


# ------------------------------------------------------------------ LeNet-5
def _lenet(mod):
    return mod.Sequential(
        mod.Conv2d(1, 6, 5, padding=2),
        mod.ReLU(),
        mod.MaxPool2d(2),
        mod.Conv2d(6, 16, 5),
        mod.ReLU(),
        mod.MaxPool2d(2),
        mod.Flatten(),
        mod.Linear(400, 120),
        mod.ReLU(),
        mod.Linear(120, 84),
        mod.ReLU(),
        mod.Linear(84, 10),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lenet5_parity(dtype):
    torch.manual_seed(0)
    tm = _lenet(torch.nn)
    rm = _lenet(nn)
    if dtype == np.float64:
        tm, rm = tm.double(), rm.double()
    _copy_params(rm, tm)
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(dtype)
    y = np.random.default_rng(1).integers(0, 10, 8)
    rl = F.cross_entropy(rm(rg.tensor(x)), rg.tensor(y))
    tl = TF.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
    tol = TOL[dtype]
    np.testing.assert_allclose(rl.item(), tl.item(), **tol)
    rl.backward()
    tl.backward()
    for (k, rp), (_, tp) in zip(rm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(rp.grad.numpy(), tp.grad.numpy(), err_msg=k, **tol)
        assert rp.grad.dtype == np.dtype(dtype)
    # one SGD step keeps them in lockstep
    for p in list(rm.parameters()):
        p.data -= 0.1 * p.grad
    with torch.no_grad():
        for p in tm.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(
        rm(rg.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), **tol
    )
