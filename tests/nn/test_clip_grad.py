"""Gradient clipping, parameter flattening and the L1 penalty, against torch.nn.utils."""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd.nn import utils as ru  # noqa: E402

TU = torch.nn.utils


def _params(grads, dtype=np.float64, with_none=True):
    """Matching (retrograd, torch) parameter lists whose .grad are the given arrays."""
    r, t = [], []
    for g in grads:
        g = np.asarray(g, dtype=dtype)
        rp = rg.tensor(np.zeros_like(g), requires_grad=True)
        tp = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        rp.grad, tp.grad = rg.tensor(g.copy()), torch.tensor(g.copy())
        r.append(rp)
        t.append(tp)
    if with_none:  # a parameter without gradient is ignored
        r.append(rg.zeros(3, requires_grad=True))
        t.append(torch.zeros(3, requires_grad=True))
    return r, t


def _random_grads(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal((4, 5)) * scale,
        rng.standard_normal(7) * scale,
        rng.standard_normal((2, 3, 2)) * scale,
    ]


def _check_grads(r, t, rtol):
    for rp, tp in zip(r, t):
        if tp.grad is None:
            assert rp.grad is None
            continue
        np.testing.assert_allclose(
            rp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-12, equal_nan=True
        )


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5, -math.inf, 0, "inf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, dtype, max_norm):
    r, t = _params(_random_grads(0), dtype)
    rn = ru.clip_grad_norm_(r, max_norm, norm_type=norm_type)
    tn = TU.clip_grad_norm_(t, max_norm, norm_type=norm_type)
    assert isinstance(rn, rg.Tensor) and rn.shape == ()
    assert rn.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(rn.item(), tn.item(), rtol=rtol)
    _check_grads(r, t, rtol)
    for p in r[:-1]:
        assert p.grad.dtype == dtype


def test_clip_grad_norm_mixed_dtypes_and_generator():
    r32, t32 = _params(_random_grads(1)[:2], np.float32, with_none=False)
    r64, t64 = _params(_random_grads(2)[2:], np.float64)
    rn = ru.clip_grad_norm_((p for p in r32 + r64), 0.1)
    tn = TU.clip_grad_norm_((p for p in t32 + t64), 0.1)
    assert rn.dtype == np.float64 and tn.dtype == torch.float64
    np.testing.assert_allclose(rn.item(), tn.item(), rtol=1e-6)
    _check_grads(r32 + r64, t32 + t64, 1e-6)


def test_clip_grad_norm_single_tensor_and_known_answer():
    p = rg.zeros(2, requires_grad=True)
    p.grad = rg.tensor([3.0, 4.0])
    total = ru.clip_grad_norm_(p, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0])
