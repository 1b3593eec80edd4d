r"""Explain mode: one training step of a small fully-connected network, shown in full.

:func:`explain` runs a forward pass, a backward pass and an SGD update on a chain of
``nn.Linear`` layers (each optionally followed by an activation module) and reports
the four steps of the backpropagation algorithm, each with its formula beside the
numbers:

1. **feed-forward**: every unit's net input :math:`net_j = \sum_i w_{ji}\,out_i + b_j`
   and activation :math:`out_j = f(net_j)`, then the loss;
2. **output error signals** :math:`\delta_j = \partial E/\partial net_j
   = \partial E/\partial out_j \cdot f'(net_j)`;
3. **hidden error signals**, propagated back by the chain rule:
   :math:`\delta_j = (\sum_k w_{kj}\,\delta_k)\, f'(net_j)`;
4. **gradients and updates**: :math:`\partial E/\partial w_{ji} = \delta_j\, out_i`,
   :math:`w \leftarrow w - \eta\,\partial E/\partial w`.

Every number comes from retrograd's autograd engine, not from a second hand-written
derivation: forward hooks on the ``Linear`` and activation modules record the net
inputs and activations, tensor hooks (``register_hook``) on the net inputs and
activations record :math:`\partial E/\partial net` and :math:`\partial E/\partial out`
during ``loss.backward()``, the gradients are the parameters' ``.grad`` and the
update is a real ``retrograd.optim.SGD`` step. The formulas are then evaluated on
those numbers as a cross-check (``Explanation.checks``).

With no arguments :func:`explain` uses :func:`classic_example`, the 2-2-2 sigmoid
network of the well-known step-by-step backpropagation tutorial.
"""

from __future__ import annotations

import numpy as np

from ..nn.modules.module import Module
from ._doc import Doc

__all__ = ["explain", "classic_example", "Explanation", "LayerTrace", "HalfSquaredError"]


# ---------------------------------------------------------------------------- the example

class HalfSquaredError(Module):
    r"""Total squared error with a factor one half: :math:`E = \sum \tfrac12 (target - out)^2`.

    The loss of the classic backpropagation examples: the ½ cancels the 2 of the
    derivative, so :math:`\partial E/\partial out = -(target - out)`. Equal to
    ``0.5 * nn.MSELoss(reduction='sum')(input, target)``.

    Shape:
        input and target of the same shape; the output is a scalar.

    Example::

        >>> HalfSquaredError()(retrograd.tensor([0.75]), retrograd.tensor([0.25]))
        tensor(0.1250)
    """

    def forward(self, input, target):
        if tuple(input.shape) != tuple(target.shape):
            raise ValueError(
                f"HalfSquaredError: input shape {tuple(input.shape)} and target shape "
                f"{tuple(target.shape)} differ; they must be the same")
        d = target - input
        return 0.5 * (d * d).sum()


def classic_example(dtype=None):
    """The classic 2-2-2 sigmoid network of the step-by-step backpropagation tutorial.

    Inputs 0.05 and 0.10, targets 0.01 and 0.99; hidden weights w1..w4 = 0.15, 0.20,
    0.25, 0.30 (w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2), output weights w5..w8 =
    0.40, 0.45, 0.50, 0.55; one bias value per layer (0.35 hidden, 0.60 output: both
    entries of each ``nn.Linear`` bias hold it); loss :math:`E = \\sum \\tfrac12
    (target - out)^2`; learning rate 0.5.

    Args:
        dtype: parameter and data dtype (default ``retrograd.float64``, so that the
            tutorial's nine-digit figures are reproduced exactly).

    Returns:
        ``(model, x, target, loss_fn, lr)``: an ``nn.Sequential(Linear(2, 2), Sigmoid(),
        Linear(2, 2), Sigmoid())``, the input of shape (1, 2), the target of shape
        (1, 2), a :class:`HalfSquaredError` and 0.5.

    Example::

        >>> model, x, target, loss_fn, lr = classic_example()
        >>> loss_fn(model(x), target).item()   # 0.298371109 in the tutorial
        0.29837110876000...
    """
    import retrograd
    from retrograd import nn

    dtype = retrograd.float64 if dtype is None else dtype
    model = nn.Sequential(nn.Linear(2, 2, dtype=dtype), nn.Sigmoid(),
                          nn.Linear(2, 2, dtype=dtype), nn.Sigmoid())
    with retrograd.no_grad():
        model[0].weight.copy_(retrograd.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=dtype))
        model[0].bias.fill_(0.35)
        model[2].weight.copy_(retrograd.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=dtype))
        model[2].bias.fill_(0.60)
    x = retrograd.tensor([[0.05, 0.10]], dtype=dtype)
    target = retrograd.tensor([[0.01, 0.99]], dtype=dtype)
    return model, x, target, HalfSquaredError(), 0.5


# ---------------------------------------------------------------------------- records

