"""Recurrent layers: RNN, LSTM, GRU (whole sequences) and their single-step cells.

The sequence layers run each layer and direction as one fused graph node
(:mod:`retrograd.ops.rnn`); the cells are written with ordinary differentiable ops, so
they read like the equations and support higher-order gradients. Parameter names,
shapes, gate order and initialisation are PyTorch's, so a PyTorch ``state_dict`` loads
as it is.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import creation
from ...ops import rnn as K
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    r"""Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU` (arguments as theirs).

    Besides PyTorch's interface it can record backpropagation through time: set
    ``record_hidden_grads = True`` and, after ``backward()``, ``hidden_grads`` maps each
    layer and direction (``'l0'``, ``'l0_reverse'``, ``'l1'``, ...) to a NumPy array
    ``(L, N, H)`` holding the total gradient ∂L/∂h_t that reached the hidden state at
    every step: from the output at that step plus, through the recurrence, from all later
    steps. Time-major whatever ``batch_first`` is, batch in the input's order; steps past
    the end of a packed sequence are zero.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError("batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{arg} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{arg} must be greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError("LSTM(proj_size=...) is not supported by retrograd; "
                                      "use proj_size=0")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        self.record_hidden_grads = False
        self.hidden_grads = {}
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    param = Parameter(creation.empty(*shape, dtype=dtype, device=device))
                    setattr(self, name, param)
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from U(-1/√hidden_size, 1/√hidden_size), as in PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """No-op, for compatibility (PyTorch compacts weights for cuDNN here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks
    def _describe(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check_state(self, state, expected, which):
        if tuple(state.shape) != expected:
            raise RuntimeError(
                f"{self._describe()}: Expected {which} size {expected}, got {list(state.shape)}. "
                f"The state is (num_layers * num_directions, batch, hidden_size) = {expected}, "
                "also when batch_first=True.")

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        name = type(self).__name__
        directions = 2 if self.bidirectional else 1
        packed = isinstance(input, PackedSequence)
        batch_dim = 0 if self.batch_first else 1
        if packed:
            x, batch_sizes, sorted_indices, unsorted_indices = input
            bs = np.asarray(batch_sizes._data if hasattr(batch_sizes, "_data") else batch_sizes,
                            dtype=np.int64)
            batch = int(bs[0])
            if x.ndim != 2:
                raise RuntimeError(f"{self._describe()}: packed data must have 2 dimensions "
                                   f"(sum of lengths, input_size), got shape {tuple(x.shape)}")
            is_batched = True
        else:
            bs = sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                                 f"tensor instead (shape {tuple(input.shape)})")
            is_batched = input.dim() == 3
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            x = input.transpose(0, 1) if self.batch_first else input
            batch = x.shape[1]
        if x.shape[-1] != self.input_size:
            note = ", time-major after batch_first" if self.batch_first and not packed else ""
            raise RuntimeError(
                f"{self._describe()}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]} (input shape {tuple(x.shape)}{note})")
        w0 = self.weight_ih_l0
        if x.dtype != w0.dtype:
            raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype "
                             f"({w0.dtype}). Convert input: input.to({w0.dtype}), or convert "
                             f"model: model.to({x.dtype})")

        h0 = c0 = None
        if hx is not None:
            if lstm and (isinstance(hx, Tensor) or len(hx) != 2):
                got = "a single Tensor" if isinstance(hx, Tensor) else f"{len(hx)} items"
                raise RuntimeError(f"{name}: hx must be a tuple (h_0, c_0), got {got}")
            if not lstm and not isinstance(hx, Tensor):
                raise RuntimeError(f"{name}: hx must be a Tensor h_0, got {type(hx).__name__} "
                                   "(only LSTM takes a (h_0, c_0) tuple)")
            states = tuple(hx) if lstm else (hx,)
            if not packed:
                want = 3 if is_batched else 2
                if any(s.dim() != want for s in states):
                    dims = ", ".join(f"{s.dim()}-D" for s in states)
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    raise RuntimeError(f"{name}: For {kind} input, hx{' and cx' if lstm else ''} "
                                       f"should also be {want}-D but got ({dims}) tensor(s)")
                if not is_batched:
                    states = tuple(s.unsqueeze(1) for s in states)
            expected = (self.num_layers * directions, batch, self.hidden_size)
            for k, s in enumerate(states):
                self._check_state(s, expected, f"hidden[{k}]" if lstm else "hidden")
                if s.dtype != x.dtype:
                    raise RuntimeError(f"{name}: input and hidden tensors are not the same dtype, "
                                       f"found input {x.dtype} and hidden {s.dtype}")
            if sorted_indices is not None:  # the user's hx follows the original batch order
                states = tuple(s[:, sorted_indices._data] for s in states)
            h0 = states[0]
            c0 = states[1] if lstm else None

        record = self.record_hidden_grads
        if record:
            self.hidden_grads = {}
        layer_input = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                suffix = "_reverse" if direction else ""
                names = self._all_weights[k]
                w = [getattr(self, n) for n in names]
                if not self.bias:
                    w += [None, None]
                kw = {"batch_sizes": bs, "reverse": direction == 1}
                if record:
                    kw["hidden_grad_hook"] = _HiddenGradSink(self.hidden_grads, f"l{layer}{suffix}",
                                                             bs, sorted_indices, layer_input)
                hk = None if h0 is None else h0[k]
                if lstm:
                    ck = None if c0 is None else c0[k]
                    y, h, c = K.lstm_layer(layer_input, hk, ck, *w, **kw)
                    c_n.append(c)
                elif self.mode == "GRU":
                    y, h = K.gru_layer(layer_input, hk, *w, **kw)
                else:
                    nl = "tanh" if self.mode == "RNN_TANH" else "relu"
                    y, h = K.rnn_layer(layer_input, hk, *w, nonlinearity=nl, **kw)
                outs.append(y)
                h_n.append(h)
            out = outs[0] if directions == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                out = F.dropout(out, self.dropout, True)
            layer_input = out
        output = layer_input
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if lstm else None

        if packed:
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = h_n[:, unsorted_indices._data]
                c_n = c_n[:, unsorted_indices._data] if lstm else None
        else:
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(batch_dim)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)


class _HiddenGradSink:
    """Receives a fused layer's ∂L/∂h_t rows during backward and files them as (L, N, H)."""

    def __init__(self, store, key, batch_sizes, sorted_indices, layer_input):
        self.store, self.key = store, key
        self.batch_sizes = batch_sizes
        self.sorted_indices = None if sorted_indices is None else sorted_indices._data
        self.lead = tuple(layer_input.shape[:2])

    def __call__(self, rows):
        if self.batch_sizes is None:
            grads = rows.reshape(self.lead + rows.shape[1:])
        else:
            flat, steps, batch = K.packed_to_padded_index(self.batch_sizes, self.sorted_indices)
            grads = K.scatter_rows(rows, flat, steps * batch).reshape(steps, batch, rows.shape[1])
        self.store[self.key] = grads


class RNN(RNNBase):
    r"""Multi-layer Elman RNN, for every element of the input sequence:

    .. math::
        h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})   \quad (\text{or ReLU})

    Args:
        input_size: features of the input ``x``.
        hidden_size: features of the hidden state ``h``.
        num_layers: stacked recurrent layers. Default: 1.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.
        batch_first: input and output are ``(N, L, H)`` instead of ``(L, N, H)`` (not the
            states). Default: False.
        dropout: dropout probability on the outputs of every layer but the last, in
            training mode. Default: 0.
        bidirectional: add a layer running backwards in time; outputs are concatenated.

    Inputs: ``input, h_0``
        * input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, ``(L, H_in)``
          unbatched, or a :class:`~retrograd.nn.utils.rnn.PackedSequence`.
        * h_0: ``(D * num_layers, N, H_out)`` (``(D * num_layers, H_out)`` unbatched),
          zeros if omitted. ``D`` is 2 when bidirectional, else 1.

    Outputs: ``output, h_n``
        * output: ``(L, N, D * H_out)`` (layout as the input; packed if the input was):
          the last layer's ``h_t`` for every ``t``.
        * h_n: ``(D * num_layers, N, H_out)``: the final state of every layer and
          direction (for packed input, at each sequence's own last step).

    Attributes:
        weight_ih_l[k], weight_hh_l[k], bias_ih_l[k], bias_hh_l[k] (and ``_reverse``):
        ``(H_out, H_in)`` for ``k = 0`` else ``(H_out, D * H_out)``, ``(H_out, H_out)``,
        ``(H_out,)``, all initialised from U(-1/√H_out, 1/√H_out).

    See :class:`RNNBase` for ``record_hidden_grads`` (backpropagation through time made
    visible).

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(retrograd.randn(5, 3, 10), retrograd.randn(2, 3, 20))
        >>> output.shape, hn.shape
        (retrograd.Size([5, 3, 20]), retrograd.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    r"""Multi-layer long short-term memory (LSTM) RNN.

    For each step, with :math:`\sigma` the sigmoid and gates in PyTorch's order i, f, g, o:

    .. math::
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \qquad
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \qquad
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad h_t = o_t \odot \tanh(c_t)

    Args: as :class:`RNN` (without ``nonlinearity``); ``proj_size`` is not supported.

    Inputs: ``input, (h_0, c_0)``, both states ``(D * num_layers, N, H)`` (zeros if omitted).

    Outputs: ``output, (h_n, c_n)``, shapes as in :class:`RNN`.

    Attributes: ``weight_ih_l[k]`` ``(4H, H_in)``, ``weight_hh_l[k]`` ``(4H, H)``,
    ``bias_ih_l[k]``, ``bias_hh_l[k]`` ``(4H,)``, rows in gate order i, f, g, o.

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(retrograd.randn(5, 3, 10))
        >>> output.shape, cn.shape
        (retrograd.Size([5, 3, 20]), retrograd.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    r"""Multi-layer gated recurrent unit (GRU) RNN.

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \qquad
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \qquad
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Args, inputs and outputs as :class:`RNN` (without ``nonlinearity``).

    Attributes: ``weight_ih_l[k]`` ``(3H, H_in)``, ``weight_hh_l[k]`` ``(3H, H)``, biases
    ``(3H,)``, rows in gate order r, z, n.

    Example::

        >>> gru = nn.GRU(10, 20, 2)
        >>> output, hn = gru(retrograd.randn(5, 3, 10))
        >>> output.shape, hn.shape
        (retrograd.Size([5, 3, 20]), retrograd.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """Base class of the single-step cells: ``weight_ih``, ``weight_hh`` (and biases), each
    ``num_chunks * hidden_size`` rows, initialised from U(-1/√hidden_size, 1/√hidden_size)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(rows, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(rows, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, states):
        """Check shapes, add the batch dimension to unbatched input; states default to zeros."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead "
                             f"(shape {tuple(input.shape)})")
        for k, s in enumerate(states):
            if s is not None and s.dim() not in (1, 2):
                which = f"hx[{k}]" if len(states) > 1 else "hidden"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {s.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{name}({self.extra_repr()}): input has inconsistent input_size: "
                               f"got {input.shape[1]}, expected {self.input_size} (input shape "
                               f"{tuple(input.shape)})")
        out = []
        for k, s in enumerate(states):
            if s is None:
                s = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            elif not batched:
                s = s.unsqueeze(0)
            if tuple(s.shape) != (input.shape[0], self.hidden_size):
                raise RuntimeError(f"{name}({self.extra_repr()}): hidden state {k} has shape "
                                   f"{tuple(s.shape)}, expected (batch, hidden_size) = "
                                   f"{(input.shape[0], self.hidden_size)} for input of shape "
                                   f"{tuple(input.shape)}")
            out.append(s)
        return input, out, batched


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN: :math:`h' = \tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`.

    Args:
        input_size, hidden_size: features of ``x`` and ``h``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``.

    Shape: input ``(N, H_in)`` or ``(H_in)``, hidden ``(N, H)`` or ``(H)`` (zeros if
    omitted) → ``h'`` of the hidden's shape.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> x, h = retrograd.randn(6, 3, 10), retrograd.randn(3, 20)
        >>> for t in range(6):
        ...     h = cell(x[t], h)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, (hx,))
        a = F.linear(input, self.weight_ih, self.bias_ih) + \
            F.linear(h, self.weight_hh, self.bias_hh)
        h = a.tanh() if self.nonlinearity == "tanh" else a.relu()
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One LSTM step (gates i, f, g, o; equations as in :class:`LSTM`).

    Args:
        input_size, hidden_size: features of ``x`` and ``h``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.

    Shape: input ``(N, H_in)`` or ``(H_in)``; ``hx = (h, c)``, each ``(N, H)`` or ``(H)``
    (zeros if omitted) → ``(h', c')``.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (isinstance(hx, Tensor) or len(hx) != 2):
            got = "a single Tensor" if isinstance(hx, Tensor) else f"{len(hx)} items"
            raise RuntimeError(f"LSTMCell: hx must be a tuple (h, c) of two tensors, got {got}")
        states = (None, None) if hx is None else tuple(hx)
        input, (h, c), batched = self._prepare(input, states)
        gates = F.linear(input, self.weight_ih, self.bias_ih) + \
            F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    r"""One GRU step (gates r, z, n; equations as in :class:`GRU`).

    Args:
        input_size, hidden_size: features of ``x`` and ``h``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.

    Shape: input ``(N, H_in)`` or ``(H_in)``, hidden ``(N, H)`` or ``(H)`` (zeros if
    omitted) → ``h'`` of the hidden's shape.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, (hx,))
        xr, xz, xn = F.linear(input, self.weight_ih, self.bias_ih).chunk(3, 1)
        hr, hz, hn = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        h = (1 - z) * n + z * h
        return h if batched else h.squeeze(0)