def test_nonfinite_gradients(bad, norm_type):
    grads = _random_grads(3)
    grads[1][2] = bad
    r, t = _params(grads)
    rn = ru.clip_grad_norm_(r, 1.0, norm_type=norm_type)
    tn = TU.clip_grad_norm_(t, 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(rn.numpy(), tn.numpy())  # nan or inf, like torch
    _check_grads(r, t, 1e-12)

    r, t = _params(grads)
    with pytest.raises(RuntimeError) as t_err:
        TU.clip_grad_norm_(t, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite") as r_err:
        ru.clip_grad_norm_(r, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    assert str(r_err.value) == str(t_err.value)
    np.testing.assert_array_equal(r[0].grad.numpy(), grads[0])  # nothing was scaled


def test_no_gradients():
    p = rg.zeros(2, requires_grad=True)
    total = ru.clip_grad_norm_([p], 1.0)
    assert total.item() == 0.0 and total.dtype == np.float32
    with pytest.warns(UserWarning, match="empty generator"):
        ru.clip_grad_norm_((q for q in []), 1.0)


def test_clip_grad_norm_deprecated_alias():
    r, t = _params(_random_grads(4))
    with pytest.warns(FutureWarning, match="deprecated"):
        rn = ru.clip_grad_norm(r, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tn = TU.clip_grad_norm(t, 0.5)
    np.testing.assert_allclose(rn.item(), tn.item(), rtol=1e-12)
    _check_grads(r, t, 1e-12)


def test_total_norm_and_clip_with_norm_split():
    r, t = _params(_random_grads(5))
    rn = ru.get_total_norm([p.grad for p in r if p.grad is not None], 3.0)
    tn = TU.get_total_norm([p.grad for p in t if p.grad is not None], 3.0)
    np.testing.assert_allclose(rn.item(), tn.item(), rtol=1e-12)
    ru.clip_grads_with_norm_(r, 0.3, rn)
    TU.clip_grads_with_norm_(t, 0.3, tn)
    _check_grads(r, t, 1e-12)


@pytest.mark.parametrize("clip_value", [0.5, 2, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    grads = _random_grads(6, scale=2.0)
    grads[0][0, 0] = np.nan
    r, t = _params(grads, dtype)
    assert ru.clip_grad_value_(r, clip_value) is None
    TU.clip_grad_value_(t, clip_value)
    _check_grads(r, t, 0)
    assert r[0].grad.dtype == dtype
    p = rg.zeros(2, requires_grad=True)
    p.grad = rg.tensor([-3.0, 0.25])
    ru.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.25])


def test_parameters_to_vector_and_back():
    rng = np.random.default_rng(7)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    vals = [rng.standard_normal(s) for s in shapes]
    rp = [rg.tensor(v, dtype=rg.float64, requires_grad=True) for v in vals]
    tp = [torch.tensor(v, requires_grad=True) for v in vals]
    rvec, tvec = ru.parameters_to_vector(iter(rp)), TU.parameters_to_vector(iter(tp))
    assert rvec.shape == (12 + 4 + 8,)
    np.testing.assert_array_equal(rvec.detach().numpy(), tvec.detach().numpy())
    # differentiable w.r.t. the parameters
    weights = np.arange(24.0)
    (rvec * rg.tensor(weights)).sum().backward()
    (tvec * torch.tensor(weights)).sum().backward()
    for a, b in zip(rp, tp):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())

    new = rng.standard_normal(24)
    rnew = rg.tensor(new, dtype=rg.float64)
    ru.vector_to_parameters(rnew, rp)
    TU.vector_to_parameters(torch.tensor(new), tp)
    for a, b in zip(rp, tp):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad
    # like torch, the parameters now share memory with the vector
    with rg.no_grad():
        rnew.mul_(2.0)
    np.testing.assert_array_equal(rp[1].detach().numpy(), 2 * new[12:16])

    with pytest.raises(TypeError, match="expected retrograd.Tensor"):
        ru.vector_to_parameters(new, rp)
    with pytest.raises(ValueError, match="fewer than the parameters"):
        ru.vector_to_parameters(rg.zeros(5), rp)


def test_l1_penalty_value_and_gradient():
    rng = np.random.default_rng(8)
    vals = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    rp = [rg.tensor(v, dtype=rg.float64, requires_grad=True) for v in vals]
    tp = [torch.tensor(v, requires_grad=True) for v in vals]
    rl = ru.l1_penalty(rp, 0.01)
    tl = 0.01 * sum(p.abs().sum() for p in tp)
    np.testing.assert_allclose(rl.item(), tl.item(), rtol=1e-12)
    rl.backward()
    tl.backward()
    for a, b in zip(rp, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), 0.01 * np.sign(a.detach().numpy()))

    w32 = rg.tensor([1.0, -2.0], requires_grad=True)
    out = ru.l1_penalty(w32, 0.5)
    assert out.dtype == np.float32 and out.item() == pytest.approx(1.5)
    assert ru.l1_penalty([], 1.0).item() == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        ru.l1_penalty(rp, -1.0)