class LayerTrace:
    """What :func:`explain` recorded for one ``Linear`` (+ activation) layer.

    Arrays are 2-D NumPy copies, one row per sample: ``inputs`` (N, in), ``net``,
    ``out``, ``dE_dout``, ``fprime`` (None when the activation is not elementwise),
    ``delta`` (N, units); ``backprop_sum`` (N, units) is :math:`\\sum_k w_{kj}\\delta_k`
    for a hidden layer (None for the output layer); ``weight``/``weight_grad``/
    ``weight_new`` (units, in) and ``bias``/``bias_grad``/``bias_new`` (units,) or None.
    ``unit_labels``, ``input_labels``, ``weight_labels`` (nested like the weight) and
    ``bias_labels`` name everything as in the report.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return (f"LayerTrace(index={self.index}, name={self.name!r}, kind={self.kind!r}, "
                f"units={len(self.unit_labels)}, activation={self.activation_name!r})")


class _Act:
    """How the report writes an activation: its symbol, f(net), f'(net), with numbers."""

    def __init__(self, sym, f, fp, fsub=None, fpsub=None):
        self.sym, self.f, self.fp, self.fsub, self.fpsub = sym, f, fp, fsub, fpsub


_ACTS = {
    "Sigmoid": _Act("σ", "1/(1 + e^(-net))", "out·(1 - out)",
                    lambda net, ex: f"1/(1 + e^(-{ex._p(net)}))",
                    lambda net, out, ex: f"{ex._p(out)}×(1 - {ex._p(out)})"),
    "Tanh": _Act("tanh", "tanh(net)", "1 - out²", lambda net, ex: f"tanh({ex._fmt(net)})",
                 lambda net, out, ex: f"1 - {ex._p(out)}²"),
    "ReLU": _Act("relu", "max(0, net)", "1 if net > 0 else 0",
                 lambda net, ex: f"max(0, {ex._fmt(net)})",
                 lambda net, out, ex: "1 (net > 0)" if net > 0 else "0 (net <= 0)"),
    "ReLU6": _Act("relu6", "min(max(0, net), 6)", "1 if 0 < net < 6 else 0",
                  lambda net, ex: f"min(max(0, {ex._fmt(net)}), 6)"),
    "LeakyReLU": _Act("leaky_relu", "net if net > 0 else a·net", "1 if net > 0 else a"),
    "Identity": _Act("id", "net", "1", lambda net, ex: ex._fmt(net),
                     lambda net, out, ex: "1"),
}


def _act_name(module):
    return "identity" if module is None else type(module).__name__


def _act_info(module):
    if module is None:
        return _Act("", "net (no activation)", "1", lambda net, ex: ex._fmt(net),
                    lambda net, out, ex: "1")
    info = _ACTS.get(type(module).__name__)
    if info is not None:
        return info
    name = type(module).__name__
    return _Act(name, f"{name}(net)", f"d{name}/dnet (by autograd)",
                lambda net, ex: f"{name}({ex._fmt(net)})")


# ---------------------------------------------------------------------------- explain

