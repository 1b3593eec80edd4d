"""GradientMonitor: statistics against hand computation, detectors on sick and healthy nets."""

import math
import warnings

import numpy as np
import pytest

import retrograd
from retrograd import nn
from retrograd.diagnostics import (
    DeadUnitWarning,
    ExplodingGradientWarning,
    GradientMonitor,
    SaturationWarning,
    TrainingHealthWarning,
    VanishingGradientWarning,
    record_tensor_grads,
)


def _set(linear, w, b):
    with retrograd.no_grad():
        linear.weight.copy_(retrograd.tensor(w, dtype=linear.weight.dtype))
        linear.bias.copy_(retrograd.tensor(b, dtype=linear.bias.dtype))


def _mse(out, y):
    return ((out - y) ** 2).mean()


def _train(model, x, y, steps, lr=0.05, monitor=None):
    """A hand-written loop with the monitor, collecting the health warnings."""
    mon = monitor or GradientMonitor(model)
    opt = retrograd.optim.SGD(model.parameters(), lr=lr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            opt.zero_grad()
            loss = _mse(model(x), y)
            loss.backward()
            mon.step()
            opt.step()
    health = [w for w in caught if issubclass(w.category, TrainingHealthWarning)]
    return mon, health


def deep_sigmoid(depth=10, width=16, n_in=4):
    layers = [nn.Linear(n_in, width), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, 1))


class PreActBlock(nn.Module):
    """x + W·relu(bn(x)): a pre-activation residual block."""

    def __init__(self, width):
        super().__init__()
        self.bn = nn.BatchNorm1d(width)
        self.act = nn.ReLU()
        self.lin = nn.Linear(width, width)

    def forward(self, x):
        return x + self.lin(self.act(self.bn(x)))


def deep_residual(depth=10, width=16, n_in=4):
    blocks = [PreActBlock(width) for _ in range(depth - 2)]
    return nn.Sequential(nn.Linear(n_in, width), *blocks, nn.Linear(width, 1))


@pytest.fixture
def data():
    x = retrograd.randn(64, 4)
    y = (x[:, :1] * x[:, 1:2] > 0).float()
    return x, y


# ------------------------------------------------------------------ statistics

