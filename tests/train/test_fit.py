"""fit / Trainer / evaluate / predict: the loop's semantics, reproducibility, resume."""

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.ops.reduction import log_softmax
from retrograd.optim import SGD
from retrograd.optim.lr_scheduler import StepLR
from retrograd.train import (
    Callback,
    LambdaCallback,
    ModelCheckpoint,
    Trainer,
    evaluate,
    fit,
    predict,
)
from retrograd.utils.data import DataLoader, TensorDataset


def ce(output, target):
    return -log_softmax(output, 1).gather(1, target.unsqueeze(1)).mean()


def mse(output, target):
    return ((output - target) ** 2).mean()


def blobs(n=64, seed=7):
    g = retrograd.Generator().manual_seed(seed)
    x = retrograd.randn(n, 4, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def setup(seed=0, loader_seed=1, dropout=0.2, shuffle=True):
    """Model, SGD with momentum, StepLR, a shuffling loader with its own generator."""
    retrograd.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(dropout), nn.Linear(16, 2))
    opt = SGD(model.parameters(), lr=0.2, momentum=0.9)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    x, y = blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=shuffle,
                        generator=retrograd.Generator().manual_seed(loader_seed))
    val = DataLoader(TensorDataset(*blobs(30, seed=8)), batch_size=16)
    return model, opt, sched, loader, val


def weights(model):
    return [p._data.copy() for p in model.parameters()]


def assert_bitwise(ws, model):
    for w, p in zip(ws, model.parameters()):
        assert w.tobytes() == p._data.tobytes()


# ---------------------------------------------------------------- basics
def test_fit_learns_and_records_history():
    model, opt, sched, loader, val = setup()
    model.eval()
    history = fit(model, loader, epochs=6, optimizer=opt, loss_fn=ce, val_loader=val,
                  scheduler=sched)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert history.epoch == list(range(6))
    assert all(len(v) == 6 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.9
    assert history.history["lr"] == [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
    assert not model.training  # the mode the model had before fit


def test_fit_with_library_layers_and_loss():
    if not hasattr(nn, "CrossEntropyLoss") or not hasattr(nn, "ReLU"):
        pytest.skip("nn.CrossEntropyLoss / nn.ReLU not available yet")
    retrograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    x, y = blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    h = fit(model, loader, epochs=8, optimizer=SGD(model.parameters(), lr=0.2, momentum=0.9),
            loss_fn=nn.CrossEntropyLoss(), metrics=("accuracy", "top1_accuracy"))
    assert h.history["accuracy"][-1] >= 0.9
    assert h.history["accuracy"] == h.history["top1_accuracy"]
    assert h.history["loss"][-1] < h.history["loss"][0] / 2


def test_fit_equals_the_handwritten_loop():
    model, opt, sched, loader, _ = setup(dropout=0.3)
    fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, scheduler=sched, clip_grad_norm=0.5)
    expected = weights(model)

    model, opt, sched, loader, _ = setup(dropout=0.3)
    model.train()
    for _ in range(3):
        for x, y in loader:
            opt.zero_grad()
            ce(model(x), y).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
        sched.step()
    assert_bitwise(expected, model)


def test_fit_matches_a_torch_training_loop():
    torch = pytest.importorskip("torch")
    model, _, _, _, _ = setup(dropout=0.0, shuffle=False)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Dropout(0.0),
                                 torch.nn.Linear(16, 2))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in model.state_dict().items()})
    x, y = blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=10)
    opt = SGD(model.parameters(), lr=0.2, momentum=0.9)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, scheduler=sched)

    topt = torch.optim.SGD(tmodel.parameters(), lr=0.2, momentum=0.9)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    for _ in range(3):
        for i in range(0, 64, 10):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(tx[i:i + 10]), ty[i:i + 10]).backward()
            topt.step()
        tsched.step()
    for name, value in tmodel.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), value.numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_same_seed_same_history_bit_for_bit():
    runs = []
    for _ in range(2):
        model, opt, sched, loader, val = setup(seed=3, loader_seed=4)
        h = fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, val_loader=val,
                scheduler=sched)
        runs.append((h.history, weights(model)))
    assert runs[0][0] == runs[1][0]
    assert_bitwise(runs[0][1], model)
    model, opt, sched, loader, val = setup(seed=5, loader_seed=4)
    other = fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, val_loader=val)
    assert other.history["loss"] != runs[0][0]["loss"]


