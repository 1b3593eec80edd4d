"""Callbacks: code that runs at fixed points of :func:`retrograd.train.fit`.

The protocol (shared with ``retrograd.diagnostics``) is Keras's: ``on_train_begin``,
``on_epoch_begin(epoch)``, ``on_batch_begin(batch)``, ``on_after_backward(batch)``
(gradients are in ``p.grad``, before ``optimizer.step()``), ``on_batch_end(batch)``,
``on_epoch_end(epoch)``, ``on_train_end``. ``epoch`` is 0-based; printed epochs
are 1-based. ``self.trainer`` is the :class:`~retrograd.train.Trainer` running the
loop (``model``, ``optimizer``, ``loss_fn``, ``scheduler``, ``history``, ``epoch``,
``global_step``, ``stop_training``, ``device``).

Callbacks run in ascending ``order`` (stable for equal values): the
:class:`History` first, then learning-rate schedulers, then user callbacks,
then :class:`ModelCheckpoint` (so a checkpoint sees every state of the epoch), and
the :class:`ProgressBar` last (so its summary line shows what others added).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
import warnings

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "ProgressBar",
    "format_epoch_summary",
]


class Callback:
    """Base class of training callbacks; override the hooks you need.

    Attributes:
        trainer: the Trainer running the loop, set by ``fit`` before ``on_train_begin``.
        order (int): callbacks run in ascending order (default 0).

    A callback whose behaviour depends on past epochs (e.g. a patience counter)
    returns that state from :meth:`state_dict` and takes it back in
    :meth:`load_state_dict`; full checkpoints saved during ``fit`` carry it, so a
    resumed run behaves exactly as an uninterrupted one.

    Example::

        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch + 1, logs["loss"])
    """

    trainer = None
    order = 0

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_after_backward(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def state_dict(self) -> dict:
        """State to carry across a checkpoint/resume (default: none)."""
        return {}

    def load_state_dict(self, state_dict):
        """Restore the state returned by :meth:`state_dict`."""

    def _teardown(self):
        """Release resources (files, bars) when training ends or fails."""


class CallbackList:
    """A list of callbacks called together, in ascending ``order``.

    Args:
        callbacks (iterable of Callback): the callbacks.
        trainer: set as each callback's ``trainer``.
    """

    def __init__(self, callbacks=(), trainer=None):
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__} "
                                "(wrap plain functions in LambdaCallback)")
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))
        self.trainer = trainer
        if trainer is not None:
            for cb in self.callbacks:
                cb.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs)

    def on_after_backward(self, batch, logs=None):
        self._call("on_after_backward", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def teardown(self):
        for cb in self.callbacks:
            cb._teardown()


# ---------------------------------------------------------------- History
def _csv_value(v):
    # repr keeps every bit of a float, so a CSV round-trips exactly
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


class History(Callback):
    """Per-epoch record of the logs, like Keras's ``History``; ``fit`` returns it.

    Attributes:
        history (dict[str, list]): each logged name (``'loss'``, ``'accuracy'``,
            ``'val_loss'``, ``'lr'``, ...) to its values, one per epoch.
        epoch (list[int]): the 0-based epoch index of each entry.

    Example::

        >>> history = fit(model, loader, epochs=3, ...)    # doctest: +SKIP
        >>> history.history["loss"]                         # doctest: +SKIP
        [0.91, 0.52, 0.37]
    """

    order = -100

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.record(epoch, logs or {})

    def record(self, epoch, logs):
        """Append one epoch's logs (lists stay aligned: a missing value is NaN)."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            if key not in self.history:
                self.history[key] = [math.nan] * n
            self.history[key].append(value)
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)

    def __getitem__(self, key):
        return self.history[key]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def to_dict(self) -> dict:
        """``{'epoch': [...], 'history': {name: [...]}}`` (copies of the lists)."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, d) -> History:
        """Rebuild a History from :meth:`to_dict`'s output."""
        h = cls()
        h.epoch = [int(e) for e in d.get("epoch", [])]
        h.history = {str(k): list(v) for k, v in d.get("history", {}).items()}
        return h

    def to_json(self, path=None, indent=2) -> str:
        """The history as JSON (NaN/inf become ``null``); also written to ``path`` if given."""
        def clean(v):
            if isinstance(v, np.generic):
                v = v.item()
            return None if isinstance(v, float) and not math.isfinite(v) else v

        d = self.to_dict()
        d["history"] = {k: [clean(v) for v in vs] for k, vs in d["history"].items()}
        text = json.dumps(d, indent=indent)
        if path is not None:
            from ..io import atomic_write

            atomic_write(path, text.encode("utf-8"), what="History.to_json")
        return text

    @classmethod
    def from_json(cls, text_or_path) -> History:
        """Read a History written by :meth:`to_json` (a JSON string or a file path)."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as f:
                text = f.read()
        d = json.loads(text)
        d["history"] = {k: [math.nan if v is None else v for v in vs]
                        for k, vs in d.get("history", {}).items()}
        return cls.from_dict(d)

    def to_csv(self, path, separator=","):
        """Write one row per epoch (``epoch`` column first, 0-based) to ``path``, atomically."""
        import io as _io

        buf = _io.StringIO()
        writer = csv.writer(buf, delimiter=separator, lineterminator="\n")
        keys = list(self.history)
        writer.writerow(["epoch", *keys])
        for i, e in enumerate(self.epoch):
            writer.writerow([e, *(_csv_value(self.history[k][i]) for k in keys)])
        from ..io import atomic_write

        atomic_write(path, buf.getvalue().encode("utf-8"), what="History.to_csv")


# ---------------------------------------------------------------- monitoring helpers
def _resolve_mode(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.lower()
        mode = "max" if any(s in name for s in ("acc", "auc", "f1", "precision", "recall")) \
            else "min"
    return mode


def _model_weights(model):
    return {k: v._data.copy() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------- EarlyStopping
class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras semantics).

    Args:
        monitor (str): the logged quantity to watch (default ``'val_loss'``).
        min_delta (float): a change smaller than this is no improvement (default 0).
        patience (int): epochs without improvement before stopping (default 0).
        verbose (int): 1 prints a message when stopping.
        mode (str): ``'min'``, ``'max'`` or ``'auto'`` (``'max'`` for accuracy-like
            names, else ``'min'``).
        baseline (float, optional): training stops if the quantity does not beat
            this value within ``patience`` epochs.
        restore_best_weights (bool): at the end of training, put back the weights
            of the best epoch (default False).
        start_from_epoch (int): epochs to wait before monitoring starts (default 0).

    Attributes:
        stopped_epoch (int): 0-based epoch at which training stopped (0 if it did not).
        best_epoch (int): 0-based epoch with the best value.

    Example::

        >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        >>> fit(model, loader, val_loader=val, epochs=100, callbacks=[stop], ...)  # doctest: +SKIP
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None

    def _is_improvement(self, value, reference):
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or epoch < self.start_from_epoch:
            if value is None:
                warnings.warn(f"EarlyStopping: monitored quantity {self.monitor!r} is not in the "
                              f"logs (available: {sorted(logs or {})}); skipping", stacklevel=2)
            return
        value = float(value)
        if self.restore_best_weights and self.best_weights is None:
            # so that the first epoch can be restored even if nothing ever improves on it
            self.best_weights = _model_weights(self.trainer.model)
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _model_weights(self.trainer.model)
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state_dict):
        self.wait = int(state_dict["wait"])
        self.stopped_epoch = int(state_dict["stopped_epoch"])
        self.best = float(state_dict["best"])
        self.best_epoch = int(state_dict["best_epoch"])
        weights = state_dict.get("best_weights")
        self.best_weights = None if weights is None else {
            k: np.array(v, copy=True) for k, v in weights.items()}


# ---------------------------------------------------------------- ModelCheckpoint
class ModelCheckpoint(Callback):
    """Save the model (or a full training checkpoint) at the end of epochs, atomically.

    Args:
        filepath (str or os.PathLike): where to save; ``str.format`` fields are filled
            with ``epoch`` (1-based) and the epoch's logs, e.g.
            ``'ckpt/epoch{epoch:02d}-{val_loss:.4f}.safetensors'``. Parent folders are
            created.
        monitor (str): quantity compared for ``save_best_only`` (default ``'val_loss'``).
        verbose (int): 1 prints a line for each save.
        save_best_only (bool): save only when ``monitor`` improves (default False).
        save_weights_only (bool): True saves ``model.state_dict()``; False (default)
            saves a full checkpoint (model, optimizer, scheduler, epoch, random
            states, history, callback states) that ``fit(resume_from=path)`` or
            :func:`retrograd.io.load_checkpoint` resumes from exactly.
        mode (str): ``'min'``, ``'max'`` or ``'auto'``.
        save_freq (str): ``'epoch'`` (the only value supported: a checkpoint in
            the middle of an epoch could not resume exactly).
        initial_value_threshold (float, optional): a first value the monitored
            quantity must beat before anything is saved with ``save_best_only``.

    Attributes:
        best (float): best monitored value so far.
        last_saved (str or None): path of the latest file written.
        best_path (str or None): path of the best file (``save_best_only``).

    Example::

        >>> ckpt = ModelCheckpoint("best.safetensors", monitor="val_accuracy",
        ...                        save_best_only=True, save_weights_only=True)
    """

    order = 50

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch', got {save_freq!r} (a "
                             "checkpoint taken mid-epoch could not resume exactly)")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self._reset()

    def _reset(self):
        if self.initial_value_threshold is not None:
            self.best = float(self.initial_value_threshold)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None
        self.best_path = None

    def on_train_begin(self, logs=None):
        self._reset()

    def _format(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} uses {{{e.args[0]}}}, "
                           f"which is not in the epoch logs (available: epoch, "
                           f"{', '.join(logs)})") from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"ModelCheckpoint: can save the best model only with "
                              f"{self.monitor!r} in the logs (available: {sorted(logs)}); "
                              "skipping", stacklevel=2)
                return
            value = float(value)
            improved = value < self.best if self.mode == "min" else value > self.best
            if not improved:
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            previous, self.best = self.best, value
            path = self._format(epoch, logs)
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous:.5f} to "
                      f"{value:.5f}, saving model to {path}")
            self._save(path)
            self.best_path = path
            return
        path = self._format(epoch, logs)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        self._save(path)

    def _save(self, path):
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        if self.save_weights_only:
            from ..io import save

            save(self.trainer.model.state_dict(), path)
        else:
            self.trainer.save_checkpoint(path)
        self.last_saved = path

    def state_dict(self):
        return {"best": self.best, "best_path": self.best_path}

    def load_state_dict(self, state_dict):
        self.best = float(state_dict["best"])
        self.best_path = state_dict.get("best_path")


# ---------------------------------------------------------------- LR schedulers
def _is_plateau(scheduler):
    return type(scheduler).__name__ == "ReduceLROnPlateau"


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler during ``fit``.

    ``fit(scheduler=..., scheduler_step=...)`` installs one of these; use it directly
    to drive several schedulers or to monitor a chosen quantity.

    Args:
        scheduler: a ``retrograd.optim.lr_scheduler`` scheduler.
        step (str): ``'epoch'`` (step after each epoch, default) or ``'batch'`` (after
            each ``optimizer.step()``, e.g. for ``OneCycleLR``).
        monitor (str, optional): for ``ReduceLROnPlateau``, the logged quantity passed
            to ``scheduler.step(metric)``; default ``'val_loss'`` when validation runs,
            else ``'loss'``.

    Example::

        >>> sched = retrograd.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2)
        >>> fit(model, loader, ..., callbacks=[LRSchedulerCallback(sched)])  # doctest: +SKIP
    """

    order = -10

    def __init__(self, scheduler, step="epoch", monitor=None):
        if step not in ("epoch", "batch"):
            raise ValueError(f"LRSchedulerCallback: step must be 'epoch' or 'batch', got {step!r}")
        if step == "batch" and _is_plateau(scheduler):
            raise ValueError("LRSchedulerCallback: ReduceLROnPlateau needs an epoch metric; use "
                             "step='epoch'")
        self.scheduler = scheduler
        self.step = step
        self.monitor = monitor

    def on_batch_end(self, batch, logs=None):
        if self.step == "batch":
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.step != "epoch":
            return
        if _is_plateau(self.scheduler):
            logs = logs or {}
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            if monitor not in logs:
                raise KeyError(f"LRSchedulerCallback: ReduceLROnPlateau monitors {monitor!r}, "
                               f"which is not in the epoch logs (available: {sorted(logs)})")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()