def test_layer_statistics_match_hand_computation():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)).double()
    W1 = np.array([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]])
    b1 = np.array([0.1, -0.2, 0.3])
    W2 = np.array([[1.0, -2.0, 0.5]])
    b2 = np.array([0.05])
    _set(model[0], W1, b1)
    _set(model[2], W2, b2)
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])
    Y = np.array([[1.0], [0.0], [0.5]])
    mon = GradientMonitor(model, histograms=0)
    loss = _mse(model(retrograd.tensor(X, dtype=retrograd.float64)),
                retrograd.tensor(Y, dtype=retrograd.float64))
    loss.backward()
    rec = mon.step()
    # textbook backprop in NumPy
    H = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    out = H @ W2.T + b2
    d2 = 2 * (out - Y) / Y.size
    gW2, gb2 = d2.T @ H, d2.sum(0)
    d1 = (d2 @ W2) * H * (1 - H)
    gW1, gb1 = d1.T @ X, d1.sum(0)
    for name, gw, gb, w, b in (("0", gW1, gb1, W1, b1), ("2", gW2, gb2, W2, b2)):
        s = rec["layers"][name]
        g = np.concatenate([gw.ravel(), gb.ravel()])
        p = np.concatenate([w.ravel(), b.ravel()])
        assert s["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
        assert s["weight_norm"] == pytest.approx(np.linalg.norm(p), rel=1e-12)
        assert s["ratio"] == pytest.approx(np.linalg.norm(g) / np.linalg.norm(p), rel=1e-12)
        assert s["grad_mean"] == pytest.approx(g.mean(), rel=1e-10, abs=1e-15)
        assert s["grad_std"] == pytest.approx(g.std(), rel=1e-10)
        assert s["grad_max"] == pytest.approx(np.abs(g).max(), rel=1e-12)
        assert s["params"]["weight"] == pytest.approx(np.linalg.norm(gw), rel=1e-12)
        assert s["finite"]
    a = rec["activations"]["1"]
    assert a["kind"] == "Sigmoid"
    assert a["mean"] == pytest.approx(H.mean(), rel=1e-12)
    assert a["std"] == pytest.approx(H.std(), rel=1e-12)
    assert a["saturated"] == 0.0
    assert mon.layer_names == ["0", "2"]
    np.testing.assert_allclose(mon.history("grad_norm", "2"), [rec["layers"]["2"]["grad_norm"]])


def test_saturated_and_dead_fractions_by_hand():
    # sigmoid: nets 0, 10, -10, 1 and 0, 1, -1, 0.1 -> sigmoid(±10) lies outside [0.01, 0.99]
    sig = nn.Sequential(nn.Linear(1, 4), nn.Sigmoid())
    _set(sig[0], [[0.0], [10.0], [-10.0], [1.0]], [0.0, 0.0, 0.0, 0.0])
    mon = GradientMonitor(sig)
    sig(retrograd.tensor([[1.0], [0.1]])).sum().backward()
    assert mon.step()["activations"]["1"]["saturated"] == pytest.approx(2 / 8)
    # tanh saturates in the outer 1% of (-1, 1) at each end: |out| >= 0.98
    th = nn.Sequential(nn.Linear(1, 3), nn.Tanh())
    _set(th[0], [[1.0], [2.3], [3.0]], [0.0, 0.0, 0.0])  # tanh 0.76, 0.980, 0.995
    mon = GradientMonitor(th, warn=False)
    th(retrograd.tensor([[1.0]])).sum().backward()
    assert mon.step()["activations"]["1"]["saturated"] == pytest.approx(2 / 3)
    # ReLU: nets (1, -1, -4, -1) and (2, -2, -3, -2): only unit 0 is ever active
    relu = nn.Sequential(nn.Linear(1, 4), nn.ReLU())
    _set(relu[0], [[1.0], [-1.0], [1.0], [-1.0]], [0.0, 0.0, -5.0, 0.0])
    mon = GradientMonitor(relu)
    out = relu(retrograd.tensor([[1.0], [2.0]]))
    out.sum().backward()
    a = mon.step()["activations"]["1"]
    assert a["dead"] == pytest.approx(0.75)
    assert a["mean"] == pytest.approx(np.mean([1, 0, 0, 0, 2, 0, 0, 0]))


def test_reused_activation_module_gets_one_entry_per_call():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 1)
            self.act = nn.Tanh()

        def forward(self, x):
            return self.b(self.act(self.a(self.act(x))))

    mon = GradientMonitor(Net())
    mon.model(retrograd.randn(4, 3)).sum().backward()
    rec = mon.step()
    assert sorted(rec["activations"]) == ["act", "act#1"]
    assert mon.layer_names == ["a", "b"]


def test_forward_without_grad_is_not_recorded():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    mon = GradientMonitor(model)
    x = retrograd.tensor([[1.0, 1.0]])
    model(x).sum().backward()
    with retrograd.no_grad():
        model(retrograd.full((5, 2), 1e6))  # e.g. validation: must not overwrite the batch
    rec = mon.step()
    expected = retrograd.relu(model[0](x)).detach().numpy()
    assert rec["activations"]["1"]["mean"] == pytest.approx(float(expected.mean()), rel=1e-6)


def test_layers_without_gradient_are_skipped():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    mon = GradientMonitor(model)
    model(retrograd.randn(3, 2)).sum().backward()
    rec = mon.step()
    assert list(rec["layers"]) == ["1"]
    assert math.isnan(mon.history("grad_norm", "0")[0])


# ------------------------------------------------------------------ detectors

def test_vanishing_gradients_in_deep_sigmoid_mlp(data):
    x, y = data
    mon, health = _train(deep_sigmoid(), x, y, steps=3)
    kinds = {type(w.message) for w in health}
    assert kinds == {VanishingGradientWarning}
    msg = str(health[0].message)
    assert "'0' (Linear)" in msg and "last layer '18' (Linear)" in msg
    assert "ReLU" in msg  # a remedy is suggested
    d = mon.diagnoses[0]
    assert d.kind == "vanishing" and d.layers[0] == "0" and d.count == 3
    report = mon.report()
    assert "[vanishing gradients]" in report
    for remedy in ("residual", "batch normalisation", "kaiming_normal_"):
        assert remedy in report
    norms = mon.history("grad_norm")
    assert norms["0"][-1] < 1e-3 * norms["18"][-1]


def test_residual_relu_batchnorm_network_of_same_depth_is_healthy(data):
    x, y = data
    model = deep_residual()
    assert len([m for m in model.modules() if isinstance(m, nn.Linear)]) == 10
    mon, health = _train(model, x, y, steps=10)
    assert health == [] and mon.diagnoses == []
    assert "No problems found" in mon.report()
    norms = mon.history("grad_norm")
    assert norms["0"][-1] > 1e-2 * norms["9"][-1]