# ---------------------------------------------------------------- resume
def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    model, opt, sched, loader, val = setup()
    full = fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce, val_loader=val,
               scheduler=sched)
    expected = weights(model)

    # the "crashed" run: stops after epoch 2, keeping a full checkpoint per epoch
    model, opt, sched, loader, val = setup()
    crash = LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(
        crash.trainer, "stop_training", epoch == 1))
    ckpt = tmp_path / "ckpt-{epoch}.safetensors"
    fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce, val_loader=val, scheduler=sched,
        callbacks=[crash, ModelCheckpoint(ckpt)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-1.safetensors",
                                                          "ckpt-2.safetensors"]

    # a fresh process: other seeds, other loader state, RNG advanced
    model, opt, sched, loader, val = setup(seed=99, loader_seed=98)
    retrograd.rand(17)
    resumed = fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce, val_loader=val,
                  scheduler=sched, resume_from=tmp_path / "ckpt-2.safetensors")
    assert resumed.history == full.history and resumed.epoch == full.epoch
    assert_bitwise(expected, model)


def test_load_checkpoint_then_initial_epoch_continues_exactly(tmp_path):
    from retrograd.io import load_checkpoint, save_checkpoint

    model, opt, sched, loader, _ = setup()
    full = fit(model, loader, epochs=4, optimizer=opt, loss_fn=ce, scheduler=sched)
    expected = weights(model)

    model, opt, sched, loader, _ = setup()
    fit(model, loader, epochs=2, optimizer=opt, loss_fn=ce, scheduler=sched)
    path = tmp_path / "manual.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=2, generator=loader)

    model, opt, sched, loader, _ = setup(seed=11, loader_seed=12)
    ckpt = load_checkpoint(path, model, opt, sched, generator=loader)
    tail = fit(model, loader, epochs=4, optimizer=opt, loss_fn=ce, scheduler=sched,
               initial_epoch=ckpt["epoch"])
    assert tail.epoch == [2, 3]
    assert tail.history["loss"] == full.history["loss"][2:]
    assert_bitwise(expected, model)


