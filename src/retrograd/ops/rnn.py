r"""Fused recurrent layers: a whole sequence of RNN, LSTM or GRU steps as ONE graph node.

A recurrent layer written with ordinary ops records a dozen nodes per time step; here
one node per layer and direction does the whole sequence, as PyTorch's own kernels do:

* forward: the input projection of every time step is ONE matrix product
  (``x`` as ``(T, H_in)`` times ``W_ihᵀ``, biases added once); then one product
  ``h_{t-1} W_hhᵀ`` per step, and the gate arithmetic vectorised over the batch. The gate
  activations, cell states and outputs of every step are kept for the backward pass.
* backward (backpropagation through time): first every factor that does not depend on
  the incoming gradient (the gate derivatives) is computed for all steps at once; the
  loop over steps, latest first, then only multiplies the gradient reaching ``h_t`` into
  them and sends it back to ``h_{t-1}`` through ``W_hh`` (one product per step). The
  weight gradients are ONE product each over all steps at the end:
  ``dW_hh = dAᵀ · [h_{t-1}]_t`` and ``dW_ih = dAᵀ · [x_t]_t``.

Layout. A layer sees its input as rows ``(T, H_in)``, time-major: step ``t`` owns
``batch_sizes[t]`` consecutive rows. A padded ``(L, N, H_in)`` batch is the case
``batch_sizes = [N] * L``; a :class:`~retrograd.nn.utils.rnn.PackedSequence` (sequences
sorted by decreasing length) has shrinking batch sizes, and step ``t`` only updates the
first ``batch_sizes[t]`` rows of the running state: a sequence that has ended keeps its
last state, which is therefore its final state, and in the reverse direction a sequence
starts from ``h0`` at its own last step. No Python loop ever runs over sequences.

Equations (PyTorch's, gate order as in its weight matrices)::

    RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)        (or relu)
    LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh)
          c' = f * c + i * g          h' = o * tanh(c')
    GRU:  r, z = σ(W_ir x + b_ir + W_hr h + b_hr), σ(W_iz x + b_iz + W_hz h + b_hz)
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn))      h' = (1 - z) * n + z * h

The module also holds the row gather/scatter used to pack and unpack sequences.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, _record

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "gather_rows", "scatter_rows",
           "packed_to_padded_index"]


# ------------------------------------------------------------------ NumPy helpers

def _sigmoid_(a):
    """σ(a) in place, as (1 + tanh(a/2)) / 2: no overflow for any input, one transcendental."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _rows_times(h, w, buf):
    """``h @ wᵀ`` for a small batch of rows ``h``, computed as ``(w @ hᵀ)ᵀ`` into ``buf``.

    The same product, but OpenBLAS runs this tall-times-thin shape up to twice as fast
    when there are only tens of rows, which is the per-step case. Returns a view.
    """
    rows = h.shape[0]
    out = buf[:w.shape[0] * rows].reshape(w.shape[0], rows)
    np.matmul(w, h.T, out=out)
    return out.T


def _schedule(batch_sizes, length, batch, reverse):
    """``(first_row, rows)`` of every time step, in the order the layer visits them."""
    if batch_sizes is None:
        steps = [(t * batch, batch) for t in range(length)]
    else:
        starts = np.concatenate(([0], np.cumsum(batch_sizes)[:-1]))
        steps = list(zip(starts.tolist(), np.asarray(batch_sizes).tolist()))
    return steps[::-1] if reverse else steps


def _previous(Y, s0, steps, padded, reverse):
    """For every row, the state its step started from: the previous step's output for that
    sequence, or the initial state ``s0`` where the sequence starts (a ``(T, H)`` array)."""
    P = np.empty_like(Y)
    if padded:  # every step has the whole batch: a shifted copy
        n = s0.shape[0]
        if reverse:
            P[-n:] = s0
            P[:-n] = Y[n:]
        else:
            P[:n] = s0
            P[n:] = Y[:-n]
        return P
    prev_first, prev_rows = 0, 0
    for first, rows in steps:
        k = min(prev_rows, rows)
        P[first:first + k] = Y[prev_first:prev_first + k]
        if rows > k:  # sequences whose first visited step is this one
            P[first + k:first + rows] = s0[k:rows]
        prev_first, prev_rows = first, rows
    return P


# ------------------------------------------------------------------ the graph node

