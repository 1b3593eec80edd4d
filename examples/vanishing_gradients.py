"""Vanishing gradients, seen and fixed.

Two networks of the same depth (10 linear layers) learn the same toy problem:

1. a plain MLP with sigmoid activations: each sigmoid multiplies the backward signal
   by at most 0.25, so after nine of them the first layer's gradient is millions of
   times smaller than the last layer's; the GradientMonitor warns
   (VanishingGradientWarning) and says what to try;
2. the same depth with ReLU, batch normalisation and residual connections
   (pre-activation blocks x + W·relu(bn(x))): the gradient keeps its size all the way
   down, and the monitor stays quiet.

Run:  python examples/vanishing_gradients.py [--steps 60] [--out DIR]
It prints both reports and writes gradient-norm plots and histograms as PNG files.
"""

from __future__ import annotations

import argparse
import os
import warnings

import retrograd
from retrograd import nn
from retrograd.data.toy import make_circles
from retrograd.diagnostics import GradientMonitor, TrainingHealthWarning

WIDTH = 32
DEPTH = 10


def sigmoid_mlp(n_in=2, n_out=2, depth=DEPTH, width=WIDTH):
    """``depth`` Linear layers with a sigmoid after each hidden one."""
    layers = [nn.Linear(n_in, width), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, n_out))


class PreActBlock(nn.Module):
    """A residual block ``x + W·relu(bn(x))``: the identity path carries the gradient."""

    def __init__(self, width):
        super().__init__()
        self.bn = nn.BatchNorm1d(width)
        self.act = nn.ReLU()
        self.lin = nn.Linear(width, width)

    def forward(self, x):
        return x + self.lin(self.act(self.bn(x)))


def residual_net(n_in=2, n_out=2, depth=DEPTH, width=WIDTH):
    """The same number of Linear layers: a stem, ``depth - 2`` residual blocks, a head."""
    blocks = [PreActBlock(width) for _ in range(depth - 2)]
    return nn.Sequential(nn.Linear(n_in, width), *blocks, nn.Linear(width, n_out))


def train(model, x, y, steps, lr):
    """A plain training loop with the monitor; returns it and the health warnings seen."""
    mon = GradientMonitor(model)
    opt = retrograd.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingHealthWarning)
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            mon.step()          # gradients are in .grad: record and check them
            opt.step()
    seen = [w for w in caught if issubclass(w.category, TrainingHealthWarning)]
    return mon, seen, loss.item()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="training steps per network")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    p.add_argument("--out", default=".", help="folder for the PNG plots")
    p.add_argument("--plots", choices=["all", "norms", "none"], default="all",
                   help="which plots to write (default: gradient norms and histograms)")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    retrograd.manual_seed(0)
    x, y = make_circles(256, noise=0.05, factor=0.5, seed=0)
    results = {}
    for name, build in (("sigmoid", sigmoid_mlp), ("residual", residual_net)):
        retrograd.manual_seed(1)
        model = build()
        mon, seen, loss = train(model, x, y, args.steps, args.lr)
        print(f"=== {name}: {DEPTH} linear layers, loss after {args.steps} steps: {loss:.4f}")
        for w in seen:
            print(f"warning: {w.category.__name__}: {w.message}")
        print(mon.report())
        if args.plots != "none":
            mon.plot_grad_norms(os.path.join(args.out, f"{name}_grad_norms.png"),
                                title=f"{name} network: gradient norm per layer")
        if args.plots == "all":
            mon.plot_histograms(os.path.join(args.out, f"{name}_histograms.png"),
                                kind="gradients")
        results[name] = [d.kind for d in mon.diagnoses]
    return results


if __name__ == "__main__":
    main()