# ---------------------------------------------------------------- loop details
class _Spy(nn.Module):
    """Records the mode and grad mode of each forward call."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, retrograd.is_grad_enabled(), x.shape[0]))
        return self.fc(x)


def test_validation_runs_in_eval_mode_without_grad():
    model = _Spy()
    x, y = blobs(20)
    train = DataLoader(TensorDataset(x, y), batch_size=8)
    val = DataLoader(TensorDataset(x, y), batch_size=20)
    fit(model, train, epochs=2, optimizer=SGD(model.parameters(), lr=0.1), loss_fn=ce,
        val_loader=val)
    expected = [(True, True, 8), (True, True, 8), (True, True, 4), (False, False, 20)] * 2
    assert model.calls == expected


def test_initial_epoch_and_epochs_semantics():
    model, opt, _, loader, _ = setup()
    h = fit(model, loader, epochs=4, optimizer=opt, loss_fn=ce, initial_epoch=2)
    assert h.epoch == [2, 3]
    h = fit(model, loader, epochs=2, optimizer=opt, loss_fn=ce, initial_epoch=2)
    assert h.epoch == [] and h.history == {}


def test_stop_training_stops_after_the_current_epoch():
    model, opt, _, loader, _ = setup()
    seen = []

    class Stopper(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(self.trainer.epoch)
            if self.trainer.epoch == 1:
                self.trainer.stop_training = True

    h = fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce, callbacks=[Stopper()])
    assert h.epoch == [0, 1]
    assert seen.count(1) == len(loader)  # epoch 1 ran to its end


def test_regression_with_auto_metrics_matches_evaluate():
    retrograd.manual_seed(0)
    g = retrograd.Generator().manual_seed(2)
    x = retrograd.randn(40, 3, generator=g)
    y = x @ retrograd.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    model = nn.Linear(3, 1)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    h = fit(model, loader, epochs=3, optimizer=SGD(model.parameters(), lr=0.05), loss_fn=mse,
            metrics="auto", val_loader=loader)
    assert list(h.history) == ["loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse", "lr"]
    scores = evaluate(model, loader, loss_fn=mse, metrics=("mae", "rmse"))
    pred = model(x).detach().numpy().astype(np.float64)
    err = pred - y.numpy()
    assert scores["mae"] == pytest.approx(np.abs(err).mean(), rel=1e-9)
    assert scores["rmse"] == pytest.approx(np.sqrt((err ** 2).mean()), rel=1e-9)
    assert h.history["val_mae"][-1] == scores["mae"]
    assert h.history["val_loss"][-1] == pytest.approx(scores["rmse"] ** 2, rel=1e-5)


def test_default_accuracy_on_regression_targets_is_a_clear_error():
    x = retrograd.randn(8, 3)
    y = retrograd.randn(8, 1) * 3
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="mae"):
        fit(model, DataLoader(TensorDataset(x, y), batch_size=4), epochs=1,
            optimizer=SGD(model.parameters(), lr=0.1), loss_fn=mse)


def test_evaluate_and_predict():
    model, opt, _, loader, val = setup(dropout=0.5)
    fit(model, loader, epochs=2, optimizer=opt, loss_fn=ce)
    model.train()
    x, y = blobs(30, seed=8)
    with retrograd.no_grad():
        model.eval()
        out = model(x)
        model.train()
    scores = evaluate(model, val, loss_fn=ce, metrics=("accuracy", "top1_accuracy"))
    assert model.training  # restored
    assert scores["accuracy"] == float(np.mean(out.numpy().argmax(1) == y.numpy()))
    assert scores["top1_accuracy"] == scores["accuracy"]
    assert scores["loss"] == pytest.approx(ce(out, y).item(), rel=1e-6)

    # other batch sizes may change BLAS blocking, hence the (tight) tolerance
    np.testing.assert_allclose(predict(model, x, batch_size=7).numpy(), out.numpy(), rtol=1e-6)
    np.testing.assert_allclose(predict(model, val).numpy(), out.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(predict(model, x.numpy()).numpy(), out.numpy())
    assert model.training
    trainer = Trainer(model, opt, ce, metrics=("accuracy", "top1_accuracy"))
    assert trainer.evaluate(val) == scores
    np.testing.assert_array_equal(trainer.predict(x).numpy(), out.numpy())


def test_clip_grad_norm_bounds_the_step_and_logs_the_norm():
    model = nn.Linear(4, 2)
    x, y = blobs(8)
    before = weights(model)
    logs = []
    fit(model, DataLoader(TensorDataset(x * 100, y), batch_size=8), epochs=1,
        optimizer=SGD(model.parameters(), lr=1.0), loss_fn=ce, clip_grad_norm=0.01,
        callbacks=[LambdaCallback(on_batch_end=lambda b, l: logs.append(dict(l)))])
    step = np.sqrt(sum(((p._data - w) ** 2).sum() for p, w in zip(model.parameters(), before)))
    assert step <= 0.01 * (1 + 1e-5)
    assert logs[0]["grad_norm"] > 0.01
    assert set(logs[0]) == {"loss", "batch_size", "grad_norm", "lr"}


def test_bad_inputs_are_clear_errors():
    model = nn.Linear(4, 2)
    opt = SGD(model.parameters(), lr=0.1)
    x, y = blobs(8)
    with pytest.raises(TypeError, match=r"\(inputs, target\) pair"):
        fit(model, [(x, y, y)], epochs=1, optimizer=opt, loss_fn=ce)
    with pytest.raises(ValueError, match="scalar"):
        fit(model, [(x, y)], epochs=1, optimizer=opt, loss_fn=lambda o, t: o)
    with pytest.raises(ValueError, match="scheduler_step"):
        fit(model, [(x, y)], epochs=1, optimizer=opt, loss_fn=ce, scheduler_step="step")
    with pytest.raises(ValueError, match="verbose"):
        fit(model, [(x, y)], epochs=1, optimizer=opt, loss_fn=ce, verbose=3)
    with pytest.raises(RuntimeError, match="not available"):
        fit(model, [(x, y)], epochs=1, optimizer=opt, loss_fn=ce, device="cuda")


def test_multiple_inputs_and_plain_list_loader():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 2)

        def forward(self, u, v):
            return self.a(u) + self.b(v)

    model = Two()
    x, y = blobs(8)
    h = fit(model, [((x, x * 2), y)] * 3, epochs=2, optimizer=SGD(model.parameters(), lr=0.1),
            loss_fn=ce)
    assert len(h.history["loss"]) == 2