class _RecurrentLayer(Node):
    """Base of the fused layers: one layer, one direction, the whole sequence.

    Inputs ``(x, h0, [c0], w_ih, w_hh, b_ih, b_hh)``; outputs ``(y, h_n[, c_n])``.
    The forward stores what the backward needs in ``self.state``; once the node is
    recorded, :func:`_run` moves it to ``self.out``, which the engine frees after the
    backward (unless ``retain_graph``), so a second backward raises the usual error.
    """

    save_inputs = False
    multi_output = True
    label = "RecurrentLayer"

    def __init__(self, batch_sizes=None, reverse=False, hidden_grad_hook=None):
        self.batch_sizes = batch_sizes
        self.reverse = reverse
        self.hidden_grad_hook = hidden_grad_hook

    def name(self):
        return self.label + "Backward0"

    def _setup(self, x, w_hh, s0):
        """Rows view of the input, the step schedule, and the initial state."""
        x2 = x.reshape(-1, x.shape[-1])
        hidden = w_hh.shape[1]
        if self.batch_sizes is None:
            length, batch = x.shape[0], x.shape[1]
        else:
            length, batch = len(self.batch_sizes), int(self.batch_sizes[0])
        self.lead = x.shape[:-1]
        self.steps = _schedule(self.batch_sizes, length, batch, self.reverse)
        if s0 is None:
            s0 = np.zeros((batch, hidden), dtype=x.dtype)
        return x2, s0

    def _check_double_backward(self, g):
        for x in g:
            if x is not None and x.__class__ is not np.ndarray:
                raise NotImplementedError(
                    f"{self.label}: double backward (create_graph=True) through the fused "
                    "recurrent layer is not supported. For higher-order gradients run the "
                    "matching cell (nn.RNNCell / nn.LSTMCell / nn.GRUCell) in a Python loop: its "
                    "ops are all differentiable twice.")

    def _grad_rows(self, gy, hidden):
        return None if gy is None else gy.reshape(-1, hidden)

    def _input_grads(self, dA, x2, w_ih, needs_x, needs_w):
        """``dx = dA W_ih`` and ``dW_ih = dAᵀ x``: one product each over every step."""
        dx = (dA @ w_ih).reshape(self.lead + (w_ih.shape[1],)) if needs_x else None
        dw = dA.T @ x2 if needs_w else None
        return dx, dw


class RNNLayer(_RecurrentLayer):
    """Elman RNN over a whole sequence: ``h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)``."""

    n_outputs = 2
    label = "RNNLayer"

    def __init__(self, nonlinearity="tanh", **kw):
        super().__init__(**kw)
        self.nonlinearity = nonlinearity

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        x2, h0 = self._setup(x, w_hh, h0)
        A = x2 @ w_ih.T
        if b_ih is not None:
            A += b_ih + b_hh
        Y = A  # the pre-activations become the outputs, step by step, in place
        h = h0.copy()
        buf = np.empty(h.size, dtype=A.dtype)
        tanh = self.nonlinearity == "tanh"
        for first, rows in self.steps:
            a = A[first:first + rows]
            a += _rows_times(h[:rows], w_hh, buf)
            if tanh:
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            h[:rows] = a
        self.state = (x2, h0, w_ih, w_hh, Y)
        return Y.reshape(self.lead + (Y.shape[1],)), h

    def backward(self, g):
        self._check_double_backward(g)
        gy, gh = g
        x2, h0, w_ih, w_hh, Y = self.out
        H = Y.shape[1]
        gy = self._grad_rows(gy, H)
        # dA_t = dh_t * f'(a_t); f' depends on the output only, so compute it for all steps now
        if self.nonlinearity == "tanh":
            D = np.multiply(Y, Y)
            np.subtract(1, D, out=D)
        else:
            D = (Y > 0).astype(Y.dtype)
        carry = np.zeros_like(h0) if gh is None else gh.copy()
        record = np.zeros_like(Y) if self.hidden_grad_hook is not None else None
        w_t = np.ascontiguousarray(w_hh.T)
        buf = np.empty(carry.size, dtype=Y.dtype)
        for first, rows in reversed(self.steps):
            dh = carry[:rows]
            if gy is not None:
                dh += gy[first:first + rows]
            if record is not None:
                record[first:first + rows] = dh
            d = D[first:first + rows]
            d *= dh
            dh[...] = _rows_times(d, w_t, buf)
        if record is not None:
            self.hidden_grad_hook(record)
        nx, nh, nwi, nwh, nbi, nbh = self.needs
        dx, dwi = self._input_grads(D, x2, w_ih, nx, nwi)
        padded = self.batch_sizes is None
        dwh = D.T @ _previous(Y, h0, self.steps, padded, self.reverse) if nwh else None
        db = D.sum(0) if (nbi or nbh) else None
        return dx, (carry if nh else None), dwi, dwh, db, db


