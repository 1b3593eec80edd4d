"""Losses (functional and modules): parity with torch in values and gradients over the
argument combinations (reductions, weights, ignore_index, label smoothing, probability
targets, extra dims, pos_weight, beta/delta, log_target), finite differences, double
backward, stability for huge logits, and the error messages for bad shapes."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import retrograd as rg  # noqa: E402
import retrograd.nn as nn  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
REDUCTIONS = ["mean", "sum", "none"]


def _np(x):
    return x.detach().numpy()


def check(rg_fn, t_fn, *arrays, dtype=np.float64, grads=None, seed=0, tol=None):
    """Run both libraries on the same arrays; compare the loss and the gradients of the
    float arrays (``grads``: which of them require grad; default all float ones)."""
    rs, ts = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        rq = a.dtype.kind == "f" and (grads is None or i in grads)
        rs.append(rg.tensor(a.copy(), requires_grad=rq))
        ts.append(torch.tensor(a.copy(), requires_grad=rq))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ro, to = rg_fn(*rs), t_fn(*ts)
    tol = tol or TOL[dtype]
    assert tuple(ro.shape) == tuple(to.shape), (ro.shape, to.shape)
    assert ro.dtype == np.dtype(dtype)
    np.testing.assert_allclose(_np(ro), _np(to), **tol)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(to.shape)).astype(dtype)
    ro.backward(rg.tensor(g))
    to.backward(torch.tensor(g))
    for i, (r, t) in enumerate(zip(rs, ts)):
        if t.requires_grad:
            assert r.grad is not None, f"no gradient for input {i}"
            assert r.grad.dtype == np.dtype(dtype)
            np.testing.assert_allclose(_np(r.grad), t.grad.numpy(), err_msg=f"grad of input {i}",
                                       **tol)
    return ro, rs


def logits(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def classes(shape, C, seed=0):
    return np.random.default_rng(seed + 100).integers(0, C, shape)


def probs(shape, seed=0, axis=1):
    p = np.random.default_rng(seed + 200).random(shape) + 0.05
    return p / p.sum(axis=axis, keepdims=True)


def cls_weight(C, seed=0):
    return np.random.default_rng(seed + 300).uniform(0.2, 2.0, C)


# ------------------------------------------------------------------ cross-entropy

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_class_targets(dtype, reduction, weighted, smoothing, ignore):
    N, C = 7, 5
    x = logits((N, C), seed=1)
    t = classes(N, C, seed=1)
    if ignore:
        t[[1, 4]] = 3  # ignore_index may be a valid class id: those samples are skipped
    w = cls_weight(C).astype(dtype) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing, ignore_index=3 if ignore else -100)
    check(lambda a, b: F.cross_entropy(a, b, None if w is None else rg.tensor(w), **kw),
          lambda a, b: TF.cross_entropy(a, b, None if w is None else torch.tensor(w), **kw),
          x, t, dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_extra_dims_and_unbatched(reduction, smoothing):
    x = logits((2, 4, 3, 2), seed=2)
    t = classes((2, 3, 2), 4, seed=2)
    t[0, 1, 1] = -100
    w = cls_weight(4)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(lambda a, b: F.cross_entropy(a, b, **kw), lambda a, b: TF.cross_entropy(a, b, **kw), x, t)
    w32 = w.astype(np.float32)
    check(lambda a, b: F.cross_entropy(a, b, rg.tensor(w32), **kw),
          lambda a, b: TF.cross_entropy(a, b, torch.tensor(w32), **kw), x, t, dtype=np.float32)
    check(lambda a, b: F.cross_entropy(a, b, **kw), lambda a, b: TF.cross_entropy(a, b, **kw),
          logits((5,), seed=3), np.array(2))
    check(lambda a, b: F.cross_entropy(a, b, rg.tensor(w), **kw),
          lambda a, b: TF.cross_entropy(a, b, torch.tensor(w), **kw), logits((4,), seed=4),
          np.array(0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(dtype, reduction, weighted, smoothing):
    x = logits((6, 4), seed=5)
    p = probs((6, 4), seed=5)
    w = cls_weight(4).astype(dtype) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    # gradients flow to the target probabilities too
    check(lambda a, b: F.cross_entropy(a, b, None if w is None else rg.tensor(w), **kw),
          lambda a, b: TF.cross_entropy(a, b, None if w is None else torch.tensor(w), **kw),
          x, p, dtype=dtype)


def test_cross_entropy_probability_targets_extra_dims_and_unbatched():
    x = logits((2, 3, 4), seed=6)
    p = probs((2, 3, 4), seed=6, axis=1)
    for red in REDUCTIONS:
        check(lambda a, b, r=red: F.cross_entropy(a, b, reduction=r),
              lambda a, b, r=red: TF.cross_entropy(a, b, reduction=r), x, p)
    check(F.cross_entropy, TF.cross_entropy, logits((5,), seed=7), probs((5,), seed=7, axis=0))


def test_cross_entropy_all_ignored_gives_nan_loss_and_zero_gradient():
    x = rg.tensor(logits((3, 4)), requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor([-100, -100, -100]))
    tloss = TF.cross_entropy(torch.tensor(logits((3, 4))), torch.tensor([-100, -100, -100]))
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_cross_entropy_known_answer():
    # uniform logits: the loss is log(C), the gradient (1/C - onehot) / N
    x = rg.zeros(2, 4, requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor([0, 3]))
    np.testing.assert_allclose(loss.item(), np.log(4.0), rtol=1e-6)
    loss.backward()
    expected = np.full((2, 4), 0.25 / 2)
    expected[0, 0] -= 0.5
    expected[1, 3] -= 0.5
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_give_finite_losses_and_gradients(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [-1e4, 1e4, -1e4]], dtype=dtype)
    t = np.array([1, 2, 0])
    yb = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5], [1.0, 1.0, 0.0]])
    cases = [
        (lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), (x, t)),
        (lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1),
         lambda a, b: TF.cross_entropy(a, b, label_smoothing=0.1), (x, t)),
        (lambda a, b: F.cross_entropy(a, b, reduction="none"),
         lambda a, b: TF.cross_entropy(a, b, reduction="none"), (x, probs((3, 3)))),
        (lambda a, b: F.nll_loss(F.log_softmax(a, 1), b),
         lambda a, b: TF.nll_loss(TF.log_softmax(a, 1), b), (x, t)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b),
         lambda a, b: TF.binary_cross_entropy_with_logits(a, b), (x, yb)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=rg.tensor([3.0, 1, 2],
                                                                                    dtype=dtype)),
         lambda a, b: TF.binary_cross_entropy_with_logits(
             a, b, pos_weight=torch.tensor(np.array([3.0, 1, 2], dtype=dtype))), (x, yb)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value RuntimeWarnings
        for f_rg, f_t, arrays in cases:
            ro, rs = check(f_rg, f_t, *arrays, dtype=dtype, grads=(0,))
            assert np.all(np.isfinite(_np(ro)))
            assert np.all(np.isfinite(rs[0].grad.numpy()))
        # torch's soft_margin_loss computes log1p(exp(-y x)) and overflows to inf here
        r = rg.tensor(x, requires_grad=True)
        loss = F.soft_margin_loss(r, rg.tensor(2 * yb - 1, dtype=dtype), reduction="none")
        loss.sum().backward()
        np.testing.assert_allclose(loss.detach().numpy()[0], [0.0, 0.0, np.log(2)], rtol=1e-6)
        assert np.all(np.isfinite(r.grad.numpy()))


def test_cross_entropy_keeps_float32_and_weight_dtype_is_adapted():
    x = rg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor([0, 1, 2, 1]),
                           weight=rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_shape_and_value_errors():
    x = rg.randn(3, 5)
    with pytest.raises(ValueError, match=r"cross_entropy.*batch_size \(3\).*batch_size \(2\)"
                                         r".*\(3, 5\).*\(2,\)"):
        F.cross_entropy(x, rg.tensor([1, 2]))
    with pytest.raises(IndexError, match=r"cross_entropy: Target 5 is out of bounds.*\[0, 4\]"):
        F.cross_entropy(x, rg.tensor([1, 5, 0]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        nn.CrossEntropyLoss()(x, rg.tensor([1, -3, 0]))
    with pytest.raises(RuntimeError, match=r"cross_entropy: expected target of shape \(2, 3\)"):
        F.cross_entropy(rg.randn(2, 5, 3), rg.tensor([[1, 2], [0, 1]]))
    with pytest.raises(RuntimeError, match="integer dtype.*float32"):
        F.cross_entropy(x, rg.tensor([1.0, 2.0, 0.0]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined.*5 classes"):
        F.cross_entropy(x, rg.tensor([1, 2, 0]), weight=rg.ones(4))
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, rg.rand(3, 5), ignore_index=1)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, rg.tensor([1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, rg.tensor([1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="class dimension"):
        F.cross_entropy(rg.tensor(1.0), rg.tensor(0))


# ------------------------------------------------------------------ nll_loss

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    x = np.log(probs((6, 4), seed=8))
    t = classes(6, 4, seed=8)
    t[2] = -100
    w = cls_weight(4) if weighted else None
    wr = None if w is None else rg.tensor(w)
    wt = None if w is None else torch.tensor(w)
    check(lambda a, b: F.nll_loss(a, b, wr, reduction=reduction),
          lambda a, b: TF.nll_loss(a, b, wt, reduction=reduction), x, t)
    check(lambda a, b: F.nll_loss(a, b, None if w is None else wr.float(), reduction=reduction),
          lambda a, b: TF.nll_loss(a, b, None if w is None else wt.float(), reduction=reduction),
          x, t, dtype=np.float32)
    x3 = logits((2, 4, 3), seed=9)
    t3 = classes((2, 3), 4, seed=9)
    check(lambda a, b: F.nll_loss(a, b, wr, ignore_index=1, reduction=reduction),
          lambda a, b: TF.nll_loss(a, b, wt, ignore_index=1, reduction=reduction), x3, t3)
    check(lambda a, b: F.nll_loss(a, b, reduction=reduction),
          lambda a, b: TF.nll_loss(a, b, reduction=reduction), x[0], np.array(3))


def test_nll_loss_ignored_rows_may_hold_minus_inf():
    x = np.log(probs((3, 4), seed=1))
    x[1, 0] = -np.inf
    check(lambda a, b: F.nll_loss(a, b), lambda a, b: TF.nll_loss(a, b), x, np.array([2, -100, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: Expected input batch_size \(3\)"):
        F.nll_loss(rg.randn(3, 4), rg.tensor([0, 1]))


# ------------------------------------------------------------------ binary cross-entropy

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(dtype, reduction):
    rng = np.random.default_rng(10)
    p = rng.uniform(0.01, 0.99, (4, 3))
    y = rng.random((4, 3))
    w = rng.uniform(0.5, 2.0, 3).astype(dtype)
    check(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
          lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), p, y, dtype=dtype)
    check(lambda a, b: F.binary_cross_entropy(a, b, rg.tensor(w), reduction=reduction),
          lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(w), reduction=reduction),
          p, y, dtype=dtype)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-60])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    ro, _ = check(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                  lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), p, y, grads=(0,))
    np.testing.assert_allclose(_np(ro), [100.0, 100.0, 0.0, 0.0, 100.0])


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*target size \(\(3,\)\).*"
                                         r"input size \(\(3, 1\)\)"):
        F.binary_cross_entropy(rg.rand(3, 1), rg.rand(3))
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(rg.tensor([0.5, 1.5]), rg.tensor([0.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_with_logits(dtype, reduction, pos_weighted, weighted):
    rng = np.random.default_rng(11)
    x = logits((5, 3), seed=11, scale=3.0)
    y = rng.random((5, 3))
    pw = rng.uniform(0.5, 3.0, 3).astype(dtype) if pos_weighted else None
    w = rng.uniform(0.5, 2.0, (5, 1)).astype(dtype) if weighted else None

    def f_rg(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, None if w is None else rg.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else rg.tensor(pw))

    def f_t(a, b):
        return TF.binary_cross_entropy_with_logits(
            a, b, None if w is None else torch.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw))

    check(f_rg, f_t, x, y, dtype=dtype)  # the target gets a gradient too


def test_bce_with_logits_size_error():
    with pytest.raises(ValueError, match=r"Target size \(\(4,\)\) must be the same as input "
                                         r"size \(\(4, 1\)\)"):
        F.binary_cross_entropy_with_logits(rg.randn(4, 1), rg.rand(4))


# ------------------------------------------------------------------ regression losses

POINTWISE = {
    "mse": (F.mse_loss, TF.mse_loss, {}),
    "l1": (F.l1_loss, TF.l1_loss, {}),
    "smooth_l1": (F.smooth_l1_loss, TF.smooth_l1_loss, {}),
    "smooth_l1_beta0.3": (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.3}),
    "smooth_l1_beta0": (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.0}),
    "huber": (F.huber_loss, TF.huber_loss, {}),
    "huber_delta2.5": (F.huber_loss, TF.huber_loss, {"delta": 2.5}),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(POINTWISE))
def test_regression_losses(name, reduction, dtype):
    f_rg, f_t, kw = POINTWISE[name]
    x = logits((4, 5), seed=12)
    y = logits((4, 5), seed=13)
    check(lambda a, b: f_rg(a, b, reduction=reduction, **kw),
          lambda a, b: f_t(a, b, reduction=reduction, **kw), x, y, dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
def test_regression_losses_with_weight(name, reduction):
    f_rg, f_t, _ = POINTWISE[name]
    x, y = logits((3, 4), seed=14), logits((3, 4), seed=15)
    w = np.random.default_rng(16).uniform(0.1, 2.0, (3, 4))
    check(lambda a, b: f_rg(a, b, reduction=reduction, weight=rg.tensor(w)),
          lambda a, b: f_t(a, b, reduction=reduction, weight=torch.tensor(w)), x, y)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        f_rg(rg.tensor(x), rg.tensor(y), weight=rg.ones(4))


def test_regression_losses_broadcast_with_a_warning():
    x, y = logits((3, 4), seed=17), logits((4,), seed=18)
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(rg.tensor(x), rg.tensor(y))
    check(F.mse_loss, TF.mse_loss, x, y)
    check(F.l1_loss, TF.l1_loss, x, y)


def test_regression_loss_kinks_follow_torch():
    x = np.array([0.0, 1.0, -1.0, 2.5, 0.3])
    y = np.zeros(5)
    for name, (f_rg, f_t, kw) in POINTWISE.items():
        check(lambda a, b, f=f_rg, k=kw: f(a, b, reduction="sum", **k),
              lambda a, b, f=f_t, k=kw: f(a, b, reduction="sum", **k), x, y)
        del name


def test_regression_parameter_errors():
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(rg.randn(3), rg.randn(3), beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(rg.randn(3), rg.randn(3), delta=0.0)


# ------------------------------------------------------------------ KL divergence

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_div(reduction, log_target, dtype):
    x = np.log(probs((4, 5), seed=19))
    t = probs((4, 5), seed=20)
    if log_target:
        t = np.log(t)
    check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
          lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), x, t,
          dtype=dtype)


def test_kl_div_zero_target_probabilities():
    x = np.log(probs((4, 5), seed=19))
    t = probs((4, 5), seed=20)
    t[0, :2] = 0.0  # they contribute nothing to the loss
    check(lambda a, b: F.kl_div(a, b, reduction="sum"),
          lambda a, b: TF.kl_div(a, b, reduction="sum"), x, t, grads=(0,))
    # d/dt of t log t is unbounded at t = 0; torch answers NaN, retrograd 0 (no NaN poisoning)
    rt = rg.tensor(t, requires_grad=True)
    F.kl_div(rg.tensor(x), rt, reduction="sum").backward()
    np.testing.assert_array_equal(rt.grad.numpy()[0, :2], [0.0, 0.0])
    tt = torch.tensor(t, requires_grad=True)
    TF.kl_div(torch.tensor(x), tt, reduction="sum").backward()
    np.testing.assert_allclose(rt.grad.numpy()[1:], tt.grad.numpy()[1:], rtol=1e-10)


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(rg.randn(2, 3), rg.rand(2, 3))


# ------------------------------------------------------------------ the extras

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(reduction):
    rng = np.random.default_rng(21)
    x1, x2 = logits((6,), seed=21), logits((6,), seed=22)
    y = np.where(rng.random(6) > 0.5, 1.0, -1.0)
    check(lambda a, b: F.margin_ranking_loss(a, b, rg.tensor(y), 0.3, reduction=reduction),
          lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor(y), 0.3, reduction=reduction),
          x1, x2)
    check(lambda a: F.hinge_embedding_loss(a, rg.tensor(y), 0.8, reduction=reduction),
          lambda a: TF.hinge_embedding_loss(a, torch.tensor(y), 0.8, reduction=reduction), x1)
    check(lambda a: F.soft_margin_loss(a, rg.tensor(y), reduction=reduction),
          lambda a: TF.soft_margin_loss(a, torch.tensor(y), reduction=reduction), x1)


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(log_input, full, reduction):
    rng = np.random.default_rng(23)
    x = rng.uniform(0.1, 3.0, (4, 3)) if not log_input else logits((4, 3), seed=23, scale=1.0)
    # targets >= 1: at 0 the Stirling term's gradient is 0 * log(0), which torch leaves NaN
    t = rng.poisson(2.0, (4, 3)).astype(np.float64) + 1.0
    t[0, 0] = 1.0
    kw = dict(log_input=log_input, full=full, reduction=reduction)
    check(lambda a, b: F.poisson_nll_loss(a, b, **kw), lambda a, b: TF.poisson_nll_loss(a, b, **kw),
          x, t)
    t[1, 1] = 0.0
    check(lambda a, b: F.poisson_nll_loss(a, b, **kw), lambda a, b: TF.poisson_nll_loss(a, b, **kw),
          x, t, grads=(0,))


@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(var_shape, full, reduction):
    rng = np.random.default_rng(24)
    x, t = logits((4, 3), seed=24), logits((4, 3), seed=25)
    v = rng.uniform(0.1, 2.0, var_shape)
    v.reshape(-1)[0] = 1e-9  # clamped to eps: the gradient still passes, as in torch
    kw = dict(full=full, reduction=reduction)
    check(lambda a, b, c: F.gaussian_nll_loss(a, b, c, **kw),
          lambda a, b, c: TF.gaussian_nll_loss(a, b, c, **kw), x, t, v,
          tol=dict(rtol=1e-10, atol=1e-6))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(rg.randn(4, 3), rg.randn(4, 3), rg.rand(2, 2))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(rg.randn(4, 3), rg.randn(4, 3), -rg.rand(4, 3))


# ------------------------------------------------------------------ legacy arguments

@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    x, y = rg.randn(3, 4), rg.randn(3, 4)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        got = F.mse_loss(x, y, size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(got.numpy(), F.mse_loss(x, y, reduction=expected).numpy())
    with pytest.warns(UserWarning):
        m = nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning):
        tm = tnn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    assert m.reduction == tm.reduction == expected


# ------------------------------------------------------------------ modules

def test_modules_match_functional_and_torch():
    rng = np.random.default_rng(26)
    x = logits((4, 3), seed=26)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.random((4, 3))
    t = classes(4, 3, seed=26)
    w = cls_weight(3)
    cases = [
        (nn.MSELoss(), tnn.MSELoss(), (x, y)),
        (nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), (x, y)),
        (nn.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5), (x, y)),
        (nn.HuberLoss(delta=0.7), tnn.HuberLoss(delta=0.7), (x, y)),
        (nn.BCELoss(weight=rg.tensor(w)), tnn.BCELoss(weight=torch.tensor(w)), (p, y)),
        (nn.BCEWithLogitsLoss(pos_weight=rg.tensor(w)),
         tnn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), (x, y)),
        (nn.CrossEntropyLoss(weight=rg.tensor(w), label_smoothing=0.1, ignore_index=1),
         tnn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1, ignore_index=1),
         (x, t)),
        (nn.NLLLoss(reduction="none"), tnn.NLLLoss(reduction="none"), (np.log(p), t)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True),
         tnn.KLDivLoss(reduction="batchmean", log_target=True), (np.log(p), np.log(y))),
        (nn.SoftMarginLoss(), tnn.SoftMarginLoss(), (x, np.sign(y - 0.5))),
        (nn.HingeEmbeddingLoss(margin=0.5), tnn.HingeEmbeddingLoss(margin=0.5),
         (x, np.sign(y - 0.5))),
        (nn.PoissonNLLLoss(full=True), tnn.PoissonNLLLoss(full=True), (x, 3 * y)),
        (nn.GaussianNLLLoss(full=True), tnn.GaussianNLLLoss(full=True), (x, y, p)),
        (nn.MarginRankingLoss(0.2), tnn.MarginRankingLoss(0.2), (x[:, 0], y[:, 0],
                                                               np.sign(p[:, 0] - 0.5))),
    ]
    for m, tm, arrays in cases:
        assert repr(m) == repr(tm)
        ra = [rg.tensor(a) for a in arrays]
        ta = [torch.tensor(a) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got, want = m(*ra), tm(*ta)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=repr(m))
    # module == functional
    ce = nn.CrossEntropyLoss(label_smoothing=0.2)
    xr, tr = rg.tensor(x), rg.tensor(t)
    np.testing.assert_array_equal(ce(xr, tr).numpy(),
                                  F.cross_entropy(xr, tr, label_smoothing=0.2).numpy())


def test_loss_module_weights_are_buffers():
    m = nn.BCEWithLogitsLoss(weight=rg.ones(3), pos_weight=rg.full((3,), 2.0))
    assert set(m.state_dict()) == {"weight", "pos_weight"}
    assert list(m.parameters()) == []
    m2 = nn.CrossEntropyLoss(weight=rg.ones(3))
    assert list(m2.state_dict()) == ["weight"]
    assert nn.CrossEntropyLoss().weight is None
    m.double()
    assert m.pos_weight.dtype == np.float64


# ------------------------------------------------------------------ finite differences

def test_gradcheck_losses():
    rng = np.random.default_rng(27)

    def t64(a, rq=True):
        return rg.tensor(np.asarray(a, np.float64), requires_grad=rq)

    x = t64(logits((3, 4), seed=27))
    p = t64(probs((3, 4), seed=27))
    y = t64(rng.random((3, 4)))
    q = t64(rng.uniform(0.1, 0.9, (3, 4)))
    t = rg.tensor([1, 3, 0])
    w = rg.tensor(cls_weight(4), dtype=rg.float64)
    cases = [
        (lambda a: F.cross_entropy(a, t), (x,)),
        (lambda a: F.cross_entropy(a, rg.tensor([1, -100, 2]), w, label_smoothing=0.2), (x,)),
        (lambda a: F.cross_entropy(a, t, reduction="none"), (x,)),
        (lambda a, b: F.cross_entropy(a, b, w, label_smoothing=0.1), (x, p)),
        (lambda a: F.nll_loss(a, t, w), (x,)),
        (lambda a, b: F.binary_cross_entropy(a, b), (q, y)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=w), (x, y)),
        (lambda a, b: F.kl_div(a, b, reduction="batchmean"), (x, q)),
        (lambda a, b: F.kl_div(a, b, log_target=True, reduction="sum"), (x, y)),
        (lambda a, b: F.huber_loss(a, b, delta=0.5), (x, y)),
        (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), (x, y)),
        (lambda a, b: F.mse_loss(a, b), (x, y)),
        (lambda a, b: F.poisson_nll_loss(a, b, full=True), (x, t64(rng.random((3, 4)) * 4))),
    ]
    for fn, ins in cases:
        assert rg.autograd.gradcheck(fn, ins)
    x3 = t64(logits((2, 3, 2), seed=28))
    assert rg.autograd.gradcheck(
        lambda a: F.cross_entropy(a, rg.tensor([[0, 2], [1, -100]]), label_smoothing=0.1,
                                  reduction="sum"), (x3,))


# ------------------------------------------------------------------ double backward

DOUBLE = {
    "cross_entropy": (lambda a: F.cross_entropy(a, rg.tensor([1, 0, 3])),
                      lambda a: TF.cross_entropy(a, torch.tensor([1, 0, 3]))),
    "cross_entropy_smooth_weight_none": (
        lambda a: F.cross_entropy(a, rg.tensor([1, -100, 3]), rg.tensor([1.0, 2, 3, 4],
                                  dtype=rg.float64), reduction="none", label_smoothing=0.2),
        lambda a: TF.cross_entropy(a, torch.tensor([1, -100, 3]), torch.tensor([1.0, 2, 3, 4],
                                   dtype=torch.float64), reduction="none", label_smoothing=0.2)),
    "cross_entropy_probs": (lambda a: F.cross_entropy(a, rg.tensor(probs((3, 4)))),
                            lambda a: TF.cross_entropy(a, torch.tensor(probs((3, 4))))),
    "bce_with_logits": (
        lambda a: F.binary_cross_entropy_with_logits(a, rg.tensor(probs((3, 4))),
                                                     pos_weight=rg.tensor([2.0, 1, 1, 3],
                                                                          dtype=rg.float64)),
        lambda a: TF.binary_cross_entropy_with_logits(a, torch.tensor(probs((3, 4))),
                                                      pos_weight=torch.tensor([2.0, 1, 1, 3],
                                                                              dtype=torch.float64))),
    "nll_none": (lambda a: F.nll_loss(a, rg.tensor([1, 0, 3]), reduction="none") * a.sum(),
                 lambda a: TF.nll_loss(a, torch.tensor([1, 0, 3]), reduction="none") * a.sum()),
    "kl_div": (lambda a: F.kl_div(a, rg.tensor(probs((3, 4))), reduction="sum") ** 2,
               lambda a: TF.kl_div(a, torch.tensor(probs((3, 4))), reduction="sum") ** 2),
}


@pytest.mark.parametrize("name", list(DOUBLE))
def test_double_backward_parity(name):
    f_rg, f_t = DOUBLE[name]
    x = logits((3, 4), seed=29)
    rx, tx = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ro, to = f_rg(rx), f_t(tx)
    g = np.random.default_rng(30).standard_normal(tuple(to.shape))
    (r1,) = rg.autograd.grad(ro, [rx], rg.tensor(g), create_graph=True)
    (t1,) = torch.autograd.grad(to, [tx], torch.tensor(g), create_graph=True)
    np.testing.assert_allclose(_np(r1), _np(t1), rtol=1e-10, atol=1e-12)
    (r2,) = rg.autograd.grad((r1 ** 2).sum(), [rx])
    (t2,) = torch.autograd.grad((t1 ** 2).sum(), [tx])
    np.testing.assert_allclose(r2.numpy(), t2.numpy(), rtol=1e-9, atol=1e-11)