def test_shallow_sigmoid_network_no_false_alarm(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 1))
    mon, health = _train(model, x, y, steps=10, lr=0.1)
    assert health == []


def test_nonfinite_gradient_is_reported_as_exploding(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    mon = GradientMonitor(model)
    loss = _mse(model(x), y) * float("nan")
    loss.backward()
    with pytest.warns(ExplodingGradientWarning, match="non-finite gradients .* '0' .*Linear"):
        mon.step()
    assert mon.diagnoses[0].kind == "nonfinite"
    assert "detect_anomaly" in mon.report()


def test_fast_growing_gradient_norm_is_reported(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    mon = GradientMonitor(model)
    for scale in (1.0, 1.0, 1.0, 1.0, 1e4):
        model.zero_grad()
        (_mse(model(x), y) * scale).backward()
        if scale == 1.0:
            mon.step()
    with pytest.warns(ExplodingGradientWarning, match="total gradient norm grew"):
        mon.step()


def test_gradients_exploding_through_depth():
    # Linear layers W = diag(4, 1/4): the input lies along e2 (it shrinks by 4 per layer)
    # while the loss gradient lies along e1 (it grows by 4 per layer going back), so
    # dL/dW_l = delta_l a_{l-1}^T is 4^(L-2l+1): huge at the input, tiny at the output.
    layers = []
    for _ in range(6):
        lin = nn.Linear(2, 2, bias=False)
        with retrograd.no_grad():
            lin.weight.copy_(retrograd.tensor([[4.0, 0.0], [0.0, 0.25]]))
        layers.append(lin)
    model = nn.Sequential(*layers)
    mon = GradientMonitor(model)
    model(retrograd.tensor([[0.0, 1.0]]))[:, 0].sum().backward()
    with pytest.warns(ExplodingGradientWarning, match="explode towards the input") as rec:
        mon.step()
    assert "'0' (Linear)" in str(rec[0].message)
    norms = mon.history("grad_norm")
    assert norms["0"][0] == pytest.approx(4.0 ** 5, rel=1e-6)
    assert norms["5"][0] == pytest.approx(4.0 ** -5, rel=1e-6)


def test_saturation_detected_and_not_on_healthy_tanh(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    with retrograd.no_grad():
        model[0].weight.mul_(40.0)
    mon = GradientMonitor(model)
    _mse(model(x), y).backward()
    with pytest.warns(SaturationWarning, match="activation '1' \\(Tanh\\)"):
        mon.step()
    healthy = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    _, health = _train(healthy, x, y, steps=5)
    assert health == []


def test_dead_relu_units_detected(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    with retrograd.no_grad():
        model[0].bias[:12] = -100.0  # 12 of 16 units can never fire
    mon, health = _train(model, x, y, steps=2)
    assert [type(w.message) for w in health] == [DeadUnitWarning]
    assert "75% of the units after activation '1' (ReLU)" in str(health[0].message)
    assert mon.diagnoses[0].kind == "dead"


def test_dead_units_need_a_fair_sample():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    mon = GradientMonitor(model)
    model(retrograd.randn(1, 4)).sum().backward()  # one sample: half the units idle
    mon.step()
    assert mon.diagnoses == []


def test_warn_false_and_check_every():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    mon = GradientMonitor(model, warn=False, check_every=0)
    with retrograd.no_grad():
        model[0].bias.fill_(-100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            model.zero_grad()
            model(retrograd.randn(32, 4)).sum().backward()
            mon.step()
        assert mon.diagnoses == []
        found = mon.check()
    # every unit is dead, so no gradient reaches the first layer either
    assert sorted(d.kind for d in found) == ["dead", "vanishing"]
    assert not mon.warn


# ------------------------------------------------------------------ tensor gradients

def test_record_tensor_grads_per_time_step_norms():
    retrograd.manual_seed(1)
    T, H = 6, 3
    W = retrograd.randn(H, H, dtype=retrograd.float64, requires_grad=True)
    xs = retrograd.randn(T, H, dtype=retrograd.float64)
    h = retrograd.zeros(H, dtype=retrograd.float64)
    hs = []
    for t in range(T):
        h = retrograd.tanh(W @ h + xs[t])
        hs.append(h)
    model = nn.Linear(1, 1)  # the monitor needs a model; the recorded tensors are separate
    mon = GradientMonitor(model)
    rec = mon.record_tensor_grads(hs, "h")
    (hs[-1].sum() + model(retrograd.ones(1, 1)).sum()).backward()
    mon.step()
    # backpropagation through time by hand: dL/dh_{t-1} = W^T (dL/dh_t * (1 - h_t^2))
    Wn = W.detach().numpy()
    hn = [x.detach().numpy() for x in hs]
    g = np.ones(H)
    expected = [0.0] * T
    for t in range(T - 1, -1, -1):
        expected[t] = np.linalg.norm(g)
        g = Wn.T @ (g * (1 - hn[t] ** 2))
    np.testing.assert_allclose(rec.norms, expected, rtol=1e-12)
    np.testing.assert_allclose(mon.tensor_history("h")[0], expected, rtol=1e-12)
    assert "‖∂L/∂h[t]‖" in mon.report()
    with pytest.raises(KeyError, match="nothing recorded under 'c'"):
        mon.tensor_history("c")


def test_record_tensor_grads_standalone_and_errors():
    x = retrograd.randn(3, requires_grad=True)
    a = x * 2
    b = a * 3
    rec = record_tensor_grads([a, b], keep=True)
    b.sum().backward()
    np.testing.assert_allclose(rec.norms, [3 * math.sqrt(3), math.sqrt(3)], rtol=1e-6)
    np.testing.assert_allclose(rec.grads[0], np.full(3, 3.0))
    with pytest.raises(ValueError, match="does not require grad"):
        record_tensor_grads([retrograd.ones(2)])


# ------------------------------------------------------------------ fit integration

def test_callback_with_fit(data):
    from retrograd.diagnostics import GradientMonitorCallback
    from retrograd.train import Callback, fit
    from retrograd.utils.data import DataLoader, TensorDataset

    x, y = data
    mon = GradientMonitorCallback()
    assert isinstance(mon, Callback) and isinstance(mon, GradientMonitor)
    model = deep_sigmoid()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    opt = retrograd.optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(VanishingGradientWarning):
        fit(model, loader, epochs=2, optimizer=opt, loss_fn=nn.MSELoss(), callbacks=[mon],
            metrics=(), verbose=0)
    assert mon.model is model
    assert mon.steps == list(range(8))  # trainer.global_step of each batch
    assert len(mon.history("grad_norm")["0"]) == 8


def test_callback_every_k_batches(data):
    from retrograd.diagnostics import GradientMonitorCallback
    from retrograd.train import fit
    from retrograd.utils.data import DataLoader, TensorDataset

    x, y = data
    mon = GradientMonitorCallback(every=3, warn=False)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    fit(model, loader, epochs=1, optimizer=retrograd.optim.SGD(model.parameters(), lr=0.01),
        loss_fn=nn.MSELoss(), callbacks=[mon], metrics=(), verbose=0)
    assert mon.steps == [0, 3, 6]


# ------------------------------------------------------------------ plots

def test_plots_write_png(data, tmp_path):
    x, y = data
    mon, _ = _train(deep_sigmoid(depth=3), x, y, steps=4)
    p = tmp_path / "norms.png"
    fig = mon.plot_grad_norms(p)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes[0].lines) == len(mon.layer_names)
    p2 = tmp_path / "hist.png"
    fig = mon.plot_histograms(p2, step=1)
    assert p2.read_bytes()[:4] == b"\x89PNG"
    assert "step 1" in fig._suptitle.get_text()
    from retrograd.diagnostics import plot_activations

    p3 = tmp_path / "acts.png"
    plot_activations(mon, p3)
    assert p3.exists()
    with pytest.raises(ValueError, match="no histograms at step 99"):
        mon.plot_histograms(step=99)
    with pytest.raises(ValueError, match="unknown layer"):
        mon.plot_grad_norms(layers=["nope"])


def test_plots_need_records():
    from retrograd.diagnostics import plot_grad_norms

    with pytest.raises(ValueError, match="no record yet"):
        plot_grad_norms(GradientMonitor(nn.Linear(2, 2)))


def test_example_script_runs(tmp_path):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "vanishing_gradients.py"
    mod = runpy.run_path(str(script))
    results = mod["main"](["--steps", "3", "--out", str(tmp_path), "--plots", "norms"])
    assert results["sigmoid"] == ["vanishing"]
    assert results["residual"] == []
    assert (tmp_path / "sigmoid_grad_norms.png").exists()
