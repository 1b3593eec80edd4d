"""Ready-made models used by the ``retrograd`` command and the examples.

Each builder returns an ordinary ``nn.Module``; :func:`build` rebuilds one from the
JSON-able config that :func:`config_of` (and the CLI) stores next to the weights.
"""

from __future__ import annotations

from . import nn


def _activation(name):
    table = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "silu": "SiLU",
             "leaky_relu": "LeakyReLU", "elu": "ELU", "selu": "SELU", "mish": "Mish"}
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(table)}")
    return getattr(nn, table[name])()


class MLP(nn.Sequential):
    """A fully-connected network: ``in → hidden[0] → ... → out``.

    Each hidden layer is Linear → (BatchNorm1d) → activation → (Dropout).
    Inputs with more than two dims (e.g. images) are flattened first.
    """

    def __init__(self, in_features, hidden=(128,), out_features=10, activation="relu", dropout=0.0,
                 batch_norm=False):
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
        self.config = {"name": "mlp", "in_features": in_features, "hidden": list(hidden),
                       "out_features": out_features, "activation": activation, "dropout": dropout,
                       "batch_norm": batch_norm}


class LeNet5(nn.Sequential):
    """LeNet-5 for 28×28 images (conv 5×5 with padding 2, max pooling, ReLU)."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))
        self.config = {"name": "lenet", "num_classes": num_classes, "in_channels": in_channels}


class SmallCNN(nn.Sequential):
    """A small VGG-style CNN for 28×28 images: two conv blocks with batch norm, then a dense head."""

    def __init__(self, num_classes=10, in_channels=1, dropout=0.25):
        super().__init__(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(128, num_classes))
        self.config = {"name": "cnn", "num_classes": num_classes, "in_channels": in_channels,
                       "dropout": dropout}


def build(config):
    """Rebuild a model from its config dict (as stored in a saved model's metadata)."""
    cfg = dict(config)
    name = cfg.pop("name")
    if name == "mlp":
        return MLP(**cfg)
    if name == "lenet":
        return LeNet5(**cfg)
    if name == "cnn":
        return SmallCNN(**cfg)
    if name == "char-lstm":
        from .text import CharLSTM

        return CharLSTM(**cfg)
    raise ValueError(f"unknown model {name!r} in config")


def config_of(model):
    """The config that :func:`build` needs to rebuild ``model``."""
    cfg = getattr(model, "config", None)
    if cfg is None:
        raise ValueError(f"{type(model).__name__} has no .config; only retrograd.models models can be "
                         "rebuilt from a file")
    return dict(cfg)
