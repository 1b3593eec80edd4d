"""Variable-length sequences for recurrent layers: padding and packing.

A batch of sequences of different lengths is either *padded* to the longest one
(``(T, B, *)`` or ``(B, T, *)``), or *packed*: the rows of every sequence laid out
time step by time step, longest sequences first, with ``batch_sizes[t]`` the number of
sequences still running at step ``t``. Recurrent layers run a packed batch without
computing anything on the padding, and return each sequence's state at its own last step.

All functions here are differentiable in the data (packing is a row gather, unpacking a
row scatter) and never loop over sequences, except to return a list of them.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import backend
from ...ops.rnn import gather_rows, packed_to_padded_index, scatter_rows
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _int_tensor(a):
    return Tensor._make(np.ascontiguousarray(a, dtype=np.int64), None)


def _int_array(x, what, op):
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind not in "iubf" and a.size:
        raise TypeError(f"{op}: {what} must hold integers, got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    if a.ndim != 1:
        raise ValueError(f"{op}: {what} must be 1-D, got shape {a.shape}")
    return a


def invert_permutation(permutation):
    """The inverse of a permutation (``None`` stays ``None``).

    Converts between a :class:`PackedSequence`'s ``sorted_indices`` and
    ``unsorted_indices``: ``inverse[permutation[i]] = i``.
    """
    if permutation is None:
        return None
    p = _int_array(permutation, "permutation", "invert_permutation")
    inverse = np.empty_like(p)
    inverse[p] = np.arange(len(p), dtype=np.int64)
    return _int_tensor(inverse)


_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                     "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    r"""A batch of variable-length sequences, packed time step by time step.

    Build it with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.
    Recurrent layers (:class:`~retrograd.nn.RNN`, :class:`~retrograd.nn.LSTM`,
    :class:`~retrograd.nn.GRU`) accept it and return their output packed the same way.

    Attributes:
        data (Tensor): the rows of all sequences, ``(sum(lengths), *)``: first the first
            step of every sequence (longest first), then the second step, and so on.
        batch_sizes (Tensor): int64, how many sequences are still running at each step
            (non-increasing). For sequences ``abc`` and ``x``: data ``axbc``,
            batch_sizes ``[2, 1, 1]``.
        sorted_indices (Tensor, optional): int64, ``sorted_indices[j]`` is the batch index of
            the ``j``-th longest sequence (None when the input was already sorted).
        unsorted_indices (Tensor, optional): the inverse permutation, to restore the
            original order.

    It is a named tuple: ``data, batch_sizes, sorted_indices, unsorted_indices = packed``.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("PackedSequence: expected data to be a (data, batch_sizes) "
                                     "pair when batch_sizes is not given")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Convert ``data`` like :meth:`Tensor.to`; returns ``self`` when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self

    def cuda(self, *args, **kwargs):
        backend.check_device("cuda", "PackedSequence.cuda")

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    @property
    def is_cuda(self):
        return False

    def double(self):
        return self.to(dtype=backend.float64)

    def float(self):
        return self.to(dtype=backend.float32)

    def half(self):
        return self.to(dtype=backend.float16)

    def long(self):
        return self.to(dtype=backend.int64)

    def int(self):
        return self.to(dtype=backend.int32)

    def short(self):
        return self.to(dtype=backend.int16)

    def char(self):
        return self.to(dtype=np.dtype("int8"))

    def byte(self):
        return self.to(dtype=backend.uint8)


