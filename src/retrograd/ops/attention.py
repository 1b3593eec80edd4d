"""Scaled dot-product attention as fused ops: ``softmax(q kᵀ · scale + bias) v`` in one node.

Forward, for every batch entry and head (``L`` queries, ``S`` keys)::

    S   = q kᵀ · scale + bias           scores (L, S); masks enter as additive biases (-inf)
    P   = softmax(S)                    along the keys
    P̃   = P ⊙ D                         dropout: D = keep / (1 - p), keep ~ Bernoulli(1 - p)
    out = P̃ v

Backward, with ``g = ∂loss/∂out``, in closed form::

    dv    = P̃ᵀ g
    dP    = (g vᵀ) ⊙ D
    dS    = P ⊙ (dP - rowsum(dP ⊙ P))        the softmax vector-Jacobian product
    dq    = dS k · scale      dk = dSᵀ q · scale      dbias = dS, summed to the bias's shape

The node keeps ``P`` (and ``D``) from the forward, so the backward is four batched
matrix products and two elementwise passes; none of the composite graph's (L, S)
intermediates (raw, scaled and masked scores) is stored.

A row whose keys are *all* masked has no valid softmax. :class:`ScaledDotProductAttention`
gives zeros there, as PyTorch's ``scaled_dot_product_attention`` does; :class:`AttentionWeights`
(the ``need_weights=True`` path of multi-head attention) gives NaN, as PyTorch's does.

Three nodes share this math and differ only in where q, k, v come from and where the
result goes:

- :class:`ScaledDotProductAttention`: q ``(*, L, E)``, k ``(*, S, E)``, v ``(*, S, Ev)`` as given
  (batch dims broadcast); output ``(*, L, Ev)``.
- :class:`MultiheadAttentionCore`: reads the heads straight out of the input projections of
  ``nn.MultiheadAttention`` (layout ``(L, N, C)`` or, batch first, ``(N, L, C)``; q, k and v may
  be column ranges of one packed projection) and writes its output in the same layout, so no
  head split/merge copies or extra graph nodes are needed.
- :class:`AttentionWeights`: stops after the dropout and returns ``P̃`` ``(*, L, S)``.

For ``create_graph=True`` the backward recomputes ``P`` from the graph-connected inputs with
differentiable ops and runs the same formulas on Tensors, so higher derivatives work too.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.graph import Node, apply
from ._util import is_array, permute, sum_to

__all__ = ["ScaledDotProductAttention", "MultiheadAttentionCore", "AttentionWeights", "attention",
           "causal_bias"]


def causal_bias(L, S, dtype):
    """``(L, S)`` additive mask: 0 where key ``j <= i`` (query ``i``), -inf above the diagonal."""
    return np.triu(np.full((L, S), -np.inf, dtype=dtype), 1)


def _softmax_vjp(dp, p):
    """``dS = P ⊙ (dP - rowsum(dP ⊙ P))``; overwrites ``dp`` when it is an array."""
    if is_array(dp):
        dp -= np.einsum("...j,...j->...", dp, p)[..., None]
        dp *= p
        return dp
    return p * (dp - (dp * p).sum(axis=-1, keepdims=True))


class _Attention(Node):
    """The shared math. Inputs: ``n_src`` sources holding q, k, v, then additive biases
    (arrays broadcasting against the scores, or None). Subclasses define where q, k, v live
    (``_heads``), how the result is laid out (``_result``) and how head gradients go back to
    the sources (``_source_grads``)."""

    n_src = 3
    safe = True      # fully masked rows give zeros (True) or NaN (False)
    has_values = True

    def __init__(self, scale, causal=False, dropout_p=0.0):
        self.scale = float(scale)
        self.causal = causal
        self.dropout_p = float(dropout_p)
        self.state = None

    # ----------------------------------------------------------- forward pieces
    def _scores(self, q, k, biases):
        """Masked, scaled scores ``q kᵀ · scale + Σ bias`` (arrays: a fresh array)."""
        s = q @ k.swapaxes(-1, -2)
        s *= self.scale
        for b in biases:
            if b is None:
                continue
            if np.broadcast_shapes(s.shape, b.shape) == s.shape:
                s += b
            else:  # the mask has batch dims q and k lack: the scores grow to its shape
                s = s + b
        if self.causal:
            s += causal_bias(s.shape[-2], s.shape[-1], s.dtype)
        return s

    def _softmax(self, s):
        """Row softmax of the scores, in place."""
        m = s.max(axis=-1, keepdims=True)
        dead = None
        if self.safe:
            dead = np.isneginf(m)
            if dead.any():
                m[dead] = 0  # exp(-inf - 0) = 0: the row sums to 0, and is set to 0 below
            else:
                dead = None
            s -= m
        else:
            with np.errstate(invalid="ignore"):  # all -inf rows turn NaN, as in PyTorch
                s -= m
        np.exp(s, out=s)
        z = s.sum(axis=-1, keepdims=True)
        if dead is not None:
            z[dead] = 1
        s /= z
        return s

    def _dropout_mask(self, shape, dtype):
        """``keep / (1 - p)`` as an array of ``dtype``, or None without dropout."""
        p = self.dropout_p
        if p == 0:
            return None
        if p >= 1:
            return np.zeros(shape, dtype=dtype)
        keep = backend.rng().random(shape, dtype=np.float32) >= p
        d = keep.astype(dtype)
        d *= 1.0 / (1.0 - p)
        return d

    def forward(self, *arrays):
        srcs, biases = arrays[:self.n_src], arrays[self.n_src:]
        q, k, v = self._heads(srcs)
        p = self._softmax(self._scores(q, k, biases))
        d = self._dropout_mask(p.shape, p.dtype)
        pd = p if d is None else p * d
        self.state = (p, d)
        if not self.has_values:
            return pd
        return self._result(pd, v)

    # ----------------------------------------------------------- backward
    def _needs_qkv(self):
        return self.needs[0], self.needs[1], self.needs[2]

    def backward(self, g, *inputs):
        srcs, biases = inputs[:self.n_src], inputs[self.n_src:]
        if not is_array(g):
            return self._backward_graph(g, srcs, biases)
        p, d = self.out
        q, k, v = self._heads(srcs)
        need_q, need_k, need_v = self._needs_qkv()
        g = self._grad_heads(g)
        dv = None
        if self.has_values:
            if need_v:
                dv = (p if d is None else p * d).swapaxes(-1, -2) @ g
            dp = g @ v.swapaxes(-1, -2)
            if d is not None:
                dp *= d
        else:
            dp = g * d if d is not None else g.copy()
        ds = _softmax_vjp(dp, p)
        dq = dk = None
        if need_q:
            dq = ds @ k
            dq *= self.scale
        if need_k:
            dk = ds.swapaxes(-1, -2) @ q
            dk *= self.scale
        return self._all_grads(dq, dk, dv, srcs, ds, biases)

    def _all_grads(self, dq, dk, dv, srcs, ds, biases):
        grads = self._source_grads(dq, dk, dv, srcs) + self._bias_grads(ds, biases)
        return grads[0] if len(grads) == 1 else grads  # the engine wants a lone gradient bare

    def _bias_grads(self, ds, biases):
        needs = self.needs[self.n_src:]
        return tuple(sum_to(ds, b.shape) if b is not None and need else None
                     for b, need in zip(biases, needs))

    def _backward_graph(self, g, srcs, biases):
        """create_graph: the same formulas on Tensors, with P recomputed from the graph."""
        from ..tensor import Tensor
        from .reduction import softmax

        d = self.out[1]
        q, k, v = self._heads(srcs)
        g = self._grad_heads(g)
        s = (q @ k.swapaxes(-1, -2)) * self.scale
        for b in biases:
            if b is not None:
                s = s + b
        if self.causal:
            s = s + Tensor._make(causal_bias(s.shape[-2], s.shape[-1], s.dtype), None)
        dead = None
        if self.safe:
            dead = np.isneginf(s._data.max(axis=-1, keepdims=True))
            if dead.any():
                s = s.masked_fill(dead, 0.0)
            else:
                dead = None
        p = softmax(s, -1)
        if dead is not None:
            p = p.masked_fill(dead, 0.0)
        dt = Tensor._make(d, None) if d is not None else None
        dv = None
        if self.has_values:
            if self._needs_qkv()[2]:
                dv = (p if dt is None else p * dt).swapaxes(-1, -2) @ g
            dp = g @ v.swapaxes(-1, -2)
        else:
            dp = g
        if dt is not None:
            dp = dp * dt
        ds = _softmax_vjp(dp, p)
        dq = ds @ k * self.scale
        dk = ds.swapaxes(-1, -2) @ q * self.scale
        return self._all_grads(dq, dk, dv, srcs, ds, biases)

    # ----------------------------------------------------------- layout hooks (plain q, k, v)
    def _heads(self, srcs):
        return srcs[0], srcs[1], (srcs[2] if self.has_values else None)

    def _grad_heads(self, g):
        return g

    def _result(self, pd, v):
        return pd @ v

    def _source_grads(self, dq, dk, dv, srcs):
        out = [None if dq is None else sum_to(dq, srcs[0].shape),
               None if dk is None else sum_to(dk, srcs[1].shape)]
        if self.has_values:
            out.append(None if dv is None else sum_to(dv, srcs[2].shape))
        return tuple(out)


class ScaledDotProductAttention(_Attention):
    """``softmax(q kᵀ · scale + bias) v`` with optional causal mask and dropout.

    Inputs ``(q, k, v, *biases)``: q ``(*, L, E)``, k ``(*, S, E)``, v ``(*, S, Ev)``; each bias
    (or None) broadcasts against the scores ``(*, L, S)``.
    """


class AttentionWeights(_Attention):
    """The attention probabilities ``dropout(softmax(q kᵀ · scale + bias))``, ``(*, L, S)``.

    Inputs ``(q, k, *biases)``. Fully masked rows give NaN, as in PyTorch's multi-head
    attention when it returns its weights.
    """

    n_src = 2
    safe = False
    has_values = False

    def _needs_qkv(self):
        return self.needs[0], self.needs[1], False


class MultiheadAttentionCore(_Attention):
    """Attention over ``num_heads`` heads read from the projections' own layout.

    Args (of the node):
        num_heads: number of heads ``H``; a source's columns ``[a, b)`` hold ``H`` heads of
            ``(b - a) / H`` features each.
        slots: for q, k and v, ``(source index, a, b)``: the column range of the source
            holding it. Self-attention packs all three in one ``(L, N, 3E)`` projection.
        batch_first: sources are ``(N, L, C)`` (True) or ``(L, N, C)`` (False).
        scale, causal, dropout_p: as for :class:`ScaledDotProductAttention`.

    Inputs ``(*sources, *biases)``; biases broadcast against the scores ``(N, H, L, S)``.
    Output ``(L, N, H·Ev)`` (or ``(N, L, H·Ev)``), the heads side by side as PyTorch orders them.
    """

    def __init__(self, num_heads, slots, batch_first, scale, causal=False, dropout_p=0.0):
        super().__init__(scale, causal, dropout_p)
        self.num_heads = num_heads
        self.slots = tuple(slots)
        self.n_src = 1 + max(s[0] for s in self.slots)
        self.batch_first = batch_first
        # (L, N, H, d) -> (N, H, L, d), or (N, L, H, d) -> (N, H, L, d)
        self.perm = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
        self.inv = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)

    def _split(self, x):
        """(L, N, H·d) (or batch first) -> (N, H, L, d); a view for arrays."""
        a, b = x.shape[0], x.shape[1]
        return permute(x.reshape(a, b, self.num_heads, -1), self.perm)

    def _merge(self, x):
        """(N, H, L, d) -> (L, N, H·d) (or batch first)."""
        x = permute(x, self.inv)
        return x.reshape(x.shape[0], x.shape[1], -1)

    def _needs_qkv(self):
        return tuple(self.needs[s[0]] for s in self.slots)

    def _heads(self, srcs):
        return tuple(self._split(srcs[i][..., a:b]) for i, a, b in self.slots)

    def _grad_heads(self, g):
        return self._split(g)

    def _result(self, pd, v):
        n, h, length, dv = pd.shape[0], pd.shape[1], pd.shape[2], v.shape[-1]
        shape = (n, length, h, dv) if self.batch_first else (length, n, h, dv)
        out = np.empty(shape, dtype=pd.dtype)
        np.matmul(pd, v, out=out.transpose(self.perm))  # written straight into the merged layout
        return out.reshape(shape[0], shape[1], h * dv)

    def _source_grads(self, dq, dk, dv, srcs):
        grads = [None] * self.n_src
        if is_array(srcs[0]):
            for (i, a, b), d in zip(self.slots, (dq, dk, dv)):
                if d is None:
                    continue
                if grads[i] is None:
                    grads[i] = np.empty(srcs[i].shape, dtype=srcs[i].dtype)
                self._split(grads[i][..., a:b])[...] = d
            return tuple(grads)
        from .shape import cat

        parts = [[] for _ in range(self.n_src)]
        for (i, a, _), d in zip(self.slots, (dq, dk, dv)):
            if d is not None and self.needs[i]:
                parts[i].append((a, self._merge(d)))
        for i, ps in enumerate(parts):
            if ps:
                ps.sort(key=lambda t: t[0])
                grads[i] = ps[0][1] if len(ps) == 1 else cat([t for _, t in ps], -1)
        return tuple(grads)


def attention(node, *inputs):
    """Run an attention node and record it; its saved probabilities go where the engine frees
    saved state after the backward (``node.out``)."""
    out = apply(node, *inputs)
    if out.grad_fn is node:
        node.out = node.state
        if not node.has_values:
            # the result is the saved P itself (without dropout): changing it in place must be
            # caught like any saved tensor, as PyTorch's softmax does
            node.versions = ((out._version, 0),) + (node.versions or ())
    node.state = None
    return out
