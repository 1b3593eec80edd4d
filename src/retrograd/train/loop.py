"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict` and :class:`Trainer`.

One epoch of :func:`fit`, spelled out::

    model.train()
    for batch in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), target)
        loss.backward()                 # callbacks: on_after_backward
        clip_grad_norm_(...)            # if clip_grad_norm is given
        optimizer.step()                # then per-batch scheduler steps
    model.eval(); with no_grad(): validation
    scheduler.step()                    # per-epoch schedulers
    callbacks: on_epoch_end (history, early stopping, checkpoints, progress)

Everything random (shuffling, dropout, initialisation) goes through retrograd's
generators, so a seeded run repeats bit for bit, and a full checkpoint (see
:class:`~retrograd.train.callbacks.ModelCheckpoint`) resumes exactly.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from .callbacks import CallbackList, History, LRSchedulerCallback, ProgressBar
from .metrics import Mean, Metric, get_metric

__all__ = ["Trainer", "evaluate", "fit", "predict"]


# ---------------------------------------------------------------- batches
def _unpack(batch, what):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    kind = type(batch).__name__
    size = f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else ""
    raise TypeError(f"{what}: each batch must be an (inputs, target) pair, got a {kind}{size}. "
                    "Use a DataLoader over TensorDataset(inputs, targets), or subclass Trainer "
                    "and override unpack_batch")


def _forward(model, inputs):
    if isinstance(inputs, (list, tuple)):
        return model(*inputs)
    return model(inputs)


