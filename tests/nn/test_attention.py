"""Attention against torch: F.scaled_dot_product_attention (masks bool/float, causal, scale,
broadcast batch dims, grouped-query attention, fully masked rows, dropout), finite-difference
gradchecks and double backward; nn.MultiheadAttention and F.multi_head_attention_forward
(batch_first, masks, key padding, need_weights / average_attn_weights, kdim/vdim, bias,
add_bias_kv, add_zero_attn, static keys, unbatched input, is_causal), init and state_dict
compatibility, masked-position invariance, dropout train/eval, and error messages."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.autograd import gradcheck, gradgradcheck  # noqa: E402

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}


def _data(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _np(a):
    if isinstance(a, (rg.Tensor, torch.Tensor)):
        return a.detach().numpy()
    return np.asarray(a)


def _close(a, b, dtype, what):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **TOL[dtype])


def _pair(x, requires_grad=True):
    return rg.tensor(x, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad)


# ============================================================================ SDPA

def _sdpa_case(qs, ks, vs, dtype=np.float64, mask=None, seed=0, **kw):
    """Run both libraries; compare output and the gradients of q, k, v (and a float mask)."""
    q, k, v = (_pair(_data(s, seed + i, dtype)) for i, s in enumerate((qs, ks, vs)))
    rm = tm = None
    if mask is not None:
        grad = mask.dtype != np.bool_
        rm, tm = _pair(mask, requires_grad=grad)
    ro = F.scaled_dot_product_attention(q[0], k[0], v[0], attn_mask=rm, **kw)
    to = TF.scaled_dot_product_attention(q[1], k[1], v[1], attn_mask=tm, **kw)
    assert ro.dtype == np.dtype(dtype)
    _close(ro, to, dtype, "output")
    g = _data(to.shape, seed + 9, dtype)
    (ro * rg.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    for name, (r, t) in zip("qkv", (q, k, v)):
        _close(r.grad, t.grad, dtype, f"grad of {name}")
    if mask is not None and mask.dtype != np.bool_:
        _close(rm.grad, tm.grad, dtype, "grad of the float mask")
    return ro


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_plain(dtype):
    _sdpa_case((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), dtype)


@pytest.mark.parametrize("mask_shape", [(5, 7), (2, 1, 5, 7), (1, 3, 1, 7)])
def test_sdpa_bool_mask(mask_shape):
    m = np.random.default_rng(3).random(mask_shape) > 0.3
    m[..., 0] = True  # keep one key per row: no fully masked row here
    _sdpa_case((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), mask=m)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_float_mask_gets_gradient(dtype):
    m = _data((3, 5, 7), 4, dtype)
    m[0, 1, 2] = -np.inf
    _sdpa_case((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), dtype, mask=m)


@pytest.mark.parametrize("L,S", [(6, 6), (4, 7), (7, 4)])
def test_sdpa_causal_and_scale(L, S):
    _sdpa_case((2, L, 4), (2, S, 4), (2, S, 3), is_causal=True)
    _sdpa_case((2, L, 4), (2, S, 4), (2, S, 3), scale=0.3)


def test_sdpa_broadcast_batch_dims_and_low_rank():
    _sdpa_case((2, 3, 5, 4), (3, 7, 4), (1, 3, 7, 6))
    _sdpa_case((5, 4), (7, 4), (7, 2))  # no batch dims at all


def test_sdpa_grouped_query_attention():
    _sdpa_case((2, 6, 5, 4), (2, 2, 7, 4), (2, 2, 7, 3), enable_gqa=True)


def test_sdpa_fully_masked_row_gives_zeros_like_torch():
    m = np.ones((5, 7), dtype=bool)
    m[2] = False
    out = _sdpa_case((2, 5, 4), (2, 7, 4), (2, 7, 3), mask=m)
    assert np.all(_np(out)[:, 2] == 0)


def test_sdpa_known_answer_uniform_attention():
    # equal keys: every query attends uniformly, so the output is the mean of the values
    q = rg.randn(3, 4)
    k = rg.ones(5, 4)
    v = rg.tensor(np.arange(10.0).reshape(5, 2), dtype=rg.float32)
    out = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.numpy(), np.tile([[4.0, 5.0]], (3, 1)), rtol=1e-6)


def test_sdpa_masked_keys_do_not_influence_output():
    rng = np.random.default_rng(0)
    q, k, v = (_data(s, i) for i, s in enumerate(((2, 5, 4), (2, 7, 4), (2, 7, 3))))
    allowed = np.ones((2, 1, 7), dtype=bool)
    allowed[0, 0, [1, 4]] = False
    allowed[1, 0, 6] = False
    ref = F.scaled_dot_product_attention(rg.tensor(q), rg.tensor(k), rg.tensor(v),
                                         attn_mask=rg.tensor(allowed))
    k2, v2 = k.copy(), v.copy()
    hidden = ~np.broadcast_to(allowed[:, 0, :], (2, 7))
    k2[hidden] = rng.standard_normal((hidden.sum(), 4)) * 100
    v2[hidden] = rng.standard_normal((hidden.sum(), 3)) * 100
    kt, vt = rg.tensor(k2, requires_grad=True), rg.tensor(v2, requires_grad=True)
    out = F.scaled_dot_product_attention(rg.tensor(q), kt, vt, attn_mask=rg.tensor(allowed))
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert np.all(kt.grad.numpy()[hidden] == 0) and np.all(vt.grad.numpy()[hidden] == 0)


def test_sdpa_gradcheck_and_double_backward():
    q, k, v = (rg.tensor(_data(s, i), requires_grad=True)
               for i, s in enumerate(((2, 3, 2), (2, 4, 2), (2, 4, 3))))
    m = rg.tensor(_data((3, 4), 5), requires_grad=True)
    def f(*a):
        return F.scaled_dot_product_attention(*a[:3], attn_mask=a[3])

    assert gradcheck(f, (q, k, v, m))
    assert gradgradcheck(f, (q, k, v, m))
    assert gradgradcheck(lambda *a: F.scaled_dot_product_attention(*a, is_causal=True), (q, k, v))


def test_sdpa_dropout_reproducible_and_gradcheck():
    q, k, v = (rg.tensor(_data(s, i), requires_grad=True)
               for i, s in enumerate(((2, 3, 2), (2, 5, 2), (2, 5, 3))))

    def f(*a):
        rg.manual_seed(7)  # the same dropout mask on every call
        return F.scaled_dot_product_attention(*a, dropout_p=0.4)

    out1, out2 = f(q, k, v), f(q, k, v)
    np.testing.assert_array_equal(out1.detach().numpy(), out2.detach().numpy())
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(out1.detach().numpy(), plain.detach().numpy())
    assert gradcheck(f, (q, k, v))
    assert gradgradcheck(f, (q, k, v))


def test_sdpa_dropout_statistics():
    # with constant values, each output is the kept attention mass / (1 - p): mean 1
    q, k = rg.randn(1, 64, 8), rg.randn(1, 256, 8)
    v = rg.ones(1, 256, 1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy()
    assert abs(out.mean() - 1.0) < 0.05
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy()
    assert np.all(zero == 0)


def test_sdpa_errors():
    q, k, v = rg.randn(2, 5, 4), rg.randn(2, 7, 4), rg.randn(2, 7, 3)
    with pytest.raises(RuntimeError, match="same embedding size"):
        F.scaled_dot_product_attention(q, rg.randn(2, 7, 3), v)
    with pytest.raises(RuntimeError, match="sequence length"):
        F.scaled_dot_product_attention(q, k, rg.randn(2, 6, 3))
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 7\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=rg.tensor(np.ones((4, 7), dtype=bool)))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=rg.tensor(np.ones((5, 7), dtype=bool)),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="same floating dtype"):
        F.scaled_dot_product_attention(q.double(), k, v)
    with pytest.raises(RuntimeError, match="do not broadcast"):
        F.scaled_dot_product_attention(rg.randn(3, 5, 4), k, v)
    with pytest.raises(RuntimeError, match="multiple"):
        F.scaled_dot_product_attention(rg.randn(1, 3, 5, 4), rg.randn(1, 2, 7, 4),
                                       rg.randn(1, 2, 7, 3), enable_gqa=True)


def test_sdpa_no_grad_keeps_no_graph_and_float32():
    q = rg.randn(2, 5, 4, requires_grad=True)
    with rg.no_grad():
        out = F.scaled_dot_product_attention(q, q, q)
    assert out.grad_fn is None and out.dtype == rg.float32


# ============================================================================ MHA

def _mha_pair(E, H, dtype=np.float64, seed=0, **kw):
    torch.manual_seed(seed)
    tm = torch.nn.MultiheadAttention(E, H, **kw)
    rm = nn.MultiheadAttention(E, H, **kw)
    with torch.no_grad():  # non-zero biases so that their gradients matter
        r = np.random.default_rng(seed + 1)
        for p in tm.parameters():
            p.copy_(torch.tensor(r.standard_normal(tuple(p.shape)) * 0.5))
    if dtype == np.float64:
        tm.double()
        rm.double()
    sd = tm.state_dict()
    assert list(rm.state_dict().keys()) == list(sd.keys())
    rm.load_state_dict({k: v.numpy() for k, v in sd.items()})
    return rm, tm


def _mha_case(rm, tm, inputs, dtype=np.float64, seed=0, masks=None, same=(), **kw):
    """Run both modules on ``inputs`` (query, key, value arrays; ``same`` names inputs that are
    the query tensor itself); compare output, weights and all gradients."""
    masks = masks or {}
    rq, tq = _pair(inputs[0])
    rk, tk = (rq, tq) if "key" in same else _pair(inputs[1])
    rv, tv = (rk, tk) if "value" in same else _pair(inputs[2])
    rmask = {n: rg.tensor(m) for n, m in masks.items()}
    tmask = {n: torch.tensor(m) for n, m in masks.items()}
    ro, rw = rm(rq, rk, rv, **rmask, **kw)
    to, tw = tm(tq, tk, tv, **tmask, **kw)
    _close(ro, to, dtype, "output")
    if tw is None:
        assert rw is None
    else:
        _close(rw, tw, dtype, "attention weights")
    g = _data(to.shape, seed + 11, dtype)
    loss_r, loss_t = (ro * rg.tensor(g)).sum(), (to * torch.tensor(g)).sum()
    if tw is not None:  # the weights are differentiable outputs too
        gw = _data(tw.shape, seed + 12, dtype)
        loss_r = loss_r + (rw * rg.tensor(gw)).sum()
        loss_t = loss_t + (tw * torch.tensor(gw)).sum()
    loss_r.backward()
    loss_t.backward()
    for name, r, t in (("query", rq, tq), ("key", rk, tk), ("value", rv, tv)):
        _close(r.grad, t.grad, dtype, f"grad of {name}")
    rp, tp = dict(rm.named_parameters()), dict(tm.named_parameters())
    assert rp.keys() == tp.keys()
    for k in tp:
        _close(rp[k].grad, tp[k].grad, dtype, f"grad of {k}")
    return ro, rw


def _seq(L, N, E, seed, batch_first=False, dtype=np.float64):
    return _data((N, L, E) if batch_first else (L, N, E), seed, dtype)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(batch_first, need_weights, average):
    rm, tm = _mha_pair(8, 2, batch_first=batch_first)
    x = _seq(5, 3, 8, 0, batch_first)
    _mha_case(rm, tm, (x, x, x), same=("key", "value"), need_weights=need_weights,
              average_attn_weights=average)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_cross_and_separate_inputs(batch_first, need_weights):
    rm, tm = _mha_pair(8, 4, batch_first=batch_first)
    q, kv = _seq(5, 3, 8, 0, batch_first), _seq(7, 3, 8, 1, batch_first)
    _mha_case(rm, tm, (q, kv, kv), same=("value",), need_weights=need_weights)  # key is value
    _mha_case(rm, tm, (q, kv, _seq(7, 3, 8, 2, batch_first)), need_weights=need_weights)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_masks(kind, need_weights, batch_first):
    N, H, L, S = 3, 2, 5, 7
    rm, tm = _mha_pair(8, H, batch_first=batch_first)
    rng = np.random.default_rng(4)
    am2 = rng.random((L, S)) < 0.3
    am2[:, 0] = False
    am3 = rng.random((N * H, L, S)) < 0.3
    am3[:, :, 1] = False
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, 5:] = True
    kpm[2, [2, 3]] = True
    if kind == "float":
        am2, am3 = (np.where(m, -np.inf, rng.standard_normal(m.shape)) for m in (am2, am3))
        kpm = np.where(kpm, -np.inf, 0.0)
    q, kv = _seq(L, N, 8, 0, batch_first), _seq(S, N, 8, 1, batch_first)
    for masks in ({"attn_mask": am2}, {"attn_mask": am3}, {"key_padding_mask": kpm},
                  {"attn_mask": am2, "key_padding_mask": kpm}):
        _mha_case(rm, tm, (q, kv, kv), masks=masks, same=("value",), need_weights=need_weights)
        rm.zero_grad()
        tm.zero_grad()


def test_mha_is_causal_hint():
    rm, tm = _mha_pair(8, 2)
    x = _seq(6, 2, 8, 0)
    mask = np.triu(np.ones((6, 6), dtype=bool), 1)
    for nw in (True, False):
        _mha_case(rm, tm, (x, x, x), masks={"attn_mask": mask}, same=("key", "value"),
                  need_weights=nw, is_causal=True)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        rm(rg.tensor(x), rg.tensor(x), rg.tensor(x), is_causal=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mha_kdim_vdim_and_no_bias(dtype):
    rm, tm = _mha_pair(8, 2, dtype, kdim=5, vdim=3, bias=False, batch_first=True)
    assert rm.in_proj_weight is None and rm.in_proj_bias is None and rm.out_proj.bias is None
    assert tuple(rm.k_proj_weight.shape) == (8, 5) and tuple(rm.v_proj_weight.shape) == (8, 3)
    q, k, v = _data((3, 5, 8), 0, dtype), _data((3, 7, 5), 1, dtype), _data((3, 7, 3), 2, dtype)
    kpm = np.zeros((3, 7), dtype=bool)
    kpm[1, -2:] = True
    for nw in (True, False):
        _mha_case(rm, tm, (q, k, v), dtype, masks={"key_padding_mask": kpm}, need_weights=nw)
        rm.zero_grad()
        tm.zero_grad()


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_and_zero_attn(need_weights):
    rm, tm = _mha_pair(8, 2, add_bias_kv=True, add_zero_attn=True)
    assert tuple(rm.bias_k.shape) == (1, 1, 8)
    x = _seq(5, 3, 8, 0)
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[0, -1] = True
    am = np.zeros((5, 5), dtype=bool)
    am[0, 1] = True
    _mha_case(rm, tm, (x, x, x), masks={"key_padding_mask": kpm, "attn_mask": am},
              same=("key", "value"), need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(need_weights):
    rm, tm = _mha_pair(8, 2, batch_first=True)  # batch_first is ignored for unbatched input
    q, kv = _data((5, 8), 0), _data((7, 8), 1)
    kpm = np.array([False] * 6 + [True])
    am3 = np.random.default_rng(0).random((2, 5, 7)) < 0.2
    am3[..., 0] = False
    _mha_case(rm, tm, (q, kv, kv), masks={"key_padding_mask": kpm, "attn_mask": am3},
              same=("value",), need_weights=need_weights, average_attn_weights=False)


def test_mha_float32_default_dtype():
    rm, tm = _mha_pair(16, 4, np.float32, batch_first=True)
    x = _seq(6, 2, 16, 0, True, np.float32)
    ro, _ = _mha_case(rm, tm, (x, x, x), np.float32, same=("key", "value"), need_weights=False)
    assert ro.dtype == rg.float32 and rm.in_proj_weight.grad.dtype == rg.float32


def test_mha_functional_form_and_static_kv():
    E, H, N, L, S = 8, 2, 3, 5, 4
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H).double()
    w = {k: v.detach().numpy() for k, v in tm.named_parameters()}
    q = _data((L, N, E), 0)
    sk, sv = _data((N * H, S, E // H), 1), _data((N * H, S, E // H), 2)
    for static in (False, True):
        args = lambda lib, T: (  # noqa: E731
            T(q), T(q), T(q), E, H, T(w["in_proj_weight"]), T(w["in_proj_bias"]), None, None,
            False, 0.0, T(w["out_proj.weight"]), T(w["out_proj.bias"]))
        kw = {}
        if static:
            kw = {"static_k": sk, "static_v": sv}
        ro, rw = F.multi_head_attention_forward(*args(rg, rg.tensor),
                                                **{k: rg.tensor(v) for k, v in kw.items()})
        to, tw = TF.multi_head_attention_forward(*args(torch, torch.tensor),
                                                 **{k: torch.tensor(v) for k, v in kw.items()})
        _close(ro, to, np.float64, f"functional output (static={static})")
        _close(rw, tw, np.float64, f"functional weights (static={static})")


def test_mha_masked_keys_do_not_influence_output():
    rm, _ = _mha_pair(8, 2, batch_first=True)
    q, kv = _data((2, 5, 8), 0), _data((2, 6, 8), 1)
    kpm = np.zeros((2, 6), dtype=bool)
    kpm[0, [1, 5]] = True
    kpm[1, 0] = True
    ref, refw = rm(rg.tensor(q), rg.tensor(kv), rg.tensor(kv), key_padding_mask=rg.tensor(kpm))
    kv2 = kv.copy()
    kv2[kpm] = np.random.default_rng(1).standard_normal((kpm.sum(), 8)) * 50
    for nw in (True, False):
        t = rg.tensor(kv2, requires_grad=True)
        out, w = rm(rg.tensor(q), t, t, key_padding_mask=rg.tensor(kpm), need_weights=nw)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)
        out.sum().backward()
        assert np.all(t.grad.numpy()[kpm] == 0)
        if nw:
            assert np.all(w.detach().numpy().transpose(0, 2, 1)[kpm] == 0)
    # and the weights of the unmasked keys still sum to one
    np.testing.assert_allclose(refw.detach().numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_fully_masked_rows_follow_torch():
    # need_weights=True goes through softmax (NaN rows); need_weights=False through SDPA (zeros)
    rm, tm = _mha_pair(4, 2)
    x = _seq(3, 1, 4, 0)
    kpm = np.ones((1, 3), dtype=bool)
    for nw in (True, False):
        ro, _ = rm(rg.tensor(x), rg.tensor(x), rg.tensor(x), key_padding_mask=rg.tensor(kpm),
                   need_weights=nw)
        to, _ = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x),
                   key_padding_mask=torch.tensor(kpm), need_weights=nw)
        _close(ro, to, np.float64, f"fully masked (need_weights={nw})")


def test_mha_init_and_state_dict_keys():
    m = nn.MultiheadAttention(16, 4)
    assert m.in_proj_weight.shape == (48, 16) and m.out_proj.weight.shape == (16, 16)
    assert isinstance(m.out_proj, nn.Linear) and type(m.out_proj).__name__ == \
        "NonDynamicallyQuantizableLinear"
    bound = math.sqrt(6.0 / (16 + 48))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    for kw in ({}, {"kdim": 5, "vdim": 3}, {"add_bias_kv": True, "bias": False}):
        t = torch.nn.MultiheadAttention(16, 4, **kw)
        r = nn.MultiheadAttention(16, 4, **kw)
        assert list(r.state_dict()) == list(t.state_dict())
        assert [tuple(v.shape) for v in r.state_dict().values()] == \
            [tuple(v.shape) for v in t.state_dict().values()]
    assert m.head_dim == 4 and m._qkv_same_embed_dim and m.batch_first is False


def test_mha_dropout_train_and_eval():
    rm, _ = _mha_pair(8, 2, dropout=0.5, batch_first=True)
    x = rg.tensor(_data((2, 6, 8), 0))
    rm.eval()
    e1, w1 = rm(x, x, x)
    e2, _ = rm(x, x, x, need_weights=False)
    np.testing.assert_allclose(e1.detach().numpy(), e2.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w1.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    rm.train()
    rg.manual_seed(3)
    t1, tw = rm(x, x, x, average_attn_weights=False)
    rg.manual_seed(3)
    t2, _ = rm(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(t1.detach().numpy(), t2.detach().numpy())
    assert not np.allclose(t1.detach().numpy(), e1.detach().numpy())
    # dropped weights are 0, kept ones are scaled by 1 / (1 - p) = 2
    ref_w = rm.eval()(x, x, x, average_attn_weights=False)[1].detach().numpy()
    tw = tw.detach().numpy()
    kept = tw != 0
    assert 0.2 < kept.mean() < 0.8
    np.testing.assert_allclose(tw[kept], 2 * ref_w[kept], rtol=1e-12)


def test_mha_errors_name_the_layer_and_shapes():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(8, 0)
    m = nn.MultiheadAttention(8, 2)
    x = rg.randn(5, 3, 8)
    with pytest.raises(RuntimeError, match=r"MultiheadAttention\(embed_dim=8, num_heads=2\).*"
                                           r"8 features.*\(5, 3, 6\)"):
        m(rg.randn(5, 3, 6), x, x)
    with pytest.raises(RuntimeError, match=r"attn_mask is \(4, 5\), but should be \(5, 5\)"):
        m(x, x, x, attn_mask=rg.tensor(np.zeros((4, 5), dtype=bool)))
    with pytest.raises(RuntimeError, match=r"3-D attn_mask is \(2, 5, 5\), but should be "
                                           r"\(6, 5, 5\)"):
        m(x, x, x, attn_mask=rg.tensor(np.zeros((2, 5, 5), dtype=bool)))
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(3, 5\).*got \(3, 4\)"):
        m(x, x, x, key_padding_mask=rg.tensor(np.zeros((3, 4), dtype=bool)))
    with pytest.raises(RuntimeError, match="batched 3-D"):
        m(rg.randn(1, 5, 3, 8), x, x)
    with pytest.raises(RuntimeError, match="only bool and floating"):
        m(x, x, x, attn_mask=rg.zeros(5, 5, dtype=rg.int64))
    with pytest.raises(RuntimeError, match="batch size"):
        m(x, rg.randn(5, 2, 8), rg.randn(5, 2, 8))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_double_backward(need_weights):
    m = nn.MultiheadAttention(4, 2, batch_first=True).double()
    kpm = rg.tensor(np.array([[False, False, True], [False, False, False]]))
    x = rg.tensor(_data((2, 3, 4), 0), requires_grad=True)
    kv = rg.tensor(_data((2, 3, 4), 1), requires_grad=True)

    def f(a, b):
        out, w = m(a, b, b, key_padding_mask=kpm, need_weights=need_weights)
        return out if w is None else (out, w)

    assert gradcheck(f, (x, kv))
    assert gradgradcheck(f, (x, kv))
