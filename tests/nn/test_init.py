"""nn.init: gains equal torch's, each initialiser's empirical statistics match its formula,
and the layers' default initialisations follow PyTorch's."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.nn import init  # noqa: E402

BIG = (256, 400)  # 102 400 draws


def _arr(t):
    return t.detach().numpy().astype(np.float64)


def _uniform_bound(a, bound):
    """Samples of U(-bound, bound): inside the bounds, reaching near them, with the mean and
    std of the formula (within 5 standard errors of the sample moments)."""
    n, std = a.size, bound / math.sqrt(3)
    assert a.min() >= -bound and a.max() <= bound
    assert a.min() < -0.98 * bound and a.max() > 0.98 * bound
    assert abs(a.mean()) < 5 * std / math.sqrt(n)
    assert abs(a.std() - std) < 5 * std * math.sqrt(0.8 / (4 * n))  # uniform: kurtosis 1.8


def _normal_std(a, std, mean=0.0):
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(a.std() - std) < 5 * std / math.sqrt(2 * n)


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_equals_torch(nonlinearity, param):
    ours = init.calculate_gain(nonlinearity, param)
    theirs = torch.nn.init.calculate_gain(nonlinearity, param)
    assert ours == theirs and type(ours) is type(theirs)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    for bad in ("0.1", True):
        with pytest.raises(ValueError, match="not a valid number"):
            init.calculate_gain("leaky_relu", bad)


@pytest.mark.parametrize("shape", [BIG, (64, 40, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", 0.2),
                                            ("leaky_relu", math.sqrt(5)), ("tanh", 0),
                                            ("linear", 0)])
def test_kaiming(shape, mode, nonlinearity, a):
    receptive = int(np.prod(shape[2:]))
    fan = shape[1] * receptive if mode == "fan_in" else shape[0] * receptive
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    t = rg.empty(*shape)
    assert init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity) is t
    _uniform_bound(_arr(t), gain * math.sqrt(3.0 / fan))
    assert t.dtype == rg.float32
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _normal_std(_arr(t), gain / math.sqrt(fan))


@pytest.mark.parametrize("shape", [BIG, (64, 40, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(shape, gain):
    receptive = int(np.prod(shape[2:]))
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    t = rg.empty(*shape)
    init.xavier_uniform_(t, gain=gain)
    _uniform_bound(_arr(t), gain * math.sqrt(6.0 / (fan_in + fan_out)))
    init.xavier_normal_(t, gain=gain)
    _normal_std(_arr(t), gain * math.sqrt(2.0 / (fan_in + fan_out)))


def test_uniform_normal_constant_zeros_ones():
    t = rg.empty(*BIG)
    init.uniform_(t, -0.5, 1.5)
    a = _arr(t)
    assert a.min() >= -0.5 and a.max() <= 1.5 and abs(a.mean() - 0.5) < 0.01
    init.normal_(t, mean=3.0, std=0.5)
    _normal_std(_arr(t), 0.5, mean=3.0)
    assert init.constant_(t, 0.25) is t and np.all(t.numpy() == 0.25)
    assert np.all(init.zeros_(t).numpy() == 0)
    assert np.all(init.ones_(t).numpy() == 1)


@pytest.mark.parametrize("shape", [(4, 7), (7, 4), (5, 5), (3, 2, 2, 2)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    t = rg.empty(*shape, dtype=rg.float64)
    init.orthogonal_(t, gain=gain)
    w = t.numpy().reshape(shape[0], -1)
    if w.shape[0] <= w.shape[1]:
        np.testing.assert_allclose(w @ w.T, gain ** 2 * np.eye(w.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(w.T @ w, gain ** 2 * np.eye(w.shape[1]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(rg.empty(3))


def test_trunc_normal():
    mean, std, a, b = 0.5, 1.0, -0.5, 1.0
    t = rg.empty(*BIG, dtype=rg.float64)
    init.trunc_normal_(t, mean, std, a, b)
    x = t.numpy()
    assert x.min() >= a and x.max() <= b
    assert x.min() < a + 0.01 and x.max() > b - 0.01
    # moments of the truncated normal
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(be) - cdf(al)
    tmean = mean + std * (pdf(al) - pdf(be)) / z
    tvar = std ** 2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    assert abs(x.mean() - tmean) < 0.005
    assert abs(x.std() - math.sqrt(tvar)) < 0.005
    d = rg.empty(1000)  # the defaults: N(0, 1) cut at ±2
    init.trunc_normal_(d)
    assert d.numpy().min() >= -2 and d.numpy().max() <= 2


def test_eye_and_dirac_equal_torch():
    for shape in ((3, 3), (2, 4), (4, 2)):
        ours = init.eye_(rg.empty(*shape)).numpy()
        theirs = torch.nn.init.eye_(torch.empty(*shape)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    for shape, groups in (((4, 2, 3, 3), 1), ((6, 3, 3), 2), ((2, 2, 1, 3, 3), 1)):
        ours = init.dirac_(rg.empty(*shape), groups).numpy()
        theirs = torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(rg.empty(2, 2, 2))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(rg.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(rg.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(rg.empty(3, 3), mode="fan_avg")


def test_initialisers_work_on_parameters_in_place_and_reproducibly():
    p = nn.Parameter(rg.empty(10, 10))
    data = p._data
    out = init.kaiming_uniform_(p)
    assert out is p and p._data is data  # in place, same memory
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    rg.manual_seed(7)
    a = init.normal_(rg.empty(20)).numpy().copy()
    rg.manual_seed(7)
    b = init.normal_(rg.empty(20)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = rg.Generator().manual_seed(3), rg.Generator().manual_seed(3)
    c = init.xavier_uniform_(rg.empty(4, 5), generator=g1).numpy()
    d = init.xavier_uniform_(rg.empty(4, 5), generator=g2).numpy()
    np.testing.assert_array_equal(c, d)


# ------------------------------------------------------------------ layer defaults
@pytest.mark.parametrize("in_f,out_f", [(400, 300), (50, 2000)])
def test_linear_default_init(in_f, out_f):
    m = nn.Linear(in_f, out_f)
    bound = 1 / math.sqrt(in_f)  # kaiming_uniform_(a=√5) gives exactly 1/√in_features
    _uniform_bound(_arr(m.weight), bound)
    b = _arr(m.bias)
    assert b.min() >= -bound and b.max() <= bound and b.std() > 0.4 * bound
    assert m.weight.dtype == rg.float32 and m.weight.shape == (out_f, in_f)


def test_bilinear_and_norm_layer_defaults():
    m = nn.Bilinear(100, 30, 80)
    _uniform_bound(_arr(m.weight), 1 / math.sqrt(100))
    assert np.abs(_arr(m.bias)).max() <= 1 / math.sqrt(100)
    for layer in (nn.BatchNorm1d(5), nn.BatchNorm2d(5), nn.LayerNorm(5), nn.GroupNorm(5, 5)):
        assert layer.weight.tolist() == [1.0] * 5 and layer.bias.tolist() == [0.0] * 5
    bn = nn.BatchNorm2d(3)
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.item() == 0