def _batch_size(target):
    shape = getattr(target, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(target)
    except TypeError:
        return 1


def _scalar(x):
    return float(x.item()) if hasattr(x, "item") else float(x)


def _auto_metrics(output, target):
    """'auto': accuracy for class targets, MAE and RMSE for real-valued targets."""
    out = output._data if isinstance(output, Tensor) else np.asarray(output)
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind in "iub":
        return ["accuracy"]
    same = out.shape == tgt.shape or (out.ndim == 2 and out.shape[1] == 1
                                      and out.shape[:1] == tgt.shape)
    if same and np.isin(tgt, (0, 1)).all():
        return ["accuracy"]
    return ["mae", "rmse"]


class _MetricSet:
    """The metrics of one phase (train or validation), built on first use for 'auto'."""

    def __init__(self, specs):
        if specs is None:
            specs = ()
        if isinstance(specs, (str, Metric)) or callable(specs):
            specs = [specs]
        self.specs = specs
        self.metrics = None if specs == "auto" or list(specs) == ["auto"] else \
            [self._fresh(s) for s in specs]

    @staticmethod
    def _fresh(spec):
        # a Metric given by the user is copied so train and validation do not mix
        return copy.deepcopy(spec) if isinstance(spec, Metric) else get_metric(spec)

    def reset(self):
        for m in self.metrics or ():
            m.reset()

    def update(self, output, target):
        if self.metrics is None:
            self.metrics = [get_metric(s) for s in _auto_metrics(output, target)]
        for m in self.metrics:
            m.update(output, target)

    def results(self):
        out = {}
        for m in self.metrics or ():
            value = m.compute()
            out[m.name] = value if isinstance(value, Tensor) else float(value)
        return out


def _run_eval(model, loader, loss_fn, metric_set, unpack, forward):
    """Loss and metrics over a loader, in eval mode, without building graphs."""
    was_training = model.training
    model.eval()
    mean = Mean("loss")
    metric_set.reset()
    try:
        with no_grad():
            for batch in loader:
                inputs, target = unpack(batch)
                output = forward(inputs)
                if loss_fn is not None:
                    mean.update(_scalar(loss_fn(output, target)), _batch_size(target))
                metric_set.update(output, target)
    finally:
        model.train(was_training)
    logs = {"loss": mean.compute()} if loss_fn is not None else {}
    logs.update(metric_set.results())
    return logs


# ---------------------------------------------------------------- Trainer
class Trainer:
    """Runs the training loop; holds the state callbacks may read.

    Args:
        model (Module): the model to train.
        optimizer (Optimizer): updates the model's parameters.
        loss_fn (callable): ``loss_fn(output, target)`` returning a scalar Tensor
            (e.g. ``nn.CrossEntropyLoss()``).
        metrics: names (``'accuracy'``, ``'top5_accuracy'``, ``'mae'``, ``'mse'``,
            ``'rmse'``), :class:`~retrograd.train.metrics.Metric` objects or functions
            ``fn(output, target) -> float``; or ``'auto'`` (accuracy when targets are
            class indices or 0/1 labels, MAE and RMSE otherwise). Default:
            ``('accuracy',)``.
        scheduler (LRScheduler, optional): a learning-rate scheduler to step.
        scheduler_step (str): ``'epoch'`` (default) or ``'batch'``.
        clip_grad_norm (float, optional): clip the global gradient norm to this value
            before each step (``nn.utils.clip_grad_norm_``); the pre-clip norm is
            logged per batch as ``'grad_norm'``.
        callbacks (iterable of Callback): extra callbacks.
        verbose (int or str): ``'auto'`` (progress bar and summaries on a terminal or
            in a notebook, silent otherwise), 0 (silent), 1 (summaries, and the bar on a terminal),
            2 (summaries only).
        device: only ``'cpu'``.

    Attributes:
        history (History), epoch (int, 0-based), global_step (int, optimizer steps
        so far), stop_training (bool: set it to stop after the current epoch),
        epochs (int), train_loader, val_loader, running_logs (dict: the epoch's
        running loss and metrics), device.

    Example::

        >>> trainer = Trainer(model, optimizer, nn.CrossEntropyLoss())   # doctest: +SKIP
        >>> history = trainer.fit(train_loader, epochs=5, val_loader=val_loader)
    """

    def __init__(self, model, optimizer=None, loss_fn=None, *, metrics=("accuracy",),
                 scheduler=None, scheduler_step="epoch", clip_grad_norm=None, callbacks=(),
                 verbose="auto", device="cpu"):
        self.device = backend.check_device(device, "Trainer")
        if scheduler_step not in ("epoch", "batch"):
            raise ValueError(f"fit: scheduler_step must be 'epoch' or 'batch', got "
                             f"{scheduler_step!r}")
        if verbose not in ("auto", 0, 1, 2, False, True):
            raise ValueError(f"fit: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"fit: clip_grad_norm must be a positive number, got "
                             f"{clip_grad_norm!r}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = metrics
        self.scheduler = scheduler
        self.scheduler_step = scheduler_step
        self.clip_grad_norm = clip_grad_norm
        self.callbacks = list(callbacks or ())
        self.verbose = int(verbose) if isinstance(verbose, bool) else verbose
        self.history = None
        self.epoch = 0
        self.epochs = None
        self.epochs_completed = 0
        self.global_step = 0
        self.stop_training = False
        self.train_loader = None
        self.val_loader = None
        self.running_logs = {}
        self._callback_list = None

    # ------------------------------------------------------------ overridable steps
    def unpack_batch(self, batch):
        """Split a batch into ``(inputs, target)``; override for other batch layouts."""
        return _unpack(batch, "fit")

    def forward(self, inputs):
        """Run the model; a tuple/list of inputs is passed as separate arguments."""
        return _forward(self.model, inputs)

    def compute_loss(self, output, target):
        """``loss_fn(output, target)``, checked to be a scalar."""
        loss = self.loss_fn(output, target)
        if not isinstance(loss, Tensor) or loss.ndim != 0:
            shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"fit: loss_fn must return a scalar Tensor, got {shape} (use a "
                             "loss with reduction='mean' or 'sum')")
        return loss

    # ------------------------------------------------------------ assembly
    def _build_callbacks(self):
        cbs = list(self.callbacks)
        history = next((cb for cb in cbs if isinstance(cb, History)), None)
        if history is None:
            history = History()
            cbs.insert(0, history)
        self.history = history
        lr_cbs = [cb for cb in cbs if isinstance(cb, LRSchedulerCallback)]
        if self.scheduler is not None:
            if any(cb.scheduler is self.scheduler for cb in lr_cbs):
                raise ValueError("fit: the scheduler is given both as scheduler= and in an "
                                 "LRSchedulerCallback; it would be stepped twice")
            cb = LRSchedulerCallback(self.scheduler, step=self.scheduler_step)
            cbs.append(cb)
            lr_cbs.insert(0, cb)
        self._schedulers = [cb.scheduler for cb in lr_cbs]
        if self.scheduler is None and self._schedulers:
            self.scheduler = self._schedulers[0]
        if self.verbose != 0 and not any(isinstance(cb, ProgressBar) for cb in cbs):
            cbs.append(ProgressBar(verbose=self.verbose))
        return CallbackList(cbs, trainer=self)

    def _scheduler_arg(self):
        if not self._schedulers:
            return None
        return self._schedulers[0] if len(self._schedulers) == 1 else self._schedulers

    def _generators(self):
        # the loaders' own shuffling generators (None for a loader using the global one,
        # whose state the checkpoint holds anyway, or for a plain list of batches)
        from ..io.checkpoint import _generator_of

        return {"train": _generator_of(self.train_loader, "fit"),
                "val": _generator_of(self.val_loader, "fit")}

    def _callback_states(self):
        states, seen = {}, {}
        for cb in self._callback_list or ():
            state = cb.state_dict()
            name = type(cb).__name__
            seen[name] = seen.get(name, -1) + 1
            if state:
                states[f"{name}#{seen[name]}"] = state
        return states

    def _load_callback_states(self, states):
        seen = {}
        for cb in self._callback_list:
            name = type(cb).__name__
            seen[name] = seen.get(name, -1) + 1
            key = f"{name}#{seen[name]}"
            if key in states:
                cb.load_state_dict(states[key])

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path):
        """Save everything needed to resume this run exactly (see ``fit(resume_from=...)``).

        Holds the model, optimizer, scheduler(s), the number of completed epochs, the
        global and data-loader random states, the history, the global step and the
        callbacks' states. Written atomically.
        """
        from ..io import save_checkpoint

        save_checkpoint(path, self.model, self.optimizer, self._scheduler_arg(),
                        epoch=self.epochs_completed, generator=self._generators(),
                        history=self.history.to_dict() if self.history else None,
                        global_step=self.global_step, callbacks=self._callback_states())

    def _resume(self, path):
        from ..io import load_checkpoint

        ckpt = load_checkpoint(path, self.model, self.optimizer, self._scheduler_arg(),
                               generator=self._generators())
        if ckpt.get("history"):
            restored = History.from_dict(ckpt["history"])
            self.history.history, self.history.epoch = restored.history, restored.epoch
        self.global_step = int(ckpt.get("global_step", 0))
        return ckpt

    # ------------------------------------------------------------ the loop
    def fit(self, train_loader, epochs, *, val_loader=None, initial_epoch=0, resume_from=None):
        """Train for ``epochs`` epochs (counting from epoch 0) and return the :class:`History`.

        Args:
            train_loader (iterable): yields ``(inputs, target)`` batches.
            epochs (int): index of the last epoch + 1 (as in Keras: with
                ``initial_epoch=3, epochs=5`` epochs 4 and 5 run).
            val_loader (iterable, optional): validation batches, evaluated after each
                epoch in eval mode under ``no_grad``; logged with a ``val_`` prefix.
            initial_epoch (int): epoch to start from (to continue an earlier run).
            resume_from (str or os.PathLike, optional): a full checkpoint written by
                :class:`ModelCheckpoint` or :meth:`save_checkpoint`: model, optimizer,
                schedulers, random states, history and callback states are restored and
                training continues after its last completed epoch, exactly as if it had
                never stopped.
        """
        if self.optimizer is None or self.loss_fn is None:
            raise ValueError("fit: an optimizer and a loss_fn are needed to train")
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs = int(epochs)
        self.stop_training = False
        self._callback_list = cbs = self._build_callbacks()
        ckpt = self._resume(resume_from) if resume_from is not None else None
        if ckpt is not None and "epoch" in ckpt:
            initial_epoch = int(ckpt["epoch"])
        self.epochs_completed = int(initial_epoch)
        if ckpt is None:
            self.global_step = 0
        train_metrics = _MetricSet(self.metrics)
        val_metrics = _MetricSet(self.metrics)
        was_training = self.model.training
        logs = {}
        try:
            cbs.on_train_begin()
            if ckpt is not None and ckpt.get("callbacks"):
                self._load_callback_states(ckpt["callbacks"])
            for epoch in range(int(initial_epoch), self.epochs):
                self.epoch = epoch
                cbs.on_epoch_begin(epoch, {})
                logs = self._train_epoch(train_loader, train_metrics, cbs)
                if val_loader is not None:
                    val_logs = _run_eval(self.model, val_loader, self.loss_fn, val_metrics,
                                         self.unpack_batch, self.forward)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                logs["lr"] = self._last_lr
                self.epochs_completed = epoch + 1
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            cbs.on_train_end(logs)
        finally:
            cbs.teardown()
            self.model.train(was_training)
        return self.history

    def _train_epoch(self, loader, metric_set, cbs):
        model, optimizer = self.model, self.optimizer
        model.train()
        metric_set.reset()
        loss_mean = Mean("loss")
        self.running_logs = {}
        self._last_lr = _scalar(optimizer.param_groups[0]["lr"])
        clip = None
        if self.clip_grad_norm is not None:
            from ..nn.utils import clip_grad_norm_ as clip
        for batch_idx, batch in enumerate(loader):
            inputs, target = self.unpack_batch(batch)
            n = _batch_size(target)
            cbs.on_batch_begin(batch_idx, {"batch_size": n})
            optimizer.zero_grad()
            output = self.forward(inputs)
            loss = self.compute_loss(output, target)
            loss.backward()
            loss_value = _scalar(loss)
            logs = {"loss": loss_value, "batch_size": n}
            cbs.on_after_backward(batch_idx, logs)
            if clip is not None:
                logs["grad_norm"] = _scalar(clip(model.parameters(), self.clip_grad_norm))
            self._last_lr = _scalar(optimizer.param_groups[0]["lr"])
            logs["lr"] = self._last_lr
            optimizer.step()
            self.global_step += 1
            loss_mean.update(loss_value, n)
            metric_set.update(output.detach() if isinstance(output, Tensor) else output, target)
            self.running_logs = {"loss": loss_mean.compute(), **metric_set.results()}
            cbs.on_batch_end(batch_idx, logs)
        return {"loss": loss_mean.compute(), **metric_set.results()}

    def evaluate(self, loader):
        """Loss and metrics over ``loader`` (eval mode, no graphs), as a dict."""
        return _run_eval(self.model, loader, self.loss_fn, _MetricSet(self.metrics),
                         self.unpack_batch, self.forward)

    def predict(self, data, batch_size=256):
        """The model's outputs over ``data`` (see :func:`predict`)."""
        return predict(self.model, data, batch_size=batch_size)