class LSTMLayer(_RecurrentLayer):
    """LSTM over a whole sequence (gates i, f, g, o in that order, as in PyTorch)."""

    n_outputs = 3
    label = "LSTMLayer"

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        x2, h0 = self._setup(x, w_hh, h0)
        c0 = np.zeros_like(h0) if c0 is None else c0
        H = w_hh.shape[1]
        T = x2.shape[0]
        G = x2 @ w_ih.T  # (T, 4H): pre-activations, turned into the gate values in place
        if b_ih is not None:
            G += b_ih + b_hh
        Y = np.empty((T, H), dtype=G.dtype)
        C = np.empty((T, H), dtype=G.dtype)
        TC = np.empty((T, H), dtype=G.dtype)  # tanh(c_t), reused by the backward
        h, c = h0.copy(), c0.copy()
        buf = np.empty(h.size * 4, dtype=G.dtype)
        for first, rows in self.steps:
            s = slice(first, first + rows)
            a = G[s]
            a += _rows_times(h[:rows], w_hh, buf)
            _sigmoid_(a[:, :2 * H])
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            _sigmoid_(a[:, 3 * H:])
            ct = C[s]
            np.multiply(a[:, H:2 * H], c[:rows], out=ct)
            ct += a[:, :H] * a[:, 2 * H:3 * H]
            np.tanh(ct, out=TC[s])
            np.multiply(a[:, 3 * H:], TC[s], out=Y[s])
            h[:rows] = Y[s]
            c[:rows] = ct
        self.state = (x2, h0, c0, w_ih, w_hh, G, C, TC, Y)
        return Y.reshape(self.lead + (H,)), h, c

    def backward(self, g):
        self._check_double_backward(g)
        gy, gh, gc = g
        x2, h0, c0, w_ih, w_hh, G, C, TC, Y = self.out
        H = Y.shape[1]
        padded = self.batch_sizes is None
        gy = self._grad_rows(gy, H)
        i, f, gg, o = G[:, :H], G[:, H:2 * H], G[:, 2 * H:3 * H], G[:, 3 * H:]
        Cprev = _previous(C, c0, self.steps, padded, self.reverse)
        # Everything that does not depend on the incoming gradient, for all steps at once:
        #   dc_t  = dc_{t+1} f_{t+1} + dh_t K_t,          K = o (1 - tanh²c)
        #   dA_t  = [dc_t Qi, dc_t Qf, dc_t Qg, dh_t Qo]  (gradients of the pre-activations)
        K = np.multiply(TC, TC)
        np.subtract(1, K, out=K)
        K *= o
        Q = np.empty_like(G)
        qi, qf, qg, qo = Q[:, :H], Q[:, H:2 * H], Q[:, 2 * H:3 * H], Q[:, 3 * H:]
        np.subtract(1, i, out=qi)
        qi *= i
        qi *= gg
        np.subtract(1, f, out=qf)
        qf *= f
        qf *= Cprev
        np.multiply(gg, gg, out=qg)
        np.subtract(1, qg, out=qg)
        qg *= i
        np.subtract(1, o, out=qo)
        qo *= o
        qo *= TC
        del Cprev
        hcarry = np.zeros_like(h0) if gh is None else gh.copy()
        ccarry = np.zeros_like(h0) if gc is None else gc.copy()
        record = np.zeros_like(Y) if self.hidden_grad_hook is not None else None
        w_t = np.ascontiguousarray(w_hh.T)
        buf = np.empty(hcarry.size, dtype=Y.dtype)
        for first, rows in reversed(self.steps):
            s = slice(first, first + rows)
            dh = hcarry[:rows]
            if gy is not None:
                dh += gy[s]
            if record is not None:
                record[s] = dh
            dc = ccarry[:rows]
            dc += dh * K[s]
            q = Q[s].reshape(rows, 4, H)
            q[:, :3] *= dc[:, None, :]
            q[:, 3] *= dh
            dc *= f[s]  # the cell-state gradient handed to step t-1
            dh[...] = _rows_times(Q[s], w_t, buf)
        if record is not None:
            self.hidden_grad_hook(record)
        nx, nh, nc, nwi, nwh, nbi, nbh = self.needs
        dx, dwi = self._input_grads(Q, x2, w_ih, nx, nwi)
        dwh = Q.T @ _previous(Y, h0, self.steps, padded, self.reverse) if nwh else None
        db = Q.sum(0) if (nbi or nbh) else None
        return dx, (hcarry if nh else None), (ccarry if nc else None), dwi, dwh, db, db


