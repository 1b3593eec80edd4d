"""Attention and transformer layers: MultiheadAttention, the encoder/decoder layers and stacks,
and the full Transformer of "Attention Is All You Need".

Names, arguments, defaults, parameter names and initialisation follow PyTorch, so a PyTorch
``state_dict`` loads as it is (``layers.0.self_attn.in_proj_weight``, ...). PyTorch keeps
``MultiheadAttention`` in ``activation.py``; here it lives with the transformer layers.

Masks in these layers use PyTorch's ``nn.MultiheadAttention`` convention: a boolean
``attn_mask``/``*_mask`` is True where attention is **not** allowed and a boolean
``*_key_padding_mask`` is True at padding keys to **ignore**; float masks are added to the
attention scores (``-inf`` masks a position out).
"""

from __future__ import annotations

import copy

import numpy as np

from ... import creation
from ...ops import shape as S
from .. import functional as F
from .. import init
from ..functional._attention import _canonical_mask, _multi_head_attention
from ..parameter import Parameter
from .activation import GELU, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under another name: the output projection of :class:`MultiheadAttention`
    (PyTorch uses the name to keep quantization tools off it; here it is a plain Linear)."""


class MultiheadAttention(Module):
    r"""Multi-head attention from "Attention Is All You Need".

    :math:`\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(head_1, \dots, head_h) W^O` with
    :math:`head_i = \mathrm{softmax}(Q W_i^Q (K W_i^K)^T / \sqrt{d}) V W_i^V`, ``d = embed_dim /
    num_heads``. The heads run as batched matrix products in one fused attention op.

    Args:
        embed_dim: model size ``E``.
        num_heads: number of parallel heads; ``embed_dim`` must be divisible by it.
        dropout: dropout probability on the attention weights (training only). Default 0.0.
        bias: learn input/output projection biases. Default True.
        add_bias_kv: learn a bias row appended to the keys and values. Default False.
        add_zero_attn: append a row of zeros to the keys and values. Default False.
        kdim, vdim: feature sizes of key and value (default ``embed_dim``); when they differ
            from ``embed_dim`` the projections are separate ``q_proj_weight``,
            ``k_proj_weight``, ``v_proj_weight`` instead of the packed ``in_proj_weight``.
        batch_first: inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.

    Parameters (PyTorch's names): ``in_proj_weight`` ``(3E, E)`` (xavier uniform) or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``; ``in_proj_bias`` ``(3E)`` (zeros);
    ``out_proj`` (a Linear; bias zeros); ``bias_k``/``bias_v`` ``(1, 1, E)`` (xavier normal).

    Shape:
        query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (``(N, L, E)`` ... with
        ``batch_first``; or unbatched ``(L, E)``, ``(S, kdim)``, ``(S, vdim)``) →
        output ``(L, N, E)`` and weights ``(N, L, S)`` (averaged) or ``(N, num_heads, L, S)``.

    Example::

        >>> mha = nn.MultiheadAttention(64, 8, batch_first=True)
        >>> x = retrograd.randn(2, 10, 64)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (retrograd.Size([2, 10, 64]), retrograd.Size([2, 10, 10]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, "
                             f"got embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                                 f"got embed_dim={embed_dim} and num_heads={num_heads}")

        def empty(*shape):
            return Parameter(creation.empty(*shape, dtype=dtype, device=device))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _name(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query, key, value: see the class Shape.
            key_padding_mask: ``(N, S)`` (or ``(S)``); boolean True marks keys to ignore, float
                values are added to the scores.
            need_weights: also return the attention weights (default True). Pass False for
                speed: the fused path then skips them.
            attn_mask: ``(L, S)`` or ``(N·num_heads, L, S)``; boolean True marks pairs that may
                **not** attend, float values are added to the scores.
            average_attn_weights: average the weights over the heads (default True).
            is_causal: hint that ``attn_mask`` is the causal mask (it must still be given).

        Returns:
            ``(attn_output, attn_weights)``; ``attn_weights`` is None without ``need_weights``.
        """
        batch_first = self.batch_first and query.ndim == 3
        return _multi_head_attention(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal, batch_first=batch_first, op=self._name())


# ----------------------------------------------------------------------------- helpers

def _get_activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    return S.triu(creation.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _seq_len(src, batch_first):
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """PyTorch's rule: an explicit ``is_causal`` wins; with None, compare ``mask`` against the
    causal mask of ``size`` (same dtype)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        m = mask._data if hasattr(mask, "_data") else np.asarray(mask)
        causal = np.triu(np.full((sz, sz), -np.inf).astype(m.dtype), 1)
        make_causal = m.shape == causal.shape and bool((m == causal).all())
    return make_causal


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _check_features(x, d_model, name, who):
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise RuntimeError(f"{who}: expected {name} of shape (S, N, {d_model}), (N, S, {d_model}) "
                           f"with batch_first, or unbatched (S, {d_model}) — {d_model} = d_model "
                           f"features — got {tuple(x.shape)}")


def _check_masks(who, x, mem, nhead, batch_first, attn_mask, kpm, mask_name, kpm_name):
    """Shape checks of a block's masks, raised under the block's own name and argument names."""
    batched = x.ndim == 3
    if batched:
        n_axis = 0 if batch_first else 1
        L, N, S = x.shape[1 - n_axis], x.shape[n_axis], mem.shape[1 - n_axis]
    else:
        L, N, S = x.shape[0], 1, mem.shape[0]
    if attn_mask is not None:
        ok = [(L, S), (N * nhead, L, S)] if batched else [(L, S), (nhead, L, S)]
        if tuple(attn_mask.shape) not in ok:
            raise RuntimeError(f"{who}: the shape of {mask_name} is {tuple(attn_mask.shape)}, but "
                               f"should be {ok[0]} or {ok[1]}"
                               + (" (N*nhead, L, S)" if batched else " (nhead, L, S)"))
    if kpm is not None:
        ok = (N, S) if batched else (S,)
        if tuple(kpm.shape) != ok:
            raise RuntimeError(f"{who}: the shape of {kpm_name} is {tuple(kpm.shape)}, but should "
                               f"be {ok}" + (" (N, S)" if batched else " (S,)"))


# ----------------------------------------------------------------------------- encoder

class TransformerEncoderLayer(Module):
    r"""One encoder block: self-attention and a feed-forward network, each with a residual
    connection and layer norm.

    ``norm_first=False`` (post-norm, the paper's form)::

        x = norm1(x + dropout1(self_attn(x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    ``norm_first=True`` (pre-norm) normalises before each block instead:
    ``x = x + block(norm(x))``.

    Args:
        d_model: number of expected features of the input.
        nhead: number of attention heads.
        dim_feedforward: width of the feed-forward network. Default 2048.
        dropout: dropout probability. Default 0.1.
        activation: ``"relu"``, ``"gelu"`` or a callable (a function or a module). Default relu.
        layer_norm_eps: eps of the layer norms. Default 1e-5.
        batch_first: inputs are ``(N, S, E)`` instead of ``(S, N, E)``. Default False.
        norm_first: pre-norm instead of post-norm. Default False.
        bias: learn biases in the linear layers and layer norms. Default True.

    Shape:
        src ``(S, N, E)`` (``(N, S, E)`` with ``batch_first``, or unbatched ``(S, E)``) → same.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
        >>> layer(retrograd.randn(32, 10, 512)).shape
        retrograd.Size([32, 10, 512])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None,
                 dtype=None):
        super().__init__()
        _check_heads(d_model, nhead, type(self).__name__)
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def _name(self):
        a = self.self_attn
        return f"{type(self).__name__}(d_model={a.embed_dim}, nhead={a.num_heads})"

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Run the block on ``src``.

        Args:
            src: the input sequence.
            src_mask: ``(S, S)`` or ``(N·nhead, S, S)`` attention mask (boolean True = not allowed,
                or float added to the scores).
            src_key_padding_mask: ``(N, S)`` (or ``(S)``); boolean True marks padding.
            is_causal: hint that ``src_mask`` is the causal mask.
        """
        who = self._name()
        _check_features(src, self.self_attn.embed_dim, "src", who)
        _check_masks(who, src, src, self.self_attn.num_heads, self.self_attn.batch_first, src_mask,
                     src_key_padding_mask, "src_mask", "src_key_padding_mask")
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src_mask, "src_mask", src.dtype, who)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype, who)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _check_heads(d_model, nhead, who):
    if nhead <= 0 or d_model <= 0 or d_model % nhead:
        raise AssertionError(f"{who}: d_model ({d_model}) must be a positive multiple of nhead "
                             f"({nhead}): each head gets d_model / nhead features")


class TransformerEncoder(Module):
    r"""A stack of ``num_layers`` encoder layers (deep copies of ``encoder_layer``), then an
    optional final ``norm``.

    Args:
        encoder_layer: the layer to copy (a :class:`TransformerEncoderLayer`).
        num_layers: number of layers.
        norm: optional module applied to the output (e.g. ``nn.LayerNorm``).
        enable_nested_tensor: accepted for compatibility and ignored (PyTorch uses it for an
            inference fast path with nested tensors).
        mask_check: accepted for compatibility (belongs to the same fast path).

    Shape:
        src as for the layer → same shape.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=512, nhead=8)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=6)
        >>> encoder(retrograd.randn(10, 32, 512)).shape
        retrograd.Size([10, 32, 512])
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False  # no nested tensors here: every input runs padded
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run every layer in turn.

        Args:
            src: the input sequence.
            mask: attention mask for every layer (see :class:`TransformerEncoderLayer`).
            src_key_padding_mask: ``(N, S)`` padding mask (boolean True = padding).
            is_causal: hint that ``mask`` is causal; None detects it by comparing ``mask``
                with the causal mask.
        """
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask,
                                               "mask", src.dtype, "TransformerEncoder")
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, "TransformerEncoder")
        first = self.layers[0] if len(self.layers) else None
        attn = getattr(first, "self_attn", None)
        seq_len = _seq_len(src, getattr(attn, "batch_first", False))
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