def explain(model=None, x=None, target=None, loss=None, lr=None, *, update_bias=True,
            digits=None):
    r"""Run one training step and explain backpropagation on it, step by step.

    The network must be a chain of ``nn.Linear`` layers, each followed by at most one
    activation *module* (``nn.Sigmoid()``, ``nn.Tanh()``, ``nn.ReLU()``, ...), e.g. an
    ``nn.Sequential``; activations called as functions inside ``forward`` cannot be
    seen by the module hooks and are rejected with an explanation.

    The step is real: the model's parameters are updated in place by
    ``retrograd.optim.SGD(lr=lr)`` (copy the model first to keep it), and their
    ``.grad`` is reset before the backward pass.

    Args:
        model: the network (default: :func:`classic_example`; then ``x``, ``target``
            and ``loss`` must be left out).
        x: input, shape ``(in_features,)`` or ``(N, in_features)``.
        target: what ``loss(model(x), target)`` compares against.
        loss: a callable ``loss(output, target) -> scalar Tensor`` (an ``nn`` loss).
        lr: the learning rate η (default 0.5 for the classic example; required otherwise).
        update_bias: update biases too (True, what an optimizer does). The classic
            tutorial keeps biases fixed: pass False to reproduce its error after the
            step (0.291027924 there, from rounded intermediates; 0.291027774 exactly).
        digits: significant digits shown (default 9 for float64, 6 otherwise).

    Returns:
        Explanation: ``print()`` it, or call ``to_text()``, ``to_markdown()``,
        ``to_html()``, ``save(path)``; the numbers are in ``figures`` (a dict such as
        ``figures['out_h1']``, ``figures['dE/dw5']``, ``figures['w5_new']``) and in
        ``layers`` (one :class:`LayerTrace` each).

    Example::

        >>> from retrograd.diagnostics import explain
        >>> ex = explain()                # the classic 2-2-2 network
        >>> round(ex.figures['E_total'], 9), round(ex.figures['w5_new'], 8)
        (0.298371109, 0.35891648)
        >>> print(ex)                     # the four steps as tables
    """
    import retrograd
    from retrograd import nn

    if model is None:
        if x is not None or target is not None or loss is not None:
            raise ValueError("explain(): pass a model together with x, target and loss, or "
                             "pass none of them to use the classic 2-2-2 example")
        model, x, target, loss, lr0 = classic_example()
        lr = lr0 if lr is None else lr
        classic = True
    else:
        classic = False
        if x is None or target is None or loss is None or lr is None:
            missing = [n for n, v in (("x", x), ("target", target), ("loss", loss), ("lr", lr))
                       if v is None]
            raise ValueError(f"explain(model, x, target, loss, lr): missing {', '.join(missing)}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"explain(): model must be an nn.Module, got {type(model).__name__}")
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise TypeError(f"explain(): lr must be a number, got {lr!r}") from None
    if not np.isfinite(lr) or lr < 0:
        raise ValueError(f"explain(): lr must be a finite number >= 0, got {lr}")
    x = _as_tensor(x, model, "x")
    target = target if isinstance(target, retrograd.Tensor) else _as_tensor(target, model,
                                                                           "target")

    # 1. Forward, with hooks on every leaf module recording (module, input, output).
    names = {id(m): (n or type(m).__name__) for n, m in model.named_modules()}
    calls = []
    handles = []

    def make_hook(name):
        def hook(module, args, output):
            inp = args[0] if args and isinstance(args[0], retrograd.Tensor) else None
            calls.append((name, module, inp, output))
        return hook

    for m in model.modules():
        if not any(True for _ in m.children()):
            handles.append(m.register_forward_hook(make_hook(names[id(m)])))
    model.zero_grad(set_to_none=True)
    try:
        with retrograd.enable_grad():
            output = model(x)
    finally:
        for h in handles:
            h.remove()
    chain = _find_chain(calls, output, model)

    # 2. Tensor hooks record dE/dnet (= delta) and dE/dout during the real backward.
    grads = {}

    def grab(key):
        def hook(g):
            grads[key] = np.array(g._data, copy=True)
        return hook

    for l, (_, _, _, net, _, _, out) in enumerate(chain):
        if net.requires_grad:
            net.register_hook(grab(("net", l)))
        if out is not net and out.requires_grad:
            out.register_hook(grab(("out", l)))
    with retrograd.enable_grad():
        E = loss(output, target)
    if not isinstance(E, retrograd.Tensor) or E.numel() != 1:
        raise ValueError("explain(): loss(output, target) must return a scalar Tensor, got "
                         f"{type(E).__name__} {getattr(E, 'shape', '')}")
    if not E.requires_grad:
        raise ValueError("explain(): the loss does not depend on any parameter that requires "
                         "grad; nothing to backpropagate")
    E.backward()
    loss_value = float(E.item())

    # 3. Collect the records (as 2-D arrays, one row per sample).
    layers = []
    n_hidden = len(chain) - 1
    offset = 0
    for l, (lin_name, lin, inp, net, act_name, act, out) in enumerate(chain):
        units = lin.out_features
        net_a = _rows(net._data, units)
        out_a = _rows(out._data, units)
        delta = _rows(grads.get(("net", l), np.zeros_like(net._data)), units)
        dout = delta if out is net else _rows(grads.get(("out", l), np.zeros_like(out._data)),
                                              units)
        fprime = _fprime(act, net_a)
        if fprime is not None and not np.allclose(dout * fprime, delta, rtol=1e-5,
                                                  atol=1e-12 + 1e-6 * np.abs(delta).max()):
            fprime = None  # not elementwise (softmax...): the Jacobian is not diagonal
        kind = "output" if l == len(chain) - 1 else "hidden"
        if kind == "output":
            unit_labels = [f"o{j + 1}" for j in range(units)]
        elif n_hidden == 1:
            unit_labels = [f"h{j + 1}" for j in range(units)]
        else:
            unit_labels = [f"h{l + 1}_{j + 1}" for j in range(units)]
        if l == 0:
            input_labels = [f"i{k + 1}" for k in range(lin.in_features)]
        else:
            input_labels = layers[-1].unit_labels
        weight_labels = [[f"w{offset + j * lin.in_features + k + 1}"
                          for k in range(lin.in_features)] for j in range(units)]
        offset += units * lin.in_features
        w = lin.weight
        b = lin.bias
        layers.append(LayerTrace(
            index=l, name=lin_name, activation_module_name=act_name, activation=act,
            activation_name=_act_name(act), kind=kind, unit_labels=unit_labels,
            input_labels=input_labels, weight_labels=weight_labels,
            bias_labels=[f"b_{u}" for u in unit_labels] if b is not None else None,
            inputs=_rows(inp._data, lin.in_features), net=net_a, out=out_a, dE_dout=dout,
            fprime=fprime, delta=delta, backprop_sum=None,
            weight=np.array(w._data, copy=True),
            weight_grad=(np.array(w.grad._data, copy=True) if w.grad is not None
                         else np.zeros_like(w._data)),
            bias=np.array(b._data, copy=True) if b is not None else None,
            bias_grad=(None if b is None else np.array(b.grad._data, copy=True)
                       if b.grad is not None else np.zeros_like(b._data)),
            module=lin,
        ))
    for l in range(len(layers) - 1):
        # what the chain rule says reaches out_j from the layer above: Σ_k w_kj δ_k
        layers[l].backprop_sum = layers[l + 1].delta @ layers[l + 1].weight

    # 4. The update: a real optimizer step on the real gradients.
    from ..optim import SGD

    params = [lay.module.weight for lay in layers]
    if update_bias:
        params += [lay.module.bias for lay in layers if lay.module.bias is not None]
    SGD(params, lr=lr).step()
    for lay in layers:
        lay.weight_new = np.array(lay.module.weight._data, copy=True)
        lay.bias_new = None if lay.bias is None else np.array(lay.module.bias._data, copy=True)
    with retrograd.no_grad():
        loss_after = float(loss(model(x), target).item())

    dtype = layers[0].weight.dtype
    if digits is None:
        digits = 9 if dtype == np.float64 else 6
    return Explanation(layers=layers, loss=loss_value, loss_after=loss_after, lr=lr,
                       update_bias=update_bias, x=np.array(x._data, copy=True),
                       target=np.array(target._data, copy=True),
                       output=np.array(output._data, copy=True), loss_fn=loss,
                       classic=classic, digits=digits, model=model)


def _as_tensor(v, model, what):
    import retrograd

    if isinstance(v, retrograd.Tensor):
        return v
    dtype = None
    for p in model.parameters():
        dtype = p.dtype
        break
    try:
        return retrograd.tensor(np.asarray(v), dtype=dtype)
    except Exception as e:  # noqa: BLE001 - re-raised with context
        raise TypeError(f"explain(): {what} must be a Tensor or array-like, got "
                        f"{type(v).__name__}") from e


def _rows(a, units):
    a = np.asarray(a)
    return a.reshape(-1, units) if a.ndim <= 1 else a


def _fprime(act, net):
    """f'(net) by autograd, elementwise (None if there is no activation: f' = 1)."""
    import retrograd

    if act is None:
        return np.ones_like(net)
    z = retrograd.tensor(np.array(net, copy=True), requires_grad=True)
    with retrograd.enable_grad():
        a = act.forward(z)  # forward, not __call__: the user's hooks should not see this probe
        if not isinstance(a, retrograd.Tensor) or tuple(a.shape) != tuple(z.shape):
            return None
        if not a.requires_grad:
            return np.zeros_like(net)
        a.sum().backward()
    return np.array(z.grad._data, copy=True) if z.grad is not None else np.zeros_like(net)


def _find_chain(calls, output, model):
    """Pair each Linear call with the activation call that consumed its output."""
    from retrograd import nn

    hint = ("explain() needs a chain of nn.Linear layers, each followed by at most one "
            "activation module, e.g. nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), "
            "nn.Linear(2, 2), nn.Sigmoid()); activations must be modules (nn.Sigmoid()), "
            "not functions called inside forward (retrograd.sigmoid), so that hooks see them")
    linear_calls = [c for c in calls if isinstance(c[1], nn.Linear)]
    if not linear_calls:
        raise ValueError(f"explain(): {type(model).__name__} ran no nn.Linear layer. {hint}")
    seen = set()
    for c in linear_calls:
        if id(c[1]) in seen:
            raise ValueError(f"explain(): Linear '{c[0]}' is called more than once (shared "
                             f"weights). {hint}")
        seen.add(id(c[1]))
    chain = []
    for l, (name, lin, inp, net) in enumerate(linear_calls):
        if inp is None:
            raise ValueError(f"explain(): Linear '{name}' was not called with a Tensor. {hint}")
        if l > 0 and inp is not chain[-1][6]:
            prev = chain[-1]
            after = f"'{prev[4]}'" if prev[5] is not None else f"Linear '{prev[0]}'"
            raise ValueError(f"explain(): Linear '{name}' does not take the output of {after} "
                             f"as its input. {hint}")
        act = None
        for c in calls:
            if (c[2] is net and not isinstance(c[1], nn.Linear)
                    and not any(True for _ in c[1].parameters())
                    and isinstance(c[3], type(net)) and tuple(c[3].shape) == tuple(net.shape)):
                act = c
                break
        if act is None:
            chain.append((name, lin, inp, net, None, None, net))
        else:
            chain.append((name, lin, inp, net, act[0], act[1], act[3]))
    if output is not chain[-1][6]:
        raise ValueError(f"explain(): the model's output is not the output of its last Linear "
                         f"layer '{chain[-1][0]}' (or of the activation right after it). {hint}")
    return chain


# ---------------------------------------------------------------------------- the result

class Explanation:
    """The record of one explained training step, renderable as text, Markdown or HTML.

    Attributes:
        layers: one :class:`LayerTrace` per Linear layer, input side first.
        loss: the loss before the update; ``loss_after``: after it (same x, target).
        lr: the learning rate η; ``update_bias``: whether biases were updated.
        figures: dict of every number shown, by name: ``'i1'``, ``'net_h1'``,
            ``'out_h1'``, ``'E_total'``, ``'dE/dout_o1'``, ``'fprime_o1'``,
            ``'delta_o1'``, ``'sum_h1'`` (Σ_k w_kj δ_k), ``'dE/dw5'``, ``'w5'``,
            ``'w5_new'``, ``'dE/db_h1'``, ``'b_h1'``, ``'b_h1_new'``, ``'E_after'``.
            With a batch of N > 1 samples, per-sample names get a suffix ``'[n]'``.
        checks: the largest difference between each autograd result and the same
            quantity recomputed by the textbook formula from the recorded numbers.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.figures = self._figures()
        self.checks = self._checks()
        self._doc = None

    # ------------------------------------------------------------------ numbers
    def _figures(self):
        fig = {}
        n = self.layers[0].net.shape[0]

        def put(name, arr2d):
            for s in range(n):
                for j, lab in enumerate(labels):
                    key = f"{name}{lab}" + (f"[{s}]" if n > 1 else "")
                    fig[key] = float(arr2d[s, j])

        first = self.layers[0]
        labels = first.input_labels
        put("", first.inputs)
        for lay in self.layers:
            labels = lay.unit_labels
            put("net_", lay.net)
            put("out_", lay.out)
            put("dE/dout_", lay.dE_dout)
            if lay.fprime is not None:
                put("fprime_", lay.fprime)
            put("delta_", lay.delta)
            if lay.backprop_sum is not None:
                put("sum_", lay.backprop_sum)
            for j in range(len(lay.unit_labels)):
                for k, wl in enumerate(lay.weight_labels[j]):
                    fig[wl] = float(lay.weight[j, k])
                    fig[f"dE/d{wl}"] = float(lay.weight_grad[j, k])
                    fig[f"{wl}_new"] = float(lay.weight_new[j, k])
                if lay.bias is not None:
                    bl = lay.bias_labels[j]
                    fig[bl] = float(lay.bias[j])
                    fig[f"dE/d{bl}"] = float(lay.bias_grad[j])
                    fig[f"{bl}_new"] = float(lay.bias_new[j])
        fig["E_total"] = self.loss
        fig["E_after"] = self.loss_after
        return fig

    def _checks(self):
        c = {}
        for lay in self.layers:
            if lay.fprime is not None:
                c[f"delta = dE/dout * f'(net), layer {lay.index + 1}"] = float(
                    np.abs(lay.dE_dout * lay.fprime - lay.delta).max())
            if lay.backprop_sum is not None:
                c[f"dE/dout = sum_k w_kj delta_k, layer {lay.index + 1}"] = float(
                    np.abs(lay.backprop_sum - lay.dE_dout).max())
            c[f"dE/dw = delta^T out_prev, layer {lay.index + 1}"] = float(
                np.abs(lay.delta.T @ lay.inputs - lay.weight_grad).max())
            if lay.bias is not None:
                c[f"dE/db = sum delta, layer {lay.index + 1}"] = float(
                    np.abs(lay.delta.sum(0) - lay.bias_grad).max())
            c[f"w_new = w - lr * dE/dw, layer {lay.index + 1}"] = float(
                np.abs(lay.weight - self.lr * lay.weight_grad - lay.weight_new).max())
        return c

    # ------------------------------------------------------------------ rendering
    def _fmt(self, v):
        v = float(v)
        if v == 0:
            return "0"
        return f"{v:.{self.digits}g}"

    def _p(self, v):
        """A number as it appears inside a formula: negatives in parentheses."""
        s = self._fmt(v)
        return f"({s})" if s.startswith("-") else s

    @property
    def doc(self):
        if self._doc is None:
            self._doc = _build_doc(self)
        return self._doc

    def to_text(self):
        """The report as a plain-text (Unicode) terminal table."""
        return self.doc.to_text()

    def to_markdown(self):
        """The report as Markdown (GitHub tables)."""
        return self.doc.to_markdown()

    def to_html(self, standalone=True):
        """The report as HTML (a full page, or just the body with ``standalone=False``)."""
        return self.doc.to_html(standalone=standalone)

    def render(self, format="text"):
        """The report in ``format``: ``'text'``, ``'markdown'`` (or ``'md'``) or ``'html'``."""
        f = str(format).lower()
        if f in ("text", "txt"):
            return self.to_text()
        if f in ("markdown", "md"):
            return self.to_markdown()
        if f in ("html", "htm"):
            return self.to_html()
        raise ValueError(f"Explanation.render: unknown format {format!r}; use 'text', "
                         "'markdown' or 'html'")

    def save(self, path, format=None):
        """Write the report to ``path``; the format follows the suffix (.md, .html, else text)."""
        import os

        if format is None:
            ext = os.path.splitext(str(path))[1].lower()
            format = {".md": "markdown", ".markdown": "markdown", ".html": "html",
                      ".htm": "html"}.get(ext, "text")
        text = self.render(format)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        sizes = [self.layers[0].weight.shape[1]] + [lay.weight.shape[0] for lay in self.layers]
        return (f"<Explanation {'-'.join(map(str, sizes))} network: E = {self._fmt(self.loss)} "
                f"-> {self._fmt(self.loss_after)} after one step (lr={self.lr:g})>")

    def _repr_markdown_(self):
        return self.to_markdown()

    def _repr_html_(self):
        return self.to_html(standalone=False)


# ---------------------------------------------------------------------------- the report

_TERMS_SHOWN = 4  # a weighted sum with more terms is abbreviated with '...'


def _loss_info(ex):
    """(formula, dE/dout formula, per-unit substitution builder or None)."""
    fn = ex.loss_fn
    name = type(fn).__name__
    n_out = ex.layers[-1].out.size
    if name == "HalfSquaredError":
        return ("E = Σ ½(target - out)²", "-(target - out)",
                lambda t, o: f"-({ex._p(t)} - {ex._p(o)})")
    if name == "MSELoss":
        red = getattr(fn, "reduction", "mean")
        if red == "sum":
            return ("E = Σ (target - out)²", "2·(out - target)",
                    lambda t, o: f"2×({ex._p(o)} - {ex._p(t)})")
        if red == "mean":
            return (f"E = (1/n) Σ (target - out)²  (n = {n_out} outputs)", "2·(out - target)/n",
                    lambda t, o: f"2×({ex._p(o)} - {ex._p(t)})/{n_out}")
    if name == "CrossEntropyLoss":
        return ("E = -(1/N) Σ_n log softmax(out_n)[class_n]",
                "(softmax(out) - onehot(class))/N", None)
    if name == "BCELoss":
        return ("E = -(1/n) Σ [target·log(out) + (1 - target)·log(1 - out)]",
                "(out - target)/(out·(1 - out)·n)", None)
    return (f"E = {name}(out, target)", "∂E/∂out (by autograd)", None)


def _weighted_sum(ex, ws, xs, b=None):
    terms = [f"{ex._p(w)}×{ex._p(x)}" for w, x in zip(ws, xs)]
    if len(terms) > _TERMS_SHOWN:
        terms = terms[:_TERMS_SHOWN - 1] + [f"... ({len(ws) - _TERMS_SHOWN + 1} more)"]
    if b is not None:
        terms.append(ex._p(b))
    return " + ".join(terms)


def _sym_sum(ws, xs, b=None):
    terms = [f"{w}·{x}" for w, x in zip(ws, xs)]
    if len(terms) > _TERMS_SHOWN:
        terms = terms[:_TERMS_SHOWN - 1] + ["..."]
    if b is not None:
        terms.append(b)
    return " + ".join(terms)


def _build_doc(ex):
    f, p = ex._fmt, ex._p
    layers = ex.layers
    n = layers[0].net.shape[0]
    batch = n > 1
    sizes = [layers[0].weight.shape[1]] + [lay.weight.shape[0] for lay in layers]
    loss_f, dout_f, dout_sub = _loss_info(ex)
    doc = Doc("Backpropagation, step by step")
    arch = " → ".join(
        [f"Linear({lay.weight.shape[1]}, {lay.weight.shape[0]})"
         + (f" → {lay.activation_name}" if lay.activation is not None else "")
         for lay in layers])
    doc.para(f"Network {'-'.join(map(str, sizes))}: {arch}. Loss: {loss_f}. "
             f"Learning rate η = {ex.lr:g}."
             + (f" A batch of {n} samples: one row per sample and unit; each weight's "
                "gradient adds up the samples' contributions." if batch else ""))
    if ex.classic:
        doc.para("This is the classic 2-2-2 example of the step-by-step backpropagation "
                 "tutorial: inputs i1 = 0.05 and i2 = 0.10, targets 0.01 and 0.99, weights "
                 "w1..w8, one bias value per layer (0.35 and 0.60).")
    doc.para("Every number below was recorded from retrograd's autograd engine: forward hooks "
             "on the Linear and activation modules (net inputs, activations), tensor hooks on "
             "the net inputs and activations during loss.backward() (∂E/∂net = δ, ∂E/∂out), the "
             "parameters' .grad, and an optim.SGD step. The formulas beside them are the "
             "textbook chain rule; they reproduce the engine's numbers (largest difference "
             f"{f(max(ex.checks.values(), default=0.0))}).")
    inputs = layers[0].inputs
    in_labels = layers[0].input_labels
    if not batch:
        doc.para("Inputs: " + ", ".join(f"{lab} = {f(v)}" for lab, v in
                                        zip(in_labels, inputs[0])) + ".")

    # ---------------------------------------------------------------- step 1
    doc.heading("Step 1. Forward pass: net input and activation of every unit")
    doc.formula("net_j = Σ_i w_ji·out_i + b_j        out_j = f(net_j)")
    for lay in layers:
        act = _act_info(lay.activation)
        title = "Output layer" if lay.kind == "output" else (
            "Hidden layer" if len(layers) == 2 else f"Hidden layer {lay.index + 1}")
        acts = (f", activation '{lay.activation_module_name}' ({lay.activation_name})"
                if lay.activation is not None else ", no activation (out = net)")
        doc.heading(f"{title} (Linear '{lay.name}'{acts})", level=3)
        j0 = 0
        bsym = lay.bias_labels[j0] if lay.bias is not None else None
        b0 = lay.bias[j0] if lay.bias is not None else None
        u0 = lay.unit_labels[j0]
        in_sym = lay.input_labels if lay.index == 0 else [f"out_{u}" for u in lay.input_labels]
        if batch:
            doc.para("Sample 0, unit " + u0 + ":")
        doc.formula(f"net_{u0} = {_sym_sum(lay.weight_labels[j0], in_sym, bsym)} = "
                    f"{_weighted_sum(ex, lay.weight[j0], lay.inputs[0], b0)} = "
                    f"{f(lay.net[0, j0])}")
        fsym = f"{act.sym}(net_{u0})" if act.sym else f"net_{u0}"
        fsub = f" = {act.fsub(lay.net[0, j0], ex)}" if act.fsub and act.sym else ""
        doc.formula(f"out_{u0} = {fsym}{fsub} = {f(lay.out[0, j0])}")
        headers = (["sample"] if batch else []) + [
            "unit", "net = Σ w·in + b", "net",
            f"out = {act.sym}(net)" if act.sym else "out = net"]
        rows = []
        for s in range(n):
            for j, u in enumerate(lay.unit_labels):
                bj = lay.bias[j] if lay.bias is not None else None
                rows.append(([s] if batch else []) + [
                    u, _weighted_sum(ex, lay.weight[j], lay.inputs[s], bj),
                    f(lay.net[s, j]), f(lay.out[s, j])])
        doc.table(headers, rows, ([True] if batch else []) + [False, False, True, True])
    # the loss
    out = layers[-1].out
    tgt = ex.target
    if ex.loss_fn.__class__.__name__ == "HalfSquaredError" and tgt.size == out.size:
        t2 = tgt.reshape(out.shape)
        parts = []
        for s in range(n):
            for j in range(len(layers[-1].unit_labels)):
                parts.append(f"½({p(t2[s, j])} - {p(out[s, j])})²")
        doc.formula(f"{loss_f} = " + (" + ".join(parts) if len(parts) <= 6 else "...")
                    + f" = {f(ex.loss)}")
        if not batch:
            doc.table(["output", "target", "out", "E_o = ½(target - out)²"],
                      [[u, f(t2[0, j]), f(out[0, j]), f(0.5 * (t2[0, j] - out[0, j]) ** 2)]
                       for j, u in enumerate(layers[-1].unit_labels)],
                      [False, True, True, True])
    else:
        doc.formula(f"{loss_f}:  E = {f(ex.loss)}")
    doc.para(f"Total error before the update: E = {f(ex.loss)}")

    # ---------------------------------------------------------------- step 2
    last = layers[-1]
    doc.heading("Step 2. Output layer error signals δ = ∂E/∂net")
    act = _act_info(last.activation)
    fp_text = act.fp
    if last.fprime is not None:
        doc.formula("δ_o = ∂E/∂out_o · ∂out_o/∂net_o = ∂E/∂out_o · f′(net_o)")
        doc.formula(f"∂E/∂out_o = {dout_f}        f′(net_o) = {fp_text}")
    else:
        doc.formula(f"δ_o = J_f(net)ᵀ · ∂E/∂out  ({last.activation_name} is not elementwise: "
                    "every output depends on every net input)")
        doc.formula(f"∂E/∂out_o = {dout_f}")
    u0 = last.unit_labels[0]
    same_shape = tgt.size == last.out.size
    t2 = tgt.reshape(last.out.shape) if same_shape else None
    classes = None
    if not same_shape and tgt.dtype.kind in "iu" and tgt.size == n:
        classes = tgt.reshape(n)
        doc.para("Targets (class index per sample): "
                 + ", ".join(str(int(c)) for c in classes) + ".")
    if not batch:
        if dout_sub is not None and same_shape:
            doc.formula(f"∂E/∂out_{u0} = {dout_sub(t2[0, 0], last.out[0, 0])} = "
                        f"{f(last.dE_dout[0, 0])}")
        if last.fprime is not None:
            sub = act.fpsub(last.net[0, 0], last.out[0, 0], ex) if act.fpsub else None
            doc.formula(f"f′(net_{u0}) = " + (f"{sub} = " if sub else "")
                        + f"{f(last.fprime[0, 0])}")
            doc.formula(f"δ_{u0} = {p(last.dE_dout[0, 0])} × {p(last.fprime[0, 0])} = "
                        f"{f(last.delta[0, 0])}")
    tcol = ["target"] if same_shape else ["onehot(class)"] if classes is not None else []
    headers = (["sample"] if batch else []) + ["unit"] + tcol + ["out", f"∂E/∂out = {dout_f}"]
    num = ([True] if batch else []) + [False] + [True] * len(tcol) + [True, True]
    if last.fprime is not None:
        headers += [f"f′(net) = {fp_text}", "δ = ∂E/∂out · f′(net)"]
        num += [True, True]
    else:
        headers += ["δ = ∂E/∂net (autograd)"]
        num += [True]
    rows = []
    for s in range(n):
        for j, u in enumerate(last.unit_labels):
            tv = ([f(t2[s, j])] if same_shape else
                  ["1" if int(classes[s]) == j else "0"] if classes is not None else [])
            r = ([s] if batch else []) + [u] + tv + [f(last.out[s, j]), f(last.dE_dout[s, j])]
            if last.fprime is not None:
                r.append(f(last.fprime[s, j]))
            r.append(f(last.delta[s, j]))
            rows.append(r)
    doc.table(headers, rows, num)

    # ---------------------------------------------------------------- step 3
    doc.heading("Step 3. Hidden layers' error signals, propagated back by the chain rule")
    if len(layers) == 1:
        doc.para("This network has no hidden layer: nothing to propagate.")
    else:
        doc.formula("δ_j = ∂E/∂out_j · f′(net_j),   ∂E/∂out_j = Σ_k w_kj·δ_k "
                    "(k: the units of the layer above)")
        doc.para("The sum uses the weights as they were in the forward pass (before the "
                 "update): all gradients are computed first, then all weights change.")
    for lay in reversed(layers[:-1]):
        above = layers[lay.index + 1]
        title = "Hidden layer" if len(layers) == 2 else f"Hidden layer {lay.index + 1}"
        act = _act_info(lay.activation)
        fp_text = act.fp
        doc.heading(f"{title} (Linear '{lay.name}')", level=3)
        u0 = lay.unit_labels[0]
        wcol = [above.weight_labels[k][0] for k in range(len(above.unit_labels))]
        dsym = [f"δ_{v}" for v in above.unit_labels]
        if not batch:
            doc.formula(f"∂E/∂out_{u0} = {_sym_sum(wcol, dsym)} = "
                        f"{_weighted_sum(ex, above.weight[:, 0], above.delta[0])} = "
                        f"{f(lay.backprop_sum[0, 0])}   (autograd: {f(lay.dE_dout[0, 0])})")
            if lay.fprime is not None:
                sub = act.fpsub(lay.net[0, 0], lay.out[0, 0], ex) if act.fpsub else None
                doc.formula(f"f′(net_{u0}) = " + (f"{sub} = " if sub else "")
                            + f"{f(lay.fprime[0, 0])}")
                doc.formula(f"δ_{u0} = {p(lay.dE_dout[0, 0])} × {p(lay.fprime[0, 0])} = "
                            f"{f(lay.delta[0, 0])}")
        headers = (["sample"] if batch else []) + [
            "unit", "Σ_k w_kj·δ_k", "= ∂E/∂out (autograd)"]
        num = ([True] if batch else []) + [False, False, True]
        if lay.fprime is not None:
            headers += [f"f′(net) = {fp_text}", "δ = ∂E/∂out · f′(net)"]
            num += [True, True]
        else:
            headers += ["δ = ∂E/∂net (autograd)"]
            num += [True]
        rows = []
        for s in range(n):
            for j, u in enumerate(lay.unit_labels):
                r = ([s] if batch else []) + [
                    u, _weighted_sum(ex, above.weight[:, j], above.delta[s]),
                    f(lay.dE_dout[s, j])]
                if lay.fprime is not None:
                    r.append(f(lay.fprime[s, j]))
                r.append(f(lay.delta[s, j]))
                rows.append(r)
        doc.table(headers, rows, num)

    # ---------------------------------------------------------------- step 4
    doc.heading("Step 4. Gradients and the update w ← w - η·∂E/∂w")
    if batch:
        doc.formula("∂E/∂w_ji = Σ_n δ_j·out_i (summed over the batch)     "
                    "∂E/∂b_j = Σ_n δ_j")
    else:
        doc.formula("∂E/∂w_ji = ∂E/∂net_j · ∂net_j/∂w_ji = δ_j·out_i        ∂E/∂b_j = δ_j")
    doc.formula(f"w ← w - η·∂E/∂w,  η = {ex.lr:g}")
    for lay in reversed(layers):
        title = ("Output layer" if lay.kind == "output" else
                 "Hidden layer" if len(layers) == 2 else f"Hidden layer {lay.index + 1}")
        doc.heading(f"{title} (Linear '{lay.name}')", level=3)
        in_sym = lay.input_labels if lay.index == 0 else [f"out_{u}" for u in lay.input_labels]
        if not batch:
            w0, u0, x0 = lay.weight_labels[0][0], lay.unit_labels[0], in_sym[0]
            g = lay.weight_grad[0, 0]
            if lay.fprime is not None:
                doc.formula(
                    f"∂E/∂{w0} = ∂E/∂out_{u0} · ∂out_{u0}/∂net_{u0} · ∂net_{u0}/∂{w0} = "
                    f"{p(lay.dE_dout[0, 0])} × {p(lay.fprime[0, 0])} × {p(lay.inputs[0, 0])} "
                    f"= {f(g)}")
            else:
                doc.formula(f"∂E/∂{w0} = δ_{u0} · {x0} = {p(lay.delta[0, 0])} × "
                            f"{p(lay.inputs[0, 0])} = {f(g)}")
            doc.formula(f"{w0}⁺ = {w0} - η·∂E/∂{w0} = {p(lay.weight[0, 0])} - {ex.lr:g} × "
                        f"{p(g)} = {f(lay.weight_new[0, 0])}")
        rows = []
        for j, u in enumerate(lay.unit_labels):
            for k, src in enumerate(lay.input_labels):
                if batch:
                    sub = f"Σ_n δ_{u}·{in_sym[k]}"
                else:
                    sub = f"{p(lay.delta[0, j])} × {p(lay.inputs[0, k])}"
                rows.append([lay.weight_labels[j][k], f"{src} → {u}",
                             f"{lay.name}.weight[{j}, {k}]", sub,
                             f(lay.weight_grad[j, k]), f(lay.weight[j, k]),
                             f(lay.weight_new[j, k])])
        if lay.bias is not None:
            for j, u in enumerate(lay.unit_labels):
                sub = f"Σ_n δ_{u}" if batch else p(lay.delta[0, j])
                rows.append([lay.bias_labels[j], f"bias → {u}", f"{lay.name}.bias[{j}]", sub,
                             f(lay.bias_grad[j]), f(lay.bias[j]),
                             f(lay.bias_new[j]) + ("" if ex.update_bias else " (fixed)")])
        doc.table(["parameter", "connection", "tensor entry",
                   "∂E/∂w = δ·in" if not batch else "∂E/∂w", "∂E/∂w", "before",
                   "after = before - η·∂E/∂w"], rows,
                  [False, False, False, False, True, True, True])

    doc.heading("After the update")
    doc.para(f"Total error with the updated parameters (same input and target): "
             f"E = {f(ex.loss_after)} (before: {f(ex.loss)}, change "
             f"{f(ex.loss_after - ex.loss)}).")
    if ex.classic:
        if ex.update_bias:
            doc.note("Biases: the classic tutorial keeps its biases fixed (b1 = 0.35, b2 = 0.60 "
                     "never change) and its weight figures assume that; an optimizer updates "
                     "every parameter, so here the biases are updated too, with the same rule "
                     "(∂E/∂b_j = δ_j). The weights' new values are the tutorial's either way; "
                     "only the error after the step differs: explain(update_bias=False) "
                     "reproduces the tutorial's 0.291027924 (0.291027774 without its rounding "
                     "of intermediate values).")
        else:
            doc.note("Biases are kept fixed, as in the classic tutorial (its error after the "
                     "first step, 0.291027924, came from rounded intermediates; the exact "
                     "value is 0.291027774). Their gradients are shown all the same.")
        doc.note("The tutorial has one shared bias per layer (b1, b2); a retrograd nn.Linear "
                 "has one bias per unit, so b1 appears as b_h1 and b_h2 (both 0.35) and b2 as "
                 "b_o1 and b_o2 (both 0.60). With a shared bias its gradient would be the sum, "
                 "e.g. ∂E/∂b2 = δ_o1 + δ_o2.")
    elif not ex.update_bias:
        doc.note("Biases were kept fixed (update_bias=False); their gradients are shown all "
                 "the same.")
    return doc
