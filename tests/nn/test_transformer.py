"""Transformer layers against torch: TransformerEncoderLayer / DecoderLayer (post- and pre-norm,
batch_first, relu / gelu / callable activations, bias=False, boolean and float masks, key
padding, causal hints, unbatched input), TransformerEncoder / Decoder stacks (deep copies,
final norm, causal-mask detection) and the full nn.Transformer — outputs and the gradients of
inputs and every parameter, with torch's weights loaded through state_dict; plus
generate_square_subsequent_mask, initialisation, dropout in train/eval, masked-position
invariance and error messages."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402
from retrograd import nn  # noqa: E402

TF = torch.nn.functional
# torch warns about its nested-tensor fast path; both libraries warn about mixed mask types
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True",
                                        "ignore:Support for mismatched")
TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=5e-4, atol=5e-5)}
D, H, FF = 8, 2, 16


def _data(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(a, b, dtype, what):
    a = a.detach().numpy() if isinstance(a, (rg.Tensor, torch.Tensor)) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, **TOL[dtype])


def _twins(make, dtype=np.float64, seed=0):
    """Build the same module in both libraries (``make(lib)``) with torch's weights, perturbed
    so that layer-norm weights and biases are not trivially 1 and 0."""
    torch.manual_seed(seed)
    tm = make(torch)
    rm = make(rg)
    r = np.random.default_rng(seed + 1)
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(torch.tensor(r.standard_normal(tuple(p.shape)) * 0.2, dtype=p.dtype))
    if dtype == np.float64:
        tm.double()
        rm.double()
    sd = tm.state_dict()
    assert list(rm.state_dict().keys()) == list(sd.keys())
    result = rm.load_state_dict({k: v.numpy() for k, v in sd.items()})
    assert not result.missing_keys and not result.unexpected_keys
    return rm, tm


def _run(rm, tm, inputs, dtype=np.float64, masks=None, seed=0, **kw):
    """Forward and backward through both; compare output and every gradient."""
    masks = masks or {}
    rx = [rg.tensor(x, requires_grad=True) for x in inputs]
    tx = [torch.tensor(x, requires_grad=True) for x in inputs]
    ro = rm(*rx, **{k: rg.tensor(v) for k, v in masks.items()}, **kw)
    to = tm(*tx, **{k: torch.tensor(v) for k, v in masks.items()}, **kw)
    _close(ro, to, dtype, "output")
    g = _data(tuple(to.shape), seed + 7, dtype)
    (ro * rg.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    for i, (r, t) in enumerate(zip(rx, tx)):
        _close(r.grad, t.grad, dtype, f"grad of input {i}")
    rp, tp = dict(rm.named_parameters()), dict(tm.named_parameters())
    assert rp.keys() == tp.keys()
    for k in tp:
        _close(rp[k].grad, tp[k].grad, dtype, f"grad of {k}")
    rm.zero_grad()
    tm.zero_grad()
    return ro


def _lib_act(name):
    """The activation argument for each library."""
    if name == "callable":
        return lambda lib: (lambda x: x.tanh())
    if name == "module":
        return lambda lib: lib.nn.GELU(approximate="tanh")
    return lambda lib: name


def _enc_layer(**kw):
    act = kw.pop("activation", "relu")
    return lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0,
                                                      activation=_lib_act(act)(lib), **kw)


def _dec_layer(**kw):
    act = kw.pop("activation", "relu")
    return lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0,
                                                      activation=_lib_act(act)(lib), **kw)


def _seq(L, N, seed, batch_first=False, dtype=np.float64):
    return _data((N, L, D) if batch_first else (L, N, D), seed, dtype)


def _masks(L, S, N, seed, kind="bool"):
    rng = np.random.default_rng(seed)
    am = rng.random((L, S)) < 0.3
    am[:, 0] = False
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, -2:] = True
    kpm[-1, 1] = True
    if kind == "float":
        am = np.where(am, -np.inf, rng.standard_normal(am.shape))
        kpm = np.where(kpm, -np.inf, 0.0)
    return am, kpm


# ============================================================================ encoder layer

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable", "module"])
def test_encoder_layer(norm_first, batch_first, activation):
    rm, tm = _twins(_enc_layer(norm_first=norm_first, batch_first=batch_first,
                               activation=activation))
    _run(rm, tm, [_seq(5, 3, 0, batch_first)])


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_masks(kind, norm_first):
    rm, tm = _twins(_enc_layer(norm_first=norm_first, batch_first=True))
    am, kpm = _masks(6, 6, 3, 1, kind)
    x = _seq(6, 3, 0, True)
    _run(rm, tm, [x], masks={"src_mask": am})
    _run(rm, tm, [x], masks={"src_key_padding_mask": kpm})
    _run(rm, tm, [x], masks={"src_mask": am, "src_key_padding_mask": kpm})
    causal = np.triu(np.ones((6, 6), dtype=bool), 1)
    _run(rm, tm, [x], masks={"src_mask": causal}, is_causal=True)


def test_encoder_layer_bias_false_float32_and_unbatched():
    rm, tm = _twins(_enc_layer(bias=False), np.float32)
    assert rm.linear1.bias is None and rm.norm1.bias is None
    out = _run(rm, tm, [_seq(5, 2, 0, dtype=np.float32)], np.float32)
    assert out.dtype == rg.float32
    rm, tm = _twins(_enc_layer())
    _run(rm, tm, [_data((5, D), 0)], masks={"src_key_padding_mask": np.array([0, 0, 0, 1, 0]) > 0})


def test_encoder_layer_attributes():
    layer = nn.TransformerEncoderLayer(D, H)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1
    assert layer.norm1.eps == 1e-5 and layer.norm_first is False
    assert layer.activation is F.relu and layer.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(D, H, activation="gelu").activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(D, H, activation=rg.tanh).activation_relu_or_gelu == 0
    t = torch.nn.TransformerEncoderLayer(D, H)
    assert list(layer.state_dict()) == list(t.state_dict())


# ============================================================================ decoder layer

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    rm, tm = _twins(_dec_layer(norm_first=norm_first, batch_first=batch_first,
                               activation="gelu"))
    _run(rm, tm, [_seq(5, 3, 0, batch_first), _seq(7, 3, 1, batch_first)])


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_decoder_layer_masks(kind):
    rm, tm = _twins(_dec_layer())
    T, S, N = 5, 7, 3
    tgt_mask, tgt_kpm = _masks(T, T, N, 2, kind)
    mem_mask, mem_kpm = _masks(T, S, N, 3, kind)
    _run(rm, tm, [_seq(T, N, 0), _seq(S, N, 1)],
         masks={"tgt_mask": tgt_mask, "memory_mask": mem_mask, "tgt_key_padding_mask": tgt_kpm,
                "memory_key_padding_mask": mem_kpm})
    causal = nn.Transformer.generate_square_subsequent_mask(T).double().numpy()
    _run(rm, tm, [_seq(T, N, 0), _seq(S, N, 1)], masks={"tgt_mask": causal},
         tgt_is_causal=True)


def test_decoder_layer_unbatched():
    rm, tm = _twins(_dec_layer(batch_first=True))
    _run(rm, tm, [_data((4, D), 0), _data((6, D), 1)],
         masks={"tgt_mask": np.triu(np.ones((4, 4), dtype=bool), 1)})


# ============================================================================ stacks

@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack(batch_first):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=batch_first)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(D),
                                         enable_nested_tensor=False)

    rm, tm = _twins(make)
    assert "layers.0.self_attn.in_proj_weight" in rm.state_dict()
    assert "layers.1.linear2.bias" in rm.state_dict() and "norm.weight" in rm.state_dict()
    x = _seq(6, 3, 0, batch_first)
    am, kpm = _masks(6, 6, 3, 4)
    _run(rm, tm, [x], masks={"mask": am, "src_key_padding_mask": kpm})
    causal = nn.Transformer.generate_square_subsequent_mask(6).double().numpy()
    _run(rm, tm, [x], masks={"mask": causal})  # detected as causal (is_causal=None)
    _run(rm, tm, [x], masks={"mask": np.triu(np.ones((6, 6), dtype=bool), 1)}, is_causal=True)


def test_encoder_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(D, H, FF)
    enc = nn.TransformerEncoder(layer, 3)
    ws = [m.self_attn.in_proj_weight for m in enc.layers]
    assert ws[0] is not ws[1] and ws[0] is not layer.self_attn.in_proj_weight
    np.testing.assert_array_equal(ws[0].detach().numpy(), ws[2].detach().numpy())  # copies
    with rg.no_grad():
        ws[0].add_(1.0)
    assert not np.allclose(ws[0].detach().numpy(), ws[1].detach().numpy())
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


def test_decoder_stack():
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, norm_first=True)
        return lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(D))

    rm, tm = _twins(make)
    T, S, N = 5, 6, 2
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(T).double().numpy()
    mem_mask, mem_kpm = _masks(T, S, N, 5)
    _run(rm, tm, [_seq(T, N, 0), _seq(S, N, 1)],
         masks={"tgt_mask": tgt_mask, "memory_mask": mem_mask, "memory_key_padding_mask": mem_kpm})


# ============================================================================ Transformer

@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_full(batch_first, norm_first):
    def make(lib):
        return lib.nn.Transformer(D, H, 2, 2, FF, dropout=0.0, batch_first=batch_first,
                                  norm_first=norm_first)

    rm, tm = _twins(make)
    S, T, N = 6, 5, 3
    src_kpm = np.zeros((N, S), dtype=bool)
    src_kpm[1, -2:] = True
    tgt_kpm = np.zeros((N, T), dtype=bool)
    tgt_kpm[2, -1] = True
    masks = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(T).double().numpy(),
             "src_key_padding_mask": src_kpm, "tgt_key_padding_mask": tgt_kpm,
             "memory_key_padding_mask": src_kpm}
    _run(rm, tm, [_seq(S, N, 0, batch_first), _seq(T, N, 1, batch_first)], masks=masks)
    src_mask = np.random.default_rng(0).random((S, S)) < 0.2
    src_mask[:, 0] = False
    mem_mask = np.zeros((T, S), dtype=bool)
    mem_mask[0, 1] = True
    _run(rm, tm, [_seq(S, N, 0, batch_first), _seq(T, N, 1, batch_first)],
         masks={"src_mask": src_mask, "memory_mask": mem_mask})


def test_transformer_custom_encoder_decoder_and_float32():
    def make(lib):
        enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0), 1)
        dec = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0), 1)
        return lib.nn.Transformer(D, H, dropout=0.0, custom_encoder=enc, custom_decoder=dec)

    rm, tm = _twins(make, np.float32)
    assert rm.encoder.norm is None
    _run(rm, tm, [_seq(6, 2, 0, dtype=np.float32), _seq(4, 2, 1, dtype=np.float32)], np.float32)


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert m.dtype == rg.float32
    np.testing.assert_array_equal(m.numpy(), t.numpy())
    assert np.isneginf(m.numpy()[0, 1]) and m.numpy()[1, 0] == 0 and m.numpy()[2, 2] == 0
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=rg.float64).dtype == rg.float64


def test_transformer_reset_parameters_xavier():
    rg.manual_seed(0)
    model = nn.Transformer(16, 4, 1, 1, 32)
    assert list(model.state_dict()) == list(torch.nn.Transformer(16, 4, 1, 1, 32).state_dict())
    for name, p in model.named_parameters():
        w = p.detach().numpy()
        if p.dim() > 1:
            fan_out, fan_in = w.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.7 * bound, name
            assert abs(w.std() - bound / math.sqrt(3)) < 0.25 * bound, name
        elif name.endswith("in_proj_bias") or name.endswith("out_proj.bias"):
            assert np.all(w == 0), name
        elif "norm" in name:
            assert np.all(w == (1 if name.endswith("weight") else 0)), name


# ============================================================================ behaviour

def test_dropout_train_and_eval():
    rg.manual_seed(0)
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, dropout=0.3), 2)
    x = rg.randn(5, 2, D)
    model.eval()
    e1, e2 = model(x), model(x)
    np.testing.assert_array_equal(e1.detach().numpy(), e2.detach().numpy())
    ref = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, dropout=0.0), 2)
    ref.load_state_dict(model.state_dict())
    np.testing.assert_allclose(e1.detach().numpy(), ref(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    model.train()
    rg.manual_seed(1)
    t1 = model(x)
    rg.manual_seed(1)
    t2 = model(x)
    np.testing.assert_array_equal(t1.detach().numpy(), t2.detach().numpy())
    assert not np.allclose(t1.detach().numpy(), e1.detach().numpy())
    t1.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_padding_does_not_influence_other_positions():
    rg.manual_seed(0)
    model = nn.Transformer(D, H, 1, 1, FF, dropout=0.0, batch_first=True).double()
    src, tgt = _seq(6, 2, 0, True), _seq(4, 2, 1, True)
    kpm = np.zeros((2, 6), dtype=bool)
    kpm[0, 4:] = True
    kw = {"src_key_padding_mask": rg.tensor(kpm), "memory_key_padding_mask": rg.tensor(kpm),
          "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype=rg.float64)}
    ref = model(rg.tensor(src), rg.tensor(tgt), **kw).detach().numpy()
    src2 = src.copy()
    src2[kpm] = 100 * _data((kpm.sum(), D), 3)
    out = model(rg.tensor(src2), rg.tensor(tgt), **kw).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    # the causal tgt mask: changing the last target position leaves the earlier ones alone
    tgt2 = tgt.copy()
    tgt2[:, -1] += 5.0
    out2 = model(rg.tensor(src), rg.tensor(tgt2), **kw).detach().numpy()
    np.testing.assert_allclose(out2[:, :-1], ref[:, :-1], rtol=1e-10, atol=1e-12)
    assert not np.allclose(out2[:, -1], ref[:, -1])


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(AssertionError, match=r"EncoderLayer.*d_model \(10\).*nhead \(3\)"):
        nn.TransformerEncoderLayer(10, 3)
    with pytest.raises(AssertionError, match="TransformerDecoderLayer"):
        nn.TransformerDecoderLayer(10, 4)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D, H, activation="tanh")
    layer = nn.TransformerEncoderLayer(D, H, FF)
    with pytest.raises(RuntimeError, match=r"TransformerEncoderLayer\(d_model=8, nhead=2\).*"
                                           r"got \(5, 2, 6\)"):
        layer(rg.randn(5, 2, 6))
    with pytest.raises(RuntimeError, match=r"EncoderLayer.*src_mask is \(4, 4\), but should "
                                           r"be \(5, 5\)"):
        layer(rg.randn(5, 2, D), src_mask=rg.zeros(4, 4))
    dec = nn.TransformerDecoderLayer(D, H, FF)
    with pytest.raises(RuntimeError, match=r"TransformerDecoderLayer.*memory.*got \(5, 2, 3\)"):
        dec(rg.randn(4, 2, D), rg.randn(5, 2, 3))
    with pytest.raises(RuntimeError, match=r"memory_key_padding_mask is \(2, 4\).*\(2, 5\)"):
        dec(rg.randn(4, 2, D), rg.randn(5, 2, D), memory_key_padding_mask=rg.zeros(2, 4))
    model = nn.Transformer(D, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(rg.randn(5, 2, D), rg.randn(4, 3, D))
    with pytest.raises(RuntimeError, match=r"feature number.*d_model \(8\)"):
        model(rg.randn(5, 2, D), rg.randn(4, 2, 6))