def _as_tensor(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, None)
    raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _batch_sizes(lengths, max_len):
    """``batch_sizes[t]``: how many of the (sorted) lengths exceed ``t``."""
    counts = np.bincount(lengths, minlength=max_len + 1)
    return counts[::-1].cumsum()[::-1][1:max_len + 1]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    r"""Pack a padded batch of variable-length sequences.

    Args:
        input (Tensor): padded batch ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
        lengths (Tensor or list(int)): length of each sequence (1 ≤ length ≤ T).
        batch_first (bool): whether ``input`` is ``(B, T, *)``. Default: False.
        enforce_sorted (bool): if True, the sequences must already be sorted by decreasing
            length; if False they are sorted here and the permutation is kept in
            ``sorted_indices``. Default: True.

    Returns:
        a :class:`PackedSequence`. Steps past a sequence's length are dropped.

    Example::

        >>> seq = retrograd.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
        >>> pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False).data
        tensor([4, 1, 3, 5, 2, 6])
    """
    op = "pack_padded_sequence"
    input = _as_tensor(input, op)
    lengths = _int_array(lengths, "lengths", op)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (T, B, *), got shape "
                         f"{tuple(input.shape)}")
    batch_dim = 0 if batch_first else 1
    batch, steps = input.shape[batch_dim], input.shape[1 - batch_dim]
    if len(lengths) != batch:
        raise ValueError(f"{op}: expected len(lengths) to be equal to batch_size, but got "
                         f"{len(lengths)} (batch_size={batch}, input shape {tuple(input.shape)}, "
                         f"batch_first={batch_first})")
    if batch and lengths.min() <= 0:
        raise RuntimeError(f"{op}: length of all samples has to be greater than 0, but got lengths "
                           f"{lengths.tolist()}")
    if batch and lengths.max() > steps:
        raise ValueError(f"{op}: a length ({lengths.max()}) exceeds the {steps} time steps of the "
                         f"input of shape {tuple(input.shape)} (batch_first={batch_first}); "
                         "check lengths, or pass batch_first=True for (B, T, *) input")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(
                f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` "
                f"is True, got {lengths.tolist()}. You can pass `enforce_sorted=False` to "
                "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you "
                "do not need ONNX exportability.")
        sorted_indices = None
        sorted_lengths = lengths
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = order
        sorted_lengths = lengths[order]
    max_len = int(sorted_lengths[0]) if batch else 0
    batch_sizes = _batch_sizes(sorted_lengths, max_len)
    flat, _, _ = packed_to_padded_index(batch_sizes, sorted_indices, batch_first, steps)
    rows = input.reshape((batch * steps,) + tuple(input.shape[2:]))
    data = gather_rows(rows, flat)
    return PackedSequence(data, _int_tensor(batch_sizes),
                          None if sorted_indices is None else _int_tensor(sorted_indices), None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    r"""Pad a packed batch back to a tensor; the inverse of :func:`pack_padded_sequence`.

    Args:
        sequence (PackedSequence): the batch to pad.
        batch_first (bool): return ``(B, T, *)`` instead of ``(T, B, *)``. Default: False.
        padding_value (float): value of the padded positions. Default: 0.
        total_length (int, optional): pad to this many steps instead of the longest length
            (must be at least that length).

    Returns:
        ``(padded, lengths)``: the padded tensor with the sequences in their original order,
        and their lengths (int64).
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    bs = _int_array(sequence.batch_sizes, "batch_sizes", op)
    max_len = len(bs)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}")
        max_len = int(total_length)
    data = sequence.data
    if int(bs.sum()) != data.shape[0]:
        raise ValueError(f"{op}: batch_sizes {bs.tolist()} sum to {int(bs.sum())} but the packed "
                         f"data has {data.shape[0]} rows (shape {tuple(data.shape)})")
    sorted_indices = None if sequence.sorted_indices is None else \
        _int_array(sequence.sorted_indices, "sorted_indices", op)
    flat, steps, batch = packed_to_padded_index(bs, sorted_indices, batch_first, max_len)
    padded = scatter_rows(data, flat, steps * batch, padding_value)
    lead = (batch, steps) if batch_first else (steps, batch)
    padded = padded.reshape(lead + tuple(data.shape[1:]))
    # the j-th longest sequence runs while batch_sizes exceeds j
    lengths = (bs[None, :] > np.arange(batch)[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        lengths = lengths[_int_array(sequence.unsorted_indices, "unsorted_indices", op)]
    return padded, _int_tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    r"""Stack variable-length sequences into one padded tensor.

    Args:
        sequences (list[Tensor]): sequences ``(L_i, *)`` with equal trailing dimensions.
        batch_first (bool): return ``(B, T, *)`` instead of ``(T, B, *)``. Default: False.
        padding_value (float): value of the padded positions. Default: 0.
        padding_side (str): ``'right'`` (pad after each sequence) or ``'left'``.

    Returns:
        Tensor ``(T, B, *)`` (or ``(B, T, *)``) with ``T`` the longest length.

    Example::

        >>> a, b, c = retrograd.ones(25, 300), retrograd.ones(22, 300), retrograd.ones(15, 300)
        >>> pad_sequence([a, b, c]).size()
        retrograd.Size([25, 3, 300])
    """
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    try:
        sequences = [_as_tensor(s, op) for s in sequences]
    except TypeError as e:
        if "expected a Tensor" in str(e):
            raise
        raise RuntimeError(f"{op}: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}") from None
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if not sequences:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise RuntimeError(f"{op}: every sequence must be (L, *) with the same trailing shape; "
                               f"sequence 0 has shape {tuple(sequences[0].shape)} and sequence {i} "
                               f"has shape {tuple(s.shape)}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    batch, steps = len(sequences), int(lengths.max())
    seq = np.repeat(np.arange(batch), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    t = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
    if padding_side == "left":
        t += steps - lengths[seq]
    flat = seq * steps + t if batch_first else t * batch + seq
    data = cat(sequences, 0) if len(sequences) > 1 else sequences[0]
    padded = scatter_rows(data, flat, batch * steps, padding_value)
    lead = (batch, steps) if batch_first else (steps, batch)
    return padded.reshape(lead + tuple(trailing))


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    r"""Split a padded tensor into the list of its variable-length sequences.

    Args:
        padded_sequences (Tensor): ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
        lengths (Tensor or list(int)): length of each sequence.
        batch_first (bool): layout of ``padded_sequences``. Default: False.

    Returns:
        list of ``B`` Tensors ``(L_i, *)`` (views, differentiable).
    """
    op = "unpad_sequence"
    lengths = _int_array(lengths, "lengths", op)
    batch_dim = 0 if batch_first else 1
    batch, steps = padded_sequences.shape[batch_dim], padded_sequences.shape[1 - batch_dim]
    if len(lengths) != batch or (batch and (lengths.max() > steps or lengths.min() < 0)):
        raise ValueError(f"{op}: lengths {lengths.tolist()} do not fit a padded batch of shape "
                         f"{tuple(padded_sequences.shape)} (batch_first={batch_first})")
    if batch_first:
        return [padded_sequences[b, :n] for b, n in enumerate(lengths.tolist())]
    return [padded_sequences[:n, b] for b, n in enumerate(lengths.tolist())]


def pack_sequence(sequences, enforce_sorted=True):
    r"""Pack a list of variable-length sequences (``pad_sequence`` then ``pack_padded_sequence``).

    Args:
        sequences (list[Tensor]): sequences ``(L_i, *)``, by decreasing length unless
            ``enforce_sorted=False``.
        enforce_sorted (bool): require sorted lengths (True) or sort them here (False).

    Example::

        >>> a, b, c = retrograd.tensor([1, 2, 3]), retrograd.tensor([4, 5]), retrograd.tensor([6])
        >>> pack_sequence([a, b, c]).data
        tensor([1, 4, 6, 2, 5, 3])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    r"""Unpack a :class:`PackedSequence` into the list of its sequences, in original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
