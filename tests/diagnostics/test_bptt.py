"""Backpropagation through time made visible: TimeGradientMonitor, the adding problem.

The per-time-step norms are checked against PyTorch (an unrolled RNNCell loop whose
hidden states keep their gradients), the warnings on the classic demonstrations:
a vanilla tanh RNN's gradient vanishes over 100 steps, an LSTM's does not and the LSTM
learns the adding problem, a ReLU RNN with large recurrent weights explodes and
gradient clipping keeps its update finite.
"""

import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.data import make_adding_problem
from retrograd.diagnostics import (
    ExplodingGradientWarning,
    TimeGradientMonitor,
    TimeGradientMonitorCallback,
    TrainingHealthWarning,
    VanishingGradientWarning,
    plot_time_grad_norms,
)

torch = pytest.importorskip("torch")


def _record_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in caught if issubclass(w.category, TrainingHealthWarning)]


def _last_step_loss(rnn, head, x, y):
    out, _ = rnn(x)
    return nn.functional.mse_loss(head(out[:, -1]).squeeze(-1), y)


# ---------------------------------------------------------------- the adding problem

def test_adding_problem_layout_and_targets():
    X, y = make_adding_problem(500, 40, seed=3, return_tensors=False)
    assert X.shape == (500, 40, 2) and y.shape == (500,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    values, markers = X[..., 0], X[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(markers).tolist()) == {0.0, 1.0}
    # exactly one marker in each half
    assert (markers[:, :20].sum(1) == 1).all() and (markers[:, 20:].sum(1) == 1).all()
    np.testing.assert_allclose((values * markers).sum(1), y, rtol=1e-6)


def test_adding_problem_reproducible_and_baseline():
    a = make_adding_problem(8, 10, seed=1)
    b = make_adding_problem(8, 10, seed=1)
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    g1, g2 = retrograd.Generator().manual_seed(5), retrograd.Generator().manual_seed(5)
    np.testing.assert_array_equal(make_adding_problem(8, 10, g1)[1].numpy(),
                                  make_adding_problem(8, 10, g2)[1].numpy())
    retrograd.manual_seed(7)
    c = make_adding_problem(8, 10)[1].numpy()
    retrograd.manual_seed(7)
    np.testing.assert_array_equal(c, make_adding_problem(8, 10)[1].numpy())
    # always answering 1.0 scores the variance of a sum of two U(0, 1): 1/6
    _, y = make_adding_problem(40000, 10, seed=0, return_tensors=False)
    assert abs(float(np.mean((y - 1.0) ** 2)) - 1 / 6) < 0.005


def test_adding_problem_bad_arguments():
    with pytest.raises(ValueError, match="seq_len"):
        make_adding_problem(4, 1)
    with pytest.raises(ValueError, match="n must be"):
        make_adding_problem(0, 10)
    with pytest.raises(ValueError, match="either seed= or generator="):
        make_adding_problem(4, 10, retrograd.Generator(), seed=1)


# ---------------------------------------------------------------- exact per-step norms

def _torch_hidden_grad_norms(rnn, x, y, head):
    """‖∂L/∂h_t‖ from an unrolled torch RNNCell loop (each h_t keeps its gradient)."""
    cell = torch.nn.RNNCell(rnn.input_size, rnn.hidden_size)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(torch.tensor(getattr(rnn, name + "_l0").detach().numpy()))
    w = torch.tensor(head.weight.detach().numpy())
    b = torch.tensor(head.bias.detach().numpy())
    xt = torch.tensor(x.numpy())
    h = torch.zeros(xt.shape[0], rnn.hidden_size)
    hs = []
    for t in range(xt.shape[1]):
        h = cell(xt[:, t], h)
        h.retain_grad()
        hs.append(h)
    pred = (h @ w.T + b).squeeze(-1)
    torch.nn.functional.mse_loss(pred, torch.tensor(y.numpy())).backward()
    return np.array([float(h.grad.double().norm()) for h in hs])


def test_norms_match_torch_unrolled_cells():
    rnn = nn.RNN(3, 8, batch_first=True)
    head = nn.Linear(8, 1)
    x = retrograd.randn(5, 12, 3)
    y = retrograd.randn(5)
    mon = TimeGradientMonitor(rnn, "rnn", warn=False)
    _last_step_loss(rnn, head, x, y).backward()
    rec = mon.step()
    assert set(rec["norms"]) == {"l0"}
    expected = _torch_hidden_grad_norms(rnn, x, y, head)
    np.testing.assert_allclose(mon.norms[-1], expected, rtol=1e-4, atol=1e-10)
    assert mon.norms.shape == (1, 12)
    # a second step() without a new backward records nothing
    assert mon.step() is None and len(mon.records) == 1


def test_manual_record_of_a_cell_loop_matches_the_fused_layer():
    rnn = nn.RNN(2, 6, batch_first=True)
    cell = nn.RNNCell(2, 6)
    with retrograd.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(rnn, name + "_l0"))
    head = nn.Linear(6, 1)
    x, y = make_adding_problem(4, 15, seed=0)
    fused = TimeGradientMonitor(rnn, warn=False)
    _last_step_loss(rnn, head, x, y).backward()
    fused.step()

    manual = TimeGradientMonitor(warn=False)
    h, hs = None, []
    for t in range(15):
        h = cell(x[:, t], h)
        hs.append(h)
    manual.record(hs, name="cell")
    nn.functional.mse_loss(head(h).squeeze(-1), y).backward()
    manual.step()
    assert manual.layers == ["cell"]
    np.testing.assert_allclose(manual.norms[-1], fused.norms[-1], rtol=1e-4, atol=1e-12)


