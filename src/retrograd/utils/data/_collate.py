"""Collation: turning a list of samples into one batch (``default_collate``), and
turning NumPy data into tensors without batching (``default_convert``).

Mirrors ``torch.utils.data.default_collate`` / ``default_convert``.
"""

from __future__ import annotations

import collections.abc

import numpy as np

import retrograd

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
    "found {}. Pass a collate_fn to the DataLoader to batch other kinds of samples."
)


def _is_string_array(a):
    # NumPy arrays of strings, bytes or Python objects cannot become tensors.
    return a.dtype.kind in "SUaO"


def _stack_arrays(arrays, what):
    first = arrays[0].shape
    if any(a.shape != first for a in arrays):
        shapes = sorted({tuple(a.shape) for a in arrays})
        raise RuntimeError(
            f"default_collate: cannot stack {what} of different shapes {shapes} into one batch: "
            "every sample in a batch must have the same shape. Resize or pad the samples "
            "(e.g. with a transform), or pass a collate_fn that pads them."
        )
    return np.stack(arrays)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_collate(batch):
    r"""Merge a list of samples into a batch, the way PyTorch's ``default_collate`` does.

    The rules, applied recursively by the type of the first sample:

    * ``Tensor`` -> the tensors stacked along a new first dimension;
    * NumPy array -> stacked into a tensor (dtype kept);
    * NumPy scalar -> a 1-D tensor of its dtype;
    * ``float`` -> a float64 tensor (as PyTorch does; cast it if you want float32);
    * ``int`` -> an int64 tensor (``bool`` -> a bool tensor);
    * ``str`` / ``bytes`` -> the list, unchanged;
    * ``dict`` (any mapping) -> a mapping of the same type with each key collated;
    * named tuple -> the same named tuple of collated fields;
    * tuple -> a *list* of collated fields; other sequences -> the same sequence type
      where possible. All sequences in the batch must have the same length.

    Args:
        batch (list): the samples of one batch.

    Returns:
        the batch.

    Example::

        >>> default_collate([(retrograd.tensor([1., 2.]), 0), (retrograd.tensor([3., 4.]), 1)])
        [tensor([[1., 2.], [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, retrograd.Tensor):
        if not all(isinstance(t, retrograd.Tensor) for t in batch):
            raise TypeError(
                "default_collate: a batch mixes Tensors with "
                f"{sorted({type(t).__name__ for t in batch})}; "
                "return the same type from every sample"
            )
        if any(t.requires_grad for t in batch):
            # Keep the graph: samples that require grad are stacked by the differentiable op.
            _stack_arrays([t._data for t in batch], "tensors")
            return retrograd.stack(list(batch), 0)
        return retrograd.from_numpy(_stack_arrays([t._data for t in batch], "tensors"))
    if isinstance(elem, np.ndarray):
        if _is_string_array(elem):
            raise TypeError(_COLLATE_ERR.format(f"numpy array of dtype {elem.dtype}"))
        return retrograd.from_numpy(_stack_arrays([np.asarray(a) for a in batch], "numpy arrays"))
    if isinstance(elem, (np.number, np.bool_)):
        return retrograd.from_numpy(np.array(batch))
    if isinstance(elem, float):
        return retrograd.from_numpy(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        arr = np.array(batch)
        if arr.dtype != np.bool_:
            arr = arr.astype(np.int64, copy=False)
        return retrograd.from_numpy(arr)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size "
                f"(got sequence lengths {sorted({len(s) for s in batch})})"
            )
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch returns
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERR.format(type(elem)))


def default_convert(data):
    r"""Convert NumPy arrays and scalars (also inside mappings and sequences) to tensors.

    Used by :class:`DataLoader` when automatic batching is off (``batch_size=None``).
    Tensors and other objects are returned unchanged.

    Args:
        data: one sample.

    Returns:
        the sample with NumPy data replaced by tensors.
    """
    if isinstance(data, retrograd.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_string_array(data) else retrograd.from_numpy(data)
    if isinstance(data, (np.number, np.bool_)):
        return retrograd.from_numpy(np.array(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data