# ---------------------------------------------------------------- functions
def fit(model, train_loader, *, epochs, optimizer, loss_fn, val_loader=None,
        metrics=("accuracy",), scheduler=None, scheduler_step="epoch", clip_grad_norm=None,
        callbacks=(), verbose="auto", initial_epoch=0, resume_from=None, device="cpu"):
    """Train ``model`` and return its :class:`~retrograd.train.callbacks.History`.

    Each epoch: ``model.train()``; for each batch ``zero_grad``, forward,
    ``loss_fn``, ``backward`` (callbacks' ``on_after_backward``), optional gradient
    clipping, ``optimizer.step()`` and per-batch scheduler steps; then validation in
    ``model.eval()`` under ``no_grad``; per-epoch scheduler steps; callbacks'
    ``on_epoch_end`` with logs such as ``{'loss', 'accuracy', 'val_loss',
    'val_accuracy', 'lr'}`` (``lr``: the learning rate of the epoch's last step).

    Args:
        model (Module): the model.
        train_loader (iterable): yields ``(inputs, target)`` batches (a DataLoader).
        epochs (int): number of epochs (the last epoch index + 1).
        optimizer (Optimizer): the optimizer.
        loss_fn (callable): ``loss_fn(output, target) -> scalar Tensor``.
        val_loader (iterable, optional): validation batches.
        metrics: see :class:`Trainer` (default ``('accuracy',)``; ``'auto'`` picks
            accuracy or MAE/RMSE from the targets).
        scheduler (LRScheduler, optional): stepped per epoch or per batch;
            ``ReduceLROnPlateau`` receives ``val_loss`` (or ``loss``).
        scheduler_step (str): ``'epoch'`` or ``'batch'``.
        clip_grad_norm (float, optional): max global gradient norm.
        callbacks (iterable of Callback): e.g. EarlyStopping, ModelCheckpoint.
        verbose (int or str): ``'auto'``, 0, 1 or 2 (see :class:`Trainer`).
        initial_epoch (int): epoch to start at (to continue a run).
        resume_from (str or os.PathLike, optional): full checkpoint to resume from.
        device: only ``'cpu'``.

    Returns:
        History: ``history.history['loss']`` etc., one value per epoch run.

    Example::

        >>> history = fit(model, train_loader, epochs=5, optimizer=opt,
        ...               loss_fn=nn.CrossEntropyLoss(), val_loader=val_loader)  # doctest: +SKIP
        Epoch 1/5 - loss: 0.4821 - accuracy: 0.8610 - val_loss: 0.2518 - ... - 1.3s
    """
    trainer = Trainer(model, optimizer, loss_fn, metrics=metrics, scheduler=scheduler,
                      scheduler_step=scheduler_step, clip_grad_norm=clip_grad_norm,
                      callbacks=callbacks, verbose=verbose, device=device)
    return trainer.fit(train_loader, epochs, val_loader=val_loader, initial_epoch=initial_epoch,
                       resume_from=resume_from)


