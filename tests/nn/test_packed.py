"""nn.utils.rnn (pad / pack / unpack) and recurrent layers on packed sequences, against PyTorch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.utils.rnn as TR  # noqa: E402

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.nn.utils import rnn as R  # noqa: E402


def _np(t):
    return t.detach().numpy()


def _leaves(a):
    return torch.tensor(a, requires_grad=True), rg.tensor(a, requires_grad=True)


def _same_packed(tp, rp):
    np.testing.assert_array_equal(_np(rp.data), _np(tp.data))
    np.testing.assert_array_equal(rp.batch_sizes.numpy(), tp.batch_sizes.numpy())
    assert rp.batch_sizes.dtype == rg.int64
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(tp, name), getattr(rp, name)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(b.numpy(), a.numpy())


# ---------------------------------------------------------------------- pad_sequence

@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch_with_gradients(batch_first, padding_side):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (3, 5, 1, 4)]
    tseqs = [torch.tensor(a, requires_grad=True) for a in arrays]
    rseqs = [rg.tensor(a, requires_grad=True) for a in arrays]
    kw = {"batch_first": batch_first, "padding_value": -1.5, "padding_side": padding_side}
    tp = TR.pad_sequence(tseqs, **kw)
    rp = R.pad_sequence(rseqs, **kw)
    assert tuple(rp.shape) == tuple(tp.shape)
    np.testing.assert_array_equal(_np(rp), _np(tp))
    w = rng.standard_normal(tuple(tp.shape))
    (tp * torch.tensor(w)).sum().backward()
    (rp * rg.tensor(w)).sum().backward()
    for t, r in zip(tseqs, rseqs):
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_pad_sequence_known_answer_and_errors():
    a, b = rg.tensor([1, 2, 3]), rg.tensor([4])
    assert R.pad_sequence([a, b], batch_first=True).tolist() == [[1, 2, 3], [4, 0, 0]]
    assert R.pad_sequence([a, b], True, 9, "left").tolist() == [[1, 2, 3], [9, 9, 4]]
    assert R.pad_sequence([a, b]).dtype == rg.int64
    with pytest.raises(RuntimeError, match=r"same trailing shape.*\(2, 3\).*\(2, 4\)"):
        R.pad_sequence([rg.zeros(2, 3), rg.zeros(2, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        R.pad_sequence([a, b], padding_side="middle")


# ---------------------------------------------------------------------- pack / pad round trips

@pytest.mark.parametrize("lengths_as_tensor", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 4, 4, 2, 1], [3, 5, 1, 4, 5]], ids=["sorted", "unsorted"])
def test_pack_padded_and_pad_packed_match_torch(lengths, batch_first, lengths_as_tensor):
    rng = np.random.default_rng(1)
    B, T = len(lengths), 6  # longer than every sequence: packing drops the extra step
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    tx, rx = _leaves(x)
    enforce = lengths == sorted(lengths, reverse=True)
    tl = torch.tensor(lengths) if lengths_as_tensor else lengths
    rl = rg.tensor(lengths) if lengths_as_tensor else lengths
    tp = TR.pack_padded_sequence(tx, tl, batch_first=batch_first, enforce_sorted=enforce)
    rp = R.pack_padded_sequence(rx, rl, batch_first=batch_first, enforce_sorted=enforce)
    assert isinstance(rp, R.PackedSequence)
    _same_packed(tp, rp)
    for bf in (False, True):
        for total in (None, 7):
            kw = {"batch_first": bf, "padding_value": 0.5, "total_length": total}
            tpad, tlen = TR.pad_packed_sequence(tp, **kw)
            rpad, rlen = R.pad_packed_sequence(rp, **kw)
            np.testing.assert_array_equal(_np(rpad), _np(tpad))
            np.testing.assert_array_equal(rlen.numpy(), tlen.numpy())
            assert rlen.dtype == rg.int64
    # gradients flow through pack then pad back to the padded input
    w = rng.standard_normal(tuple(tpad.shape))
    (tpad * torch.tensor(w)).sum().backward()
    (rpad * rg.tensor(w)).sum().backward()
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_pack_sequence_unpack_sequence_unpad_sequence_match_torch():
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    tseqs = [torch.tensor(a) for a in arrays]
    rseqs = [rg.tensor(a) for a in arrays]
    tp = TR.pack_sequence(tseqs, enforce_sorted=False)
    rp = R.pack_sequence(rseqs, enforce_sorted=False)
    _same_packed(tp, rp)
    for got, want in zip(R.unpack_sequence(rp), arrays):
        np.testing.assert_array_equal(got.numpy(), want)
    padded = R.pad_sequence(rseqs)
    for got, want in zip(R.unpad_sequence(padded, rg.tensor([2, 4, 3])), arrays):
        np.testing.assert_array_equal(got.numpy(), want)
    unpadded = R.unpad_sequence(padded.transpose(0, 1), [2, 4, 3], batch_first=True)
    for got, want in zip(unpadded, arrays):
        np.testing.assert_array_equal(got.numpy(), want)


def test_pack_sequence_known_answer():
    a, b, c = rg.tensor([1, 2, 3]), rg.tensor([4, 5]), rg.tensor([6])
    p = R.pack_sequence([a, b, c])
    assert p.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert p.batch_sizes.tolist() == [3, 2, 1]
    assert p.sorted_indices is None and p.unsorted_indices is None
    seq = rg.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    p = R.pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False)
    assert p.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert p.sorted_indices.tolist() == [2, 0, 1] and p.unsorted_indices.tolist() == [1, 2, 0]
    padded, lengths = R.pad_packed_sequence(p, batch_first=True)
    assert padded.tolist() == seq.tolist() and lengths.tolist() == [2, 1, 3]


def test_packed_sequence_is_a_named_tuple_with_to():
    p = R.pack_sequence([rg.randn(3, 2), rg.randn(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert data is p.data and batch_sizes is p.batch_sizes and sorted_indices is None
    assert repr(p).startswith("PackedSequence(data=")
    assert p.to(rg.float32) is p
    q = p.double()
    assert isinstance(q, R.PackedSequence) and q.data.dtype == rg.float64
    assert q.batch_sizes is p.batch_sizes and not q.is_cuda
    inv = R.invert_permutation(rg.tensor([2, 0, 1]))
    assert inv.tolist() == [1, 2, 0] and R.invert_permutation(None) is None
    q = R.PackedSequence(p.data, p.batch_sizes, rg.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]


def test_packing_errors_name_the_problem():
    x = rg.randn(4, 3, 2)
    with pytest.raises(ValueError, match=r"length \(5\) exceeds the 4 time steps.*\(4, 3, 2\)"):
        R.pack_padded_sequence(x, [5, 2, 1])
    msg = "must be sorted in decreasing order.*enforce_sorted=False"
    with pytest.raises(RuntimeError, match=msg):
        R.pack_padded_sequence(x, [2, 3, 1])
    msg = r"len\(lengths\) to be equal to batch_size, but got 2 \(batch_size=3"
    with pytest.raises(ValueError, match=msg):
        R.pack_padded_sequence(x, [3, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 2, 0])
    p = R.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 4"):
        R.pad_packed_sequence(p, total_length=3)


# ---------------------------------------------------------------------- layers on packed input

MODES = {"rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
         "lstm": ("LSTM", {}), "gru": ("GRU", {})}
LENGTHS = [3, 5, 1, 4, 5]  # unsorted, with a tie
I_, H_ = 3, 4


def _pair(cls, **kw):
    tm = getattr(torch.nn, cls)(I_, H_, **kw).double()
    rm = getattr(nn, cls)(I_, H_, **kw).double()
    rm.load_state_dict(tm.state_dict())
    return tm, rm


@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}],
                         ids=["1layer", "2layer-bidir"])
@pytest.mark.parametrize("mode", list(MODES))
def test_packed_layers_match_torch(mode, kw, with_state):
    cls, extra = MODES[mode]
    lstm = cls == "LSTM"
    tm, rm = _pair(cls, **extra, **kw)
    rng = np.random.default_rng(3)
    B, T = len(LENGTHS), max(LENGTHS)
    S = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    tx, rx = _leaves(rng.standard_normal((B, T, I_)))
    states = [_leaves(rng.standard_normal((S, B, H_))) for _ in range(2 if lstm else 1)]
    tp = TR.pack_padded_sequence(tx, LENGTHS, batch_first=True, enforce_sorted=False)
    rp = R.pack_padded_sequence(rx, LENGTHS, batch_first=True, enforce_sorted=False)

    def run(m, lib, packed, st):
        if not with_state:
            out, fin = m(packed)
        else:
            out, fin = m(packed, tuple(st) if lstm else st[0])
        return out, (list(fin) if lstm else [fin])

    t_out, t_fin = run(tm, torch, tp, [s[0] for s in states])
    r_out, r_fin = run(rm, rg, rp, [s[1] for s in states])
    assert isinstance(r_out, R.PackedSequence)
    assert r_out.batch_sizes is rp.batch_sizes and r_out.sorted_indices is rp.sorted_indices
    np.testing.assert_allclose(_np(r_out.data), _np(t_out.data), rtol=1e-10, atol=1e-12)
    for a, b in zip(t_fin, r_fin):
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-10, atol=1e-12)
    w_out = rng.standard_normal(tuple(t_out.data.shape))
    w_fin = [rng.standard_normal(tuple(f.shape)) for f in t_fin]
    for lib, out, fin in ((torch, t_out, t_fin), (rg, r_out, r_fin)):
        loss = (out.data * lib.tensor(w_out)).sum()
        loss = loss + sum((f * lib.tensor(w)).sum() for f, w in zip(fin, w_fin))
        loss.backward()
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if with_state:
        for ts, rs in states:
            np.testing.assert_allclose(rs.grad.numpy(), ts.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(getattr(rm, name).grad.numpy(), p.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("mode", list(MODES))
def test_packed_batch_equals_each_sequence_alone(mode):
    """Outputs, final states (at each sequence's own last step, also in reverse), input and
    weight gradients, and the recorded ∂L/∂h_t of a packed batch equal running every
    sequence on its own."""
    cls, extra = MODES[mode]
    lstm = cls == "LSTM"
    m = getattr(nn, cls)(I_, H_, num_layers=2, bidirectional=True, **extra).double()
    m.record_hidden_grads = True
    rng = np.random.default_rng(4)
    B, T = len(LENGTHS), max(LENGTHS)
    x = rng.standard_normal((T, B, I_))
    h0 = rng.standard_normal((4, B, H_))
    w_out = rng.standard_normal((T, B, 2 * H_))
    w_h = rng.standard_normal((4, B, H_))

    rx = rg.tensor(x, requires_grad=True)
    hx = (rg.tensor(h0), rg.tensor(h0 * 0.5)) if lstm else rg.tensor(h0)
    out, fin = m(R.pack_padded_sequence(rx, LENGTHS, enforce_sorted=False), hx)
    h_n = fin[0] if lstm else fin
    padded, lengths = R.pad_packed_sequence(out)
    assert lengths.tolist() == LENGTHS
    ((padded * rg.tensor(w_out)).sum() + (h_n * rg.tensor(w_h)).sum()).backward()
    packed_grads = {n: p.grad.numpy().copy() for n, p in m.named_parameters()}
    hidden = {k: v.copy() for k, v in m.hidden_grads.items()}
    m.zero_grad()

    summed = {n: 0 for n in packed_grads}
    for b, n in enumerate(LENGTHS):
        xb = rg.tensor(x[:n, b], requires_grad=True)  # unbatched (L, H_in)
        hb = (rg.tensor(h0[:, b]), rg.tensor(h0[:, b] * 0.5)) if lstm else rg.tensor(h0[:, b])
        ob, fb = m(xb, hb)
        hnb = fb[0] if lstm else fb
        close = np.testing.assert_allclose
        close(_np(padded)[:n, b], _np(ob), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(_np(padded)[n:, b], 0)
        close(_np(h_n)[:, b], _np(hnb), rtol=1e-12, atol=1e-14)
        if lstm:
            close(_np(fin[1])[:, b], _np(fb[1]), rtol=1e-12, atol=1e-14)
        ((ob * rg.tensor(w_out[:n, b])).sum() + (hnb * rg.tensor(w_h[:, b])).sum()).backward()
        np.testing.assert_allclose(rx.grad.numpy()[:n, b], xb.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(rx.grad.numpy()[n:, b], 0)
        for key, g in m.hidden_grads.items():
            close(hidden[key][:n, b], g[:, 0], rtol=1e-10, atol=1e-12, err_msg=key)
            np.testing.assert_array_equal(hidden[key][n:, b], 0)
        for name, p in m.named_parameters():
            summed[name] = summed[name] + p.grad.numpy()
        m.zero_grad()
    for name, g in packed_grads.items():
        np.testing.assert_allclose(g, summed[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_packed_input_errors():
    m = nn.GRU(I_, H_)
    p = R.pack_sequence([rg.randn(3, I_ + 1), rg.randn(2, I_ + 1)])
    with pytest.raises(RuntimeError, match=r"GRU\(3, 4\).*Expected 3, got 4"):
        m(p)
    p = R.pack_sequence([rg.randn(3, I_), rg.randn(2, I_)])
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        m(p, rg.randn(1, 3, H_))
