"""Shared helpers for the op tests: run one computation in retrograd and in torch (the
oracle) on the same NumPy data and compare values, dtypes and gradients.

Imported as ``import _compare`` (pytest puts this folder on ``sys.path``, since the test
folders have no ``__init__.py``).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg

# Deterministic and modest: CI runs every example on 2 cores.
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(SETTINGS, max_examples=12)

TOL = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
       np.dtype(np.float64): dict(rtol=1e-10, atol=1e-11)}


# ------------------------------------------------------------------ strategies
def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Array shapes, 0-d and size-1 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcast_pair(min_dims=0, max_dims=4, max_side=4):
    """Two shapes that broadcast together (the result shape is discarded)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda s: s.input_shapes)


seeds = st.integers(0, 2**31 - 1)
float_dtypes = st.sampled_from([np.float32, np.float64])


def randn(shape, seed=0, dtype=np.float32, low=None, high=None):
    """Reproducible test data: normal, or uniform in [low, high)."""
    r = np.random.default_rng(seed)
    if low is not None:
        a = r.uniform(low, high, size=shape)
    else:
        a = r.standard_normal(shape)
    return np.asarray(a, dtype=dtype)


def away_from(a, points, gap=0.05):
    """Push values closer than ``gap`` to any of ``points`` away (kinks of abs/relu/clamp)."""
    a = a.copy()
    for p in points:
        close = np.abs(a - p) < gap
        a[close] = p + np.where(a[close] >= p, gap, -gap)
    return a


# ------------------------------------------------------------------ conversion
def np_dtype(torch_dtype):
    return np.dtype(str(torch_dtype).replace("torch.", ""))


def pair(a, requires_grad=None):
    """The same array as a retrograd and a torch tensor (grad on for float arrays)."""
    a = np.asarray(a)
    if requires_grad is None:
        requires_grad = a.dtype.kind == "f"
    r = rg.tensor(a.copy(), requires_grad=requires_grad)
    t = torch.tensor(a.copy(), requires_grad=requires_grad)
    return r, t


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, rg.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _flat(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    return [out]


def assert_same(r, t, rtol=None, atol=None, check_dtype=True, what="value"):
    """retrograd result ``r`` equals torch result ``t``: shape, dtype and values."""
    rs, ts = _flat(r), _flat(t)
    assert len(rs) == len(ts), f"{what}: {len(rs)} outputs vs torch {len(ts)}"
    for i, (a, b) in enumerate(zip(rs, ts)):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, rg.Tensor), f"{what} {i}: expected a Tensor, got {type(a)}"
            assert tuple(a.shape) == tuple(b.shape), \
                f"{what} {i}: shape {tuple(a.shape)} vs torch {tuple(b.shape)}"
            if check_dtype:
                assert a.dtype == np_dtype(b.dtype), \
                    f"{what} {i}: dtype {a.dtype} vs torch {b.dtype}"
            an, bn = to_numpy(a), to_numpy(b)
        else:
            an, bn = np.asarray(a), np.asarray(b)
        exact = dict(rtol=0, atol=0)
        tol = TOL.get(an.dtype, exact) if an.dtype.kind == "f" else exact
        if rtol is not None:
            tol = dict(rtol=rtol, atol=atol if atol is not None else rtol)
        np.testing.assert_allclose(an, bn, equal_nan=True, err_msg=f"{what} {i}", **tol)


