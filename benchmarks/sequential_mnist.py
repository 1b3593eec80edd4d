"""Sequential MNIST: a GRU reads each 28x28 digit as 28 rows of 28 pixels.

A longer benchmark of the recurrent layers than the 8x8 digits example (a benchmark,
not a test: a full run takes tens of minutes on two cores). The images come from the
shared copy of the original IDX files (``../shared/data`` beside the checkout), or
``--data-dir``, or the library's cache; nothing is downloaded unless ``--download``.

Prints the GRU's test accuracy next to two baselines (majority class, and logistic
regression on the 784 pixels), and the time per epoch.

Usage (from the repository root)::

    python -m benchmarks.sequential_mnist                      # GRU(128), 3 epochs
    python -m benchmarks.sequential_mnist --limit 5000 --epochs 1   # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import retrograd
from retrograd import nn
from retrograd.data import load_mnist
from retrograd.utils.data import DataLoader, TensorDataset

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class RowGRU(nn.Module):
    """GRU over the rows of an image (``(N, 28, 28)``: 28 steps of 28 pixels) → Linear."""

    def __init__(self, hidden=128, num_classes=10):
        super().__init__()
        self.gru = nn.GRU(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


def _load(args):
    root = args.data_dir or (SHARED if SHARED.exists() else None)
    xtr, ytr = load_mnist(root, train=True, download=args.download, return_tensors=False)
    xte, yte = load_mnist(root, train=False, download=args.download, return_tensors=False)
    xtr, xte = xtr.reshape(-1, 28, 28), xte.reshape(-1, 28, 28)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    return (xtr.astype(np.float32), ytr.astype(np.int64)), (xte.astype(np.float32),
                                                            yte.astype(np.int64))


def _train(model, x, y, epochs, lr, batch_size, seed, label):
    loader = DataLoader(TensorDataset(retrograd.from_numpy(x), retrograd.from_numpy(y)),
                        batch_size=batch_size, shuffle=True,
                        generator=retrograd.Generator().manual_seed(seed))
    opt = retrograd.optim.Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    hist = retrograd.train.fit(model, loader, epochs=epochs, optimizer=opt,
                               loss_fn=nn.CrossEntropyLoss(), clip_grad_norm=5.0, verbose=2)
    per_epoch = (time.perf_counter() - t0) / epochs
    print(f"{label}: {per_epoch:.1f}s per epoch, final training loss "
          f"{hist.history['loss'][-1]:.4f}")
    return per_epoch


def _accuracy(model, x, y):
    logits = retrograd.train.predict(model, retrograd.from_numpy(x), batch_size=1000)
    return float(np.mean(logits.numpy().argmax(1) == y))


def main(argv=None):
    p = argparse.ArgumentParser(description="Sequential MNIST with a GRU (rows as time steps).")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, help="use only the first N training images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="folder with the MNIST IDX files")
    p.add_argument("--download", action="store_true", help="download MNIST if missing")
    args = p.parse_args(argv)

    (xtr, ytr), (xte, yte) = _load(args)
    print(f"sequential MNIST: {len(ytr):,} train / {len(yte):,} test, 28 steps of 28 pixels")
    retrograd.manual_seed(args.seed)
    gru = RowGRU(args.hidden)
    _train(gru, xtr, ytr, args.epochs, args.lr, args.batch_size, args.seed,
           f"GRU({args.hidden})")
    retrograd.manual_seed(args.seed)
    logreg = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    _train(logreg, xtr, ytr, args.epochs, 1e-3, args.batch_size, args.seed, "logistic regression")
    majority = float(np.mean(yte == np.bincount(ytr).argmax()))
    print(f"test accuracy: GRU over rows {100 * _accuracy(gru, xte, yte):.2f}%, logistic "
          f"regression {100 * _accuracy(logreg, xte, yte):.2f}%, majority class "
          f"{100 * majority:.2f}%")


if __name__ == "__main__":
    main()
