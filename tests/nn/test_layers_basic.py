"""Basic layers against torch: Linear, Bilinear, Flatten, Unflatten, Identity (values and
gradients with copied weights), Dropout family (train/eval, scaling, statistics, channels,
reproducibility), Embedding and one_hot."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402
from retrograd import nn  # noqa: E402

TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def _data(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _copy(r_mod, t_mod):
    r_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def _parity(r_mod, t_mod, *arrays, dtype=np.float32, seed=0):
    """Forward and backward through both modules; compare outputs and all gradients."""
    r_in = [rg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ry, ty = r_mod(*r_in), t_mod(*t_in)
    assert tuple(ry.shape) == tuple(ty.shape)
    assert ry.dtype == np.dtype(str(ty.dtype).replace("torch.", ""))
    np.testing.assert_allclose(ry.detach().numpy(), ty.detach().numpy(), **TOL[dtype])
    g = _data(tuple(ty.shape), seed + 1, dtype)
    (ry * rg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    for a, b in zip(r_in, t_in):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL[dtype])
    for (name, p), q in zip(r_mod.named_parameters(), t_mod.parameters()):
        if q.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=name,
                                       **TOL[dtype])
    return ry


# ------------------------------------------------------------------ Linear & co
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 1, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias, dtype):
    t_mod, r_mod = torch.nn.Linear(3, 4, bias=bias), nn.Linear(3, 4, bias=bias)
    if dtype == np.float64:
        t_mod.double()
        r_mod.double()
    _copy(r_mod, t_mod)
    _parity(r_mod, t_mod, _data(shape, 1, dtype), dtype=dtype)


def test_linear_shape_error_names_layer_and_expected_shape():
    m = nn.Linear(3, 4)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3, out_features=4\).*"
                                           r"\(\*, 3\).*\(2, 5\)"):
        m(rg.randn(2, 5))
    with pytest.raises(RuntimeError, match=r"\(\*, 3\).*Flatten"):
        m(rg.randn(2, 1, 4, 4))  # an image batch: the hint says to flatten first
    with pytest.raises(RuntimeError, match="dtype"):
        m(rg.randn(2, 3, dtype=rg.float64))


def test_bilinear_matches_torch():
    t_mod, r_mod = torch.nn.Bilinear(3, 2, 4), nn.Bilinear(3, 2, 4)
    _copy(r_mod, t_mod)
    _parity(r_mod, t_mod, _data((5, 3), 2), _data((5, 2), 3))


@pytest.mark.parametrize("make,shape", [
    (lambda L: L.Flatten(), (2, 3, 4, 5)),
    (lambda L: L.Flatten(0, 1), (2, 3, 4)),
    (lambda L: L.Flatten(-2), (2, 3, 4)),
    (lambda L: L.Unflatten(1, (3, 4)), (2, 12)),
    (lambda L: L.Unflatten(-1, [2, -1]), (2, 3, 8)),
    (lambda L: L.Identity(54, unused="ignored"), (2, 3)),
    (lambda L: L.Sequential(L.Flatten(), L.Linear(12, 2), L.Unflatten(1, (1, 2))), (4, 3, 4)),
])
def test_shape_layers_match_torch(make, shape):
    t_mod, r_mod = make(torch.nn), make(nn)
    _copy(r_mod, t_mod)
    assert repr(r_mod) == repr(t_mod)
    _parity(r_mod, t_mod, _data(shape, 4))


def test_identity_returns_its_input():
    x = rg.randn(3)
    assert nn.Identity()(x) is x


# ------------------------------------------------------------------ dropout
def test_dropout_train_and_eval():
    p = 0.3
    m = nn.Dropout(p)
    x = rg.ones(400, 500, requires_grad=True)
    y = m(x)
    out = y.detach().numpy()
    zeros = out == 0
    assert abs(zeros.mean() - p) < 0.01  # 200k draws: the fraction of zeros is close to p
    np.testing.assert_allclose(out[~zeros], 1 / (1 - p), rtol=1e-6)  # survivors are scaled
    assert abs(out.mean() - 1.0) < 0.01  # so the expectation is unchanged
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out)  # the gradient goes through the same mask
    assert y.dtype == rg.float32
    m.eval()
    assert m(x) is x  # eval mode: the identity
    assert F.dropout(x, p, training=False) is x


def test_dropout_edge_probabilities_and_errors():
    x = rg.randn(50)
    assert np.array_equal(nn.Dropout(0.0)(x).detach().numpy(), x.numpy())
    assert not np.any(nn.Dropout(1.0)(x).detach().numpy())
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)


def test_dropout_reproducible_under_manual_seed():
    rg.manual_seed(123)
    a = nn.Dropout(0.5)(rg.ones(100)).numpy()
    b = nn.Dropout(0.5)(rg.ones(100)).numpy()
    rg.manual_seed(123)
    c = nn.Dropout(0.5)(rg.ones(100)).numpy()
    assert np.array_equal(a, c) and not np.array_equal(a, b)


def test_dropout_inplace():
    x = rg.ones(1000)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and abs((x.numpy() == 0).mean() - 0.5) < 0.06


@pytest.mark.parametrize("cls,shape", [("Dropout2d", (8, 16, 5, 5)), ("Dropout1d", (8, 16, 7)),
                                       ("Dropout3d", (4, 16, 2, 3, 3))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    m = getattr(nn, cls)(0.5)
    x = rg.tensor(np.abs(_data(shape, 5)) + 0.1, requires_grad=True)
    y = m(x)
    out = y.detach().numpy()
    spatial = tuple(range(2, len(shape)))
    dead = (out == 0).all(axis=spatial)
    alive = (out != 0).all(axis=spatial)
    assert np.all(dead | alive)  # each channel is dropped entirely or kept entirely
    assert 0.3 < dead.mean() < 0.7
    np.testing.assert_allclose(out[alive], 2 * x.detach().numpy()[alive], rtol=1e-6)
    y.sum().backward()
    mask = np.broadcast_to(alive[(...,) + (None,) * len(spatial)], shape)
    np.testing.assert_allclose(x.grad.numpy(), np.where(mask, 2.0, 0.0))
    assert repr(m) == repr(getattr(torch.nn, cls)(0.5))
    m.eval()
    assert m(x) is x


def test_dropout_reprs_match_torch():
    for cls in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"):
        assert repr(getattr(nn, cls)(0.25, True)) == repr(getattr(torch.nn, cls)(0.25, True))


# ------------------------------------------------------------------ embedding
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    t_mod = torch.nn.Embedding(6, 3, padding_idx=padding_idx)
    r_mod = nn.Embedding(6, 3, padding_idx=padding_idx)
    assert repr(r_mod) == repr(t_mod)
    _copy(r_mod, t_mod)
    idx = np.array([[0, 2, 2, 5], [1, 5, 5, 5]], dtype=np.int64)  # repeated indices
    _parity(r_mod, t_mod, idx)


def test_embedding_padding_row_and_accumulation():
    e = nn.Embedding(4, 2, padding_idx=1)
    assert e.weight[1].tolist() == [0.0, 0.0]  # the padding row starts at zero
    out = e(rg.tensor([1, 3, 3, 3, 1]))
    out.sum().backward()
    g = e.weight.grad.numpy()
    assert g[1].tolist() == [0.0, 0.0]  # and never learns
    assert g[3].tolist() == [3.0, 3.0] and g[0].tolist() == [0.0, 0.0]  # repeats accumulate
    assert out.shape == (5, 2)


def test_embedding_from_pretrained_and_freeze():
    w = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.num_embeddings == 3 and e.embedding_dim == 2
    assert e(rg.tensor([2, 0])).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    out = e(rg.tensor([0]))
    assert not out.requires_grad
    e2 = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert e2.weight.requires_grad and e2.padding_idx == 0
    e2(rg.tensor([0, 1])).sum().backward()
    assert e2.weight.grad.numpy()[0].tolist() == [0.0, 0.0]
    assert e2.weight.grad.numpy()[1].tolist() == [1.0, 1.0]
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(rg.zeros(3))


def test_embedding_max_norm_matches_torch():
    t_mod = torch.nn.Embedding(5, 4, max_norm=1.0)
    r_mod = nn.Embedding(5, 4, max_norm=1.0)
    _copy(r_mod, t_mod)
    idx = np.array([0, 3, 3], dtype=np.int64)
    _parity(r_mod, t_mod, idx)
    # the looked-up rows were renormalised in place; the others were left alone
    np.testing.assert_allclose(r_mod.weight.detach().numpy(), t_mod.weight.detach().numpy(),
                               rtol=1e-5)


def test_embedding_errors_and_default_init():
    e = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="out of range"):
        e(rg.tensor([5]))
    with pytest.raises(RuntimeError, match="integer"):
        e(rg.tensor([1.0]))
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(5, 3, padding_idx=7)
    big = nn.Embedding(1000, 100).weight.detach().numpy()  # N(0, 1)
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1.0) < 0.02


def test_functional_embedding_and_one_hot():
    w = rg.tensor(_data((4, 3), 6), requires_grad=True)
    out = F.embedding(rg.tensor([[3, 0]]), w)
    np.testing.assert_array_equal(out.detach().numpy(), w.detach().numpy()[[[3, 0]]])
    for idx, n in (([0, 2, 1], 4), ([[1, 0], [2, 2]], -1), ([3], 5)):
        r = F.one_hot(rg.tensor(idx), n)
        t = torch.nn.functional.one_hot(torch.tensor(idx), n)
        assert r.dtype == rg.int64 and r.tolist() == t.tolist()
    with pytest.raises(RuntimeError, match="class values"):
        F.one_hot(rg.tensor([4]), 3)
    with pytest.raises(RuntimeError, match="integer"):
        F.one_hot(rg.tensor([1.0]))