# ----------------------------------------------------------------------------- decoder

class TransformerDecoderLayer(Module):
    r"""One decoder block: self-attention, attention over the encoder output (``memory``) and a
    feed-forward network, each with a residual connection and layer norm.

    ``norm_first=False``::

        x = norm1(x + dropout1(self_attn(x)))
        x = norm2(x + dropout2(multihead_attn(x, memory)))
        x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

    Args: as :class:`TransformerEncoderLayer`.

    Shape:
        tgt ``(T, N, E)``, memory ``(S, N, E)`` (batch first: ``(N, T, E)``, ``(N, S, E)``;
        unbatched ``(T, E)``, ``(S, E)``) → same shape as tgt.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=512, nhead=8)
        >>> memory, tgt = retrograd.randn(10, 32, 512), retrograd.randn(20, 32, 512)
        >>> layer(tgt, memory).shape
        retrograd.Size([20, 32, 512])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None,
                 dtype=None):
        super().__init__()
        _check_heads(d_model, nhead, type(self).__name__)
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation = activation

    def _name(self):
        a = self.self_attn
        return f"{type(self).__name__}(d_model={a.embed_dim}, nhead={a.num_heads})"

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Run the block.

        Args:
            tgt: the decoder input sequence.
            memory: the encoder output.
            tgt_mask: ``(T, T)`` or ``(N·nhead, T, T)`` self-attention mask (e.g. causal).
            memory_mask: ``(T, S)`` or ``(N·nhead, T, S)`` mask over the memory.
            tgt_key_padding_mask: ``(N, T)`` padding of tgt (boolean True = padding).
            memory_key_padding_mask: ``(N, S)`` padding of memory.
            tgt_is_causal, memory_is_causal: hints that the masks are causal.
        """
        who = self._name()
        d = self.self_attn.embed_dim
        _check_features(tgt, d, "tgt", who)
        _check_features(memory, d, "memory", who)
        h, bf = self.self_attn.num_heads, self.self_attn.batch_first
        _check_masks(who, tgt, tgt, h, bf, tgt_mask, tgt_key_padding_mask, "tgt_mask",
                     "tgt_key_padding_mask")
        _check_masks(who, tgt, memory, h, bf, memory_mask, memory_key_padding_mask, "memory_mask",
                     "memory_key_padding_mask")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerDecoder(Module):
    r"""A stack of ``num_layers`` decoder layers (deep copies of ``decoder_layer``), then an
    optional final ``norm``.

    Args:
        decoder_layer: the layer to copy (a :class:`TransformerDecoderLayer`).
        num_layers: number of layers.
        norm: optional module applied to the output.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=512, nhead=8)
        >>> decoder = nn.TransformerDecoder(layer, num_layers=6)
        >>> decoder(retrograd.randn(20, 32, 512), retrograd.randn(10, 32, 512)).shape
        retrograd.Size([20, 32, 512])
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run every layer in turn (arguments as :meth:`TransformerDecoderLayer.forward`;
        ``tgt_is_causal=None`` detects a causal ``tgt_mask``)."""
        first = self.layers[0] if len(self.layers) else None
        attn = getattr(first, "self_attn", None)
        seq_len = _seq_len(tgt, getattr(attn, "batch_first", False))
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


