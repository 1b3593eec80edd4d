"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

Both run on the fused nodes of :mod:`retrograd.ops.attention`. Mind the two mask
conventions, which are PyTorch's:

- ``scaled_dot_product_attention``: a boolean ``attn_mask`` is True where a query *may*
  attend to a key;
- ``multi_head_attention_forward`` (and ``nn.MultiheadAttention``, the transformer layers):
  boolean ``attn_mask`` and ``key_padding_mask`` are True where attention is *not* allowed.

Float masks are added to the scores in both (``-inf`` masks a position out).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...ops import attention as A
from ...ops.linalg import linear
from ...ops.shape import cat, pad
from ...tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _shape(t):
    return tuple(t.shape)


def _as_tensor(x, name, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, None)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


# ----------------------------------------------------------------------------- SDPA

def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    r"""Attention :math:`\mathrm{softmax}(QK^T \cdot \mathrm{scale} + \mathrm{mask})\,V`, fused.

    Args:
        query: ``(*, L, E)``.
        key: ``(*, S, E)``.
        value: ``(*, S, Ev)``.
        attn_mask: optional mask broadcasting to ``(*, L, S)``: boolean, True where the query
            **may** attend to the key (the opposite of ``nn.MultiheadAttention``'s masks), or
            float, added to the scores.
        dropout_p: dropout probability on the attention weights, applied whenever it is
            above 0 (pass ``dropout_p=0.0`` in evaluation, as in PyTorch).
        is_causal: mask out keys after each query (query ``i`` sees keys ``j <= i``, aligned
            at the top left when ``L != S``). Do not pass ``attn_mask`` with it.
        scale: scaling of the scores; default :math:`1/\sqrt{E}`.
        enable_gqa: grouped-query attention: ``query`` has ``Hq`` heads (dim -3) and
            ``key``/``value`` ``Hkv`` heads, ``Hq`` a multiple of ``Hkv``; each key/value head
            serves ``Hq / Hkv`` consecutive query heads.

    Shape:
        output ``(*, L, Ev)``, with the batch dims of query, key and value broadcast.

    A query whose keys are all masked gets an output of zeros (not NaN), as in PyTorch.

    Example::

        >>> q = k = v = retrograd.randn(2, 4, 10, 16)   # (N, heads, L, E)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        retrograd.Size([2, 4, 10, 16])
    """
    op = "scaled_dot_product_attention"
    query, key, value = (_as_tensor(t, n, op) for t, n in ((query, "query"), (key, "key"),
                                                            (value, "value")))
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{op}: query, key and value need at least 2 dims ((*, L, E), "
                           f"(*, S, E), (*, S, Ev)), got shapes {_shape(query)}, {_shape(key)}, "
                           f"{_shape(value)}")
    if not (query.dtype == key.dtype == value.dtype) or query.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected query, key and value to have the same floating "
                           f"dtype, but got query.dtype: {query.dtype}, key.dtype: {key.dtype} "
                           f"and value.dtype: {value.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query and key must have the same embedding size (last dim), got "
                           f"query {_shape(query)} and key {_shape(key)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length (dim -2), got "
                           f"key {_shape(key)} and value {_shape(value)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa:
        key, value = _repeat_kv(query, key, value, op)
    try:
        batch = np.broadcast_shapes(_shape(query)[:-2], _shape(key)[:-2], _shape(value)[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of query {_shape(query)}, key {_shape(key)} and "
                           f"value {_shape(value)} do not broadcast") from None
    L, S = query.shape[-2], key.shape[-2]
    bias = None
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        attn_mask = _as_tensor(attn_mask, "attn_mask", op)
        try:
            np.broadcast_shapes(_shape(attn_mask), batch + (L, S))
        except ValueError:
            raise RuntimeError(f"{op}: attn_mask of shape {_shape(attn_mask)} does not broadcast "
                               f"to the attention scores {batch + (L, S)} (batch dims, L, S)"
                               ) from None
        if attn_mask.dtype == np.bool_:
            bias = np.where(attn_mask._data, 0.0, -np.inf).astype(query.dtype)
        elif attn_mask.dtype == query.dtype:
            bias = attn_mask
        else:
            raise RuntimeError(f"{op}: expected attn_mask dtype to be bool or to match query dtype "
                               f"({query.dtype}), got {attn_mask.dtype}")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    node = A.ScaledDotProductAttention(scale, causal=bool(is_causal), dropout_p=dropout_p)
    return A.attention(node, query, key, value, bias)


def _repeat_kv(query, key, value, op):
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        raise RuntimeError(f"{op}: enable_gqa needs a heads dim (-3) on query, key and value, got "
                           f"shapes {_shape(query)}, {_shape(key)}, {_shape(value)}")
    hq = query.shape[-3]
    out = []
    for name, t in (("key", key), ("value", value)):
        h = t.shape[-3]
        if hq % h:
            raise RuntimeError(f"{op}: with enable_gqa the number of query heads ({hq}) must be a "
                               f"multiple of the number of {name} heads ({h})")
        out.append(t.repeat_interleave(hq // h, dim=-3) if h != hq else t)
    return out


# ----------------------------------------------------------------------------- masks

def _canonical_mask(mask, name, other, other_name, dtype, op):
    """A boolean mask (True = not allowed) as an additive float mask; float masks as they are."""
    if mask is None:
        return None
    mask = _as_tensor(mask, name, op)
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise RuntimeError(f"{op}: only bool and floating types of {name} are supported, got "
                           f"{mask.dtype}")
    if other is not None and getattr(other, "dtype", None) != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=4)
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask._data, -np.inf, 0.0).astype(dtype), None)
    if mask.dtype != dtype:
        raise RuntimeError(f"{op}: float {name} has dtype {mask.dtype} but the query has {dtype}; "
                           f"convert the mask ({name}.to(query.dtype))")
    return mask