def check(rg_fn, torch_fn, *arrays, grad=True, seed=0, rtol=None, atol=None, check_dtype=True,
          grad_rtol=None, grad_atol=None, requires_grad=None):
    """Run ``rg_fn`` and ``torch_fn`` on the same arrays; compare outputs, then gradients.

    The gradient check backpropagates the same random upstream gradient through every
    floating-point output and compares the input gradients (value and dtype).
    Returns the retrograd inputs and output for extra assertions.
    """
    rins, tins = [], []
    for a in arrays:
        if isinstance(a, np.generic):
            a = np.asarray(a)  # arithmetic on 0-d arrays gives NumPy scalars
        if isinstance(a, np.ndarray):
            rg_grad = grad and a.dtype.kind == "f" if requires_grad is None else requires_grad
            r, t = pair(a, requires_grad=rg_grad)
        else:  # a Python scalar or other non-array argument: passed as is
            r, t = a, a
        rins.append(r)
        tins.append(t)
    # Feed the op clones: a hook on a clone sees the gradient exactly as the op produced it,
    # before the engine casts it to the leaf's dtype, so a silent float64 upcast shows.
    seen = {}
    fed = []
    for i, r in enumerate(rins):
        if isinstance(r, rg.Tensor) and r.requires_grad:
            c = r.clone()
            c.register_hook(lambda g, i=i: seen.__setitem__(i, g.dtype))
            fed.append(c)
        else:
            fed.append(r)
    rout = rg_fn(*fed)
    tout = torch_fn(*tins)
    assert_same(rout, tout, rtol=rtol, atol=atol, check_dtype=check_dtype)
    if not grad:
        return rins, rout
    rflat, tflat = _flat(rout), _flat(tout)
    rloss, tloss = None, None
    rng = np.random.default_rng(seed + 1)
    for ro, to in zip(rflat, tflat):
        if not (isinstance(to, torch.Tensor) and to.requires_grad):
            assert not (isinstance(ro, rg.Tensor) and ro.requires_grad and ro.dtype.kind != "f")
            continue
        assert ro.requires_grad, "retrograd output does not require grad where torch's does"
        g = rng.standard_normal(tuple(to.shape)).astype(np_dtype(to.dtype))
        rl = (ro * rg.tensor(g)).sum()
        tl = (to * torch.tensor(g)).sum()
        rloss = rl if rloss is None else rloss + rl
        tloss = tl if tloss is None else tloss + tl
    if tloss is None:
        return rins, rout
    rloss.backward()
    tloss.backward()
    if grad_atol is None:
        grad_atol = atol if grad_rtol is None else grad_rtol
    gr = dict(rtol=grad_rtol if grad_rtol is not None else rtol, atol=grad_atol)
    for i, (r, t) in enumerate(zip(rins, tins)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert r.grad is None or not np.any(r.grad.numpy()), f"grad of input {i}"
                continue
            assert r.grad is not None, f"input {i}: no gradient (torch has one)"
            assert_same(r.grad, t.grad, what=f"grad of input {i}", **gr)
            if check_dtype and i in seen:
                assert seen[i] == r.dtype, \
                    f"the op's gradient for input {i} is {seen[i]}, the input is {r.dtype}"
    return rins, rout


def gradcheck(fn, *arrays, **kw):
    """retrograd.autograd.gradcheck in float64 on the given arrays (all of them require grad)."""
    ins = [rg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert rg.autograd.gradcheck(fn, tuple(ins), **kw)


def double_backward(rg_fn, torch_fn, *arrays, seed=0, rtol=1e-9, atol=1e-10):
    """Second-order parity: grad of (grad of sum(f * g1)) · g2 with respect to each input."""
    rng = np.random.default_rng(seed + 7)
    rins = [rg.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    tins = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    rout, tout = rg_fn(*rins), torch_fn(*tins)
    g1 = rng.standard_normal(tuple(tout.shape))
    rg1 = rg.autograd.grad(rout, rins, rg.tensor(g1), create_graph=True, allow_unused=True)
    tg1 = torch.autograd.grad(tout, tins, torch.tensor(g1), create_graph=True, allow_unused=True)
    rsum, tsum = 0, 0
    for a, b in zip(rg1, tg1):
        if b is None:
            continue
        assert a is not None
        assert_same(a, b, rtol=rtol, atol=atol, what="first grad")
        if not b.requires_grad:
            continue
        g2 = rng.standard_normal(tuple(b.shape))
        rsum = rsum + (a * rg.tensor(g2)).sum()
        tsum = tsum + (b * torch.tensor(g2)).sum()
    if not isinstance(tsum, torch.Tensor):
        return
    rg2 = rg.autograd.grad(rsum, rins, allow_unused=True)
    tg2 = torch.autograd.grad(tsum, tins, allow_unused=True)
    for i, (a, b) in enumerate(zip(rg2, tg2)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"second grad of input {i}"
            continue
        assert a is not None, f"second grad of input {i} is None, torch has one"
        assert_same(a, b, rtol=rtol, atol=atol, what=f"second grad of input {i}")