def test_output_hook_fallback_for_other_modules():
    class Seq(nn.Module):   # no record_hidden_grads: the monitor hooks the output sequence
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)
            self.batch_first = True

        def forward(self, x):
            return retrograd.tanh(self.lin(x))

    m = Seq()
    mon = TimeGradientMonitor(m, "seq", warn=False)
    assert mon.mode == "output"
    x = retrograd.randn(2, 7, 3)
    out = m(x)
    weights = retrograd.arange(7, dtype=retrograd.float32).reshape(1, 7, 1)
    (out * weights).sum().backward()
    mon.step()
    # d(sum_t t * out_t)/d(out_t) = t for every element: norm t * sqrt(2 * 4)
    np.testing.assert_allclose(mon.norms[-1], np.arange(7) * np.sqrt(8), rtol=1e-6)


# ---------------------------------------------------------------- vanishing through time

def test_vanilla_rnn_vanishes_over_100_steps_and_warns():
    x, y = make_adding_problem(32, 100, seed=0)
    rnn, head = nn.RNN(2, 32, batch_first=True), nn.Linear(32, 1)
    mon = TimeGradientMonitor(rnn, "rnn")
    _last_step_loss(rnn, head, x, y).backward()
    _, caught = _record_warnings(mon.step)
    assert [w.category for w in caught] == [VanishingGradientWarning]
    msg = str(caught[0].message)
    assert "RNN 'rnn' (l0)" in msg and "from t=99 back to t=0" in msg and "10^" in msg
    assert "LSTM/GRU instead of a vanilla RNN" in msg and "orthogonal" in msg
    p = mon.norms[-1]
    assert p[0] / p[99] < 1e-10             # ten orders of magnitude and more
    assert np.all(np.diff(np.log(p[:99])) > 0)  # shrinking step after step going back
    d = mon.diagnoses[0]
    assert d.kind == "vanishing" and d.layers == ("l0",) and d.steps[0] == 0
    assert "LSTM or GRU" in d.remedies[0]
    assert "Problems found (1)" in mon.report()


def test_lstm_of_the_same_size_keeps_the_gradient_alive():
    # forget gate started open (bias +2, the usual LSTM initialisation advice): the
    # additive cell path then carries the gradient across the 100 steps
    x, y = make_adding_problem(32, 100, seed=0)
    lstm, head = nn.LSTM(2, 32, batch_first=True), nn.Linear(32, 1)
    with retrograd.no_grad():
        lstm.bias_hh_l0[32:64] += 2.0
    mon = TimeGradientMonitor(lstm, "lstm")
    _last_step_loss(lstm, head, x, y).backward()
    _, caught = _record_warnings(mon.step)
    assert caught == []
    a = mon.analyse()
    assert a["decay"] > 1e-3 and a["reach"] == 0
    assert "No problems found" in mon.report()