# ----------------------------------------------------------------------------- multi-head

def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                                 out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    r"""The forward pass of ``nn.MultiheadAttention`` as a function (sequence-first layout).

    Args:
        query, key, value: ``(L, N, E)``, ``(S, N, E_k)``, ``(S, N, E_v)`` (or unbatched
            ``(L, E)``, ``(S, E_k)``, ``(S, E_v)``).
        embed_dim_to_check: the expected ``E``.
        num_heads: number of heads; ``E`` must be divisible by it.
        in_proj_weight, in_proj_bias: packed q, k, v projection ``(3E, E)`` and ``(3E)``.
        bias_k, bias_v: ``(1, 1, E)`` rows appended to the projected keys and values, or None.
        add_zero_attn: append a row of zeros to the keys and values (after ``bias_k``/``bias_v``).
        dropout_p: dropout probability on the attention weights (training only).
        out_proj_weight, out_proj_bias: output projection ``(E, E)`` and ``(E)``.
        training: apply dropout.
        key_padding_mask: ``(N, S)`` (or ``(S)``); boolean True marks keys to **ignore**, float
            values are added to the scores.
        need_weights: also return the attention weights.
        attn_mask: ``(L, S)`` or ``(N·num_heads, L, S)``; boolean True marks pairs **not
            allowed** to attend, float values are added.
        use_separate_proj_weight: use ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``
            (``(E, E)``, ``(E, E_k)``, ``(E, E_v)``) instead of ``in_proj_weight``.
        static_k, static_v: ``(N·num_heads, S, E/num_heads)`` keys/values used as they are
            instead of projecting ``key``/``value``.
        average_attn_weights: average the returned weights over the heads.
        is_causal: hint that ``attn_mask`` is the causal mask (it must still be given).

    Returns:
        ``(attn_output, attn_weights)``: ``(L, N, E)`` and, with ``need_weights``,
        ``(N, L, S)`` (averaged) or ``(N, num_heads, L, S)``, else None.
    """
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=training,
        key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
        use_separate_proj_weight=use_separate_proj_weight, q_proj_weight=q_proj_weight,
        k_proj_weight=k_proj_weight, v_proj_weight=v_proj_weight, static_k=static_k,
        static_v=static_v, average_attn_weights=average_attn_weights, is_causal=is_causal,
        batch_first=False, op="multi_head_attention_forward")


def _check_inputs(query, key, value, key_padding_mask, attn_mask, num_heads, op):
    """PyTorch's rules for batched (3-D) and unbatched (2-D) inputs; returns ``is_batched``."""
    def bad(msg):
        raise RuntimeError(f"{op}: {msg}")

    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            bad(f"for batched (3-D) query {_shape(query)}, expected key and value to be 3-D but "
                f"found key {_shape(key)} and value {_shape(value)}")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            bad(f"for batched (3-D) query, expected key_padding_mask to be None or 2-D (N, S), but "
                f"found shape {_shape(key_padding_mask)}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            bad(f"for batched (3-D) query, expected attn_mask to be None, 2-D (L, S) or 3-D "
                f"(N*num_heads, L, S), but found shape {_shape(attn_mask)}")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            bad(f"for unbatched (2-D) query {_shape(query)}, expected key and value to be 2-D but "
                f"found key {_shape(key)} and value {_shape(value)}")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            bad(f"for unbatched (2-D) query, expected key_padding_mask to be None or 1-D (S), but "
                f"found shape {_shape(key_padding_mask)}")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                bad(f"for unbatched (2-D) query, expected attn_mask to be None, 2-D (L, S) or 3-D "
                    f"(num_heads, L, S), but found shape {_shape(attn_mask)}")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and _shape(attn_mask) != expected:
                bad(f"expected 3-D attn_mask of shape {expected} (num_heads, L, S), got "
                    f"{_shape(attn_mask)}")
        return False
    bad(f"query should be unbatched 2-D (L, E) or batched 3-D ((L, N, E), or (N, L, E) with "
        f"batch_first) but received shape {_shape(query)}")