def evaluate(model, loader, loss_fn=None, metrics=("accuracy",)):
    """Average loss and metrics of ``model`` over ``loader``, in eval mode under ``no_grad``.

    The model's train/eval mode is restored afterwards.

    Args:
        model (Module): the model.
        loader (iterable): yields ``(inputs, target)`` batches.
        loss_fn (callable, optional): if given, ``'loss'`` is the sample-weighted mean.
        metrics: as for :func:`fit`; a ``ConfusionMatrix`` metric gives a Tensor.

    Returns:
        dict: e.g. ``{'loss': 0.21, 'accuracy': 0.94}``.
    """
    return _run_eval(model, loader, loss_fn, _MetricSet(metrics),
                     lambda b: _unpack(b, "evaluate"), lambda x: _forward(model, x))


def _cat_outputs(outputs):
    from ..ops.shape import cat

    first = outputs[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_cat_outputs([o[i] for o in outputs]) for i in range(len(first)))
    return cat(outputs, 0)


def predict(model, data, batch_size=256):
    """The model's outputs for every sample of ``data``, concatenated along dim 0.

    Runs in eval mode under ``no_grad``; the model's mode is restored afterwards.

    Args:
        model (Module): the model.
        data (Tensor, ndarray or iterable): a tensor of inputs (split into batches of
            ``batch_size``), or a loader whose batches are inputs or
            ``(inputs, target)`` pairs (the target is ignored).
        batch_size (int): batch size for tensor input (default 256).

    Returns:
        Tensor: the outputs (a tuple of Tensors for a model returning a tuple).

    Example::

        >>> probs = predict(model, x_test).softmax(dim=1)   # doctest: +SKIP
    """
    if isinstance(data, np.ndarray):
        data = Tensor._make(data)
    if isinstance(data, Tensor):
        if batch_size is None or batch_size < 1:
            raise ValueError(f"predict: batch_size must be a positive int, got {batch_size!r}")
        n = data.shape[0] if data.ndim else 1
        batches = [data[i:i + batch_size] for i in range(0, n, batch_size)]
    else:
        batches = data
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with no_grad():
            for batch in batches:
                inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
                outputs.append(_forward(model, inputs))
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: no data (the loader yielded no batch)")
    return _cat_outputs(outputs)

