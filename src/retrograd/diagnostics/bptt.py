r"""Backpropagation through time, made visible: ∂L/∂h_t of a recurrent layer, step by step.

A recurrent layer applies the same weights at every time step, so the gradient that
reaches an early hidden state :math:`h_t` has been multiplied by one Jacobian
:math:`\partial h_{k+1}/\partial h_k` per later step. If those factors are smaller than
one, :math:`\|\partial L/\partial h_t\|` shrinks geometrically going back in time and
the early steps learn nothing (vanishing gradients: a vanilla tanh RNN forgets within
tens of steps); if they are larger, it grows geometrically (exploding gradients: a
ReLU RNN with large recurrent weights overflows).

:class:`TimeGradientMonitor` records, after each ``backward()``, the norm of
:math:`\partial L/\partial h_t` at every time step, for every layer and direction of a
recurrent module, and warns (:class:`VanishingGradientWarning`,
:class:`ExplodingGradientWarning`) naming the layer and the time steps, with remedies::

    mon = TimeGradientMonitor(model.rnn, name="rnn")
    loss_fn(model(x), y).backward()
    mon.step()             # record ‖∂L/∂h_t‖ for t = 0..T-1, and check
    mon.norms              # (steps recorded, T)
    mon.plot("bptt.png")

Where the gradients come from:

* ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``: their ``record_hidden_grads`` switch, which
  stores the *total* gradient ∂L/∂h_t of every layer and direction (from the output at
  step t plus, through the recurrence, from every later step);
* a hand-written loop over cells: pass the hidden states to :meth:`TimeGradientMonitor.record`
  each step (each ``h_t`` feeds ``h_{t+1}``, so its gradient is again the total one);
* any other module: a hook on its output sequence, which sees only the gradient that
  reaches the output from the layers above (not what flows through the recurrence).

Reading the profile: the check compares the gradient at the earliest step with its peak
(vanishing) and with the last step (exploding). That is the signature of BPTT when the
loss sits at the end of the sequence (a classifier, the adding problem). When every step
has its own loss (a language model) each ``h_t`` also gets its own direct gradient, so
the profile stays flat even if the recurrent part vanishes: measure with a loss on the
last step to see how far back the recurrence carries the gradient.

:class:`TimeGradientMonitorCallback` does the same inside :func:`retrograd.train.fit`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .callback import _Callback
from .monitor import Diagnosis

__all__ = ["TimeGradientMonitor", "TimeGradientMonitorCallback", "TimeDiagnosis",
           "plot_time_grad_norms", "TIME_REMEDIES"]


#: remedies for problems of the gradient through time (shown in warnings and reports)
TIME_REMEDIES = {
    "vanishing": (
        "use an LSTM or GRU instead of a vanilla RNN: their gated, additive cell path "
        "carries the gradient across many steps (nn.LSTM / nn.GRU)",
        "start an LSTM's forget gate open: add 1 to 2 to its forget-gate biases "
        "(bias_hh_l0[H:2*H]), so the cell keeps its memory at initialisation",
        "orthogonal initialisation of the recurrent weights: "
        "nn.init.orthogonal_(rnn.weight_hh_l0) keeps the step-to-step Jacobian near norm 1",
        "shorter BPTT truncation (shorter training windows) or a loss at more time steps, so "
        "every step receives gradient from nearby",
        "gradient clipping (nn.utils.clip_grad_norm_) lets you use the larger learning rates "
        "that gated layers need to learn long dependencies",
    ),
    "exploding": (
        "clip the gradient norm: nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
        "before optimizer.step() (fit(..., clip_grad_norm=1.0))",
        "orthogonal initialisation, or smaller recurrent weights (spectral radius of "
        "weight_hh at most 1): nn.init.orthogonal_(rnn.weight_hh_l0)",
        "use an LSTM or GRU instead of a vanilla RNN (a ReLU RNN's state is unbounded)",
        "shorter BPTT truncation (shorter training windows)",
        "use a smaller learning rate",
    ),
}
TIME_REMEDIES["nonfinite"] = (
    TIME_REMEDIES["exploding"][0],
    "run one step under `with retrograd.autograd.detect_anomaly():` to find the op that "
    "made the NaN/Inf",
) + TIME_REMEDIES["exploding"][1:]

#: the remedies in a few words each, for the one-line warning
_SHORT = {
    "vanishing": "LSTM/GRU instead of a vanilla RNN, an open LSTM forget gate (bias 1-2), "
                 "orthogonal initialisation of weight_hh, shorter BPTT truncation, gradient "
                 "clipping",
    "exploding": "gradient clipping (clip_grad_norm_), orthogonal initialisation / smaller "
                 "weight_hh, LSTM/GRU instead of a vanilla RNN, shorter BPTT truncation, "
                 "a smaller learning rate",
}
_SHORT["nonfinite"] = _SHORT["exploding"]


class TimeDiagnosis(Diagnosis):
    """A problem of the gradient through time: ``kind``, ``layers``, ``step``, ``message``.

    As :class:`~retrograd.diagnostics.Diagnosis`, with remedies for recurrent layers, and
    ``steps``: the time steps concerned ``(first, last)``.
    """

    def __init__(self, kind, layers, step, message, steps=None):
        super().__init__(kind, layers, step, message)
        self.remedies = TIME_REMEDIES[kind]
        self.steps = steps


def _time_norms(a, time_axis):
    """‖a[t]‖ over every axis but ``time_axis``, in float64 (tiny gradients do not underflow)."""
    a = np.asarray(a)
    axes = tuple(i for i in range(a.ndim) if i != time_axis)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(np.sum(np.square(a, dtype=np.float64), axis=axes))


def _pow10(x):
    """A ratio as a power of ten: 10^5.3 (or 10^1.2e3 when huge)."""
    if not math.isfinite(x) or x <= 0:
        return "an unbounded factor"
    e = math.log10(x)
    return f"10^{e:.1f}" if abs(e) < 1000 else f"10^{e:.3g}"


class TimeGradientMonitor:
    r"""Records ‖∂L/∂h_t‖ at every time step of a recurrent layer, and diagnoses it.

    Args:
        module: the recurrent module to watch: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``
            (exact ∂L/∂h_t of every layer and direction, through their
            ``record_hidden_grads`` switch), any other module returning a sequence
            (a hook on its output: the gradient reaching the output), or None when the
            hidden states are passed to :meth:`record` by hand.
        name: the module's name in the model, used in messages (default: its class).
        layer: the layer/direction :attr:`norms` and :meth:`plot` show by default
            (``'l0'``, ``'l1_reverse'``...; default: the first recorded).
        warn: issue a warning when a problem is first found (per kind and layer).
        check_every: run :meth:`check` every this many :meth:`step` calls (0: only when
            called).
        window: :meth:`check` looks at the median profile of this many recent steps.
        vanishing_ratio: a gradient at the earliest step below this fraction of its peak
            is vanishing (default 1e-3: three orders of magnitude).
        exploding_ratio: a gradient at the earliest step above this multiple of the last
            step's is exploding (default ``1 / vanishing_ratio``).
        time_dim: the time axis of the output, for the output-hook fallback (default:
            1 if the module has ``batch_first=True``, else 0).

    Attributes:
        records: one dict per :meth:`step`: ``{'step': n, 'norms': {layer: (T,) array}}``.
        diagnoses: the problems found (:class:`TimeDiagnosis`), one per kind and layer.

    Shape:
        :attr:`norms`: ``(steps recorded, T)``, row ``i`` the profile of record ``i``,
        column ``t`` the time step (NaN-padded when sequence lengths differ).

    Example::

        >>> rnn = nn.RNN(2, 64, batch_first=True)
        >>> mon = TimeGradientMonitor(rnn, name="rnn")
        >>> out, _ = rnn(x)                               # x: (N, 100, 2)
        >>> loss_fn(head(out[:, -1]), y).backward()
        >>> mon.step()                                    # warns: ∂L/∂h_t shrinks by 10^20 ...
        >>> mon.norms[-1]                                 # ‖∂L/∂h_t‖, t = 0..99
    """

    def __init__(self, module=None, name=None, *, layer=None, warn=True, check_every=1,
                 window=5, vanishing_ratio=1e-3, exploding_ratio=None, time_dim=None):
        if not 0 < vanishing_ratio < 1:
            raise ValueError("TimeGradientMonitor: vanishing_ratio must be in (0, 1), e.g. "
                             f"1e-3; got {vanishing_ratio}")
        if exploding_ratio is None:
            exploding_ratio = 1.0 / vanishing_ratio
        if not exploding_ratio > 1:
            raise ValueError("TimeGradientMonitor: exploding_ratio must be > 1, e.g. 1e3; got "
                             f"{exploding_ratio}")
        if window < 1:
            raise ValueError(f"TimeGradientMonitor: window must be >= 1, got {window}")
        self.name = name
        self.layer = layer
        self.warn = warn
        self.check_every = int(check_every)
        self.window = int(window)
        self.vanishing_ratio = float(vanishing_ratio)
        self.exploding_ratio = float(exploding_ratio)
        self.time_dim = time_dim
        self.records = []
        self.diagnoses = []
        self._diag_index = {}
        self._reverse = {}      # layer -> True for a reverse direction (BPTT runs forward in t)
        self._manual = []       # (name, recorder) of record() calls since the last step
        self._pending = {}      # output-hook norms since the last step
        self._seen = {}         # hidden_grads arrays already recorded (by identity)
        self._handles = []
        self.module = None
        self.mode = "manual"
        self._n = 0
        if module is not None:
            self.attach(module, name)

    # ------------------------------------------------------------------ setup
    def attach(self, module, name=None):
        """Watch ``module`` (see the class docstring for what is recorded)."""
        from ..nn import Module

        if not isinstance(module, Module):
            raise TypeError(f"TimeGradientMonitor: module must be an nn.Module (nn.RNN, nn.LSTM, "
                            f"nn.GRU or a module returning a sequence), got "
                            f"{type(module).__name__}")
        self.close()
        self.module = module
        if name is not None:
            self.name = name
        if hasattr(module, "record_hidden_grads") and hasattr(module, "hidden_grads"):
            self.mode = "hidden"
            self._was_recording = module.record_hidden_grads
            module.record_hidden_grads = True
        else:
            self.mode = "output"
            self._handles.append(module.register_forward_hook(self._output_hook))
        return self

    def close(self):
        """Stop recording: take the hooks off and restore ``record_hidden_grads``."""
        for h in self._handles:
            h.remove()
        self._handles = []
        if self.module is not None and self.mode == "hidden":
            self.module.record_hidden_grads = getattr(self, "_was_recording", False)
        for _, rec in self._manual:
            rec.remove()
        self._manual = []

    remove_hooks = close

    @property
    def label(self):
        """How messages name the watched module: ``LSTM 'rnn'``."""
        kind = type(self.module).__name__ if self.module is not None else "recurrent loop"
        return f"{kind} '{self.name}'" if self.name else kind

    def _output_hook(self, module, args, output):
        from ..autograd import is_grad_enabled
        from ..tensor import Tensor

        if not is_grad_enabled():
            return
        out = output[0] if isinstance(output, (tuple, list)) else output
        if not isinstance(out, Tensor) or not out.requires_grad or out.ndim < 2:
            return
        axis = self.time_dim
        if axis is None:
            axis = 1 if getattr(module, "batch_first", False) and out.ndim >= 3 else 0
        axis = axis % out.ndim

        def hook(g):
            self._pending["output"] = _time_norms(g._data, axis)

        out.register_hook(hook)

    def record(self, hidden_states, name="h"):
        """Record ‖∂L/∂h_t‖ for hidden states computed by hand (a loop over cells).

        Call after the forward pass, before ``backward()``; the norms are filed under
        ``name`` at the next :meth:`step`.

        Args:
            hidden_states: a list of ``T`` Tensors ``[h_0, ..., h_{T-1}]``, each
                ``(N, H)``; a tuple ``(h, c)`` per step records ``h``.
            name: the layer name for this profile (default ``'h'``).
        """
        from .monitor import TensorGradRecorder

        hs = [h[0] if isinstance(h, (tuple, list)) else h for h in hidden_states]
        if not hs:
            raise ValueError("TimeGradientMonitor.record: no hidden states given")
        rec = TensorGradRecorder(hs, name=name)
        self._manual.append((name, rec))
        return rec

    # ------------------------------------------------------------------ recording
    def _collect(self):
        norms = {}
        if self.mode == "hidden":
            grads = getattr(self.module, "hidden_grads", None) or {}
            for key, g in sorted(grads.items(), key=lambda kv: _layer_order(kv[0])):
                if self._seen.get(key) is g:
                    continue  # recorded at an earlier step already
                self._seen[key] = g
                norms[key] = _time_norms(g, 0)
                self._reverse[key] = key.endswith("_reverse")
        elif self.mode == "output":
            norms.update(self._pending)
            self._pending = {}
        for name, rec in self._manual:
            norms[name] = rec.norms
            rec.remove()
        self._manual = []
        return norms

    def step(self, step=None):
        """Record the profile of the last ``backward()`` (call after it, before the next
        forward pass), then check every ``check_every`` calls.

        Args:
            step: the number to file the record under (default: a counter).

        Returns:
            dict: the record ``{'step', 'norms'}``, or None when no new gradient reached
            the watched states since the last call.
        """
        norms = self._collect()
        if not norms:
            return None
        rec = {"step": self._n if step is None else int(step), "norms": norms}
        self.records.append(rec)
        self._n += 1
        if self.check_every and self._n % self.check_every == 0:
            self.check()
        return rec

    # ------------------------------------------------------------------ views
    @property
    def layers(self):
        """The layers/directions recorded so far, in first-seen order."""
        out = []
        for r in self.records:
            for k in r["norms"]:
                if k not in out:
                    out.append(k)
        return out

    def _default_layer(self):
        layers = self.layers
        if not layers:
            raise ValueError("TimeGradientMonitor: nothing recorded yet; call step() after "
                             "loss.backward()")
        if self.layer is not None:
            if self.layer not in layers:
                raise KeyError(f"TimeGradientMonitor: layer {self.layer!r} was not recorded; "
                               f"recorded: {layers}")
            return self.layer
        return layers[0]

    def history(self, layer=None):
        """The profiles of one layer over the recorded steps: ``(steps, T)`` (NaN-padded)."""
        layer = self._default_layer() if layer is None else layer
        rows = [r["norms"][layer] for r in self.records if layer in r["norms"]]
        if not rows:
            raise KeyError(f"TimeGradientMonitor.history: layer {layer!r} was not recorded; "
                           f"recorded: {self.layers}")
        width = max(len(r) for r in rows)
        out = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return out

    @property
    def norms(self):
        """‖∂L/∂h_t‖ of the default layer: ``(steps recorded, T)``."""
        return self.history()

    @property
    def steps(self):
        """The step number of each record."""
        return [r["step"] for r in self.records]

    # ------------------------------------------------------------------ detection
    def _profile(self, layer):
        """The median profile of the recent finite records, how many, and the latest one."""
        recent = [r["norms"][layer] for r in self.records[-self.window:] if layer in r["norms"]]
        latest = np.asarray(recent[-1], dtype=np.float64)
        # a non-finite record is reported on its own (check), not mixed into the median
        rows = [r for r in recent if np.isfinite(r).all()] or [latest]
        width = max(len(r) for r in rows)
        if len(rows) == 1:
            p = np.asarray(rows[0], dtype=np.float64)
        else:
            m = np.full((len(rows), width), np.nan)
            for i, r in enumerate(rows):
                m[i, :len(r)] = r
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                p = np.nanmedian(m, axis=0)
        return p, len(rows), latest

    def analyse(self, layer=None):
        """The numbers behind :meth:`check` for one layer (default: the default layer).

        Returns:
            dict: ``finite``; ``first`` (the earliest step in backprop order: t=0, or
            T-1 for a reverse direction); ``peak`` (step of the largest norm); ``end``
            (where backprop through time starts: the last step with a gradient);
            ``decay`` (norm at ``first`` / peak norm), ``growth`` (norm at ``first`` /
            norm at ``end``), and ``reach`` (the earliest step, counting back from the
            peak, whose norm is still at least ``vanishing_ratio`` of the peak).
        """
        layer = self._default_layer() if layer is None else layer
        p, n, latest = self._profile(layer)
        rev = self._reverse.get(layer, False)
        order = p[::-1] if rev else p          # in the order BPTT runs through it: last..first
        T = len(p)
        finite = bool(np.isfinite(latest).all())
        info = {"layer": layer, "T": T, "finite": finite, "records": n, "reverse": rev}
        nz = np.flatnonzero(np.nan_to_num(order, nan=0.0) > 0)
        if not finite or nz.size == 0:
            return info
        idx = (lambda i: T - 1 - i) if rev else (lambda i: i)
        end_o = int(nz[-1])                     # last step with a gradient (backprop order)
        peak_o = int(np.argmax(order[:end_o + 1]))
        first_o = 0
        peak_v = float(order[peak_o])
        first_v = float(order[first_o])
        end_v = float(order[end_o])
        below = order[:peak_o + 1] < self.vanishing_ratio * peak_v
        # the steps before the peak whose gradient is still within vanishing_ratio of it
        still = np.flatnonzero(~below)
        reach_o = int(still[0]) if still.size else peak_o
        info.update(first=idx(first_o), peak=idx(peak_o), end=idx(end_o),
                    first_norm=first_v, peak_norm=peak_v, end_norm=end_v,
                    decay=first_v / peak_v if peak_v > 0 else math.nan,
                    growth=first_v / end_v if end_v > 0 else math.inf,
                    reach=idx(reach_o), cut=int(np.count_nonzero(below)))
        return info

    def check(self):
        """Look at the recent profiles of every layer; warn about new problems.

        Returns:
            list of :class:`TimeDiagnosis` found by this check (new or seen before).
        """
        found = []
        if not self.records:
            return found
        step = self.records[-1]["step"]
        for layer in self.layers:
            if not any(layer in r["norms"] for r in self.records[-self.window:]):
                continue
            a = self.analyse(layer)
            where = f"{self.label} ({layer})"
            if not a["finite"]:
                bad = np.flatnonzero(~np.isfinite(self._profile(layer)[2]))
                found.append(self._diagnose(
                    "nonfinite", layer, step,
                    f"∂L/∂h_t is not finite (NaN/Inf) at {bad.size} of {a['T']} time steps "
                    f"(t={_steps(bad)}) in {where} at step {step}: the gradient overflowed "
                    "on its way back through time", (int(bad.min()), int(bad.max()))))
                continue
            if "peak" not in a:
                continue
            if a["growth"] > self.exploding_ratio:
                found.append(self._diagnose(
                    "exploding", layer, step,
                    f"∂L/∂h_t grows by {_pow10(a['growth'])} from t={a['end']} back to "
                    f"t={a['first']} in {where} ({a['end_norm']:.2e} -> {a['first_norm']:.2e}, "
                    f"median of {a['records']} step{'s' if a['records'] > 1 else ''}): each "
                    "step back through the recurrence multiplies it, and the weight update "
                    "is dominated by the earliest steps", (a["first"], a["end"])))
            elif a["decay"] < self.vanishing_ratio and a["peak"] != a["first"]:
                found.append(self._diagnose(
                    "vanishing", layer, step,
                    f"∂L/∂h_t shrinks "
                    f"{'by ' + _pow10(1 / a['decay']) if a['decay'] > 0 else 'to exactly 0'} "
                    f"from t={a['peak']} back to "
                    f"t={a['first']} in {where} ({a['peak_norm']:.2e} -> "
                    f"{a['first_norm']:.2e}, median of {a['records']} "
                    f"step{'s' if a['records'] > 1 else ''}): it is below "
                    f"{self.vanishing_ratio:g} of its peak at {a['cut']} of {a['T']} steps "
                    f"(t {'>=' if a['reverse'] else '<='} "
                    f"{a['reach'] + 1 if a['reverse'] else a['reach'] - 1}), so the loss barely "
                    "reaches them and the layer cannot learn dependencies that span them",
                    (a["first"], a["reach"])))
        return found

    def _diagnose(self, kind, layer, step, message, steps):
        key = (kind, layer)
        d = self._diag_index.get(key)
        if d is not None:
            d.count += 1
            d.last_step = step
            d.message = message
            d.steps = steps
            return d
        d = TimeDiagnosis(kind, [layer], step, message, steps)
        self._diag_index[key] = d
        self.diagnoses.append(d)
        if self.warn:
            warnings.warn(f"{message}. Remedies: {_SHORT[kind]} (see "
                          "TimeGradientMonitor.report())", d.warning_class, stacklevel=4)
        return d

    # ------------------------------------------------------------------ reporting
    def report(self):
        """A text report: each layer's latest profile (sampled), then problems and remedies."""
        if not self.records:
            return "TimeGradientMonitor: no step recorded yet (call step() after backward).\n"
        lines = [f"Gradient through time of {self.label}: {len(self.records)} step"
                 f"{'s' if len(self.records) > 1 else ''} recorded (latest: step "
                 f"{self.records[-1]['step']})", ""]
        for layer in self.layers:
            p = self.history(layer)[-1]
            T = int(np.count_nonzero(~np.isnan(p)))
            ts = sorted(set(np.linspace(0, T - 1, min(T, 8)).round().astype(int).tolist()))
            lines.append(f"  {layer}: ‖∂L/∂h_t‖ " + "  ".join(f"t={t}: {p[t]:.2e}" for t in ts))
            a = self.analyse(layer)
            if "decay" in a:
                lines.append(f"      earliest/peak = {a['decay']:.1e}, earliest/last = "
                             f"{a['growth']:.1e}")
        lines.append("")
        if self.diagnoses:
            lines.append(f"Problems found ({len(self.diagnoses)}):")
            for d in self.diagnoses:
                lines.append("")
                lines.append(str(d))
        else:
            lines.append("No problems found: the gradient neither vanishes nor explodes "
                         "through time.")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ plots
    def plot(self, path=None, *, layer=None, **kw):
        """Plot the profile (see :func:`plot_time_grad_norms`); a PNG when ``path`` is given."""
        return plot_time_grad_norms(self, path, layer=layer, **kw)

    def __repr__(self):
        return (f"TimeGradientMonitor({self.label}, mode={self.mode!r}, "
                f"steps={len(self.records)}, problems={len(self.diagnoses)})")


