"""Callbacks: early stopping, checkpoints, CSV logs, LR scheduling, progress, plots."""

import csv
import io
import math
import re
import sys

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.ops.reduction import log_softmax
from retrograd.optim import SGD
from retrograd.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from retrograd.train import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LRSchedulerCallback,
    ModelCheckpoint,
    ProgressBar,
    fit,
    format_epoch_summary,
    plot_confusion_matrix,
    plot_history,
)
from retrograd.utils.data import DataLoader, TensorDataset


def ce(output, target):
    return -log_softmax(output, 1).gather(1, target.unsqueeze(1)).mean()


def problem(n=24, batch_size=8):
    g = retrograd.Generator().manual_seed(5)
    x = retrograd.randn(n, 3, generator=g)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(3, 2)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    return model, SGD(model.parameters(), lr=0.1), loader


class Script(Callback):
    """Puts a scripted value into the epoch logs under ``name`` (before other callbacks)."""

    order = -200

    def __init__(self, values, name="score"):
        self.values, self.name = values, name

    def on_epoch_end(self, epoch, logs=None):
        logs[self.name] = self.values[epoch]


class Snapshots(Callback):
    """Keeps a copy of the weights at the end of every epoch."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        state = self.trainer.model.state_dict()
        self.weights.append({k: v.numpy().copy() for k, v in state.items()})


def run(callbacks, epochs=10, **kw):
    model, opt, loader = problem()
    h = fit(model, loader, epochs=epochs, optimizer=opt, loss_fn=ce, callbacks=callbacks, **kw)
    return model, h


# ---------------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_at_the_right_epoch_and_restores_best_weights():
    # best at epoch 2; patience 2 -> epochs 3 and 4 do not improve -> stop after 4
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5, 0.1, 0.1, 0.1]
    snaps = Snapshots()
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    model, h = run([Script(values), stop, snaps])
    assert h.epoch == [0, 1, 2, 3, 4]
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2 and stop.best == 3.0
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snaps.weights[2][k])
    assert any(not np.array_equal(snaps.weights[4][k], snaps.weights[2][k])
               for k in snaps.weights[2])


def test_early_stopping_modes_min_delta_and_baseline():
    # 'accuracy' in the name -> mode max
    stop = EarlyStopping(monitor="val_accuracy", patience=1)
    assert stop.mode == "max"
    _, h = run([Script([0.5, 0.6, 0.55, 0.7], "val_accuracy"), stop], epochs=4)
    assert h.epoch == [0, 1, 2]
    # improvements smaller than min_delta do not count
    stop = EarlyStopping(monitor="score", patience=2, min_delta=0.5)
    _, h = run([Script([10.0, 9.8, 9.7, 9.6, 9.0]), stop], epochs=5)
    assert h.epoch == [0, 1, 2] and stop.best == 10.0
    # a first epoch that does not beat the baseline does not reset the patience
    # counter (Keras semantics), so training stops one epoch earlier than without it
    values = [5.0, 6.0, 7.0, 8.0, 9.0]
    _, h = run([Script(values), EarlyStopping(monitor="score", patience=3)], epochs=5)
    assert h.epoch == [0, 1, 2, 3]
    _, h = run([Script(values), EarlyStopping(monitor="score", patience=3, baseline=1.0)],
               epochs=5)
    assert h.epoch == [0, 1, 2]


def test_early_stopping_on_real_val_loss_and_missing_monitor_warns():
    model, opt, loader = problem()
    stop = EarlyStopping(patience=0)
    h = fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, val_loader=loader,
            callbacks=[stop])
    losses = h.history["val_loss"]
    assert len(losses) == 3 or losses[-1] >= min(losses[:-1])
    with pytest.warns(UserWarning, match="'nope' is not in the logs"):
        run([EarlyStopping(monitor="nope")], epochs=1)


def test_early_stopping_state_roundtrip():
    stop = EarlyStopping(monitor="score", patience=3, restore_best_weights=True)
    run([Script([3.0, 2.0, 2.5]), stop], epochs=3)
    state = retrograd.load(_bytes(stop.state_dict()))
    other = EarlyStopping(monitor="score", patience=3, restore_best_weights=True)
    other.load_state_dict(state)
    assert (other.wait, other.best, other.best_epoch) == (1, 2.0, 1)
    for k, v in stop.best_weights.items():
        np.testing.assert_array_equal(other.best_weights[k], v)


def _bytes(obj):
    buf = io.BytesIO()
    retrograd.save(obj, buf)
    buf.seek(0)
    return buf


# ---------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_saves_best_only(tmp_path):
    values = [3.0, 2.0, 2.5, 1.0, 1.5]
    snaps = Snapshots()
    pattern = ModelCheckpoint(tmp_path / "e{epoch}.safetensors", monitor="score",
                              save_best_only=True, save_weights_only=True)
    best = ModelCheckpoint(tmp_path / "best.safetensors", monitor="score",
                           save_best_only=True, save_weights_only=True)
    run([Script(values), snaps, pattern, best], epochs=5)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best.safetensors", "e1.safetensors", "e2.safetensors", "e4.safetensors"]
    state = retrograd.load(tmp_path / "best.safetensors")
    for k, v in state.items():
        np.testing.assert_array_equal(v.numpy(), snaps.weights[3][k])
    assert best.best == 1.0 and best.best_path == str(tmp_path / "best.safetensors")
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(retrograd.load(tmp_path / "e2.safetensors"))
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), snaps.weights[1]["weight"])


def test_model_checkpoint_formats_logs_and_writes_full_checkpoints(tmp_path):
    model, opt, loader = problem()
    cb = ModelCheckpoint(tmp_path / "sub" / "m-{epoch:02d}-{val_loss:.4f}.safetensors")
    h = fit(model, loader, epochs=2, optimizer=opt, loss_fn=ce, val_loader=loader,
            callbacks=[cb])
    expected = f"m-02-{h.history['val_loss'][1]:.4f}.safetensors"
    assert cb.last_saved.endswith(expected)
    ckpt = retrograd.load(cb.last_saved)
    assert ckpt["epoch"] == 2 and ckpt["global_step"] == 2 * len(loader)
    assert set(ckpt) >= {"model", "optimizer", "rng", "history", "callbacks"}
    assert ckpt["history"]["history"]["val_loss"] == h.history["val_loss"]
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(KeyError, match="val_acc"):
        run([ModelCheckpoint(tmp_path / "{val_acc}.safetensors")], epochs=1)
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x", save_freq=10)


# ---------------------------------------------------------------- CSVLogger / History
def test_csv_logger_content_and_append(tmp_path):
    path = tmp_path / "log.csv"
    model, opt, loader = problem()
    h = fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, val_loader=loader,
            callbacks=[CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, row in enumerate(rows[1:]):
        for key, text in zip(rows[0][1:], row[1:]):
            assert float(text) == h.history[key][i]  # exact: floats written with repr
    fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce, val_loader=loader,
        initial_epoch=3, callbacks=[CSVLogger(path, append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3", "4"]


def test_history_json_csv_and_alignment(tmp_path):
    h = History()
    h.record(0, {"loss": 1.0})
    h.record(1, {"loss": 0.5, "val_loss": float("nan")})
    assert math.isnan(h.history["val_loss"][0]) and len(h.history["val_loss"]) == 2
    back = History.from_json(h.to_json())
    assert back.epoch == [0, 1] and back.history["loss"] == [1.0, 0.5]
    h.to_json(tmp_path / "h.json")
    assert History.from_json(tmp_path / "h.json").history["loss"] == [1.0, 0.5]
    h.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines() == [
        "epoch,loss,val_loss", "0,1.0,nan", "1,0.5,nan"]


# ---------------------------------------------------------------- LR scheduling
def test_lr_scheduler_callback_per_epoch_and_per_batch():
    model, opt, loader = problem()
    h = fit(model, loader, epochs=4, optimizer=opt, loss_fn=ce,
            callbacks=[LRSchedulerCallback(StepLR(opt, step_size=2, gamma=0.1))])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01])

    model, opt, loader = problem()
    lrs = []
    fit(model, loader, epochs=2, optimizer=opt, loss_fn=ce,
        scheduler=StepLR(opt, step_size=1, gamma=0.5), scheduler_step="batch",
        callbacks=[LambdaCallback(on_batch_end=lambda b, logs: lrs.append(logs["lr"]))])
    steps = 2 * len(loader)
    assert lrs == pytest.approx([0.1 * 0.5 ** i for i in range(steps)])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** steps)


def test_reduce_lr_on_plateau_gets_the_monitored_metric():
    model, opt, loader = problem()
    sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    h = fit(model, loader, epochs=5, optimizer=opt, loss_fn=ce,
            callbacks=[Script([1.0, 1.0, 1.0, 1.0, 1.0]),
                       LRSchedulerCallback(sched, monitor="score")])
    # epoch 0 sets best; 1 and 2 are bad -> reduced after epoch 2; 3, 4 bad -> after 4
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)
    with pytest.raises(KeyError, match="'nope'"):
        run([LRSchedulerCallback(ReduceLROnPlateau(SGD(nn.Linear(1, 1).parameters(), lr=1)),
                                 monitor="nope")], epochs=1)
    with pytest.raises(ValueError, match="epoch metric"):
        LRSchedulerCallback(sched, step="batch")
    with pytest.raises(ValueError, match="twice"):
        s = StepLR(opt, 1)
        run([LRSchedulerCallback(s)], epochs=1, scheduler=s)


# ---------------------------------------------------------------- ProgressBar
def test_progress_output_by_verbosity(capsys):
    run([], epochs=2)  # 'auto' and not a terminal: silent
    assert capsys.readouterr().out == ""
    run([], epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    run([], epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Epoch 2/2 - loss: \d\.\d{4} - accuracy: \d\.\d{4} - lr: 0\.1 - "
                        r"\d+\.\ds", lines[1])


def test_progress_bar_forced_draws_a_bar():
    buf = io.StringIO()
    run([ProgressBar(verbose=1, force=True, file=buf)], epochs=1)
    text = buf.getvalue()
    assert "Epoch 1/1" in text and "batch" in text and "loss: " in text


def test_progress_bar_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"retrograd\[train\]"):
        run([ProgressBar(force=True, file=io.StringIO())], epochs=1)
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="tqdm is not installed"):
        run([ProgressBar(verbose=1, file=_Tty(buf))], epochs=1)
    assert buf.getvalue().startswith("Epoch 1/1 - loss: ")


class _Tty(io.TextIOBase):
    def __init__(self, buf):
        self.buf = buf

    def isatty(self):
        return True

    def write(self, text):
        return self.buf.write(text)


def test_format_epoch_summary():
    logs = {"loss": 0.12345, "accuracy": 0.965, "val_loss": 0.2, "lr": 0.001}
    assert format_epoch_summary(2, 10, logs, 1.234) == (
        "Epoch 3/10 - loss: 0.1235 - accuracy: 0.9650 - val_loss: 0.2000 - lr: 0.001 - 1.2s")


# ---------------------------------------------------------------- Lambda / list / order
def test_hooks_are_called_in_order_with_gradients_before_step():
    events = []
    model, opt, loader = problem(n=16, batch_size=8)

    def after_backward(batch, logs):
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None for g in grads)
        # the step has not happened yet: w - lr * grad is what the step will give
        events.append(("after_backward", batch, [p._data - 0.1 * p.grad._data
                                                  for p in model.parameters()]))

    def batch_end(batch, logs):
        expected = events[-1][2]
        for p, e in zip(model.parameters(), expected):
            np.testing.assert_array_equal(p._data, e)
        events.append(("batch_end", batch, logs["batch_size"]))

    cb = LambdaCallback(on_train_begin=lambda logs: events.append(("train_begin",)),
                        on_epoch_begin=lambda e, logs: events.append(("epoch_begin", e)),
                        on_batch_begin=lambda b, logs: events.append(("batch_begin", b)),
                        on_after_backward=after_backward, on_batch_end=batch_end,
                        on_epoch_end=lambda e, logs: events.append(("epoch_end", e)),
                        on_train_end=lambda logs: events.append(("train_end",)))
    fit(model, loader, epochs=1, optimizer=opt, loss_fn=ce, callbacks=[cb])
    names = [e[0] if len(e) < 2 else (e[0], e[1]) for e in events]
    assert names == ["train_begin", ("epoch_begin", 0), ("batch_begin", 0),
                     ("after_backward", 0), ("batch_end", 0), ("batch_begin", 1),
                     ("after_backward", 1), ("batch_end", 1), ("epoch_end", 0), "train_end"]
    assert cb.trainer is not None and cb.trainer.global_step == 2


def test_callback_list_orders_and_validates():
    a, b, c = Callback(), ModelCheckpoint("x"), LRSchedulerCallback(StepLR(problem()[1], 1))
    cl = CallbackList([b, a, c], trainer="T")
    assert list(cl) == [c, a, b] and a.trainer == "T"
    with pytest.raises(TypeError, match="LambdaCallback"):
        CallbackList([lambda: None])


# ---------------------------------------------------------------- plots
PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    model, opt, loader = problem()
    h = fit(model, loader, epochs=3, optimizer=opt, loss_fn=ce, val_loader=loader,
            scheduler=StepLR(opt, 1, 0.5))
    path = plot_history(h, tmp_path / "curves.png", title="toy")
    data = (tmp_path / "curves.png").read_bytes()
    assert path == str(tmp_path / "curves.png")
    assert data.startswith(PNG) and len(data) > 10_000
    plot_history({"loss": [3, 2, 1]}, tmp_path / "plain.png")
    assert (tmp_path / "plain.png").read_bytes().startswith(PNG)
    with pytest.raises(KeyError, match="mae"):
        plot_history(h, tmp_path / "x.png", metrics=["mae"])


def test_plot_confusion_matrix_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    cm = retrograd.tensor([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=["a", "b", "c"])
    plot_confusion_matrix(cm.numpy(), tmp_path / "cmn.png", normalize=True)
    for name in ("cm.png", "cmn.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "bad.png")
    with pytest.raises(ValueError, match="class names"):
        plot_confusion_matrix(cm, tmp_path / "bad.png", class_names=["a"])
