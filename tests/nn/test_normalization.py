"""Normalization layers and functions against torch: BatchNorm1d/2d/3d (training steps,
running statistics, momentum=None, affine=False, track_running_stats=False, eval mode),
LayerNorm, GroupNorm, RMSNorm, instance_norm; finite-difference gradchecks and double
backward."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402
from retrograd import nn  # noqa: E402

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-11), np.float32: dict(rtol=1e-4, atol=1e-5)}


def _data(shape, seed, dtype=np.float64, scale=1.0, shift=0.0):
    r = np.random.default_rng(seed)
    return (r.standard_normal(shape) * scale + shift).astype(dtype)


def _close(a, b, dtype, what):
    a = a.detach().numpy() if isinstance(a, rg.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, **TOL[dtype])


def _twins(rg_mod, t_mod, dtype, seed=0):
    """Give both modules the same random parameters (so weight/bias gradients matter)."""
    if dtype == np.float64:
        rg_mod.double()
        t_mod.double()
    r = np.random.default_rng(seed + 100)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.tensor(r.uniform(0.5, 1.5, tuple(p.shape)).astype(dtype)))
    rg_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    return rg_mod, t_mod


def _step(rg_mod, t_mod, x, dtype, seed, what):
    """One forward + backward through both modules; compare output and every gradient."""
    rx = rg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ry, ty = rg_mod(rx), t_mod(tx)
    assert ry.dtype == np.dtype(dtype)
    _close(ry, ty, dtype, f"{what}: output")
    g = _data(ty.shape, seed + 50, dtype)
    (ry * rg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    _close(rx.grad, tx.grad, dtype, f"{what}: input grad")
    rp, tp = dict(rg_mod.named_parameters()), dict(t_mod.named_parameters())
    assert rp.keys() == tp.keys()
    for k in tp:
        _close(rp[k].grad, tp[k].grad, dtype, f"{what}: grad of {k}")
    rg_mod.zero_grad()
    t_mod.zero_grad()


def _same_state(rg_mod, t_mod, dtype, what):
    rs, ts = rg_mod.state_dict(), t_mod.state_dict()
    assert list(rs) == list(ts), what
    for k in ts:
        assert rs[k].dtype == np.dtype(str(ts[k].dtype).replace("torch.", "")), f"{what}: {k}"
        if ts[k].dtype == torch.int64:
            assert rs[k].item() == ts[k].item(), f"{what}: {k}"
        else:
            _close(rs[k], ts[k], dtype, f"{what}: {k}")


BN_CASES = [
    ("BatchNorm1d", (8, 4)),
    ("BatchNorm1d", (6, 4, 5)),
    ("BatchNorm2d", (4, 3, 5, 6)),
    ("BatchNorm3d", (3, 2, 3, 4, 2)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,shape", BN_CASES)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "affine": False},
                                    {"eps": 1e-3, "bias": False}])
def test_batchnorm_training_then_eval_matches_torch(name, shape, kwargs, dtype):
    c = shape[1]
    rg_mod, t_mod = _twins(getattr(nn, name)(c, **kwargs), getattr(torch.nn, name)(c, **kwargs),
                           dtype)
    for step in range(3):  # several steps: running statistics and num_batches_tracked accumulate
        x = _data(shape, step, dtype, scale=1.5 + step, shift=step - 1.0)
        _step(rg_mod, t_mod, x, dtype, step, f"{name} train step {step}")
        _same_state(rg_mod, t_mod, dtype, f"{name} after step {step}")
    assert rg_mod.num_batches_tracked.item() == 3
    rg_mod.eval()
    t_mod.eval()
    _step(rg_mod, t_mod, _data(shape, 9, dtype), dtype, 9, f"{name} eval")
    _same_state(rg_mod, t_mod, dtype, f"{name} eval leaves the state alone")


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(3, momentum=None, affine=False).double()
    xs = [_data((10, 3), s, scale=s + 1, shift=s) for s in range(4)]
    for x in xs:
        bn(rg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-12)
    # the initial running_var of 1 is replaced after the first batch (factor 1/1)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in xs], 0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval(dtype):
    rg_mod, t_mod = _twins(nn.BatchNorm2d(3, track_running_stats=False),
                           torch.nn.BatchNorm2d(3, track_running_stats=False), dtype)
    assert rg_mod.running_mean is None and rg_mod.num_batches_tracked is None
    assert list(rg_mod.state_dict()) == ["weight", "bias"]
    x = _data((4, 3, 3, 3), 1, dtype, scale=2.0, shift=1.0)
    _step(rg_mod, t_mod, x, dtype, 1, "train")
    rg_mod.eval()
    t_mod.eval()
    _step(rg_mod, t_mod, x, dtype, 2, "eval")
    y = rg_mod(rg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), rg_mod.bias.detach().numpy(), atol=1e-5)


def test_batchnorm_float32_stays_float32():
    bn = nn.BatchNorm1d(4)
    y = bn(rg.randn(5, 4, requires_grad=True))
    y.sum().backward()
    assert y.dtype == rg.float32
    assert bn.running_mean.dtype == rg.float32 and bn.running_var.dtype == rg.float32
    assert bn.weight.grad.dtype == rg.float32
    assert bn.num_batches_tracked.dtype == rg.int64 and bn.num_batches_tracked.shape == ()


def test_batchnorm_known_answer():
    x = rg.tensor([[1.0, 10.0], [3.0, 10.0]])
    bn = nn.BatchNorm1d(2, eps=0.0 + 1e-12)
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-5)
    # running: 0.9 * 0 + 0.1 * mean; 0.9 * 1 + 0.1 * unbiased var
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 1.0], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.1 * 2.0, 0.9], rtol=1e-6)


def test_batchnorm_reset_and_repr():
    for kw in [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
               {"eps": 1e-3, "bias": False}]:
        for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
            assert repr(getattr(nn, name)(7, **kw)) == repr(getattr(torch.nn, name)(7, **kw))
    bn = nn.BatchNorm1d(3)
    with rg.no_grad():
        bn.weight.fill_(2.0)
    bn(rg.randn(4, 3) * 3 + 1)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0, 0, 0] and bn.running_var.tolist() == [1, 1, 1]
    assert bn.num_batches_tracked.item() == 0
    assert bn.weight.tolist() == [2, 2, 2]
    bn.reset_parameters()
    assert bn.weight.tolist() == [1, 1, 1] and bn.bias.tolist() == [0, 0, 0]


def test_batchnorm_state_dict_names_and_old_checkpoint():
    rg_mod = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    t_mod = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert list(rg_mod.state_dict()) == list(t_mod.state_dict())
    t_mod.train()
    t_mod(torch.randn(6, 3))
    sd = {k: v.numpy() for k, v in t_mod.state_dict().items()}
    old = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    res = rg_mod.load_state_dict(old)  # a checkpoint from before num_batches_tracked existed
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(rg_mod[1].running_mean.numpy(), sd["1.running_mean"])
    assert rg_mod[1].num_batches_tracked.item() == 0
    rg_mod.load_state_dict(sd)
    assert rg_mod[1].num_batches_tracked.item() == 1
    # other missing keys are still reported
    with pytest.raises(RuntimeError, match="1.running_var"):
        rg_mod.load_state_dict({k: v for k, v in sd.items() if k != "1.running_var"})


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 2D input of "
                                         r"shape \(3, 4\)\)"):
        nn.BatchNorm2d(4)(rg.randn(3, 4))
    with pytest.raises(ValueError, match="BatchNorm1d: expected 2D or 3D input"):
        nn.BatchNorm1d(4)(rg.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="expected 5D input"):
        nn.BatchNorm3d(4)(rg.randn(2, 4, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected input with 4 channels.*\(2, 3, 5\)"):
        nn.BatchNorm1d(4)(rg.randn(2, 3, 5))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(4)(rg.randn(1, 4))
    nn.BatchNorm1d(4).eval()(rg.randn(1, 4))  # fine in eval mode
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(rg.randn(4, 3), rg.zeros(4), rg.ones(4), training=True)
    with pytest.raises(RuntimeError, match="must be defined in evaluation mode"):
        F.batch_norm(rg.randn(4, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="dtype"):
        F.batch_norm(rg.randn(4, 3), None, None, rg.ones(3, dtype=rg.float64), training=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_functional_batch_norm_matches_torch(dtype):
    x = _data((5, 3, 4), 3, dtype, scale=2.0, shift=0.5)
    w, b = _data((3,), 4, dtype), _data((3,), 5, dtype)
    rm, rv = _data((3,), 6, dtype), np.abs(_data((3,), 7, dtype)) + 0.5
    for training in (True, False):
        for stats in (True, False):
            if not training and not stats:
                continue
            rbuf = [rg.tensor(rm), rg.tensor(rv)] if stats else [None, None]
            tbuf = [torch.tensor(rm), torch.tensor(rv)] if stats else [None, None]
            ins = [x, w, b]
            r_in = [rg.tensor(a, requires_grad=True) for a in ins]
            t_in = [torch.tensor(a, requires_grad=True) for a in ins]
            ry = F.batch_norm(r_in[0], *rbuf, r_in[1], r_in[2], training, 0.2, 1e-4)
            ty = TF.batch_norm(t_in[0], *tbuf, t_in[1], t_in[2], training, 0.2, 1e-4)
            _close(ry, ty, dtype, f"training={training}")
            g = _data(x.shape, 8, dtype)
            (ry * rg.tensor(g)).sum().backward()
            (ty * torch.tensor(g)).sum().backward()
            for i, (a, c) in enumerate(zip(r_in, t_in)):
                _close(a.grad, c.grad, dtype, f"training={training} grad {i}")
            if stats:
                _close(rbuf[0], tbuf[0], dtype, "running_mean")
                _close(rbuf[1], tbuf[1], dtype, "running_var")


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_functional_instance_norm_matches_torch(use_input_stats):
    dtype = np.float64
    x = _data((3, 2, 4, 5), 1, dtype, scale=2.0, shift=1.0)
    w, b = _data((2,), 2, dtype), _data((2,), 3, dtype)
    rm, rv = _data((2,), 4, dtype), np.abs(_data((2,), 5, dtype)) + 0.5
    rbuf, tbuf = [rg.tensor(rm), rg.tensor(rv)], [torch.tensor(rm), torch.tensor(rv)]
    r_in = [rg.tensor(a, requires_grad=True) for a in (x, w, b)]
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ry = F.instance_norm(r_in[0], *rbuf, r_in[1], r_in[2], use_input_stats, 0.3)
    ty = TF.instance_norm(t_in[0], *tbuf, t_in[1], t_in[2], use_input_stats, 0.3)
    _close(ry, ty, dtype, "output")
    g = _data(x.shape, 6, dtype)
    (ry * rg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    for i, (a, c) in enumerate(zip(r_in, t_in)):
        _close(a.grad, c.grad, dtype, f"grad {i}")
    _close(rbuf[0], tbuf[0], dtype, "running_mean")
    _close(rbuf[1], tbuf[1], dtype, "running_var")


LN_CASES = [
    (5, (3, 5)),
    ((5,), (2, 3, 5)),
    ((4, 5), (2, 3, 4, 5)),
    ((2, 3, 4), (2, 3, 4)),  # the whole input
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("normalized_shape,shape", LN_CASES)
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False},
                                    {"eps": 1e-2}])
def test_layernorm_matches_torch(normalized_shape, shape, kwargs, dtype):
    rg_mod, t_mod = _twins(nn.LayerNorm(normalized_shape, **kwargs),
                           torch.nn.LayerNorm(normalized_shape, **kwargs), dtype)
    assert repr(rg_mod) == repr(t_mod)
    _step(rg_mod, t_mod, _data(shape, 1, dtype, scale=3.0, shift=2.0), dtype, 1, "LayerNorm")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups,channels,shape", [(1, 4, (3, 4)), (2, 4, (3, 4, 5)),
                                                   (4, 4, (2, 4, 3, 3)), (3, 6, (2, 6, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"eps": 1e-3, "bias": False}])
def test_groupnorm_matches_torch(groups, channels, shape, kwargs, dtype):
    rg_mod, t_mod = _twins(nn.GroupNorm(groups, channels, **kwargs),
                           torch.nn.GroupNorm(groups, channels, **kwargs), dtype)
    assert repr(rg_mod) == repr(t_mod)
    _step(rg_mod, t_mod, _data(shape, 2, dtype, scale=2.0, shift=-1.0), dtype, 2, "GroupNorm")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-3}, {"elementwise_affine": False}])
def test_rmsnorm_matches_torch(kwargs, dtype):
    rg_mod, t_mod = _twins(nn.RMSNorm((3, 4), **kwargs), torch.nn.RMSNorm((3, 4), **kwargs), dtype)
    assert repr(rg_mod) == repr(t_mod)
    _step(rg_mod, t_mod, _data((2, 3, 4), 3, dtype), dtype, 3, "RMSNorm")


def test_layernorm_known_answer():
    y = F.layer_norm(rg.tensor([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]), (3,), eps=1e-12)
    s = np.sqrt(1.5)
    np.testing.assert_allclose(y.numpy()[0], [-s, 0.0, s], rtol=1e-6)
    np.testing.assert_array_equal(y.numpy()[1], [0.0, 0.0, 0.0])  # a constant row maps to 0


def test_norm_errors():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\], expected input with shape "
                                           r"\[\*, 4\], but got input of size \[4, 3\]"):
        F.layer_norm(rg.randn(4, 3), (4,))
    with pytest.raises(RuntimeError, match=r"expected weight of shape \(3,\)"):
        F.layer_norm(rg.randn(4, 3), (3,), rg.ones(4))
    with pytest.raises(RuntimeError, match=r"divisible by num_groups.*\[2, 5, 3\].*num_groups=2"):
        F.group_norm(rg.randn(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4\): expected input of shape"):
        nn.GroupNorm(2, 4)(rg.randn(2, 6))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(rg.randn(2, 3, 1))
    with pytest.raises(RuntimeError, match="floating-point"):
        F.layer_norm(rg.tensor([[1, 2]]), (2,))


# ------------------------------------------------------------------ finite differences
def _gradcheck(fn, *arrays):
    ins = tuple(rg.tensor(a, requires_grad=True) for a in arrays)
    assert rg.autograd.gradcheck(fn, ins, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_batch_norm_training_and_eval():
    x = _data((4, 3, 2), 1, scale=2.0)
    w, b = _data((3,), 2), _data((3,), 3)
    _gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b)
    rm, rv = rg.tensor(_data((3,), 4)), rg.tensor(np.abs(_data((3,), 5)) + 0.5)
    _gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), x, w, b)
    _gradcheck(lambda x: F.batch_norm(x, None, None, training=True), x[:, :, 0])


def test_gradcheck_layer_group_instance_rms():
    x = _data((2, 4, 3), 6, scale=2.0)
    w, b = _data((4, 3), 7), _data((4, 3), 8)
    _gradcheck(lambda x, w, b: F.layer_norm(x, (4, 3), w, b), x, w, b)
    _gradcheck(lambda x: F.layer_norm(x, (3,)), x)
    wc, bc = _data((4,), 9), _data((4,), 10)
    _gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), x, wc, bc)
    _gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, wc, bc)
    _gradcheck(lambda x, w: F.rms_norm(x, (3,), w[0]), x, w)


# ------------------------------------------------------------------ double backward
def _double_backward(rg_fn, torch_fn, *arrays, seed=0):
    """grad of (grad of sum(f * g1)) · g2, w.r.t. every input, against torch."""
    rng = np.random.default_rng(seed)
    r_in = [rg.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ry, ty = rg_fn(*r_in), torch_fn(*t_in)
    g1 = rng.standard_normal(tuple(ty.shape))
    rg1 = rg.autograd.grad(ry, r_in, rg.tensor(g1), create_graph=True)
    tg1 = torch.autograd.grad(ty, t_in, torch.tensor(g1), create_graph=True)
    rs, ts = 0, 0
    for i, (a, c) in enumerate(zip(rg1, tg1)):
        _close(a, c, np.float64, f"first grad {i}")
        g2 = rng.standard_normal(tuple(c.shape))
        rs = rs + (a * rg.tensor(g2)).sum()
        ts = ts + (c * torch.tensor(g2)).sum()
    rg2 = rg.autograd.grad(rs, r_in, allow_unused=True)
    tg2 = torch.autograd.grad(ts, t_in, allow_unused=True)
    for i, (a, c) in enumerate(zip(rg2, tg2)):
        if c is None:
            assert a is None or not np.any(a.numpy()), f"second grad {i}"
            continue
        assert a is not None, f"second grad {i} missing"
        _close(a, c, np.float64, f"second grad {i}")


def test_double_backward_layer_norm():
    x = _data((3, 2, 4), 1, scale=2.0)
    w, b = _data((2, 4), 2), _data((2, 4), 3)
    _double_backward(lambda x, w, b: F.layer_norm(x, (2, 4), w, b),
                     lambda x, w, b: TF.layer_norm(x, (2, 4), w, b), x, w, b)
    _double_backward(lambda x: F.layer_norm(x, (4,)), lambda x: TF.layer_norm(x, (4,)), x)


def test_double_backward_batch_and_group_norm():
    x = _data((5, 3, 2), 4, scale=2.0)
    w, b = _data((3,), 5), _data((3,), 6)
    _double_backward(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                     lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), x, w, b)
    rm, rv = _data((3,), 7), np.abs(_data((3,), 8)) + 0.5
    _double_backward(
        lambda x, w, b: F.batch_norm(x, rg.tensor(rm), rg.tensor(rv), w, b, training=False),
        lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b,
                                      training=False), x, w, b)
    x = _data((2, 4, 3), 9, scale=2.0)
    w, b = _data((4,), 10), _data((4,), 11)
    _double_backward(lambda x, w, b: F.group_norm(x, 2, w, b),
                     lambda x, w, b: TF.group_norm(x, 2, w, b), x, w, b)


def test_second_derivatives_of_layer_and_batch_norm_by_finite_differences():
    g = rg.tensor(_data((4, 3), 14))

    def first_grads(fn):
        def f(x, w):
            with rg.enable_grad():  # gradcheck evaluates under no_grad
                return rg.autograd.grad(fn(x, w), (x, w), g, create_graph=True)
        return f

    x, w = _data((4, 3), 12, scale=2.0), _data((3,), 13)
    _gradcheck(first_grads(lambda x, w: F.layer_norm(x, (3,), w)), x, w)
    _gradcheck(first_grads(lambda x, w: F.batch_norm(x, None, None, w, training=True)), x, w)