class GRULayer(_RecurrentLayer):
    """GRU over a whole sequence (gates r, z, n in that order, PyTorch's formula for n)."""

    n_outputs = 2
    label = "GRULayer"

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        x2, h0 = self._setup(x, w_hh, h0)
        H = w_hh.shape[1]
        T = x2.shape[0]
        G = x2 @ w_ih.T  # (T, 3H): W_i x + b_i; r, z, n replace it step by step
        if b_ih is not None:
            G += b_ih
            G[:, :2 * H] += b_hh[:2 * H]  # r and z add both biases; n keeps b_hn apart
            b_hn = b_hh[2 * H:]
        else:
            b_hn = None
        HN = np.empty((T, H), dtype=G.dtype)  # W_hn h_{t-1} + b_hn, which r multiplies
        Y = np.empty((T, H), dtype=G.dtype)
        h = h0.copy()
        buf = np.empty(h.size * 3, dtype=G.dtype)
        for first, rows in self.steps:
            s = slice(first, first + rows)
            a = G[s]
            hw = _rows_times(h[:rows], w_hh, buf)
            a[:, :2 * H] += hw[:, :2 * H]
            _sigmoid_(a[:, :2 * H])
            hn = HN[s]
            hn[...] = hw[:, 2 * H:]
            if b_hn is not None:
                hn += b_hn
            n = a[:, 2 * H:]
            n += a[:, :H] * hn
            np.tanh(n, out=n)
            y = Y[s]
            np.subtract(h[:rows], n, out=y)
            y *= a[:, H:2 * H]
            y += n
            h[:rows] = y
        self.state = (x2, h0, w_ih, w_hh, G, HN, Y)
        return Y.reshape(self.lead + (H,)), h

    def backward(self, g):
        self._check_double_backward(g)
        gy, gh = g
        x2, h0, w_ih, w_hh, G, HN, Y = self.out
        H = Y.shape[1]
        gy = self._grad_rows(gy, H)
        r, z, n = G[:, :H], G[:, H:2 * H], G[:, 2 * H:]
        P = _previous(Y, h0, self.steps, self.batch_sizes is None, self.reverse)
        # Gradient-independent factors for all steps; the pre-activation gradients are
        # dh_t times these four blocks, stored as [r, z, hn, n] so that the first three
        # (the gradient of h_{t-1} W_hhᵀ + b_hh) are contiguous for the per-step product:
        #   Qn = (1 - z)(1 - n²)     Qhn = Qn r     Qr = Qhn hn (1 - r)     Qz = (h - n) z (1 - z)
        Q = np.empty((G.shape[0], 4 * H), dtype=G.dtype)
        qr, qz, qhn, qn = Q[:, :H], Q[:, H:2 * H], Q[:, 2 * H:3 * H], Q[:, 3 * H:]
        np.multiply(n, n, out=qn)
        np.subtract(1, qn, out=qn)
        qn *= 1 - z
        np.multiply(qn, r, out=qhn)
        np.subtract(1, r, out=qr)
        qr *= qhn
        qr *= HN
        np.subtract(P, n, out=qz)
        qz *= z
        qz *= 1 - z
        carry = np.zeros_like(h0) if gh is None else gh.copy()
        record = np.zeros_like(Y) if self.hidden_grad_hook is not None else None
        w_t = np.ascontiguousarray(w_hh.T)
        buf = np.empty(carry.size, dtype=Y.dtype)
        for first, rows in reversed(self.steps):
            s = slice(first, first + rows)
            dh = carry[:rows]
            if gy is not None:
                dh += gy[s]
            if record is not None:
                record[s] = dh
            Q[s].reshape(rows, 4, H)[...] *= dh[:, None, :]
            back = _rows_times(Q[s, :3 * H], w_t, buf)
            dh *= z[s]  # h' = ... + z h: the direct path to h_{t-1}
            dh += back
        if record is not None:
            self.hidden_grad_hook(record)
        nx, nh, nwi, nwh, nbi, nbh = self.needs
        dxw_rz, dxw_n = Q[:, :2 * H], Q[:, 3 * H:]
        dx = dwi = dwh = dbi = dbh = None
        if nx:
            dx = dxw_rz @ w_ih[:2 * H] + dxw_n @ w_ih[2 * H:]
            dx = dx.reshape(self.lead + (w_ih.shape[1],))
        if nwi:
            dwi = np.concatenate((dxw_rz.T @ x2, dxw_n.T @ x2))
        if nwh:
            dwh = Q[:, :3 * H].T @ P
        if nbi or nbh:
            sums = Q.sum(0)
            dbi = np.concatenate((sums[:2 * H], sums[3 * H:]))
            dbh = sums[:3 * H]
        return dx, (carry if nh else None), dwi, dwh, dbi, dbh


