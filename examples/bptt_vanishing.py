"""Backpropagation through time, made visible: vanishing and exploding gradients in RNNs.

The adding problem (``retrograd.data.make_adding_problem``): a sequence of (value, marker)
pairs, two of them marked; the answer is the sum of the two marked values, the first of
which may lie a whole sequence before the output. Predicting 1.0 always scores a mean
squared error of 1/6 = 0.167.

1. Sequence length 100, one backward pass: a vanilla tanh RNN's ‖∂L/∂h_t‖ shrinks by
   about twenty orders of magnitude from the last step back to the first, and the
   TimeGradientMonitor warns (VanishingGradientWarning). An LSTM of the same size, its
   forget gate started open, keeps the gradient within two orders of magnitude.
2. Sequence length 50, training: the LSTM learns the task (MSE far below 0.167), with
   TimeGradientMonitorCallback recording the gradient through time as it trains; the
   vanilla RNN trained the same way stays near the baseline.
3. A ReLU RNN with recurrent weights 1.15·I: the gradient grows geometrically going back
   in time (ExplodingGradientWarning); one SGD step without clipping wrecks the model,
   with ``nn.utils.clip_grad_norm_`` the update stays small and finite.

Run:  python examples/bptt_vanishing.py [--out DIR] [--epochs 12]
It prints the monitors' reports and writes PNG plots into DIR (default runs/bptt).
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

import retrograd
from retrograd import nn
from retrograd.data import make_adding_problem
from retrograd.diagnostics import (
    TimeGradientMonitor,
    TimeGradientMonitorCallback,
    TrainingHealthWarning,
    plot_time_grad_norms,
)
from retrograd.utils.data import DataLoader, TensorDataset

HIDDEN = 32


class AddingModel(nn.Module):
    """A recurrent layer read at its last step by a linear head: one number per sequence."""

    def __init__(self, kind="lstm", hidden=HIDDEN, forget_bias=2.0):
        super().__init__()
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.rnn = cls(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        if kind == "lstm":
            # gates are ordered (input, forget, cell, output): open the forget gate
            with retrograd.no_grad():
                self.rnn.bias_hh_l0[hidden:2 * hidden] += forget_bias
        self.register_buffer("centre", retrograd.tensor([0.5, 0.0]))

    def forward(self, x):
        out, _ = self.rnn(x - self.centre)   # zero-mean values train faster
        return self.head(out[:, -1]).squeeze(-1)


def one_backward(kind, x, y):
    model = AddingModel(kind)
    mon = TimeGradientMonitor(model.rnn, "rnn")
    nn.functional.mse_loss(model(x), y).backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingHealthWarning)
        mon.step()
    for w in caught:
        print(f"  {w.category.__name__}: {str(w.message)[:160]}...")
    return mon


def part1(out):
    print("== 1. one backward pass, sequences of 100 steps")
    x, y = make_adding_problem(64, 100, seed=0)
    mons = {}
    for kind in ("rnn", "lstm"):
        print(f"-- {kind.upper()}")
        mons[kind] = one_backward(kind, x, y)
        print(mons[kind].report())
    path = os.path.join(out, "bptt_rnn_vs_lstm.png")
    plot_time_grad_norms({"vanilla tanh RNN": mons["rnn"], "LSTM (forget bias +2)":
                          mons["lstm"]}, path, title="‖∂L/∂h_t‖ for a loss at t = 99")
    print(f"wrote {path}\n")


def train(kind, epochs, out):
    retrograd.manual_seed(1)
    Xtr, ytr = make_adding_problem(1600, 50, seed=10)
    Xva, yva = make_adding_problem(400, 50, seed=11)
    model = AddingModel(kind)
    loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True,
                        generator=retrograd.Generator().manual_seed(0))
    cb = TimeGradientMonitorCallback(every=25, warn=False,
                                     plot_path=os.path.join(out, f"bptt_{kind}_training.png"))
    hist = retrograd.train.fit(
        model, loader, epochs=epochs, optimizer=retrograd.optim.Adam(model.parameters(), lr=0.01),
        loss_fn=nn.MSELoss(), val_loader=DataLoader(TensorDataset(Xva, yva), batch_size=400),
        metrics=(), clip_grad_norm=1.0, callbacks=[cb], verbose=0)
    baseline = float(((yva - 1.0) ** 2).mean())
    val = hist.history["val_loss"]
    print(f"-- {kind.upper()}: validation MSE by epoch: "
          + " ".join(f"{v:.3f}" for v in val)
          + f"  (baseline, always 1.0: {baseline:.3f})")
    a = cb.analyse()
    print(f"   at the end: ‖∂L/∂h_0‖ / peak = {a['decay']:.1e}; wrote {cb.plot_path}")
    return val[-1], baseline


def part2(out, epochs):
    print(f"== 2. training on sequences of 50 steps ({epochs} epochs of 25 batches)")
    lstm, baseline = train("lstm", epochs, out)
    rnn, _ = train("rnn", epochs, out)
    print(f"   LSTM {lstm:.4f} vs vanilla RNN {rnn:.4f} vs baseline {baseline:.4f}\n")


def part3():
    print("== 3. a ReLU RNN with recurrent weights 1.15·I, sequences of 100 steps")
    x, y = make_adding_problem(16, 100, seed=1)
    for clip in (False, True):
        retrograd.manual_seed(0)
        rnn = nn.RNN(2, 16, nonlinearity="relu", batch_first=True)
        head = nn.Linear(16, 1)
        with retrograd.no_grad():
            rnn.weight_hh_l0.copy_(retrograd.eye(16) * 1.15)
            rnn.weight_ih_l0.copy_(rnn.weight_ih_l0.abs())
            rnn.bias_ih_l0.copy_(rnn.bias_ih_l0.abs())
        params = list(rnn.parameters()) + list(head.parameters())
        mon = TimeGradientMonitor(rnn, "rnn", warn=not clip)
        out, _ = rnn(x)
        nn.functional.mse_loss(head(out[:, -1]).squeeze(-1), y).backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrainingHealthWarning)
            mon.step()
        for w in caught:
            print(f"  {w.category.__name__}: {str(w.message)[:160]}...")
        if clip:
            norm = float(nn.utils.clip_grad_norm_(params, max_norm=1.0))
        else:
            norm = float(np.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                                     for p in params)))
        retrograd.optim.SGD(params, lr=0.01).step()
        with retrograd.no_grad(), np.errstate(all="ignore"):
            o, _ = rnn(x)
            loss = float(nn.functional.mse_loss(head(o[:, -1]).squeeze(-1), y).item())
        print(f"  {'with' if clip else 'without'} clip_grad_norm_(max_norm=1): gradient norm "
              f"{norm:.2e}, loss after one SGD step (lr 0.01): {loss:.3e}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/bptt", help="where to write the plots")
    p.add_argument("--epochs", type=int, default=12, help="training epochs in part 2 (12)")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    part1(args.out)
    part2(args.out, args.epochs)
    part3()


if __name__ == "__main__":
    main()
