r"""Gradient flow and training health: per-layer statistics, warnings, remedies.

:class:`GradientMonitor` watches a model while it trains. After each
``loss.backward()``, :meth:`GradientMonitor.step` records, for every layer that owns
parameters, the gradient norm, the weight norm and their ratio; and, for every
activation *module* (``nn.Sigmoid``, ``nn.Tanh``, ``nn.ReLU``, ...), the mean and
standard deviation of its output, the fraction of saturated sigmoid/tanh values and
the fraction of dead ReLU units. Activations are captured by forward hooks on the
activation modules: an activation called as a function inside ``forward``
(``retrograd.relu(x)``, ``F.sigmoid(x)``) is out of the hooks' reach and is not seen.

Then it looks for the classic failures and warns (a :class:`TrainingHealthWarning`
subclass, once per problem and layer), naming the layer and suggesting remedies:

* **vanishing gradients**: the earliest weight layers' gradient norms are orders of
  magnitude (``vanishing_ratio``, default 1e-3) below the last layer's;
* **exploding gradients**: a non-finite gradient, a total gradient norm that grew
  ``growth_factor`` times (default 100) over the recent median, or early layers'
  norms orders of magnitude *above* the last layer's;
* **saturation**: more than ``saturation_threshold`` of a sigmoid/tanh module's
  outputs in the outer 1% of its range at each end (sigmoid < 0.01 or > 0.99,
  tanh < -0.98 or > 0.98), where the derivative is nearly zero;
* **dead units**: more than ``dead_threshold`` of a ReLU module's units (features,
  or channels for convolutions) gave no positive output on any sample of the last
  ``window`` steps.

Use it in a hand-written loop::

    mon = GradientMonitor(model)
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        mon.step()                 # record + check, before optimizer.step()
        optimizer.step()
    print(mon.report())

or with :func:`retrograd.train.fit` through :class:`GradientMonitorCallback`.

:meth:`GradientMonitor.record_tensor_grads` also records the gradient norms of any
list of intermediate tensors (for a recurrent network, the hidden states
:math:`h_1, \dots, h_T`: the per-time-step norms of :math:`\partial L/\partial h_t`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["GradientMonitor", "Diagnosis", "TensorGradRecorder", "record_tensor_grads",
           "TrainingHealthWarning", "VanishingGradientWarning", "ExplodingGradientWarning",
           "SaturationWarning", "DeadUnitWarning"]


# ---------------------------------------------------------------------------- warnings

class TrainingHealthWarning(UserWarning):
    """Base class of the warnings retrograd's diagnostics issue about a training run.

    Filter them all at once: ``warnings.simplefilter('ignore', TrainingHealthWarning)``.
    """


class VanishingGradientWarning(TrainingHealthWarning):
    """The earliest layers' gradients are orders of magnitude smaller than the last layer's."""


class ExplodingGradientWarning(TrainingHealthWarning):
    """Gradients are non-finite, grow fast, or grow through depth by orders of magnitude."""


class SaturationWarning(TrainingHealthWarning):
    """Most outputs of a sigmoid/tanh module sit where its derivative is nearly zero."""


class DeadUnitWarning(TrainingHealthWarning):
    """Many ReLU units output zero for every sample: they get no gradient and stop learning."""


REMEDIES = {
    "vanishing": (
        "use ReLU-family activations (nn.ReLU, nn.LeakyReLU, nn.GELU) in hidden layers "
        "instead of sigmoid/tanh, whose derivative is at most 0.25/1",
        "add residual (skip) connections, x = x + block(x), so the gradient has a short path",
        "add batch normalisation (nn.BatchNorm1d/2d) after the linear/conv layers",
        "initialise for the activation: nn.init.kaiming_normal_ for ReLU, "
        "nn.init.xavier_uniform_ for tanh/sigmoid",
        "use fewer layers",
    ),
    "exploding": (
        "clip the gradient norm: nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
        "before optimizer.step() (fit(..., clip_grad_norm=1.0))",
        "use a smaller learning rate",
        "add batch normalisation (nn.BatchNorm1d/2d)",
        "initialise with smaller weights (nn.init.xavier_uniform_ / kaiming_uniform_, not a "
        "wide normal)",
    ),
    "nonfinite": (
        "run one step under `with retrograd.autograd.detect_anomaly():` to find the op whose "
        "backward made the NaN/Inf (log of 0, division by 0, sqrt of 0, overflow in exp)",
        "use the numerically stable forms: nn.CrossEntropyLoss / BCEWithLogitsLoss on logits, "
        "not log(softmax(x)) or log(sigmoid(x))",
        "use a smaller learning rate and clip the gradient norm (nn.utils.clip_grad_norm_)",
    ),
    "saturation": (
        "normalise the inputs (zero mean, unit variance)",
        "initialise with smaller weights: nn.init.xavier_uniform_ (Glorot) for sigmoid/tanh",
        "add batch normalisation before the activation",
        "use ReLU-family activations in hidden layers",
        "use a smaller learning rate (large updates push units into saturation)",
    ),
    "dead": (
        "use nn.LeakyReLU, nn.ELU or nn.GELU, which keep a gradient for negative inputs",
        "use a smaller learning rate (one large step can push a unit's bias far negative)",
        "use Kaiming (He) initialisation: nn.init.kaiming_normal_(w, nonlinearity='relu')",
        "add batch normalisation before the ReLU",
    ),
}

_WARNING_CLASS = {"vanishing": VanishingGradientWarning, "exploding": ExplodingGradientWarning,
                  "nonfinite": ExplodingGradientWarning, "saturation": SaturationWarning,
                  "dead": DeadUnitWarning}

_TITLE = {"vanishing": "vanishing gradients", "exploding": "exploding gradients",
          "nonfinite": "non-finite gradients", "saturation": "saturated activations",
          "dead": "dead ReLU units"}


class Diagnosis:
    """One detected problem: ``kind``, ``layers`` (names), ``step``, ``message``, ``remedies``.

    ``kind`` is ``'vanishing'``, ``'exploding'``, ``'nonfinite'``, ``'saturation'`` or
    ``'dead'``; ``count`` is how many checks found it, ``last_step`` the latest.
    """

    def __init__(self, kind, layers, step, message):
        self.kind = kind
        self.layers = tuple(layers)
        self.step = step
        self.last_step = step
        self.count = 1
        self.message = message
        self.remedies = REMEDIES[kind]

    @property
    def warning_class(self):
        return _WARNING_CLASS[self.kind]

    def __str__(self):
        lines = [f"[{_TITLE[self.kind]}] {self.message}", "  Remedies:"]
        lines += [f"  - {r}" for r in self.remedies]
        return "\n".join(lines)

    def __repr__(self):
        return f"Diagnosis({self.kind!r}, layers={self.layers!r}, step={self.step})"


# ---------------------------------------------------------------------------- activations

# class name -> (family, (low, high) range for saturating ones)
_ACTIVATIONS = {
    "Sigmoid": ("saturating", (0.0, 1.0)),
    "Tanh": ("saturating", (-1.0, 1.0)),
    "Hardsigmoid": ("saturating", (0.0, 1.0)),
    "Hardtanh": ("saturating", None),  # range from min_val/max_val
    "Softsign": ("saturating", (-1.0, 1.0)),
    "ReLU": ("relu", None),
    "ReLU6": ("relu", None),
}
_OTHER_ACTIVATIONS = {"LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
                      "Mish", "Softplus", "Softmax", "LogSoftmax", "LogSigmoid", "Softmin",
                      "Tanhshrink", "Softshrink", "Hardshrink", "Hardswish", "Threshold", "GLU"}

#: samples a ReLU module must have seen before its units can be called dead
_DEAD_MIN_SAMPLES = 16

#: the outer fraction of a saturating activation's range (at each end) counted as saturated
SATURATION_MARGIN = 0.01


def _activation_kind(module):
    """(family, range) for an activation module, or None for anything else."""
    for cls in type(module).__mro__:
        name = cls.__name__
        if name in _ACTIVATIONS:
            family, rng = _ACTIVATIONS[name]
            if name == "Hardtanh" and rng is None:
                rng = (float(getattr(module, "min_val", -1.0)), float(getattr(module, "max_val",
                                                                                1.0)))
            return family, rng, name
        if name in _OTHER_ACTIVATIONS:
            return "other", None, name
    return None


def _unit_axes(a):
    """Axes to reduce over to get one value per unit: features (N, F) or channels (N, C, ...)."""
    if a.ndim <= 1:
        return None
    return (0,) + tuple(range(2, a.ndim))


def _saturated_fraction(a, rng):
    lo, hi = rng
    m = SATURATION_MARGIN * (hi - lo)
    return float(np.count_nonzero((a <= lo + m) | (a >= hi - m))) / max(a.size, 1)


# ---------------------------------------------------------------------------- tensor grads

class TensorGradRecorder:
    """Records the norm of the gradient that reaches each of a list of tensors.

    Made by :func:`record_tensor_grads` (or
    :meth:`GradientMonitor.record_tensor_grads`). After ``loss.backward()``,
    ``norms`` is an array with one entry per tensor (NaN for a tensor the backward
    did not reach); ``grads`` keeps the gradients themselves when ``keep=True``.
    For a recurrent network pass the hidden states ``[h_1, ..., h_T]``: ``norms[t]``
    is :math:`\\|\\partial L/\\partial h_t\\|`, whose decay towards ``t = 1`` shows
    vanishing gradients through time.
    """

    def __init__(self, tensors, name=None, keep=False):
        from ..tensor import Tensor

        tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
        self.name = name
        self.keep = keep
        self._norms = [math.nan] * len(tensors)
        self.grads = [None] * len(tensors) if keep else None
        self._handles = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"record_tensor_grads: item {i} is a {type(t).__name__}, "
                                "not a Tensor")
            if not t.requires_grad:
                raise ValueError(
                    f"record_tensor_grads: tensor {i} (shape {tuple(t.shape)}) does not require "
                    "grad, so no gradient will reach it; record tensors computed from "
                    "parameters or inputs with requires_grad=True")
            self._handles.append(t.register_hook(self._hook(i)))

    def _hook(self, i):
        def hook(g):
            a = g._data
            n = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
            self._norms[i] = n if math.isnan(self._norms[i]) else math.hypot(self._norms[i], n)
            if self.keep:
                self.grads[i] = np.array(a, copy=True)
        return hook

    @property
    def norms(self):
        return np.array(self._norms, dtype=np.float64)

    def remove(self):
        """Detach the hooks (the tensors' graph keeps no reference to this recorder)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __len__(self):
        return len(self._norms)

    def __repr__(self):
        return f"TensorGradRecorder(name={self.name!r}, n={len(self)})"


def record_tensor_grads(tensors, name=None, keep=False):
    """Record the gradient norm of each tensor in ``tensors`` during the next backward.

    Args:
        tensors: a Tensor or a list of Tensors that require grad (intermediate values:
            hidden states, a layer's outputs, ...).
        name: a label (used by :class:`GradientMonitor` to file the norms).
        keep: also keep a copy of each gradient (``recorder.grads``).

    Returns:
        TensorGradRecorder: its ``norms`` array is filled by ``loss.backward()``.

    Example::

        >>> hs = []                                # hidden states of an RNN, one per step
        >>> ...
        >>> rec = record_tensor_grads(hs, 'h')
        >>> loss.backward()
        >>> rec.norms                              # ||dL/dh_t|| for t = 1..T
    """
    return TensorGradRecorder(tensors, name=name, keep=keep)


# ---------------------------------------------------------------------------- the monitor

class GradientMonitor:
    """Records per-layer gradient and activation statistics each step, and diagnoses them.

    Args:
        model: the ``nn.Module`` to watch (may be given later with :meth:`attach`).
        warn: issue Python warnings (:class:`TrainingHealthWarning` subclasses) when a
            problem is found, once per problem and layer (default True).
        check_every: run the detectors every this many steps (0: only when
            :meth:`check` is called).
        window: how many recent steps the detectors look at (medians, dead units).
        vanishing_ratio: warn when an early weight layer's gradient norm is below this
            fraction of the last weight layer's (default 1e-3: three orders of
            magnitude); the reciprocal flags gradients exploding through depth.
        growth_factor: warn when the total gradient norm exceeds this multiple of its
            median over the previous ``window`` steps (default 100).
        saturation_threshold: warn when more than this fraction of a sigmoid/tanh
            module's outputs are saturated (default 0.5).
        dead_threshold: warn when more than this fraction of a ReLU module's units were
            never active during the last ``window`` steps (default 0.5).
        histograms: keep per-layer histograms of gradients and activations every this
            many steps (0 or False: never), for :func:`plot_histograms`; a tensor of
            more than 65,536 values is histogrammed on an evenly strided sample.
        bins: histogram bins.

    Attributes:
        records: one dict per :meth:`step`: ``{'step', 'layers': {name: stats},
            'activations': {name: stats}, 'tensors': {name: norms}, 'histograms'}``.
        diagnoses: the problems found so far (:class:`Diagnosis`), one per kind and layer.

    Layer statistics (``records[i]['layers'][name]``): ``grad_norm`` (2-norm of all
    the layer's parameter gradients), ``weight_norm``, ``ratio`` (grad_norm /
    weight_norm), ``grad_mean``, ``grad_std``, ``grad_max`` (largest absolute value),
    ``finite``, and ``params`` (per-parameter gradient norms). A layer is a module
    that owns parameters itself (``nn.Linear``, ``nn.Conv2d``, ``nn.BatchNorm1d`` ...);
    layers are ordered as the forward pass first runs them.

    Activation statistics (``records[i]['activations'][name]``, one entry per call
    of an activation module: ``'1'``, or ``'act#2'`` for the third call of a module
    reused in ``forward``): ``kind`` (class name), ``mean``, ``std``, ``saturated``
    (fraction, sigmoid/tanh family) and ``dead`` (fraction of units with no positive
    output in this batch, ReLU/ReLU6). Forward passes run with gradients disabled
    (validation under ``no_grad``) are not recorded.

    Example::

        >>> mon = GradientMonitor(model)
        >>> loss_fn(model(x), y).backward()
        >>> mon.step()
        >>> mon.history('grad_norm')        # {layer name: array over steps}
        >>> print(mon.report())
    """

    def __init__(self, model=None, *, warn=True, check_every=1, window=10,
                 vanishing_ratio=1e-3, growth_factor=100.0, saturation_threshold=0.5,
                 dead_threshold=0.5, histograms=1, bins=40):
        if window < 1:
            raise ValueError(f"GradientMonitor: window must be >= 1, got {window}")
        if not 0 < vanishing_ratio < 1:
            raise ValueError("GradientMonitor: vanishing_ratio must be in (0, 1), e.g. 1e-3; "
                             f"got {vanishing_ratio}")
        self.warn = warn
        self.check_every = int(check_every)
        self.window = int(window)
        self.vanishing_ratio = float(vanishing_ratio)
        self.growth_factor = float(growth_factor)
        self.saturation_threshold = float(saturation_threshold)
        self.dead_threshold = float(dead_threshold)
        self.histograms = int(histograms or 0)
        self.bins = int(bins)
        self.records = []
        self.diagnoses = []
        self._diag_index = {}
        self.model = None
        self._handles = []
        self._pending_acts = {}
        self._call_count = {}
        self._recorders = {}
        self._alive = {}          # activation key -> (last step each unit was active, first step)
        self._samples = {}        # activation key -> samples seen
        self._order = []
        self._n = 0
        if model is not None:
            self.attach(model)

    # ------------------------------------------------------------------ setup
    def attach(self, model):
        """Start watching ``model``: hooks on its activation and parameterised modules."""
        from ..nn import Module

        if not isinstance(model, Module):
            raise TypeError(f"GradientMonitor: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        self.remove_hooks()
        self.model = model
        self._layers = {}   # name -> module, registration order
        self._acts = {}
        for name, m in model.named_modules():
            label = name or type(m).__name__
            own = [p for _, p in m.named_parameters(recurse=False)]
            if own:
                self._layers[label] = m
                self._handles.append(m.register_forward_hook(self._order_hook(label)))
            kind = _activation_kind(m)
            if kind is not None:
                self._acts[label] = kind
                self._handles.append(m.register_forward_hook(self._act_hook(label, kind)))
        return self

    def remove_hooks(self):
        """Take every hook this monitor placed off the model (recording stops)."""
        for h in self._handles:
            h.remove()
        self._handles = []
        for r in self._recorders.values():
            r.remove()

    close = remove_hooks

    def _order_hook(self, label):
        def hook(module, args, output):
            if label not in self._order:
                self._order.append(label)
        return hook

    def _act_hook(self, label, kind):
        from ..autograd import is_grad_enabled
        from ..tensor import Tensor

        family, rng, cls_name = kind

        def hook(module, args, output):
            if not is_grad_enabled() or not isinstance(output, Tensor):
                return
            i = self._call_count.get(label, 0)
            self._call_count[label] = i + 1
            key = label if i == 0 else f"{label}#{i}"
            a = output._data
            if a.size == 0:
                return
            st = {"kind": cls_name, "module": label,
                  "mean": float(a.mean(dtype=np.float64)), "std": float(a.std(dtype=np.float64))}
            if family == "saturating":
                st["saturated"] = _saturated_fraction(a, rng)
            elif family == "relu":
                axes = _unit_axes(a)
                active = (a > 0) if axes is None else (a > 0).any(axis=axes)
                st["dead"] = 1.0 - float(np.count_nonzero(active)) / active.size
                self._track_alive(key, active, a.shape[0] if a.ndim > 1 else 1)
            if self.histograms and self._n % self.histograms == 0:
                st["hist"] = _histogram(a, self.bins)
            self._pending_acts[key] = st
        return hook

    def _track_alive(self, key, active, n_samples):
        last, first = self._alive.get(key, (None, None))
        if last is None or last.shape != active.shape:
            last = np.full(active.shape, self._n - 1, dtype=np.int64)
            first = self._n
            self._samples[key] = 0
        last[active] = self._n
        self._alive[key] = (last, first)
        self._samples[key] += n_samples

    def record_tensor_grads(self, tensors, name, keep=False):
        """Record ``‖∂L/∂t‖`` for each tensor in ``tensors`` at the coming backward.

        The norms are filed under ``name`` in the next :meth:`step`'s record
        (``records[-1]['tensors'][name]``, one value per tensor) and
        :meth:`tensor_history` gives them over steps. Call it each step, after the
        forward pass that made the tensors and before ``backward``: e.g. with the
        hidden states of a recurrent layer, for per-time-step gradient norms.

        Returns the :class:`TensorGradRecorder`.
        """
        rec = TensorGradRecorder(tensors, name=name, keep=keep)
        old = self._recorders.get(name)
        if old is not None:
            old.remove()
        self._recorders[name] = rec
        return rec

    # ------------------------------------------------------------------ recording
    def step(self, step=None):
        """Record the current gradients (call after ``backward``, before ``optimizer.step``).

        Args:
            step: the step number to file the record under (default: a counter).

        Returns:
            dict: this step's record (see the class docstring).
        """
        if self.model is None:
            raise RuntimeError("GradientMonitor.step(): no model attached; pass the model to "
                               "GradientMonitor(model) or call attach(model)")
        idx = self._n if step is None else int(step)
        hist_now = self.histograms and self._n % self.histograms == 0
        layers = {}
        hists = {}
        for name in self.layer_names:
            m = self._layers[name]
            sq_g = 0.0
            sq_w = 0.0
            n = 0
            total = 0.0
            total_sq = 0.0
            gmax = 0.0
            finite = True
            per = {}
            grads = []
            for pname, p in m.named_parameters(recurse=False):
                w = p._data
                sq_w += float(np.sum(np.square(w, dtype=np.float64)))
                if p.grad is None:
                    continue
                g = p.grad._data
                s2 = float(np.sum(np.square(g, dtype=np.float64)))
                per[pname] = math.sqrt(s2) if math.isfinite(s2) else s2
                sq_g += s2
                n += g.size
                total += float(np.sum(g, dtype=np.float64))
                total_sq += s2
                ok = bool(np.isfinite(g).all())
                if not ok:
                    gmax = math.nan if np.isnan(g).any() else math.inf
                elif g.size and not math.isnan(gmax):
                    gmax = max(gmax, float(np.max(np.abs(g))))
                finite = finite and ok
                if hist_now:
                    grads.append(_sample(g))
            if n == 0:
                continue  # no gradient reached this layer (frozen or unused)
            gnorm = math.sqrt(sq_g) if math.isfinite(sq_g) else math.inf
            wnorm = math.sqrt(sq_w)
            mean = total / n
            layers[name] = {
                "grad_norm": gnorm if finite else math.nan if math.isnan(sq_g) else math.inf,
                "weight_norm": wnorm,
                "ratio": (gnorm / wnorm) if wnorm > 0 else math.nan,
                "grad_mean": mean,
                "grad_std": math.sqrt(max(total_sq / n - mean * mean, 0.0)),
                "grad_max": gmax,
                "finite": finite,
                "params": per,
            }
            if hist_now and finite:
                hists[("grad", name)] = _histogram(np.concatenate(grads), self.bins)
        acts = {}
        for key, st in self._pending_acts.items():
            h = st.pop("hist", None)
            if h is not None:
                hists[("act", key)] = h
            acts[key] = st
        tensors = {}
        for name, rec in self._recorders.items():
            tensors[name] = rec.norms
            rec.remove()
        self._recorders = {}
        record = {"step": idx, "layers": layers, "activations": acts, "tensors": tensors,
                  "histograms": hists}
        self.records.append(record)
        self._pending_acts = {}
        self._call_count = {}
        self._n += 1
        if self.check_every and self._n % self.check_every == 0:
            self.check()
        return record

    # ------------------------------------------------------------------ views
    @property
    def layer_names(self):
        """Parameterised layers, in forward order (then any never run, in module order)."""
        if self.model is None:
            return []
        seen = [n for n in self._order if n in self._layers]
        return seen + [n for n in self._layers if n not in seen]

    @property
    def weight_layer_names(self):
        """The layers holding a weight matrix or kernel (a parameter of 2 or more dims)."""
        return [n for n in self.layer_names
                if any(p.ndim >= 2 for p in self._layers[n].parameters(recurse=False))]

    @property
    def activation_names(self):
        """The activation calls seen so far (``'name'`` or ``'name#k'``), in first-seen order."""
        out = []
        for r in self.records:
            for k in r["activations"]:
                if k not in out:
                    out.append(k)
        return out

    @property
    def steps(self):
        """The step number of each record."""
        return [r["step"] for r in self.records]

    @property
    def latest(self):
        """The last record (None before the first :meth:`step`)."""
        return self.records[-1] if self.records else None

    def history(self, stat="grad_norm", layer=None):
        """A layer statistic over the recorded steps (NaN where a layer had no gradient).

        Args:
            stat: ``'grad_norm'``, ``'weight_norm'``, ``'ratio'``, ``'grad_mean'``,
                ``'grad_std'`` or ``'grad_max'``.
            layer: one layer's name, or None for a dict of every layer's.
        """
        names = [layer] if layer is not None else self.layer_names
        out = {n: np.array([r["layers"].get(n, {}).get(stat, math.nan) for r in self.records],
                           dtype=np.float64) for n in names}
        return out[layer] if layer is not None else out

    def activation_history(self, stat="mean", name=None):
        """An activation statistic over steps: ``'mean'``, ``'std'``, ``'saturated'``, ``'dead'``.

        Args:
            stat: the statistic's name.
            name: one activation's name, or None for a dict of every activation's.
        """
        names = [name] if name is not None else self.activation_names
        out = {n: np.array([r["activations"].get(n, {}).get(stat, math.nan)
                            for r in self.records], dtype=np.float64) for n in names}
        return out[name] if name is not None else out

    def tensor_history(self, name):
        """The norms filed by :meth:`record_tensor_grads` under ``name``: (steps, tensors).

        Rows are NaN-padded when steps recorded different numbers of tensors; steps
        without a record for ``name`` are left out.
        """
        rows = [r["tensors"][name] for r in self.records if name in r["tensors"]]
        if not rows:
            known = sorted({k for r in self.records for k in r["tensors"]})
            raise KeyError(f"GradientMonitor.tensor_history: nothing recorded under {name!r}; "
                           f"recorded names: {known}")
        width = max(len(r) for r in rows)
        out = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return out

    # ------------------------------------------------------------------ detection
    def check(self):
        """Run the detectors on the recent steps; warn about new problems.

        Returns:
            list of :class:`Diagnosis` found by this check (new or seen before).
        """
        if not self.records:
            return []
        found = []
        rec = self.records[-1]
        step = rec["step"]
        recent = self.records[-self.window:]

        # non-finite gradients
        bad = [n for n, s in rec["layers"].items() if not s["finite"]]
        if bad:
            found.append(self._diagnose(
                "nonfinite", bad, step,
                f"non-finite gradients (NaN/Inf) in layer{'s' if len(bad) > 1 else ''} "
                f"{_names(bad, self._layers)} at step {step}; an optimizer step now would "
                "corrupt the weights"))
        # fast growth of the total gradient norm
        if len(self.records) > 3 and not bad:
            totals = [_total_norm(r) for r in self.records[-self.window - 1:]]
            now, before = totals[-1], [t for t in totals[:-1] if math.isfinite(t) and t > 0]
            if len(before) >= 3:
                med = float(np.median(before))
                if now > self.growth_factor * med:
                    found.append(self._diagnose(
                        "exploding", ["(total)"], step,
                        f"the total gradient norm grew to {now:.3g} at step {step}, "
                        f"{now / med:.3g}× its median of {med:.3g} over the previous "
                        f"{len(before)} steps"))
        # vanishing / exploding through depth
        wl = [n for n in self.weight_layer_names]
        if len(wl) >= 2:
            med = {n: _nanmedian([r["layers"][n]["grad_norm"] for r in recent
                                  if n in r["layers"] and r["layers"][n]["finite"]])
                   for n in wl}
            last = wl[-1]
            ref = med[last]
            if math.isfinite(ref) and ref > 0:
                early = wl[:-1]
                low = [n for n in early if math.isfinite(med[n])
                       and med[n] < self.vanishing_ratio * ref]
                if low and low[0] == early[0]:
                    worst = min(low, key=lambda n: med[n])
                    found.append(self._diagnose(
                        "vanishing", low, step,
                        f"gradients vanish towards the input: the gradient norm of "
                        f"{_names(low, self._layers, 3)} is "
                        f"{med[worst] / ref:.1e} times that of the last layer "
                        f"{_names([last], self._layers)} ({med[worst]:.2e} vs {ref:.2e}, "
                        f"median over {len(recent)} step{'s' if len(recent) > 1 else ''}); "
                        "these layers barely learn"))
                high = [n for n in early if math.isfinite(med[n])
                        and med[n] > ref / self.vanishing_ratio]
                if high:
                    worst = max(high, key=lambda n: med[n])
                    found.append(self._diagnose(
                        "exploding", high, step,
                        f"gradients explode towards the input: the gradient norm of "
                        f"{_names(high, self._layers, 3)} is {med[worst] / ref:.1e} times that "
                        f"of the last layer {_names([last], self._layers)} "
                        f"({med[worst]:.2e} vs {ref:.2e})"))
        # saturation
        for key in {k for r in recent for k in r["activations"]}:
            vals = [r["activations"][key].get("saturated") for r in recent
                    if key in r["activations"]]
            vals = [v for v in vals if v is not None]
            if vals and float(np.median(vals)) > self.saturation_threshold:
                kind = next(r["activations"][key]["kind"] for r in recent
                            if key in r["activations"])
                found.append(self._diagnose(
                    "saturation", [key], step,
                    f"{float(np.median(vals)):.0%} of the outputs of activation '{key}' "
                    f"({kind}) are saturated (in the outer {SATURATION_MARGIN:.0%} of its range, "
                    "where its derivative is nearly 0), so little gradient passes through it"))
        # dead units
        for key, (last_active, first) in self._alive.items():
            span = min(self.window, self._n - first)
            # a unit idle on a handful of samples is not dead yet: wait for a fair sample
            if span < 1 or self._samples.get(key, 0) < _DEAD_MIN_SAMPLES:
                continue
            dead = last_active < self._n - span
            frac = float(np.count_nonzero(dead)) / dead.size
            if frac > self.dead_threshold:
                found.append(self._diagnose(
                    "dead", [key], step,
                    f"{frac:.0%} of the units after activation '{key}' "
                    f"({self._acts.get(key.split('#')[0], ('', '', 'ReLU'))[2]}) were never "
                    f"active (output > 0) during the last {span} step{'s' if span > 1 else ''}: "
                    f"{int(np.count_nonzero(dead))} of {dead.size} units get no gradient"))
        return found

    def _diagnose(self, kind, layers, step, message):
        key = (kind, tuple(layers[:1]))
        d = self._diag_index.get(key)
        if d is not None:
            d.count += 1
            d.last_step = step
            d.message = message
            return d
        d = Diagnosis(kind, layers, step, message)
        self._diag_index[key] = d
        self.diagnoses.append(d)
        if self.warn:
            warnings.warn(f"{message}. Try: {REMEDIES[kind][0]}; see GradientMonitor.report() "
                          "for more remedies", _WARNING_CLASS[kind], stacklevel=4)
        return d

    # ------------------------------------------------------------------ reporting
    def report(self):
        """A text report: the latest per-layer statistics, then each problem and remedies."""
        lines = []
        if not self.records:
            return "GradientMonitor: no step recorded yet (call step() after backward).\n"
        rec = self.records[-1]
        lines.append(f"Gradient monitor: {len(self.records)} step"
                     f"{'s' if len(self.records) > 1 else ''} recorded (latest: step "
                     f"{rec['step']})")
        lines.append("")
        rows = [["layer", "module", "grad norm", "weight norm", "grad/weight", "max |grad|"]]
        for name in self.layer_names:
            s = rec["layers"].get(name)
            mod = type(self._layers[name]).__name__
            if s is None:
                rows.append([name, mod, "-", "-", "-", "-"])
            else:
                rows.append([name, mod, f"{s['grad_norm']:.3e}", f"{s['weight_norm']:.3e}",
                             f"{s['ratio']:.3e}", f"{s['grad_max']:.3e}"])
        lines += _table(rows)
        if rec["activations"]:
            lines.append("")
            rows = [["activation", "module", "mean", "std", "saturated", "dead (batch)"]]
            for key, s in rec["activations"].items():
                rows.append([key, s["kind"], f"{s['mean']:.4f}", f"{s['std']:.4f}",
                             f"{s['saturated']:.1%}" if "saturated" in s else "-",
                             f"{s['dead']:.1%}" if "dead" in s else "-"])
            lines += _table(rows)
        for name in rec["tensors"]:
            v = rec["tensors"][name]
            lines.append("")
            lines.append(f"‖∂L/∂{name}[t]‖ for t = 0..{len(v) - 1}: "
                         + ", ".join(f"{x:.2e}" for x in v[:12]) + (" ..." if len(v) > 12 else ""))
        lines.append("")
        if self.diagnoses:
            lines.append(f"Problems found ({len(self.diagnoses)}):")
            for d in self.diagnoses:
                lines.append("")
                lines.append(str(d) + (f"\n  (first at step {d.step}, last at step "
                                       f"{d.last_step}, {d.count} checks)" if d.count > 1 else ""))
        else:
            lines.append("No problems found: no vanishing, exploding or non-finite gradients, "
                         "no saturated or dead units.")
        return "\n".join(lines) + "\n"

    def summary(self):
        """The latest record's layer statistics plus the diagnoses, as plain data."""
        return {"step": self.latest["step"] if self.records else None,
                "layers": dict(self.latest["layers"]) if self.records else {},
                "activations": dict(self.latest["activations"]) if self.records else {},
                "diagnoses": [(d.kind, d.layers, d.step, d.message) for d in self.diagnoses]}

    # ------------------------------------------------------------------ plots
    def plot_grad_norms(self, path=None, **kw):
        """Gradient norm per layer over the steps (see :func:`plots.plot_grad_norms`)."""
        from .plots import plot_grad_norms

        return plot_grad_norms(self, path, **kw)

    def plot_histograms(self, path=None, step=-1, **kw):
        """Histograms of gradients/activations at one step (see :func:`plots.plot_histograms`)."""
        from .plots import plot_histograms

        return plot_histograms(self, path, step=step, **kw)

    def __repr__(self):
        return (f"GradientMonitor({type(self.model).__name__ if self.model else None}, "
                f"layers={len(self.layer_names)}, steps={len(self.records)}, "
                f"problems={len(self.diagnoses)})")


# ---------------------------------------------------------------------------- helpers

#: histograms of larger tensors are taken on an evenly strided sample of this many values
_HIST_SAMPLE = 65536


def _sample(a):
    a = np.asarray(a).ravel()
    if a.size > _HIST_SAMPLE:
        a = a[:: -(-a.size // _HIST_SAMPLE)]  # a view: no copy of the big array
    return a


def _histogram(a, bins):
    a = _sample(a)
    if a.size == 0 or not np.isfinite(a).all():
        return None
    a = a.astype(np.float64, copy=False)
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
    return counts, edges


def _total_norm(record):
    vals = [s["grad_norm"] for s in record["layers"].values()]
    if not vals:
        return math.nan
    return math.sqrt(sum(v * v for v in vals))


def _nanmedian(vals):
    vals = [v for v in vals if math.isfinite(v)]
    return float(np.median(vals)) if vals else math.nan


def _names(names, layers, limit=4):
    shown = ", ".join(f"'{n}' ({type(layers[n]).__name__})" if n in layers else f"'{n}'"
                      for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  " + "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                                    for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out