class _LayerOutput(Node):
    """Output ``index`` of a fused layer: routes its gradient into the layer's slot."""

    save_inputs = False

    def __init__(self, index, layer):
        self.index = index
        self.label = layer.name()

    def name(self):
        return self.label

    def backward(self, g):
        return (self.index, g)


def _run(node, inputs):
    """Run a fused layer and, when some input requires grad, record it with one output node
    per result (``y``, ``h_n`` and, for the LSTM, ``c_n``)."""
    from ..tensor import Tensor

    arrays = [t._data if isinstance(t, Tensor) else t for t in inputs]
    outs = node.forward(*arrays)
    if not (GRAD.enabled and any(isinstance(t, Tensor) and t.requires_grad for t in inputs)):
        node.state = None
        return tuple(Tensor._make(o, None) for o in outs)
    base = _record(node, inputs, arrays, np.zeros((), dtype=outs[0].dtype))
    node.out, node.state = node.state, None
    results = tuple(_record(_LayerOutput(i, node), (base,), (None,), o) for i, o in enumerate(outs))
    # The saved arrays include the inputs and the output y: an in-place change to any of
    # them before backward must raise, as it does for every other op.
    versions = [(t._version, t._version[0]) for t in inputs if isinstance(t, Tensor)]
    versions.append((results[0]._version, results[0]._version[0]))
    node.versions = tuple(versions)
    return results


def _check_batch_sizes(x, batch_sizes, op):
    if batch_sizes is None:
        if x.ndim != 3:
            raise RuntimeError(f"{op}: expected input of shape (L, N, H_in), got {tuple(x.shape)}")
        return None
    bs = batch_sizes._data if hasattr(batch_sizes, "_data") else batch_sizes
    bs = np.asarray(bs, dtype=np.int64)
    if x.ndim != 2 or bs.ndim != 1 or len(bs) == 0:
        raise RuntimeError(f"{op}: packed input must be (T, H_in) rows with 1-D batch_sizes, got "
                           f"data {tuple(x.shape)} and batch_sizes {bs.shape}")
    if bs.sum() != x.shape[0] or (bs <= 0).any() or (np.diff(bs) > 0).any():
        raise RuntimeError(f"{op}: batch_sizes {bs.tolist()} must be positive, non-increasing and "
                           f"sum to the {x.shape[0]} rows of the packed data")
    return bs


def rnn_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh",
              batch_sizes=None, reverse=False, hidden_grad_hook=None):
    """One direction of one Elman RNN layer over a whole sequence, as one graph node.

    Args:
        input: ``(L, N, H_in)`` time-major, or packed rows ``(T, H_in)`` with ``batch_sizes``.
        h0: ``(N, H)`` initial state, or None for zeros.
        w_ih, w_hh, b_ih, b_hh: PyTorch's layout, ``(H, H_in)``, ``(H, H)``, ``(H,)``, ``(H,)``.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        batch_sizes: rows per time step of packed input (non-increasing), or None.
        reverse: run from the last step to the first (a bidirectional layer's second half).
        hidden_grad_hook: called during backward with the ``(T, H)`` rows of ∂L/∂h_t.

    Returns:
        ``(output, h_n)``: all the states, shaped like ``input`` with ``H`` features, and the
        final state of every sequence ``(N, H)``.
    """
    bs = _check_batch_sizes(input, batch_sizes, "rnn_layer")
    node = RNNLayer(nonlinearity, batch_sizes=bs, reverse=reverse,
                    hidden_grad_hook=hidden_grad_hook)
    return _run(node, (input, h0, w_ih, w_hh, b_ih, b_hh))