# ---------------------------------------------------------------- CSVLogger
class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (0-based, as in Keras) then the logs.

    Args:
        filename (str or os.PathLike): the CSV file.
        separator (str): field separator (default ``','``).
        append (bool): append to an existing file (no second header) instead of
            overwriting it; use it when resuming.

    Floats are written with ``repr`` (every digit), rows are flushed as they are
    written, so the file is complete up to the last finished epoch.
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
        has_rows = (self.append and os.path.exists(self.filename)
                    and os.path.getsize(self.filename) > 0)
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
        self.keys = None
        self._need_header = not has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
            if self._need_header:
                self._writer.writerow(["epoch", *self.keys])
        self._writer.writerow([epoch, *(_csv_value(logs[k]) if k in logs else "NA"
                                        for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._teardown()

    def _teardown(self):
        if self._file is not None:
            self._file.close()
            self._file = None


# ---------------------------------------------------------------- ProgressBar
def _fmt(key, value):
    if isinstance(value, (float, np.floating)):
        return f"{key}: {value:.4g}" if key == "lr" else f"{key}: {value:.4f}"
    return f"{key}: {value}"


def format_epoch_summary(epoch, epochs, logs, seconds=None) -> str:
    """``'Epoch 3/10 - loss: 0.1234 - accuracy: 0.9650 - val_loss: ... - lr: 0.01 - 1.2s'``.

    ``epoch`` is 0-based (printed 1-based).
    """
    parts = [f"Epoch {epoch + 1}/{epochs}"]
    parts += [_fmt(k, v) for k, v in (logs or {}).items()]
    if seconds is not None:
        parts.append(f"{seconds:.1f}s")
    return " - ".join(parts)


def _interactive(stream):
    """A terminal, or a Jupyter cell's output (where tqdm.auto draws a widget)."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return "ipykernel" in sys.modules and type(stream).__module__.startswith("ipykernel")


class ProgressBar(Callback):
    """A live progress bar for each epoch and a one-line summary after it.

    The bar (tqdm) shows the running loss and metrics. With ``verbose='auto'``
    (default) everything is shown when the output is a terminal or a Jupyter
    notebook and nothing otherwise (redirected output, CI); ``verbose=1`` always prints
    the summary lines and draws the bar on a terminal (or anywhere with
    ``force=True``); ``verbose=2`` prints only the summary lines; ``verbose=0``
    prints nothing.

    Args:
        verbose (int or str): ``'auto'``, 0, 1 or 2 (see above).
        force (bool): draw the bar even when the output is not a terminal.
        file (file object, optional): where to write (default ``sys.stdout``).
    """

    order = 100

    def __init__(self, verbose="auto", force=False, file=None):
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"ProgressBar: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.force = force
        self.file = file
        self._bar = None
        self._tqdm = None

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def on_train_begin(self, logs=None):
        tty = _interactive(self._stream())
        verbose = self.verbose
        if verbose == "auto":
            verbose = 1 if (tty or self.force) else 0
        self.show_summary = verbose in (1, 2)
        self.show_bar = verbose == 1 and (tty or self.force)
        if self.show_bar:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                if self.force:
                    raise ImportError("ProgressBar needs tqdm: pip install retrograd[train]") \
                        from None
                warnings.warn("ProgressBar: tqdm is not installed (pip install retrograd[train]); "
                              "printing epoch summaries only", stacklevel=2)
                self.show_bar = False
            else:
                self._tqdm = tqdm

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        if self.show_bar:
            loader = getattr(self.trainer, "train_loader", None)
            try:
                total = len(loader)
            except TypeError:
                total = None
            self._bar = self._tqdm(total=total, desc=f"Epoch {epoch + 1}/{self.trainer.epochs}",
                                   file=self._stream(), leave=False, dynamic_ncols=True,
                                   unit="batch")

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            running = getattr(self.trainer, "running_logs", None) or logs or {}
            self._bar.set_postfix_str(", ".join(
                f"{k}={v:.4f}" for k, v in running.items()
                if isinstance(v, (float, np.floating))), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self._teardown()
        if self.show_summary:
            seconds = time.perf_counter() - self._start
            print(format_epoch_summary(epoch, self.trainer.epochs, logs, seconds),
                  file=self._stream(), flush=True)

    def _teardown(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# ---------------------------------------------------------------- LambdaCallback
class LambdaCallback(Callback):
    """A callback built from plain functions, one per hook (all optional).

    Args:
        on_train_begin, on_train_end: ``f(logs)``.
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_batch_begin, on_after_backward, on_batch_end: ``f(batch, logs)``.

    Example::

        >>> losses = []
        >>> cb = LambdaCallback(on_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    """

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_batch_begin", "on_after_backward", "on_batch_end")

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None,
                 on_epoch_end=None, on_batch_begin=None, on_after_backward=None,
                 on_batch_end=None):
        given = dict(on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_after_backward=on_after_backward,
                     on_batch_end=on_batch_end)
        for name, fn in given.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got "
                                    f"{type(fn).__name__}")
                setattr(self, name, fn)