def _layer_order(key):
    """Sort ``'l0'``, ``'l0_reverse'``, ``'l1'``... as the module stacks them."""
    base = key[:-len("_reverse")] if key.endswith("_reverse") else key
    num = base[1:]
    return (int(num) if num.isdigit() else 0, key.endswith("_reverse"), key)


def _steps(idx):
    idx = [int(i) for i in idx]
    if len(idx) <= 6:
        return ", ".join(map(str, idx))
    return f"{idx[0]}..{idx[-1]}"


# ---------------------------------------------------------------------------- the callback

class TimeGradientMonitorCallback(TimeGradientMonitor, _Callback):
    """:class:`TimeGradientMonitor` for :func:`retrograd.train.fit`.

    Args:
        module: the recurrent module, or its name in the model (``'rnn'``), or None for
            the model's first ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
        every: record every this many batches (default 1).
        print_report: print :meth:`report` when training ends.
        plot_path: write :meth:`plot` to this file when training ends.
        **kwargs: as :class:`TimeGradientMonitor`.

    Example::

        >>> cb = TimeGradientMonitorCallback("rnn")
        >>> fit(model, loader, epochs=5, optimizer=opt, loss_fn=loss_fn, callbacks=[cb])
        >>> cb.plot("bptt.png")
    """

    def __init__(self, module=None, *, every=1, print_report=False, plot_path=None, **kwargs):
        if every < 1:
            raise ValueError(f"TimeGradientMonitorCallback: every must be >= 1, got {every}")
        self._target = module
        TimeGradientMonitor.__init__(self, None, **kwargs)
        self.every = int(every)
        self.print_report = print_report
        self.plot_path = plot_path
        self._batches = 0

    def on_train_begin(self, logs=None):
        from ..nn import Module

        target = self._target
        if isinstance(target, Module):
            if self.name is None:
                self.name = _name_in(getattr(self.trainer, "model", None), target)
            self.attach(target)
            return
        model = getattr(self.trainer, "model", None)
        if model is None:
            raise RuntimeError("TimeGradientMonitorCallback: no model; pass the recurrent "
                               "module itself, or use the callback inside retrograd.train.fit")
        if isinstance(target, str):
            self.name = self.name or target
            self.attach(model.get_submodule(target))
            return
        for name, m in model.named_modules():
            if hasattr(m, "record_hidden_grads"):
                self.name = self.name or name or type(m).__name__
                self.attach(m)
                return
        raise RuntimeError(f"TimeGradientMonitorCallback: {type(model).__name__} has no "
                           "nn.RNN / nn.LSTM / nn.GRU; pass the module to watch")

    def on_after_backward(self, batch, logs=None):
        self._batches += 1
        if (self._batches - 1) % self.every:
            self._collect()  # drop this batch's gradients
            return
        step = getattr(self.trainer, "global_step", None) if self.trainer is not None else None
        self.step(step)

    def on_train_end(self, logs=None):
        if self.print_report:
            print(self.report())
        if self.plot_path is not None and self.records:
            self.plot(self.plot_path)

    def _teardown(self):
        self.close()


