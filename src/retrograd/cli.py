"""The ``retrograd`` command: train, evaluate and predict, and explain backprop.

    retrograd train                      # an MLP on the bundled 8x8 digits, in seconds
    retrograd train --dataset mnist --model lenet --epochs 10
    retrograd evaluate runs/digits-mlp/model.safetensors
    retrograd predict runs/digits-mlp/model.safetensors samples.npy
    retrograd explain                    # one backprop step of the classic 2-2-2 network

Every mistake in the arguments gets a one-line message (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DATASETS = ("digits", "mnist", "fashion-mnist", "xor", "moons", "circles", "spirals", "text")
MODELS = ("mlp", "lenet", "cnn", "char-lstm")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "radam")
SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau", "exponential")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu", "elu", "selu", "mish")
IMAGE_DATASETS = ("mnist", "fashion-mnist")
TOY_DATASETS = ("xor", "moons", "circles", "spirals")

# Per-dataset defaults (used when the option is not given)
DEFAULTS = {
    "digits": {"model": "mlp", "epochs": 40, "batch_size": 32, "lr": 1e-3, "hidden": "128,64"},
    "mnist": {"model": "lenet", "epochs": 10, "batch_size": 64, "lr": 1e-3, "hidden": "256,128"},
    "fashion-mnist": {"model": "mlp", "epochs": 20, "batch_size": 64, "lr": 1e-3,
                      "hidden": "256,128"},
    "xor": {"model": "mlp", "epochs": 100, "batch_size": 32, "lr": 1e-2, "hidden": "16"},
    "moons": {"model": "mlp", "epochs": 100, "batch_size": 32, "lr": 1e-2, "hidden": "32,32"},
    "circles": {"model": "mlp", "epochs": 100, "batch_size": 32, "lr": 1e-2, "hidden": "32,32"},
    "spirals": {"model": "mlp", "epochs": 200, "batch_size": 32, "lr": 1e-2, "hidden": "64,64"},
    "text": {"model": "char-lstm", "epochs": 3, "batch_size": 32, "lr": 3e-3, "hidden": "256"},
}


from retrograd._cli_error import CLIError  # noqa: E402  (one class whether run as -m or installed)

# ---------------------------------------------------------------------- data

def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {v}")
    return v


def _hidden(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated layer widths like 128,64; got {text!r}") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return sizes


def load_dataset(name, data_dir=None, seed=0, download=True):
    """Arrays for a dataset: dict with x_train, y_train, x_val, y_val, x_test, y_test, kind."""
    from . import data as D

    if name == "digits":
        X, y = D.load_digits(return_tensors=False, flatten=True)
        X = X.astype(np.float32)
        (xtr, ytr), (xva, yva), (xte, yte) = D.train_val_test_split(
            X, y, val_size=0.1, test_size=0.2, stratify=y, seed=seed)
        return {"x_train": xtr, "y_train": ytr, "x_val": xva, "y_val": yva, "x_test": xte,
                "y_test": yte, "kind": "tabular", "num_classes": 10}
    if name in IMAGE_DATASETS:
        loader = D.load_mnist if name == "mnist" else D.load_fashion_mnist
        try:
            xtr, ytr = loader(data_dir, train=True, download=download, return_tensors=False)
            xte, yte = loader(data_dir, train=False, download=download, return_tensors=False)
        except (FileNotFoundError, OSError, RuntimeError) as e:
            raise CLIError(str(e)) from None
        (xtr, ytr), (xva, yva) = D.train_val_split(xtr, ytr, val_size=5000, seed=seed)
        def images(x):  # (N, 1, 28, 28) float32, whatever layout the loader returns
            return np.asarray(x, dtype=np.float32).reshape(len(x), 1, 28, 28)

        return {"x_train": images(xtr), "y_train": ytr, "x_val": images(xva), "y_val": yva,
                "x_test": images(xte), "y_test": yte, "kind": "image", "num_classes": 10}
    if name in TOY_DATASETS:
        make = {"xor": lambda: D.make_xor(1000, noise=0.1, seed=seed, return_tensors=False),
                "moons": lambda: D.make_moons(1000, noise=0.15, seed=seed, return_tensors=False),
                "circles": lambda: D.make_circles(1000, noise=0.08, factor=0.5, seed=seed,
                                                  return_tensors=False),
                "spirals": lambda: D.make_spirals(1500, n_classes=3, noise=0.2, seed=seed,
                                                  return_tensors=False)}[name]
        X, y = make()
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.int64)
        (xtr, ytr), (xva, yva), (xte, yte) = D.train_val_test_split(
            X, y, val_size=0.15, test_size=0.2, stratify=y, seed=seed)
        return {"x_train": xtr, "y_train": ytr, "x_val": xva, "y_val": yva, "x_test": xte,
                "y_test": yte, "kind": "tabular", "num_classes": int(y.max()) + 1}
    raise CLIError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


class Preprocess:
    """Standardise features with statistics of the training split only (saved with the model)."""

    def __init__(self, kind, mean=None, std=None):
        self.kind, self.mean, self.std = kind, mean, std

    @classmethod
    def fit(cls, kind, x):
        if kind == "image":
            return cls(kind, np.float32(x.mean()), np.float32(x.std()))
        mean = x.mean(axis=0).astype(np.float32)
        std = x.std(axis=0).astype(np.float32)
        std[std < 1e-6] = 1.0  # constant features (the digits' border pixels) stay centred
        return cls(kind, mean, std)

    def __call__(self, x):
        return ((x - self.mean) / self.std).astype(np.float32)

    def state(self):
        return {"kind": self.kind, "mean": np.asarray(self.mean, dtype=np.float32),
                "std": np.asarray(self.std, dtype=np.float32)}

    @classmethod
    def from_state(cls, s):
        mean = s["mean"].numpy() if hasattr(s["mean"], "numpy") else np.asarray(s["mean"])
        std = s["std"].numpy() if hasattr(s["std"], "numpy") else np.asarray(s["std"])
        return cls(s["kind"], mean, std)


# ---------------------------------------------------------------------- model and optimizer

def build_model(args, ds):
    from . import models

    name = args.model
    if name in ("lenet", "cnn"):
        if ds["kind"] != "image":
            raise CLIError(f"--model {name} needs 28x28 images: use --dataset mnist or fashion-mnist "
                           f"(dataset {args.dataset!r} has {ds['x_train'].shape[1:]}-shaped samples; "
                           "use --model mlp for it)")
        return models.LeNet5(ds["num_classes"]) if name == "lenet" else models.SmallCNN(ds["num_classes"])
    if name == "char-lstm":
        raise CLIError("--model char-lstm goes with --dataset text")
    in_features = int(np.prod(ds["x_train"].shape[1:]))
    return models.MLP(in_features, args.hidden, ds["num_classes"], activation=args.activation,
                      dropout=args.dropout, batch_norm=args.batch_norm)


def build_optimizer(args, params):
    from . import optim

    name = args.optimizer
    kw = {"lr": args.lr, "weight_decay": args.weight_decay}
    if name == "sgd":
        return optim.SGD(params, momentum=args.momentum, nesterov=args.momentum > 0, **kw)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
           "adagrad": optim.Adagrad, "nadam": optim.NAdam, "radam": optim.RAdam}[name]
    if name == "adamw" and args.weight_decay == 0:
        kw["weight_decay"] = 1e-2
    return cls(params, **kw)


def build_scheduler(args, optimizer, steps_per_epoch):
    """The schedule and whether it steps per 'batch' or per 'epoch'."""
    from .optim import lr_scheduler as S

    name = args.schedule
    if name == "none":
        return None, "epoch"
    if name == "step":
        return S.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.1), "epoch"
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch), "batch"
    if name == "exponential":
        return S.ExponentialLR(optimizer, gamma=0.95), "epoch"
    if name == "onecycle":
        return S.OneCycleLR(optimizer, max_lr=args.lr * 10, epochs=args.epochs,
                            steps_per_epoch=steps_per_epoch), "batch"
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, factor=0.5, patience=2), "epoch"
    raise CLIError(f"unknown schedule {name!r}")


class _Augment:
    """Wrap a loader so each training batch of images is randomly transformed."""

    def __init__(self, loader, seed):
        from . import Generator
        from .data import RandomAffine

        self.loader = loader
        self.generator = Generator().manual_seed(seed + 1)
        self.aug = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                generator=self.generator)

    def __iter__(self):
        for x, y in self.loader:
            yield self.aug(x), y

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):  # the trainer reads e.g. .generator for checkpoints
        return getattr(self.loader, name)


# ---------------------------------------------------------------------- commands

def cmd_train(args):
    import retrograd as rg

    from . import models, nn, train
    from .utils.data import DataLoader, TensorDataset

    if args.dataset is None:
        args.dataset = "text" if args.model == "char-lstm" else "digits"
    if args.dataset == "text" and args.model not in (None, "char-lstm"):
        raise CLIError(f"--dataset text trains a character language model: use --model char-lstm "
                       f"(not {args.model})")
    defaults = DEFAULTS["text" if args.model == "char-lstm" else args.dataset]
    for key in ("model", "epochs", "batch_size", "lr"):
        if getattr(args, key) is None:
            setattr(args, key, defaults[key])
    if args.hidden is None:
        args.hidden = _hidden(defaults["hidden"])
    if args.dataset == "text" or args.model == "char-lstm":
        from .text import train_char_lstm

        return train_char_lstm(args)
    out = Path(args.out or f"runs/{args.dataset}-{args.model}")
    out.mkdir(parents=True, exist_ok=True)
    rg.manual_seed(args.seed)
    t0 = time.perf_counter()
    ds = load_dataset(args.dataset, args.data_dir, args.seed, download=not args.no_download)
    prep = Preprocess.fit(ds["kind"], ds["x_train"])
    tensors = {k: rg.from_numpy(prep(ds[f"x_{k}"])) for k in ("train", "val", "test")}
    labels = {k: rg.from_numpy(np.asarray(ds[f"y_{k}"], dtype=np.int64)) for k in ("train", "val", "test")}
    gen = rg.Generator().manual_seed(args.seed)
    train_loader = DataLoader(TensorDataset(tensors["train"], labels["train"]), batch_size=args.batch_size,
                              shuffle=True, generator=gen)
    val_loader = DataLoader(TensorDataset(tensors["val"], labels["val"]), batch_size=512)
    test_loader = DataLoader(TensorDataset(tensors["test"], labels["test"]), batch_size=512)
    if args.augment:
        if ds["kind"] != "image":
            raise CLIError("--augment applies to image datasets (mnist, fashion-mnist)")
        train_loader = _Augment(train_loader, args.seed)
    model = build_model(args, ds)
    optimizer = build_optimizer(args, model.parameters())
    scheduler, sched_step = build_scheduler(args, optimizer, len(train_loader))
    callbacks = [train.CSVLogger(str(out / "history.csv"), append=bool(args.resume))]
    if args.patience:
        callbacks.append(train.EarlyStopping(monitor="val_loss", patience=args.patience,
                                             restore_best_weights=True))
    callbacks.append(_CheckpointEveryEpoch(out / "checkpoint.safetensors"))
    # a live bar on a terminal; one summary line per epoch in any case (unless --quiet)
    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    if not args.quiet:
        n_params = sum(p.numel() for p in model.parameters())
        print(f"retrograd train: {args.dataset} ({len(labels['train'])} train / {len(labels['val'])} "
              f"val / {len(labels['test'])} test), model {args.model} ({n_params:,} parameters), "
              f"{args.optimizer} lr={args.lr}, {args.epochs} epochs, batch {args.batch_size}")
    trainer = train.Trainer(model, optimizer, nn.CrossEntropyLoss(), metrics=("accuracy",),
                            scheduler=scheduler, scheduler_step=sched_step,
                            clip_grad_norm=args.clip_grad_norm, callbacks=callbacks, verbose=verbose)
    history = trainer.fit(train_loader, args.epochs, val_loader=val_loader,
                          resume_from=args.resume)
    test = train.evaluate(model, test_loader, nn.CrossEntropyLoss(),
                          metrics=("accuracy", train.ConfusionMatrix(ds["num_classes"])))
    elapsed = time.perf_counter() - t0
    cm = test.pop("confusion_matrix", None)
    cm = cm.numpy() if hasattr(cm, "numpy") else cm
    meta = {"dataset": args.dataset, "config": models.config_of(model), "test_accuracy":
            float(test["accuracy"]), "epochs_run": len(history.epoch), "seed": args.seed}
    rg.save({"state_dict": model.state_dict(), "preprocess": prep.state(), "meta": meta},
            str(out / "model.safetensors"))
    history.to_json(str(out / "history.json"))
    (out / "metrics.json").write_text(json.dumps({"test_loss": float(test["loss"]),
                                                  "test_accuracy": float(test["accuracy"]),
                                                  "seconds": round(elapsed, 2)}, indent=2))
    if not args.no_plots:
        try:
            train.plot_history(history, str(out / "learning_curves.png"))
            if cm is not None:
                train.plot_confusion_matrix(cm, str(out / "confusion_matrix.png"))
        except ImportError as e:
            print(f"(plots skipped: {e})", file=sys.stderr)
    print(f"test accuracy: {100 * test['accuracy']:.2f}%   test loss: {test['loss']:.4f}   "
          f"({elapsed:.1f}s)")
    print(f"wrote {out}/: model.safetensors, history.json, history.csv"
          + ("" if args.no_plots else ", learning_curves.png, confusion_matrix.png")
          + ", checkpoint.safetensors")
    return 0


class _CheckpointEveryEpoch:
    """Keep a full resumable checkpoint of the run after every epoch (atomic writes)."""

    def __new__(cls, path):
        from .train import Callback

        class _Cb(Callback):
            def on_epoch_end(self, epoch, logs=None):
                self.trainer.epochs_completed = epoch + 1
                self.trainer.save_checkpoint(str(path))

        return _Cb()


def _load_saved(path):
    import retrograd as rg

    from . import models

    try:
        blob = rg.load(str(path))
    except FileNotFoundError:
        raise CLIError(f"no such model file: {path}") from None
    except RuntimeError as e:
        raise CLIError(str(e)) from None
    if not isinstance(blob, dict) or "state_dict" not in blob or "meta" not in blob:
        raise CLIError(f"{path} is not a model written by `retrograd train` (a checkpoint? use the "
                       "model.safetensors file of the run directory)")
    model = models.build(blob["meta"]["config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, Preprocess.from_state(blob["preprocess"]), blob["meta"]


def _is_text_model(path):
    import retrograd as rg

    try:
        blob = rg.load(str(path))
    except (FileNotFoundError, RuntimeError, OSError):
        return False
    return isinstance(blob, dict) and isinstance(blob.get("meta"), dict) and \
        blob["meta"].get("dataset") == "text"


def cmd_evaluate(args):
    import retrograd as rg

    from . import nn, train
    from .utils.data import DataLoader, TensorDataset

    if _is_text_model(args.model):
        from .text import evaluate_char_lstm

        r = evaluate_char_lstm(args.model)
        print(f"text validation split: loss {r['val_loss']:.4f}, perplexity {r['val_perplexity']:.2f} "
              f"(unigram baseline {r['unigram_perplexity']:.2f})")
        return 0
    model, prep, meta = _load_saved(args.model)
    name = args.dataset or meta["dataset"]
    ds = load_dataset(name, args.data_dir, meta.get("seed", 0), download=not args.no_download)
    split = args.split
    x = rg.from_numpy(prep(ds[f"x_{split}"]))
    y = rg.from_numpy(np.asarray(ds[f"y_{split}"], dtype=np.int64))
    res = train.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=512), nn.CrossEntropyLoss(),
                         metrics=("accuracy", train.ConfusionMatrix(ds["num_classes"])))
    cm = res["confusion_matrix"]
    cm = cm.numpy() if hasattr(cm, "numpy") else np.asarray(cm)
    print(f"{name} {split} split ({len(y)} samples): accuracy {100 * res['accuracy']:.2f}%, "
          f"loss {res['loss']:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    for i, row in enumerate(cm):
        print(f"  {i:>2}: " + " ".join(f"{int(v):5d}" for v in row))
    return 0


def _read_inputs(path):
    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such input file: {path}")
    try:
        if p.suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if p.suffix in (".csv", ".txt"):
            return np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
    except ValueError as e:
        raise CLIError(f"could not read {path}: {e}") from None
    raise CLIError(f"{path}: inputs must be a .npy array or a .csv/.txt table of numbers")


def cmd_predict(args):
    import retrograd as rg

    from . import train

    if _is_text_model(args.model):
        from .text import load_char_lstm, sample

        model, vocab, _ = load_char_lstm(args.model)
        prime = Path(args.inputs).read_text() if Path(args.inputs).exists() else args.inputs
        text = sample(model, vocab, prime=prime, length=args.length, temperature=args.temperature,
                      generator=rg.Generator().manual_seed(args.seed))
        if args.output:
            Path(args.output).write_text(text)
            print(f"wrote {len(text)} characters to {args.output}")
        else:
            print(text)
        return 0
    model, prep, meta = _load_saved(args.model)
    x = np.asarray(_read_inputs(args.inputs), dtype=np.float32)
    cfg = meta["config"]
    if cfg["name"] == "mlp":
        need = cfg["in_features"]
        if x.ndim == 1:
            x = x[None]
        if int(np.prod(x.shape[1:])) != need:
            raise CLIError(f"{args.inputs}: each sample must have {need} values for this model, got "
                           f"shape {x.shape}")
        x = x.reshape(len(x), -1)
    else:
        if x.ndim == 2 and x.shape == (28, 28):
            x = x[None]
        if x.ndim == 3:
            x = x[:, None]
        if x.shape[1:] != (1, 28, 28):
            raise CLIError(f"{args.inputs}: expected 28x28 images (N, 28, 28), got shape {x.shape}")
    if prep.kind == "image" and x.max() > 1.5:
        x = x / 255.0  # raw pixel values
    logits = train.predict(model, rg.from_numpy(prep(x)))
    probs = logits.softmax(dim=1).numpy()
    pred = probs.argmax(1)
    lines = []
    for i, (c, p) in enumerate(zip(pred, probs)):
        lines.append(f"{i}\t{c}\t{p[c]:.4f}" if not args.proba else
                     f"{i}\t{c}\t" + "\t".join(f"{v:.4f}" for v in p))
    text = "index\tclass\t" + ("probability" if not args.proba else "probabilities") + "\n" + \
        "\n".join(lines) + "\n"
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {len(pred)} predictions to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


# ---------------------------------------------------------------------- parser

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def make_parser():
    p = _Parser(prog="retrograd", description="retrograd: train networks by backprop and see how "
                "backprop works.", formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="Run `retrograd COMMAND --help` for the options of each command.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"retrograd {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a model on a dataset (default: MLP on the bundled digits)",
                       description="Train a network by backprop, show the progress, print the test "
                       "accuracy and write the model, its history (JSON, CSV) and plots.")
    t.add_argument("--dataset", choices=DATASETS, default=None,
                   help="digits (bundled 8x8, default), mnist, fashion-mnist (read from --data-dir, "
                   "$RETROGRAD_DATA or the cache; downloaded if missing), toy sets xor, moons, circles, "
                   "spirals, or text (the bundled book, with --model char-lstm)")
    t.add_argument("--model", choices=MODELS, help="mlp (default for most datasets), lenet (LeNet-5, "
                   "images), cnn (small CNN with batch norm, images), char-lstm (text)")
    t.add_argument("--hidden", type=_hidden, help="MLP hidden widths, e.g. 256,128 (default per dataset)")
    t.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="MLP activation (relu)")
    t.add_argument("--dropout", type=_fraction, default=0.0, help="MLP dropout probability (0)")
    t.add_argument("--batch-norm", action="store_true", help="batch norm after each MLP hidden layer")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="optimizer (adam)")
    t.add_argument("--lr", type=_positive_float, help="learning rate (default per dataset)")
    t.add_argument("--momentum", type=_fraction, default=0.9, help="SGD momentum (0.9, Nesterov)")
    t.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (0)")
    t.add_argument("--schedule", choices=SCHEDULES, default="none", help="learning-rate schedule")
    t.add_argument("--batch-size", type=_positive_int, help="batch size (default per dataset)")
    t.add_argument("--epochs", type=_positive_int, help="number of epochs (default per dataset)")
    t.add_argument("--clip-grad-norm", type=_positive_float, help="clip the gradient norm to this")
    t.add_argument("--augment", action="store_true", help="random rotation/translation/scaling (images)")
    t.add_argument("--patience", type=_positive_int, help="early stopping patience (epochs)")
    t.add_argument("--seed", type=int, default=0, help="random seed (0): same seed, same run")
    t.add_argument("--out", help="output directory (default runs/DATASET-MODEL)")
    t.add_argument("--resume", metavar="CHECKPOINT", help="resume from a checkpoint.safetensors")
    t.add_argument("--data-dir", help="where MNIST / Fashion-MNIST files are (or go)")
    t.add_argument("--no-download", action="store_true", help="never download datasets")
    t.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    t.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    t.add_argument("--temperature", type=_positive_float, default=0.8,
                   help="sampling temperature for --model char-lstm (0.8)")
    t.add_argument("--seq-len", type=_positive_int, default=100, help="BPTT length for char-lstm (100)")
    t.add_argument("--max-batches", type=_positive_int, help="char-lstm: at most this many batches per epoch")
    t.add_argument("--sample-length", type=_positive_int, default=300,
                   help="char-lstm: characters sampled after each epoch (300)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="accuracy and confusion matrix of a saved model",
                       description="Evaluate a model written by `retrograd train`.")
    e.add_argument("model", help="path to model.safetensors")
    e.add_argument("--dataset", choices=DATASETS, help="dataset (default: the one it was trained on)")
    e.add_argument("--split", choices=("train", "val", "test"), default="test")
    e.add_argument("--data-dir")
    e.add_argument("--no-download", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="class predictions of a saved model for new inputs",
                       description="Predict classes for inputs in a .npy or .csv file (one sample per "
                       "row; images as (N, 28, 28) arrays).")
    r.add_argument("model", help="path to model.safetensors")
    r.add_argument("inputs", help=".npy or .csv file of samples (for a char-lstm model: the text, "
                   "or a file holding it, to continue)")
    r.add_argument("--length", type=_positive_int, default=300, help="characters to sample (char-lstm)")
    r.add_argument("--temperature", type=_positive_float, default=0.8,
                   help="sampling temperature (char-lstm)")
    r.add_argument("--seed", type=int, default=0, help="sampling seed (char-lstm)")
    r.add_argument("--proba", action="store_true", help="print all class probabilities")
    r.add_argument("--output", help="write the predictions to this file")
    r.set_defaults(func=cmd_predict)

    try:
        from .diagnostics.cli import add_explain_parser

        add_explain_parser(sub)
    except ImportError:
        pass
    return p


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except CLIError as e:
        print(f"retrograd {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
