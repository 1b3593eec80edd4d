"""The :class:`GradientMonitor` as a :func:`retrograd.train.fit` callback."""

from __future__ import annotations

from ..train.callbacks import Callback as _Callback
from .monitor import GradientMonitor

__all__ = ["GradientMonitorCallback"]


class GradientMonitorCallback(GradientMonitor, _Callback):
    """:class:`GradientMonitor` for :func:`retrograd.train.fit`: records after every backward.

    It attaches to ``trainer.model`` when training begins (unless a model was given),
    records in ``on_after_backward`` (gradients in ``p.grad``, before the optimizer
    step) under ``trainer.global_step``, and warns as the monitor does. Every
    :class:`GradientMonitor` argument is accepted.

    Args:
        model: the model to watch (default: the trainer's).
        every: record every this many batches (default 1).
        print_report: print :meth:`report` when training ends (default False).
        **kwargs: passed to :class:`GradientMonitor`.

    Example::

        >>> mon = GradientMonitorCallback()
        >>> fit(model, loader, epochs=5, optimizer=opt, loss_fn=loss_fn, callbacks=[mon])
        >>> mon.plot_grad_norms('grad_norms.png')
        >>> print(mon.report())
    """

    def __init__(self, model=None, *, every=1, print_report=False, **kwargs):
        GradientMonitor.__init__(self, model, **kwargs)
        if every < 1:
            raise ValueError(f"GradientMonitorCallback: every must be >= 1, got {every}")
        self.every = int(every)
        self.print_report = print_report
        self._batches = 0

    def on_train_begin(self, logs=None):
        trainer = self.trainer
        if self.model is None:
            if trainer is None or getattr(trainer, "model", None) is None:
                raise RuntimeError("GradientMonitorCallback: no model to watch; pass one, or "
                                   "use the callback inside retrograd.train.fit")
            self.attach(trainer.model)

    def on_after_backward(self, batch, logs=None):
        self._batches += 1
        if (self._batches - 1) % self.every:
            # skipped step: drop what the hooks captured so the next record stays clean
            self._pending_acts = {}
            self._call_count = {}
            return
        step = getattr(self.trainer, "global_step", None) if self.trainer is not None else None
        self.step(step)

    def on_train_end(self, logs=None):
        if self.print_report:
            print(self.report())