def test_bidirectional_reverse_direction_is_read_backwards():
    x, y = make_adding_problem(8, 60, seed=2)
    rnn, head = nn.RNN(2, 16, batch_first=True, bidirectional=True), nn.Linear(32, 1)
    mon = TimeGradientMonitor(rnn, "birnn")
    out, _ = rnn(x)
    # the loss reads step 0: the reverse direction carries it back to t = 59
    nn.functional.mse_loss(head(out[:, 0]).squeeze(-1), y).backward()
    _, caught = _record_warnings(mon.step)
    assert mon.layers == ["l0", "l0_reverse"]
    assert [w.category for w in caught] == [VanishingGradientWarning]
    assert "(l0_reverse)" in str(caught[0].message)
    assert "from t=0 back to t=59" in str(caught[0].message)


# ---------------------------------------------------------------- exploding, clipping

def _exploding_relu_rnn(scale):
    rnn = nn.RNN(2, 16, nonlinearity="relu", batch_first=True)
    with retrograd.no_grad():
        rnn.weight_hh_l0.copy_(retrograd.eye(16) * scale)
        # positive input weights and biases: every unit stays active and grows
        rnn.weight_ih_l0.copy_(rnn.weight_ih_l0.abs())
        rnn.bias_ih_l0.copy_(rnn.bias_ih_l0.abs())
    return rnn


def test_relu_rnn_explodes_and_clipping_keeps_the_update_finite():
    x, y = make_adding_problem(16, 100, seed=1)
    params_of = lambda r, h: list(r.parameters()) + list(h.parameters())

    # without clipping: a huge gradient, the warning, and one SGD step ruins the model
    retrograd.manual_seed(0)
    rnn, head = _exploding_relu_rnn(1.15), nn.Linear(16, 1)
    mon = TimeGradientMonitor(rnn, "rnn")
    _last_step_loss(rnn, head, x, y).backward()
    _, caught = _record_warnings(mon.step)
    assert [w.category for w in caught] == [ExplodingGradientWarning]
    assert "grows by 10^" in str(caught[0].message) and "clip_grad_norm_" in str(caught[0].message)
    total = float(np.sqrt(sum(float((p.grad._data.astype(np.float64) ** 2).sum())
                              for p in params_of(rnn, head))))
    assert 1e10 < total < 1e18   # huge, still finite in float32
    opt = retrograd.optim.SGD(params_of(rnn, head), lr=0.01)
    opt.step()
    with np.errstate(all="ignore"):
        after = float(_last_step_loss(rnn, head, x, y).item())
    assert not np.isfinite(after) or after > 1e30

    # the same model and data with clip_grad_norm_: the update has norm lr * 1
    retrograd.manual_seed(0)
    rnn, head = _exploding_relu_rnn(1.15), nn.Linear(16, 1)
    params = params_of(rnn, head)
    before = [p.detach().clone() for p in params]
    _last_step_loss(rnn, head, x, y).backward()
    norm = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert float(norm) == pytest.approx(total, rel=1e-4)   # the norm before clipping
    retrograd.optim.SGD(params, lr=0.01).step()
    step = np.sqrt(sum(float(((p - b) ** 2).sum()) for p, b in zip(params, before)))
    assert step == pytest.approx(0.01, rel=1e-3)            # lr * max_norm
    assert all(np.isfinite(p.detach().numpy()).all() for p in params)
    assert np.isfinite(float(_last_step_loss(rnn, head, x, y).item()))


def test_overflowing_gradient_is_reported_as_non_finite():
    x, y = make_adding_problem(4, 100, seed=1)
    rnn, head = _exploding_relu_rnn(3.0), nn.Linear(16, 1)
    mon = TimeGradientMonitor(rnn, "rnn")
    with np.errstate(all="ignore"):
        _last_step_loss(rnn, head, x, y).backward()
        _, caught = _record_warnings(mon.step)
    assert [w.category for w in caught] == [ExplodingGradientWarning]
    assert "not finite" in str(caught[0].message)
    assert mon.diagnoses[0].kind == "nonfinite"