def _split_heads(x, num_heads, batch_first):
    """(L, N, H·d) (or (N, L, H·d)) -> (N, H, L, d)."""
    a, b = x.shape[0], x.shape[1]
    x = x.reshape(a, b, num_heads, -1)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _merge_heads(x, batch_first):
    """(N, H, L, d) -> (L, N, H·d) (or (N, L, H·d))."""
    x = x.permute(0, 2, 1, 3) if batch_first else x.permute(2, 0, 1, 3)
    return x.reshape(x.shape[0], x.shape[1], -1)


def _multi_head_attention(query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias,
                          bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                          training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                          use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                          v_proj_weight=None, static_k=None, static_v=None,
                          average_attn_weights=True, is_causal=False, batch_first=False,
                          op="multi_head_attention_forward"):
    """``multi_head_attention_forward`` in either layout; ``op`` names the caller in errors."""
    query, key, value = (_as_tensor(t, n, op) for t, n in ((query, "query"), (key, "key"),
                                                            (value, "value")))
    if key_padding_mask is not None:
        key_padding_mask = _as_tensor(key_padding_mask, "key_padding_mask", op)
    if attn_mask is not None:
        attn_mask = _as_tensor(attn_mask, "attn_mask", op)
    is_batched = _check_inputs(query, key, value, key_padding_mask, attn_mask, num_heads, op)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False
    n_axis, s_axis = (0, 1) if batch_first else (1, 0)
    L, N, E = query.shape[s_axis], query.shape[n_axis], query.shape[2]
    if E != embed_dim:
        raise RuntimeError(f"{op}: expected query with {embed_dim} features (embed_dim), got shape "
                           f"{_shape(query)}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise RuntimeError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key.shape[n_axis] != N or value.shape[n_axis] != N:
        raise RuntimeError(f"{op}: query, key and value must have the same batch size (dim "
                           f"{n_axis}), got query {_shape(query)}, key {_shape(key)} and value "
                           f"{_shape(value)}")
    if key.shape[s_axis] != value.shape[s_axis]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length, got key "
                           f"{_shape(key)} and value {_shape(value)}")
    if not use_separate_proj_weight and key.shape != value.shape:
        raise RuntimeError(f"{op}: key shape {_shape(key)} does not match value shape "
                           f"{_shape(value)}")
    S = key.shape[s_axis]

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask",
                                       query.dtype, op)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to create "
                           "this mask.")
    causal = False
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask, causal = None, True  # the hint says the mask is causal: let the node build it
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, op)
    if attn_mask is not None:
        expected = (L, S) if attn_mask.ndim == 2 else (N * num_heads, L, S)
        if _shape(attn_mask) != expected:
            raise RuntimeError(f"{op}: the shape of the {attn_mask.ndim}-D attn_mask is "
                               f"{_shape(attn_mask)}, but should be {expected}"
                               + (" (N*num_heads, L, S)" if attn_mask.ndim == 3 else " (L, S)"))

    # --- input projections: sources and the column ranges (slots) of q, k, v in them
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise RuntimeError(f"{op}: use_separate_proj_weight is False but in_proj_weight is "
                               "None")
        w, b = in_proj_weight, in_proj_bias
        if key.shape[-1] != embed_dim:
            raise RuntimeError(f"{op}: expected key and value with {embed_dim} features "
                               f"(embed_dim), got key {_shape(key)}; for other sizes construct the "
                               "layer with kdim/vdim")
        if key is value and query is key:
            sources = [linear(query, w, b)]
            slots = [(0, 0, E), (0, E, 2 * E), (0, 2 * E, 3 * E)]
        elif key is value:
            sources = [linear(query, w[:E], None if b is None else b[:E]),
                       linear(key, w[E:], None if b is None else b[E:])]
            slots = [(0, 0, E), (1, 0, E), (1, E, 2 * E)]
        else:
            sources = [linear(x, w[i * E:(i + 1) * E], None if b is None else b[i * E:(i + 1) * E])
                       for i, x in enumerate((query, key, value))]
            slots = [(0, 0, E), (1, 0, E), (2, 0, E)]
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise RuntimeError(f"{op}: use_separate_proj_weight is True but q_proj_weight, "
                               "k_proj_weight or v_proj_weight is None")
        for name, x, wt in (("query", query, q_proj_weight), ("key", key, k_proj_weight),
                            ("value", value, v_proj_weight)):
            if x.shape[-1] != wt.shape[-1]:
                raise RuntimeError(f"{op}: expected {name} with {wt.shape[-1]} features (the "
                                   f"{'embed_dim' if name == 'query' else name[0] + 'dim'} of the "
                                   f"layer), got shape {_shape(x)}")
        bs = (None,) * 3 if in_proj_bias is None else tuple(
            in_proj_bias[i * E:(i + 1) * E] for i in range(3))
        sources = [linear(x, wt, bb) for x, wt, bb in
                   zip((query, key, value), (q_proj_weight, k_proj_weight, v_proj_weight), bs)]
        slots = [(0, 0, E), (1, 0, E), (2, 0, E)]

    if static_k is not None and getattr(static_k, "ndim", 0) == 3:
        S = static_k.shape[1]  # the static keys replace the projected ones
    if key_padding_mask is not None and _shape(key_padding_mask) != (N, S):
        raise RuntimeError(f"{op}: expected key_padding_mask of shape {(N, S)} (N, S), got "
                           f"{_shape(key_padding_mask)}")

    # --- the rarer extras work on separate q, k, v in the sequence layout
    extras = bias_k is not None or bias_v is not None or add_zero_attn or static_k is not None \
        or static_v is not None
    if extras:
        q, k, v = (sources[i][..., a:c] if (c - a) != sources[i].shape[-1] else sources[i]
                   for i, a, c in slots)
        if (bias_k is None) != (bias_v is None):
            raise RuntimeError(f"{op}: bias_k and bias_v must be given together")
        if static_k is not None:
            k = _static(static_k, "static_k", N, num_heads, head_dim, batch_first, op)
        if static_v is not None:
            v = _static(static_v, "static_v", N, num_heads, head_dim, batch_first, op)
        if bias_k is not None:
            if static_k is not None or static_v is not None:
                raise RuntimeError(f"{op}: bias_k/bias_v cannot be added to static keys/values")
            rep = (N, 1, 1) if batch_first else (1, N, 1)
            k = cat([k, bias_k.reshape(1, 1, E).repeat(*rep)], dim=s_axis)
            v = cat([v, bias_v.reshape(1, 1, E).repeat(*rep)], dim=s_axis)
            attn_mask, key_padding_mask = _pad_masks(attn_mask, key_padding_mask)
        if add_zero_attn:
            zshape = (N, 1, E) if batch_first else (1, N, E)
            z = Tensor._make(np.zeros(zshape, dtype=k.dtype), None)
            k, v = cat([k, z], dim=s_axis), cat([v, z], dim=s_axis)
            attn_mask, key_padding_mask = _pad_masks(attn_mask, key_padding_mask)
        sources = [q, k, v]
        slots = [(0, 0, E), (1, 0, E), (2, 0, E)]
        S = k.shape[s_axis]

    # --- masks, as biases broadcasting against the scores (N, H, L, S)
    biases = []
    if attn_mask is not None:
        biases.append(attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(N, num_heads, L, S))
    if key_padding_mask is not None:
        biases.append(key_padding_mask.reshape(N, 1, 1, S))
    if not training:
        dropout_p = 0.0
    scale = 1.0 / math.sqrt(head_dim)

    weights = None
    if need_weights:
        q, k, v = (_split_heads(sources[i][..., a:c] if (c - a) != sources[i].shape[-1]
                                else sources[i], num_heads, batch_first) for i, a, c in slots)
        node = A.AttentionWeights(scale, causal=causal, dropout_p=dropout_p)
        w = A.attention(node, q, k, *biases)
        out = _merge_heads(w @ v, batch_first)
        weights = w.mean(dim=1) if average_attn_weights else w
    else:
        node = A.MultiheadAttentionCore(num_heads, slots, batch_first, scale, causal=causal,
                                        dropout_p=dropout_p)
        out = A.attention(node, *sources, *biases)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _pad_masks(attn_mask, key_padding_mask):
    """One more (unmasked) key column for the row appended to the keys."""
    return tuple(None if m is None else pad(m, (0, 1)) for m in (attn_mask, key_padding_mask))


def _static(t, name, N, num_heads, head_dim, batch_first, op):
    """``(N·H, S, d)`` static keys/values in the layout ``(S, N, H·d)`` (or batch first)."""
    t = _as_tensor(t, name, op)
    if t.ndim != 3 or t.shape[0] != N * num_heads or t.shape[2] != head_dim:
        raise RuntimeError(f"{op}: expected {name} of shape ({N * num_heads}, S, {head_dim}) "
                           f"(N*num_heads, S, head_dim), got {_shape(t)}")
    return _merge_heads(t.reshape(N, num_heads, t.shape[1], head_dim), batch_first)