def _name_in(model, module):
    if model is None:
        return None
    for name, m in model.named_modules():
        if m is module:
            return name or None
    return None


# ---------------------------------------------------------------------------- the plot

def plot_time_grad_norms(source, path=None, *, layer=None, labels=None, logy=True, title=None,
                         figsize=None, dpi=100):
    r"""Plot ‖∂L/∂h_t‖ against the time step t: how far back the gradient reaches.

    Args:
        source: a :class:`TimeGradientMonitor`; or a dict ``{label: profile}`` (1-D arrays,
            or monitors, whose latest profile is drawn) to compare layers, e.g. a vanilla
            RNN against an LSTM on the same task.
        path: where to write the image (PNG unless the extension says otherwise); None:
            only return the figure.
        layer: the monitor's layer to draw (default: its default layer).
        logy: logarithmic y axis (default True: vanishing gradients span decades).
        title, figsize, dpi: figure options.

    Returns:
        matplotlib.figure.Figure

    A monitor with several records gets a second panel: the profile over training (rows:
    recorded steps, columns: time steps, colour: log10 of the norm).
    """
    from .plots import _cmap, _figure, _save

    if isinstance(source, TimeGradientMonitor):
        hist = source.history(layer)
        lay = layer or source._default_layer()
        curves = {f"{source.label} ({lay})": hist[-1]}
        heat = hist if len(hist) > 1 else None
        steps = [r["step"] for r in source.records if lay in r["norms"]]
    elif isinstance(source, dict):
        curves = {}
        for k, v in source.items():
            curves[str(k)] = v.history()[-1] if isinstance(v, TimeGradientMonitor) \
                else np.asarray(v, dtype=np.float64).ravel()
        heat, steps = None, None
    else:
        raise TypeError("plot_time_grad_norms: source must be a TimeGradientMonitor or a dict "
                        f"{{label: profile}}, got {type(source).__name__}")
    if not curves:
        raise ValueError("plot_time_grad_norms: nothing to plot")
    if figsize is None:
        figsize = (11, 4.2) if heat is not None else (7.5, 4.2)
    fig = _figure(figsize, layout=None)
    top = 0.8 if title else 0.88
    fig.subplots_adjust(left=0.11 if heat is None else 0.08, right=0.97 if heat is None else 0.92,
                        bottom=0.13, top=top, wspace=0.25)
    ax = fig.add_subplot(1, 2 if heat is not None else 1, 1)
    cmap = _cmap()
    if heat is not None and len(heat) > 1:
        # earlier profiles, faint, so the change over training shows
        for i, row in enumerate(heat[:-1][-20:]):
            y = np.where(row > 0, row, np.nan) if logy else row
            ax.plot(np.arange(len(y)), y, color=cmap(0.15 + 0.6 * i / 20), lw=0.7, alpha=0.35)
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=np.float64)
        if logy:
            y = np.where(y > 0, y, np.nan)
        color = "#c2452a" if len(curves) == 1 else cmap(0.1 + 0.8 * i / max(len(curves) - 1, 1))
        ax.plot(np.arange(len(y)), y, color=color, lw=1.8, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    ax.set_title("gradient through time" + (" (latest step)" if heat is not None else ""))
    if heat is not None:
        ax2 = fig.add_subplot(1, 2, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log10(np.where(heat > 0, heat, np.nan))
        im = ax2.imshow(z, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest",
                        extent=(-0.5, z.shape[1] - 0.5, -0.5, z.shape[0] - 0.5))
        ax2.set_xlabel("time step t")
        ax2.set_ylabel("record (training step)")
        if steps:
            ticks = np.linspace(0, len(steps) - 1, min(len(steps), 5)).round().astype(int)
            ax2.set_yticks(ticks)
            ax2.set_yticklabels([str(steps[i]) for i in ticks])
        ax2.set_title("log10 ‖∂L/∂h_t‖ over training")
        cax = fig.add_axes((0.935, 0.13, 0.015, top - 0.13))
        fig.colorbar(im, cax=cax)
    if title:
        fig.suptitle(title, y=0.97)
    _save(fig, path, dpi)
    return fig