def test_non_finite_step_is_reported_even_after_finite_ones():
    mon = TimeGradientMonitor(window=5)
    for scale in (1.0, 1.0, 1.0, 1.0, float("inf")):
        hs = [retrograd.ones(2, 3, requires_grad=True) for _ in range(6)]
        mon.record(hs)
        w = retrograd.tensor([scale, 1.0, 1.0, 1.0, 1.0, 1.0])
        sum(h.sum() * w[t] for t, h in enumerate(hs)).backward()
        _, caught = _record_warnings(mon.step)
        if scale == 1.0:
            assert caught == [] and np.allclose(mon.norms[-1], np.sqrt(6))
    assert [w.category for w in caught] == [ExplodingGradientWarning]
    assert "t=0" in str(caught[0].message) and mon.diagnoses[-1].kind == "nonfinite"


# ---------------------------------------------------------------- learning, callback, plot

class AddingModel(nn.Module):
    def __init__(self, hidden=32, forget_bias=2.0):
        super().__init__()
        self.rnn = nn.LSTM(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        with retrograd.no_grad():
            self.rnn.bias_hh_l0[hidden:2 * hidden] += forget_bias
        self.register_buffer("centre", retrograd.tensor([0.5, 0.0]))

    def forward(self, x):
        out, _ = self.rnn(x - self.centre)   # zero-mean values
        return self.head(out[:, -1]).squeeze(-1)


class _StopBelow(retrograd.train.Callback):
    def __init__(self, threshold):
        self.threshold = threshold

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.threshold:
            self.trainer.stop_training = True


def test_lstm_learns_the_adding_problem_with_the_callback(tmp_path):
    # seq_len 50 (the vanishing demo above uses 100); baseline MSE of predicting 1.0:
    # 1/6 = 0.167; threshold 0.05 (below a third of it)
    from retrograd.utils.data import DataLoader, TensorDataset

    retrograd.manual_seed(1)
    Xtr, ytr = make_adding_problem(1600, 50, seed=10)
    Xva, yva = make_adding_problem(400, 50, seed=11)
    baseline = float(((yva - 1.0) ** 2).mean())
    model = AddingModel()
    gen = retrograd.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(Xva, yva), batch_size=400)
    cb = TimeGradientMonitorCallback(every=25, warn=False)
    hist = retrograd.train.fit(model, loader, epochs=24, optimizer=retrograd.optim.Adam(
        model.parameters(), lr=0.01), loss_fn=nn.MSELoss(), val_loader=val, metrics=(),
        clip_grad_norm=1.0, callbacks=[cb, _StopBelow(0.05)], verbose=0)
    final = hist.history["val_loss"][-1]
    assert baseline > 0.14 and final < 0.05, (baseline, hist.history["val_loss"])
    # the callback found the LSTM by itself and recorded ‖∂L/∂h_t‖ every 25 batches
    assert cb.name == "rnn" and cb.norms.shape[1] == 50 and len(cb.records) >= 4
    assert cb.steps[:2] == [0, 25] or cb.steps[:2] == [1, 26]
    fig = cb.plot(tmp_path / "bptt.png")
    assert len(fig.axes) >= 2   # profile + heat map over training
    assert (tmp_path / "bptt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_compares_profiles(tmp_path):
    x, y = make_adding_problem(8, 30, seed=0)
    mons = {}
    for name, cls in (("RNN", nn.RNN), ("LSTM", nn.LSTM)):
        rnn, head = cls(2, 8, batch_first=True), nn.Linear(8, 1)
        mons[name] = TimeGradientMonitor(rnn, name.lower(), warn=False)
        _last_step_loss(rnn, head, x, y).backward()
        mons[name].step()
    path = tmp_path / "compare.png"
    fig = plot_time_grad_norms(mons, path)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["RNN", "LSTM"]
    assert path.stat().st_size > 1000
    with pytest.raises(TypeError, match="TimeGradientMonitor or a dict"):
        plot_time_grad_norms([1, 2, 3])


def test_errors_and_cleanup():
    with pytest.raises(TypeError, match="nn.Module"):
        TimeGradientMonitor("rnn")
    with pytest.raises(ValueError, match="vanishing_ratio"):
        TimeGradientMonitor(vanishing_ratio=2.0)
    rnn = nn.GRU(2, 4)
    mon = TimeGradientMonitor(rnn)
    with pytest.raises(ValueError, match="nothing recorded yet"):
        mon.norms
    assert rnn.record_hidden_grads is True
    mon.close()
    assert rnn.record_hidden_grads is False
    with pytest.raises(ValueError, match="no hidden states"):
        TimeGradientMonitor().record([])
