"""Activations (functional and modules) and the special functions: parity with torch in
values and gradients (float64 tight, float32 at float32 tolerance), PyTorch's gradient
conventions at the kinks, finite differences, double backward, in-place variants,
stability for huge inputs, reprs and error messages."""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import retrograd as rg  # noqa: E402
import retrograd.nn as nn  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402
import retrograd.special as special  # noqa: E402

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}


def _np(x):
    return x.detach().numpy()


def check(rg_fn, t_fn, *arrays, dtype=np.float64, seed=0, tol=None, grad_tol=None):
    """Same inputs through retrograd and torch: compare outputs, dtypes and input gradients
    for a random upstream gradient."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    rs = [rg.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    ro, to = rg_fn(*rs), t_fn(*ts)
    tol = tol or TOL[dtype]
    assert tuple(ro.shape) == tuple(to.shape)
    assert ro.dtype == np.dtype(dtype)
    np.testing.assert_allclose(_np(ro), _np(to), **tol)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(to.shape)).astype(dtype)
    ro.backward(rg.tensor(g))
    to.backward(torch.tensor(g))
    for i, (r, t) in enumerate(zip(rs, ts)):
        assert r.grad is not None, f"no gradient for input {i}"
        assert r.grad.dtype == np.dtype(dtype), f"grad {i} dtype {r.grad.dtype}"
        np.testing.assert_allclose(_np(r.grad), t.grad.numpy(), err_msg=f"grad of input {i}",
                                   **(grad_tol or tol))
    return ro


def data(shape=(3, 4, 5), seed=0, scale=3.0, avoid=(0.0,), gap=1e-3):
    """Random values, none closer than ``gap`` to a kink in ``avoid``."""
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    for p in avoid:
        close = np.abs(a - p) < gap
        a[close] = p + 2 * gap
    return a


# name -> (retrograd fn, torch fn, kinks)
ACTIVATIONS = {
    "relu": (F.relu, TF.relu, (0,)),
    "relu6": (F.relu6, TF.relu6, (0, 6)),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, (0,)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), (0,)),
    "elu": (F.elu, TF.elu, (0,)),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), (0,)),
    "selu": (F.selu, TF.selu, (0,)),
    "celu_2": (lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0), (0,)),
    "gelu": (F.gelu, TF.gelu, ()),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh"), ()),
    "silu": (F.silu, TF.silu, ()),
    "mish": (F.mish, TF.mish, ()),
    "sigmoid": (F.sigmoid, torch.sigmoid, ()),
    "tanh": (F.tanh, torch.tanh, ()),
    "hardtanh": (F.hardtanh, TF.hardtanh, (-1, 1)),
    "hardtanh_-2_3": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0),
                      (-2, 3)),
    "softplus": (F.softplus, TF.softplus, ()),
    "softplus_b2_t3": (lambda x: F.softplus(x, beta=2, threshold=3),
                       lambda x: TF.softplus(x, beta=2, threshold=3), (1.5,)),
    "softplus_b0.5": (lambda x: F.softplus(x, 0.5), lambda x: TF.softplus(x, 0.5), (40,)),
    "softsign": (F.softsign, TF.softsign, ()),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, (-3, 3)),
    "hardswish": (F.hardswish, TF.hardswish, (-3, 3)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, ()),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, ()),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0),
                  (0.5,)),
    "hardshrink": (F.hardshrink, TF.hardshrink, (-0.5, 0.5)),
    "softshrink_0.3": (lambda x: F.softshrink(x, 0.3), lambda x: TF.softshrink(x, 0.3),
                       (-0.3, 0.3)),
    "rrelu_eval": (F.rrelu, TF.rrelu, (0,)),
    "glu": (F.glu, TF.glu, ()),
    "glu_dim0": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), ()),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), ()),
    "softmax": (lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1), ()),
    "log_softmax": (lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0), ()),
    "normalize": (F.normalize, TF.normalize, ()),
    "normalize_p1_dim-1": (lambda x: F.normalize(x, 1.0, -1), lambda x: TF.normalize(x, 1.0, -1),
                           ()),
}

# torch's hardsigmoid backward multiplies by the float32 constant 1/6 even in float64
GRAD_TOL = {"hardsigmoid": dict(rtol=1e-7, atol=1e-9)}


def _shape_for(name):
    return (4, 6, 2) if name.startswith("glu") else (3, 4, 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_parity(name, dtype):
    f_rg, f_t, kinks = ACTIVATIONS[name]
    x = data(_shape_for(name), seed=len(name), avoid=kinks)
    gt = GRAD_TOL.get(name) if dtype == np.float64 else None
    check(f_rg, f_t, x, dtype=dtype, grad_tol=gt)


@pytest.mark.parametrize("name", [n for n, v in ACTIVATIONS.items() if v[2]])
def test_gradient_at_kinks_follows_torch(name):
    # exactly at the kinks PyTorch picks one side (e.g. relu'(0) = 0, hardtanh' = 0 at the
    # bounds, hardswish'(3) = 1): match its convention
    f_rg, f_t, kinks = ACTIVATIONS[name]
    x = np.array([k + d for k in kinks for d in (-0.25, 0.0, 0.25)] + [0.0], dtype=np.float64)
    check(f_rg, f_t, x, grad_tol=GRAD_TOL.get(name))


def test_prelu_parity_and_weight_gradient():
    rng = np.random.default_rng(3)
    for xs, ws in [((2, 3, 4), (3,)), ((5, 3), (3,)), ((2, 3, 2, 2), (1,)), ((6,), (1,)),
                   ((2, 4), ())]:
        check(F.prelu, TF.prelu, data(xs, seed=1), rng.random(ws) - 0.3)
        check(F.prelu, TF.prelu, data(xs, seed=2), rng.random(ws), dtype=np.float32)


def test_prelu_errors():
    x = rg.randn(2, 3, 4)
    with pytest.raises(RuntimeError,
                       match=r"prelu: Mismatch.*parameter numbers = 4.*channel size = 3"):
        F.prelu(x, rg.ones(4))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(x, rg.ones(3, 1))


def test_gradcheck_float64():
    ins = [rg.tensor(data((2, 3), seed=s, scale=2.0, avoid=(0, 1, -1, 3, -3, 0.5, -0.5)),
                     requires_grad=True) for s in range(2)]
    fns = [F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu, F.mish, F.elu, F.selu,
           lambda x: F.celu(x, 0.7), F.softplus, lambda x: F.softplus(x, 3.0, 2.0), F.logsigmoid,
           F.softsign, F.tanhshrink, F.hardswish, F.hardsigmoid, F.leaky_relu, F.hardtanh,
           F.relu6, lambda x: F.glu(x, 1) if x.shape[1] % 2 == 0 else F.glu(x, 0),
           F.normalize, lambda x: F.softmin(x, 0), special.erf, special.erfc, special.ndtr]
    for f in fns:
        assert rg.autograd.gradcheck(f, (ins[0],))
    w = rg.tensor([0.3, -0.2, 0.1], dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(F.prelu, (ins[0], w))


SMOOTH = {
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "softplus": (lambda x: F.softplus(x, 2.0, 1.0), lambda x: TF.softplus(x, 2.0, 1.0)),
    "tanh": (F.tanh, torch.tanh),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "mish": (F.mish, TF.mish),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "hardswish": (F.hardswish, TF.hardswish),
    "erf": (special.erf, torch.special.erf),
}


@pytest.mark.parametrize("name", list(SMOOTH))
def test_double_backward_parity(name):
    f_rg, f_t = SMOOTH[name]
    rng = np.random.default_rng(11)
    x = data((3, 4), seed=5, scale=2.0, avoid=(0, 3, -3))
    rx = rg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    g1 = rng.standard_normal((3, 4))
    (rd,) = rg.autograd.grad(f_rg(rx), [rx], rg.tensor(g1), create_graph=True)
    (td,) = torch.autograd.grad(f_t(tx), [tx], torch.tensor(g1), create_graph=True)
    np.testing.assert_allclose(_np(rd), _np(td), rtol=1e-10, atol=1e-12)
    g2 = rng.standard_normal((3, 4))
    (rdd,) = rg.autograd.grad((rd * rg.tensor(g2)).sum(), [rx])
    (tdd,) = torch.autograd.grad((td * torch.tensor(g2)).sum(), [tx])
    np.testing.assert_allclose(rdd.numpy(), tdd.numpy(), rtol=1e-9, atol=1e-11)


def test_prelu_double_backward_parity():
    # the mixed second derivative d2/dx dw is what remains of a piecewise-linear function
    x = data((2, 3, 2), seed=4, scale=1.5)
    w = np.array([0.3, -0.2, 0.1])
    rx, rw = rg.tensor(x, requires_grad=True), rg.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    g = np.random.default_rng(1).standard_normal((2, 3, 2))
    r1 = rg.autograd.grad(F.prelu(rx, rw), [rx, rw], rg.tensor(g), create_graph=True)
    t1 = torch.autograd.grad(TF.prelu(tx, tw), [tx, tw], torch.tensor(g), create_graph=True)
    for a, b in zip(r1, t1):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)
    r2 = rg.autograd.grad((r1[0] ** 2).sum() + (r1[1] ** 2).sum(), [rx, rw])
    t2 = torch.autograd.grad((t1[0] ** 2).sum() + (t1[1] ** 2).sum(), [tx, tw])
    for a, b in zip(r2, t2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ stability

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_inputs_stay_finite(dtype):
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=dtype)
    fns = {"softplus": (F.softplus, TF.softplus), "logsigmoid": (F.logsigmoid, TF.logsigmoid),
           "log_softmax": (lambda a: F.log_softmax(a, 0), lambda a: TF.log_softmax(a, 0)),
           "silu": (F.silu, TF.silu), "gelu": (F.gelu, TF.gelu), "mish": (F.mish, TF.mish),
           "elu": (F.elu, TF.elu), "selu": (F.selu, TF.selu), "sigmoid": (F.sigmoid, torch.sigmoid)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow/invalid RuntimeWarnings either
        for name, (f_rg, f_t) in fns.items():
            r = rg.tensor(x, requires_grad=True)
            y = f_rg(r)
            y.sum().backward()
            assert np.all(np.isfinite(y.numpy(force=True))), name
            assert np.all(np.isfinite(r.grad.numpy())), name
            t = torch.tensor(x, requires_grad=True)
            yt = f_t(t)
            yt.sum().backward()
            np.testing.assert_allclose(y.numpy(force=True), _np(yt), **TOL[dtype], err_msg=name)
            np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), **TOL[dtype], err_msg=name)


def test_softplus_without_threshold_does_not_overflow():
    # torch computes log1p(exp(beta x)), which overflows to inf here; ours stays exact
    x = rg.tensor([-1e4, 0.0, 1e3, 1e4], dtype=rg.float64, requires_grad=True)
    y = F.softplus(x, beta=5.0, threshold=1e9)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, math.log(2) / 5, 1e3, 1e4], rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 1.0, 1.0], rtol=1e-15)


def test_logsigmoid_keeps_precision_in_the_tails():
    x = rg.tensor([-800.0, -40.0, 40.0, 800.0], dtype=rg.float64)
    expected = [-800.0, -40.0 - math.exp(-40.0), -math.exp(-40.0), 0.0]
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), expected, rtol=1e-15, atol=0)


# ------------------------------------------------------------------ in-place variants

INPLACE = {
    "relu": (lambda x: F.relu(x, inplace=True), F.relu_, TF.relu),
    "relu6": (lambda x: F.relu6(x, inplace=True), None, TF.relu6),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1, True), lambda x: F.leaky_relu_(x, 0.1),
                   lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, 0.5, True), lambda x: F.elu_(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "selu": (lambda x: F.selu(x, True), F.selu_, TF.selu),
    "celu": (lambda x: F.celu(x, 1.5, True), lambda x: F.celu_(x, 1.5),
             lambda x: TF.celu(x, 1.5)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5, True), lambda x: F.hardtanh_(x, -0.5, 0.5),
                 lambda x: TF.hardtanh(x, -0.5, 0.5)),
    "threshold": (lambda x: F.threshold(x, 0.1, 5.0, True), lambda x: F.threshold_(x, 0.1, 5.0),
                  lambda x: TF.threshold(x, 0.1, 5.0)),
    "silu": (lambda x: F.silu(x, True), None, TF.silu),
    "mish": (lambda x: F.mish(x, True), None, TF.mish),
    "hardsigmoid": (lambda x: F.hardsigmoid(x, True), None, TF.hardsigmoid),
    "hardswish": (lambda x: F.hardswish(x, True), None, TF.hardswish),
    "rrelu_eval": (lambda x: F.rrelu(x, inplace=True), lambda x: F.rrelu_(x), TF.rrelu),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_variants(name):
    f_inplace, f_underscore, f_t = INPLACE[name]
    x = data((3, 4), seed=7, scale=2.0, avoid=(0, 0.1, -0.5, 0.5, 3, -3))
    for fn in (f_inplace, f_underscore):
        if fn is None:
            continue
        leaf = rg.tensor(x, requires_grad=True)
        h = leaf * 1.5
        out = fn(h)
        assert out is h, "an in-place op returns its input"
        tl = torch.tensor(x, requires_grad=True)
        th = f_t(tl * 1.5)
        np.testing.assert_allclose(_np(h), _np(th), rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(0).standard_normal((3, 4))
        h.backward(rg.tensor(g))
        th.backward(torch.tensor(g))
        tol = GRAD_TOL.get(name, dict(rtol=1e-12, atol=1e-12))
        np.testing.assert_allclose(leaf.grad.numpy(), tl.grad.numpy(), err_msg=name, **tol)


def test_inplace_on_leaf_that_requires_grad_is_an_error():
    x = rg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        F.relu(x, inplace=True)
    with pytest.raises(RuntimeError, match="in-place"):
        nn.ELU(inplace=True)(x)


def test_inplace_without_grad_writes_memory():
    x = rg.tensor([-2.0, -0.5, 0.5, 2.0])
    buf = x.numpy()
    F.relu_(x)
    np.testing.assert_array_equal(buf, [0.0, 0.0, 0.5, 2.0])
    F.hardtanh_(x, 0.0, 1.0)
    np.testing.assert_array_equal(buf, [0.0, 0.0, 0.5, 1.0])


def test_rrelu_training_slopes_are_random_in_range_and_seeded():
    x = -rg.ones(1000, dtype=rg.float64)
    rg.manual_seed(1)
    a = F.rrelu(x, 0.1, 0.3, training=True)
    rg.manual_seed(1)
    b = F.rrelu(x, 0.1, 0.3, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    slopes = -a.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    xp = rg.tensor([1.0, 2.0], requires_grad=True)
    y = F.rrelu(xp, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(xp.grad.numpy(), [1.0, 1.0])


# ------------------------------------------------------------------ modules

MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {}), ("ReLU6", (), {"inplace": True}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("ELU", (), {}),
    ("ELU", (0.5,), {"inplace": True}), ("SELU", (), {}), ("SELU", (True,), {}),
    ("CELU", (), {}), ("CELU", (2.0, True), {}), ("GELU", (), {}), ("GELU", ("tanh",), {}),
    ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}), ("Mish", (True,), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}),
    ("Hardtanh", (-2.0, 3.0), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("Softsign", (), {}), ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("Hardswish", (), {}), ("Hardswish", (True,), {}), ("LogSigmoid", (), {}),
    ("Tanhshrink", (), {}), ("Threshold", (0.1, 20), {}), ("Threshold", (0.1, 20, True), {}),
    ("GLU", (), {}), ("GLU", (1,), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (-1,), {}),
    ("LogSoftmax", (-1,), {}), ("Softmin", (0,), {}), ("PReLU", (), {}), ("PReLU", (4, 0.1), {}),
    ("RReLU", (), {}), ("RReLU", (0.1, 0.3, True), {}), ("Hardshrink", (), {}),
    ("Softshrink", (0.3,), {}), ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_repr_and_forward_match_torch(name, args, kwargs):
    m = getattr(nn, name)(*args, **kwargs)
    tm = getattr(tnn, name)(*args, **kwargs)
    assert repr(m) == repr(tm)
    assert m.extra_repr() == tm.extra_repr()
    x = data((2, 4, 3, 2), seed=9, avoid=(0, 0.1, -1, 1, -2, 3, 6, 0.3, -0.3, 0.5, -0.5))
    if name == "PReLU":
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(m.weight.detach().numpy()))
    m.eval()
    tm.eval()
    rx = rg.tensor(x, dtype=rg.float32, requires_grad=True) * 1.0  # non-leaf: in-place is fine
    tx = torch.tensor(x, dtype=torch.float32, requires_grad=True) * 1.0
    y, yt = m(rx), tm(tx)
    np.testing.assert_allclose(_np(y), _np(yt), **TOL[np.float32])


def test_modules_equal_functional_forms():
    x = rg.tensor(data((3, 4), seed=2), dtype=rg.float32)
    pairs = [(nn.ReLU(), F.relu(x)), (nn.GELU("tanh"), F.gelu(x, approximate="tanh")),
             (nn.Softplus(2.0, 5.0), F.softplus(x, 2.0, 5.0)), (nn.ELU(0.3), F.elu(x, 0.3)),
             (nn.LeakyReLU(0.3), F.leaky_relu(x, 0.3)), (nn.GLU(1), F.glu(x, 1)),
             (nn.Hardtanh(-0.5, 2.0), F.hardtanh(x, -0.5, 2.0)), (nn.Softmin(1), F.softmin(x, 1)),
             (nn.Threshold(0.2, -1.0), F.threshold(x, 0.2, -1.0)), (nn.Mish(), F.mish(x)),
             (nn.Softmax(0), F.softmax(x, 0)), (nn.LogSoftmax(1), F.log_softmax(x, 1))]
    for m, expected in pairs:
        np.testing.assert_array_equal(m(x).numpy(), expected.numpy())


def test_prelu_module_parameters_and_gradients():
    m = nn.PReLU(3, init=0.1)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert tuple(m.weight.shape) == (3,) and m.num_parameters == 3 and m.init == 0.1
    np.testing.assert_allclose(m.weight.detach().numpy(), 0.1)
    tm = tnn.PReLU(3, init=0.1)
    x = data((2, 3, 4), seed=3)
    rx, tx = rg.tensor(x, dtype=rg.float32), torch.tensor(x, dtype=torch.float32)
    m(rx).sum().backward()
    tm(tx).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-5)
    assert m.weight.grad.dtype == np.float32
    assert "weight" in m.state_dict()
    with pytest.raises(RuntimeError, match="channel size"):
        m(rg.randn(2, 5))


def test_module_argument_errors():
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(rg.randn(3), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="approximate"):
        nn.GELU("fast")(rg.randn(3))
    with pytest.raises(RuntimeError, match="Halving dimension must be even.*size 3"):
        F.glu(rg.randn(2, 3))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(rg.tensor(1.0))
    with pytest.raises(ValueError, match="Softmax2d.*3 or 4"):
        nn.Softmax2d()(rg.randn(2, 3))
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        F.celu(rg.randn(2), 0.0)


def test_hardtanh_deprecated_argument_names():
    with pytest.warns(FutureWarning, match="min_value"):
        m = nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0 and m.max_val == 1.0


# ------------------------------------------------------------------ special functions

def test_erf_is_accurate_to_double_precision():
    x = np.concatenate([np.linspace(-7, 7, 4001), np.geomspace(1e-300, 1e-3, 60),
                        -np.geomspace(1e-300, 1e-3, 60), [0.46875, -0.46875, 4.0, -4.0, 26.0]])
    ref_erf = np.array([math.erf(v) for v in x])
    ref_erfc = np.array([math.erfc(v) for v in x])
    got_erf = special.erf(rg.tensor(x)).numpy()
    got_erfc = special.erfc(rg.tensor(x)).numpy()
    np.testing.assert_allclose(got_erf, ref_erf, rtol=1e-15, atol=0)
    np.testing.assert_allclose(got_erfc, ref_erfc, rtol=2e-15, atol=0)


def test_erf_special_values_and_float32():
    x = rg.tensor([0.0, -0.0, math.inf, -math.inf, math.nan], dtype=rg.float64)
    np.testing.assert_array_equal(special.erf(x).numpy(), [0.0, -0.0, 1.0, -1.0, math.nan])
    np.testing.assert_array_equal(special.erfc(x).numpy(), [1.0, 1.0, 0.0, 2.0, math.nan])
    assert np.signbit(special.erf(x).numpy()[1])
    x32 = np.linspace(-6, 6, 999, dtype=np.float32)
    r = special.erf(rg.tensor(x32))
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.numpy(), torch.erf(torch.tensor(x32)).numpy(), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(special.erfc(rg.tensor(x32)).numpy(),
                               torch.erfc(torch.tensor(x32)).numpy(), rtol=2e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_functions_parity(dtype):
    x = data((3, 4), seed=1, scale=2.0)
    p = np.random.default_rng(2).uniform(0.02, 0.98, (3, 4))
    check(special.erf, torch.special.erf, x, dtype=dtype)
    check(special.erfc, torch.special.erfc, x, dtype=dtype)
    check(special.ndtr, torch.special.ndtr, x, dtype=dtype)
    check(special.expit, torch.special.expit, x, dtype=dtype)
    check(special.logit, torch.special.logit, p, dtype=dtype)
    check(lambda a: special.logit(a, 0.2), lambda a: torch.special.logit(a, 0.2), p, dtype=dtype)
    check(special.xlogy, torch.special.xlogy, p, p[::-1], dtype=dtype)
    check(lambda a: special.softmax(a, 1), lambda a: torch.special.softmax(a, 1), x, dtype=dtype)
    check(lambda a: special.log_softmax(a, 0), lambda a: torch.special.log_softmax(a, 0), x,
          dtype=dtype)


def test_xlogy_zero_convention():
    x = rg.tensor([0.0, 0.0, 2.0], requires_grad=True)
    y = rg.tensor([0.0, 3.0, 3.0], requires_grad=True)
    r = special.xlogy(x, y)
    np.testing.assert_allclose(r.detach().numpy(), [0.0, 0.0, 2 * math.log(3.0)], rtol=1e-6)
    r.sum().backward()
    tx = torch.tensor([0.0, 0.0, 2.0], requires_grad=True)
    ty = torch.tensor([0.0, 3.0, 3.0], requires_grad=True)
    torch.special.xlogy(tx, ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


# ------------------------------------------------------------------ a few random shapes

@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       name=st.sampled_from(["gelu", "silu", "softplus_b2_t3", "elu", "mish", "logsigmoid"]),
       seed=st.integers(0, 1000))
def test_random_shapes(shape, name, seed):
    f_rg, f_t, kinks = ACTIVATIONS[name]
    check(f_rg, f_t, data(shape, seed=seed, avoid=kinks))