# ----------------------------------------------------------------------------- full model

class Transformer(Module):
    r"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    An encoder of ``num_encoder_layers`` layers plus a final LayerNorm, a decoder of
    ``num_decoder_layers`` layers plus a final LayerNorm; every parameter with more than one
    dimension is then re-initialised with ``xavier_uniform_``, as PyTorch does. Embeddings and
    the output projection to a vocabulary are up to the user.

    Args:
        d_model: number of expected features. Default 512.
        nhead: number of attention heads. Default 8.
        num_encoder_layers, num_decoder_layers: stack depths. Default 6 each.
        dim_feedforward: width of the feed-forward networks. Default 2048.
        dropout: dropout probability. Default 0.1.
        activation: ``"relu"``, ``"gelu"`` or a callable. Default relu.
        custom_encoder, custom_decoder: modules to use instead of the default stacks.
        layer_norm_eps: eps of the layer norms. Default 1e-5.
        batch_first: ``(N, S, E)`` inputs instead of ``(S, N, E)``. Default False.
        norm_first: pre-norm layers. Default False.
        bias: learn biases in the linear layers and layer norms. Default True.

    Shape:
        src ``(S, N, E)``, tgt ``(T, N, E)`` (batch first: ``(N, S, E)``, ``(N, T, E)``;
        unbatched ``(S, E)``, ``(T, E)``) → output ``(T, N, E)`` (like tgt).

    Example::

        >>> model = nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2)
        >>> src, tgt = retrograd.randn(10, 32, 64), retrograd.randn(20, 32, 64)
        >>> mask = nn.Transformer.generate_square_subsequent_mask(20)
        >>> model(src, tgt, tgt_mask=mask).shape
        retrograd.Size([20, 32, 64])
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                src_is_causal=None, tgt_is_causal=None, memory_is_causal=False):
        """Encode ``src``, then decode ``tgt`` attending to the encoding.

        Args:
            src, tgt: source and target sequences.
            src_mask: ``(S, S)`` or ``(N·nhead, S, S)`` encoder self-attention mask.
            tgt_mask: ``(T, T)`` or ``(N·nhead, T, T)`` decoder self-attention mask (usually
                :meth:`generate_square_subsequent_mask`).
            memory_mask: ``(T, S)`` or ``(N·nhead, T, S)`` mask of the decoder's attention to
                the encoding.
            src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask: ``(N, S)``,
                ``(N, T)``, ``(N, S)`` padding masks (boolean True = padding).
            src_is_causal, tgt_is_causal, memory_is_causal: causal-mask hints (None: detect).
        """
        is_batched = src.ndim == 3
        n_axis = 0 if self.batch_first else 1
        if is_batched and (tgt.ndim != 3 or src.shape[n_axis] != tgt.shape[n_axis]):
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got "
                               f"src {tuple(src.shape)} and tgt {tuple(tgt.shape)} (batch dim "
                               f"{n_axis})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal to "
                               f"d_model ({self.d_model}), got src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The ``(sz, sz)`` causal mask: ``-inf`` above the diagonal (the future), 0 elsewhere.

        Example::

            >>> nn.Transformer.generate_square_subsequent_mask(3)
            tensor([[0., -inf, -inf],
                    [0., 0., -inf],
                    [0., 0., 0.]])
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