def lstm_layer(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, batch_sizes=None,
               reverse=False, hidden_grad_hook=None):
    """One direction of one LSTM layer over a whole sequence, as one graph node.

    Same arguments as :func:`rnn_layer`, plus the initial cell state ``c0`` ``(N, H)``
    (None for zeros); ``w_ih`` is ``(4H, H_in)`` and ``w_hh`` ``(4H, H)``, gates i, f, g, o.

    Returns:
        ``(output, h_n, c_n)``.
    """
    bs = _check_batch_sizes(input, batch_sizes, "lstm_layer")
    node = LSTMLayer(batch_sizes=bs, reverse=reverse, hidden_grad_hook=hidden_grad_hook)
    return _run(node, (input, h0, c0, w_ih, w_hh, b_ih, b_hh))


def gru_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, batch_sizes=None, reverse=False,
              hidden_grad_hook=None):
    """One direction of one GRU layer over a whole sequence, as one graph node.

    Same arguments as :func:`rnn_layer`; ``w_ih`` is ``(3H, H_in)`` and ``w_hh`` ``(3H, H)``,
    gates r, z, n.

    Returns:
        ``(output, h_n)``.
    """
    bs = _check_batch_sizes(input, batch_sizes, "gru_layer")
    node = GRULayer(batch_sizes=bs, reverse=reverse, hidden_grad_hook=hidden_grad_hook)
    return _run(node, (input, h0, w_ih, w_hh, b_ih, b_hh))


# ------------------------------------------------------------------ packing rows

class GatherRows(Node):
    """``a[index]`` along the first axis for distinct indices (packing sequences).

    Backward puts each row's gradient back where it came from; rows not gathered (the
    padding) get zero. Both directions are written with each other, so they nest for
    higher-order gradients.
    """

    save_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self.rows = a.shape[0]
        return a[self.index]

    def backward(self, g):
        return scatter_rows(g, self.index, self.rows, 0)


class ScatterRows(Node):
    """Rows of ``a`` placed at ``index`` of a ``(rows, *)`` array filled with ``fill``
    (unpacking and padding). Backward gathers the gradient of those rows."""

    save_inputs = False

    def __init__(self, index, rows, fill):
        self.index, self.rows, self.fill = index, rows, fill

    def forward(self, a):
        out = np.full((self.rows,) + a.shape[1:], self.fill, dtype=a.dtype)
        out[self.index] = a
        return out

    def backward(self, g):
        return gather_rows(g, self.index)


def gather_rows(input, index):
    """``input[index]`` for a 1-D array of distinct row indices (array or Tensor in, same out)."""
    from ..autograd.graph import apply

    if input.__class__ is np.ndarray:
        return input[index]
    return apply(GatherRows(index), input)


def scatter_rows(input, index, rows, fill=0.0):
    """A ``(rows, *input.shape[1:])`` array of ``fill`` with ``input``'s rows at ``index``."""
    from ..autograd.graph import apply

    if input.__class__ is np.ndarray:
        out = np.full((rows,) + input.shape[1:], fill, dtype=input.dtype)
        out[index] = input
        return out
    return apply(ScatterRows(index, rows, fill), input)


def packed_to_padded_index(batch_sizes, sorted_indices=None, batch_first=False, total_length=None):
    """Where each packed row goes in a padded batch flattened to rows.

    Row ``k`` of packed data belongs to time ``t`` and sorted position ``j``; its sequence
    is ``sorted_indices[j]`` (or ``j``). Returns the flat row index into ``(T * N, *)``
    (time-major) or ``(N * T, *)`` (``batch_first``), plus ``T`` and ``N``.
    """
    bs = np.asarray(batch_sizes, dtype=np.int64)
    length = len(bs) if total_length is None else int(total_length)
    batch = int(bs[0]) if len(bs) else 0
    # (t, j) pairs in packed order: row-major over the (time, position) grid of valid cells
    t, j = np.nonzero(np.arange(batch)[None, :] < bs[:, None])
    seq = j if sorted_indices is None else np.asarray(sorted_indices, dtype=np.int64)[j]
    flat = seq * length + t if batch_first else t * batch + seq
    return flat, length, batch
