"""A sequence classifier on real data: the bundled 8x8 digits read row by row by a GRU.

Each 8x8 digit becomes a sequence of 8 time steps (its rows, top to bottom) of 8 pixel
values; a GRU reads the rows one at a time and a linear layer classifies its last hidden
state. Nothing is downloaded: the digits ship with retrograd (UCI optical digits,
1,797 images, CC BY 4.0).

Two baselines say what the accuracy means:

* the majority class (always answer the most frequent digit of the training split);
* multinomial logistic regression on the 64 pixels seen all at once (a linear model
  with the whole image; the GRU sees one row per step and must remember the others).

Run:  python examples/sequence_classifier.py [--epochs 30] [--hidden 64] [--seed 0]
For the longer benchmark (sequential MNIST, 28 rows of 28 pixels) see
benchmarks/sequential_mnist.py.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import retrograd
from retrograd import nn
from retrograd.data import load_digits, train_val_test_split
from retrograd.utils.data import DataLoader, TensorDataset


class GRUClassifier(nn.Module):
    """GRU over the time steps of a sequence, then a linear layer on its last hidden state.

    Args:
        input_size: features per time step (8 pixels per row for the digits).
        hidden_size: GRU width.
        num_classes: number of classes.
        num_layers: stacked GRU layers.

    Shape:
        input ``(N, T, input_size)``, output ``(N, num_classes)`` logits.
    """

    def __init__(self, input_size=8, hidden_size=64, num_classes=10, num_layers=1):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


def load_digit_sequences(seed=0):
    """The digits as ``(N, 8, 8)`` float32 sequences in [0, 1] (rows are time steps), split
    70/10/20 into train/val/test, stratified by class (the split ``retrograd train`` uses)."""
    X, y = load_digits(return_tensors=False)
    X = (X / 16.0).astype(np.float32)
    return train_val_test_split(X, y.astype(np.int64), val_size=0.1, test_size=0.2, stratify=y,
                                seed=seed)


def majority_baseline(y_train, y_test):
    """Accuracy of always predicting the most frequent training class."""
    majority = np.bincount(y_train).argmax()
    return float(np.mean(y_test == majority))


def _fit(model, train, val, epochs, lr, seed):
    gen = retrograd.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(*map(retrograd.from_numpy, train)), batch_size=32,
                        shuffle=True, generator=gen)
    val_loader = DataLoader(TensorDataset(*map(retrograd.from_numpy, val)), batch_size=512)
    return retrograd.train.fit(model, loader, epochs=epochs,
                               optimizer=retrograd.optim.Adam(model.parameters(), lr=lr),
                               loss_fn=nn.CrossEntropyLoss(), val_loader=val_loader,
                               clip_grad_norm=5.0, verbose=0)


def _accuracy(model, X, y):
    logits = retrograd.train.predict(model, retrograd.from_numpy(X))
    return float(np.mean(logits.numpy().argmax(1) == y))


def logistic_regression_baseline(train, val, test, epochs=60, lr=1e-2, seed=0):
    """Test accuracy of softmax regression on the flattened 64 pixels."""
    retrograd.manual_seed(seed)
    flat = lambda split: (split[0].reshape(len(split[0]), -1), split[1])
    model = nn.Linear(64, 10)
    _fit(model, flat(train), flat(val), epochs, lr, seed)
    return _accuracy(model, *flat(test))


def run(epochs=30, hidden=64, lr=3e-3, seed=0, baseline_epochs=60, verbose=True):
    """Train the GRU classifier and the baselines; return their test accuracies.

    Returns:
        dict: ``gru``, ``val_gru``, ``majority``, ``logistic``, ``seconds``.
    """
    t0 = time.perf_counter()
    train, val, test = load_digit_sequences(seed)
    retrograd.manual_seed(seed)
    model = GRUClassifier(8, hidden, 10)
    hist = _fit(model, train, val, epochs, lr, seed)
    res = {"gru": _accuracy(model, *test), "val_gru": float(hist.history["val_accuracy"][-1]),
           "majority": majority_baseline(train[1], test[1])}
    res["logistic"] = logistic_regression_baseline(train, val, test, baseline_epochs, seed=seed)
    res["seconds"] = time.perf_counter() - t0
    if verbose:
        n = sum(p.numel() for p in model.parameters())
        print(f"8x8 digits as sequences of 8 rows x 8 pixels: {len(train[1])} train / "
              f"{len(val[1])} val / {len(test[1])} test")
        print(f"GRU({hidden}) -> Linear(10), {n:,} parameters, {epochs} epochs, Adam lr={lr}")
        print(f"  test accuracy, GRU over rows:               {100 * res['gru']:.2f}%")
        print(f"  baseline, logistic regression on 64 pixels: {100 * res['logistic']:.2f}%")
        print(f"  baseline, majority class:                   {100 * res['majority']:.2f}%")
        print(f"  ({res['seconds']:.1f}s)")
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=30, help="GRU training epochs (30)")
    p.add_argument("--hidden", type=int, default=64, help="GRU hidden size (64)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (3e-3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = p.parse_args(argv)
    run(args.epochs, args.hidden, args.lr, args.seed)


if __name__ == "__main__":
    main()
