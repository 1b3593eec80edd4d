"""Datasets: the map-style and iterable protocols, and ways to combine and split them.

Mirrors ``torch.utils.data.dataset``. A map-style dataset answers ``len(ds)`` and
``ds[i]``; an iterable dataset only answers ``iter(ds)``.
"""

from __future__ import annotations

import bisect
import math
import warnings

import numpy as np

from ... import backend

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
]


class Dataset:
    r"""An abstract map-style dataset: a collection indexed by ``0 .. len(self) - 1``.

    Subclasses override ``__getitem__`` (one sample per index) and usually
    ``__len__``, which the default samplers of :class:`DataLoader` need. They may
    also define ``__getitems__(indices)`` to fetch a whole batch at once.

    ``ds1 + ds2`` builds a :class:`ConcatDataset`.

    Example::

        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 10
        ...     def __getitem__(self, i):
        ...         return retrograd.tensor([float(i)]), i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Dataset must implement __getitem__(index)"
        )

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    r"""An abstract iterable-style dataset: a stream of samples.

    Subclasses implement ``__iter__``. Useful when samples arrive from a stream or
    when random access is expensive. ``ds1 + ds2`` builds a :class:`ChainDataset`.

    Since retrograd's :class:`DataLoader` always loads in the main process, each
    sample is produced exactly once per pass (no per-worker sharding is needed).
    """

    def __iter__(self):
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset must implement __iter__()"
        )

    def __add__(self, other):
        return ChainDataset([self, other])


def _first_dim(t):
    return t.shape[0] if len(t.shape) else None


class TensorDataset(Dataset):
    r"""A dataset wrapping tensors; sample ``i`` is ``tuple(t[i] for t in tensors)``.

    :class:`DataLoader` recognises a ``TensorDataset`` (or a :class:`Subset` of one)
    and builds each batch by indexing every tensor once with the batch's indices,
    instead of collating samples one by one; the batches are identical.

    Args:
        *tensors (Tensor): tensors that all have the same size in the first dimension.

    Example::

        >>> X, y = retrograd.randn(100, 3), retrograd.randint(0, 2, (100,))
        >>> ds = TensorDataset(X, y)
        >>> x0, y0 = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: pass at least one tensor, e.g. TensorDataset(X, y)")
        sizes = [_first_dim(t) for t in tensors]
        if any(s is None for s in sizes) or len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: every tensor needs the same "
                f"size in dimension 0 (one row per sample), got shapes {shapes}"
            )
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    r"""The concatenation of several map-style datasets.

    Args:
        datasets (iterable): the datasets to chain, in order.

    Attributes:
        cumulative_sizes (list of int): ``cumulative_sizes[k]`` is the total length of
            the first ``k + 1`` datasets.
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the lengths of ``sequence``'s datasets."""
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(
                    "ConcatDataset does not support IterableDataset; use ChainDataset "
                    "(or `iterable_ds1 + iterable_ds2`) to chain streams"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    f"ConcatDataset: absolute value of index {idx} should not exceed "
                    f"dataset length {len(self)}"
                )
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        if dataset_idx == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        start = self.cumulative_sizes[dataset_idx - 1] if dataset_idx > 0 else 0
        return self.datasets[dataset_idx][idx - start]


class ChainDataset(IterableDataset):
    r"""Chains several iterable datasets: iterating yields each one's samples in turn.

    Args:
        datasets (iterable of IterableDataset): the datasets to chain.
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(
                    f"ChainDataset only supports IterableDataset, got {type(d).__name__}"
                )
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    r"""The samples of ``dataset`` at the given ``indices``, in that order.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of int): the indices in ``dataset`` this subset selects.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        inner = [self.indices[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=backend.default_generator):
    r"""Randomly split a dataset into non-overlapping subsets of the given lengths.

    ``lengths`` are either counts that sum to ``len(dataset)`` or fractions that sum
    to 1. Fractions become ``floor(frac * len(dataset))`` items each, and what is
    left over is handed out one item at a time, round-robin, from the first split
    on — exactly as PyTorch computes them.

    Args:
        dataset (Dataset): the dataset to split.
        lengths (sequence of int or float): lengths or fractions of the splits.
        generator (Generator): generator for the random permutation
            (default: the global generator, seeded by ``retrograd.manual_seed``).

    Returns:
        list of :class:`Subset`

    Example::

        >>> train, val = random_split(range(10), [0.8, 0.2],
        ...                           generator=retrograd.Generator().manual_seed(42))
        >>> len(train), len(val)
        (8, 2)
    """
    lengths = list(lengths)
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(
                    f"random_split: fraction at index {i} is not between 0 and 1 (got {frac})"
                )
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
    if any(int(length) != length or length < 0 for length in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative integers or fractions summing to 1, "
            f"got {lengths}"
        )
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! "
            f"(random_split: lengths {lengths} sum to {sum(lengths)}, dataset has {n} items)"
        )
    perm = backend.rng(generator).permutation(n).tolist()
    bounds = np.cumsum([0] + [int(length) for length in lengths]).tolist()
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

