"""Accuracy benchmark: train the reference models to their target test accuracy.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.accuracy [--only NAME ...]
        [--data-dir ../shared/data] [--torch]

Runs (targets from the issue tracker):
    digits-mlp      MLP on the bundled 8x8 digits              >= 97%
    mnist-lenet     LeNet-5 on MNIST                           >= 99.0%
    fashion-mlp     MLP on Fashion-MNIST                       >= 88%
    fashion-cnn     small CNN (batch norm) on Fashion-MNIST    >= 91%

Each run prints test accuracy, epochs and wall time; with ``--torch`` the LeNet-5 run is
repeated with PyTorch (same data, architecture, optimizer, batch size and epochs) to
compare wall time. Results go to benchmarks/results/accuracy.json. Not a test: it takes
minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
DEFAULT_DATA = ROOT.parent.parent / "shared" / "data"

RUNS = {
    # name: (dataset, model, epochs, batch, lr, extra options, target)
    "digits-mlp": ("digits", "mlp", 40, 32, 1e-3, {"hidden": [128, 64]}, 0.97),
    "mnist-lenet": ("mnist", "lenet", 8, 64, 1e-3, {"schedule": "cosine"}, 0.990),
    "fashion-mlp": ("fashion-mnist", "mlp", 15, 64, 1e-3,
                    {"hidden": [256, 128], "dropout": 0.2}, 0.88),
    "fashion-cnn": ("fashion-mnist", "cnn", 4, 128, 2e-3, {"schedule": "cosine"}, 0.91),
}


def _args(dataset, model, epochs, batch, lr, extra, data_dir, seed=0):
    from retrograd.cli import make_parser

    argv = ["train", "--dataset", dataset, "--model", model, "--epochs", str(epochs),
            "--batch-size", str(batch), "--lr", str(lr), "--seed", str(seed), "--no-plots",
            "--out", str(ROOT / "results" / f"{dataset}-{model}")]
    if data_dir:
        argv += ["--data-dir", str(data_dir), "--no-download"]
    if "hidden" in extra:
        argv += ["--hidden", ",".join(map(str, extra["hidden"]))]
    if "dropout" in extra:
        argv += ["--dropout", str(extra["dropout"])]
    if "schedule" in extra:
        argv += ["--schedule", extra["schedule"]]
    return argv, make_parser()


def run_retrograd(name, data_dir):
    from retrograd.cli import main

    dataset, model, epochs, batch, lr, extra, target = RUNS[name]
    argv, _ = _args(dataset, model, epochs, batch, lr, extra, data_dir)
    t0 = time.perf_counter()
    rc = main(argv)
    wall = time.perf_counter() - t0
    if rc:
        raise SystemExit(f"{name}: retrograd train failed (exit {rc})")
    out = ROOT / "results" / f"{dataset}-{model}"
    acc = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    return {"run": name, "test_accuracy": acc, "target": target, "epochs": epochs,
            "seconds": round(wall, 1), "met": acc >= target}


def run_torch_lenet(data_dir):
    """The mnist-lenet run with PyTorch: same data split, preprocessing and schedule."""
    import torch

    from retrograd.cli import Preprocess, load_dataset

    dataset, model, epochs, batch, lr, extra, target = RUNS["mnist-lenet"]
    torch.manual_seed(0)
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    t0 = time.perf_counter()
    ds = load_dataset("mnist", data_dir, 0, download=False)
    prep = Preprocess.fit("image", ds["x_train"])
    xtr, ytr = torch.from_numpy(prep(ds["x_train"])), torch.from_numpy(ds["y_train"].astype(np.int64))
    xte, yte = torch.from_numpy(prep(ds["x_test"])), torch.from_numpy(ds["y_test"].astype(np.int64))
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=batch,
                                         shuffle=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        net.train()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(net(x), y).backward()
            opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        acc = (net(xte).argmax(1) == yte).float().mean().item()
    return {"run": "mnist-lenet (PyTorch)", "test_accuracy": acc, "target": target, "epochs": epochs,
            "seconds": round(time.perf_counter() - t0, 1), "met": acc >= target}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(RUNS))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA) if DEFAULT_DATA.exists() else None)
    p.add_argument("--torch", action="store_true", help="also time the LeNet-5 run with PyTorch")
    args = p.parse_args(argv)
    from benchmarks.compare import machine_info

    info = machine_info()
    print(f"CPU: {info['cpu']}  BLAS: {info['blas']}")
    rows = []
    for name in args.only or list(RUNS):
        rows.append(run_retrograd(name, args.data_dir))
        print(json.dumps(rows[-1]))
    if args.torch:
        rows.append(run_torch_lenet(args.data_dir))
        print(json.dumps(rows[-1]))
    print(f"\n{'run':<24}{'test acc':>10}{'target':>8}{'epochs':>8}{'seconds':>9}")
    for r in rows:
        print(f"{r['run']:<24}{100 * r['test_accuracy']:>9.2f}%{100 * r['target']:>7.1f}%"
              f"{r['epochs']:>8}{r['seconds']:>9.1f}")
    out = ROOT / "results" / "accuracy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "runs": rows}, indent=2))
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
