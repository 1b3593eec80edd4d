"""Samplers: the order in which a DataLoader visits a map-style dataset.

Mirrors ``torch.utils.data.sampler``. Every random choice goes through
``retrograd.backend.rng(generator)``, so ``retrograd.manual_seed`` (or a seeded
``retrograd.Generator`` passed as ``generator=``) makes the order reproducible.

The built-in samplers draw a whole epoch's indices at once as one NumPy array
(``_epoch_indices``); iteration then walks that array. :class:`BatchSampler` and
the DataLoader use the array directly, so a 60,000-sample epoch costs one
``permutation`` call rather than 60,000 Python steps.
"""

from __future__ import annotations

import numpy as np

from ... import backend

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


def _check_positive_int(name, value, where):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"{where}: {name} should be a positive integer value, but got {name}={value!r}"
        )


def _check_bool(name, value, where, exc=ValueError):
    if not isinstance(value, bool):
        raise exc(f"{where}: {name} should be a boolean value, but got {name}={value!r}")


class Sampler:
    r"""Base class for samplers: iterables over dataset indices (or lists of indices).

    Subclasses implement ``__iter__`` and, where the length is known, ``__len__``.

    Args:
        data_source (Dataset, optional): accepted for compatibility with PyTorch;
            unused by the base class.
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: samplers must implement __iter__()")


class SequentialSampler(Sampler):
    r"""Yields ``0, 1, ..., len(data_source) - 1`` in order.

    Args:
        data_source (Dataset): the dataset to sample from.
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _epoch_indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    r"""Yields the dataset's indices in random order.

    Without replacement, each epoch is a fresh permutation (if ``num_samples``
    exceeds the dataset's length, whole permutations are concatenated). With
    replacement, ``num_samples`` indices are drawn uniformly and independently.

    Args:
        data_source (Dataset): the dataset to sample from.
        replacement (bool): draw with replacement. Default: ``False``.
        num_samples (int, optional): how many indices per epoch.
            Default: ``len(data_source)``.
        generator (Generator, optional): source of randomness; default the global
            generator (``retrograd.manual_seed``).

    Example::

        >>> g = retrograd.Generator().manual_seed(0)
        >>> list(RandomSampler(range(5), generator=g))  # doctest: +SKIP
        [4, 0, 2, 1, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("replacement", replacement, "RandomSampler", TypeError)
        _check_positive_int("num_samples", self.num_samples, "RandomSampler")

    @property
    def num_samples(self):
        # The dataset may grow or shrink after the sampler is built.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self):
        n, k = len(self.data_source), self.num_samples
        rng = backend.rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        if k <= n:
            return rng.permutation(n)[:k].astype(np.int64, copy=False)
        # More samples than items: concatenate whole permutations, then a partial one.
        perms = [rng.permutation(n) for _ in range(k // n)]
        perms.append(rng.permutation(n)[: k % n])
        return np.concatenate(perms).astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    r"""Yields the given indices in random order (a fresh permutation each epoch).

    Args:
        indices (sequence of int): the indices to sample from.
        generator (Generator, optional): source of randomness; default the global one.
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self):
        idx = np.asarray(self.indices, dtype=np.int64).reshape(-1)
        return idx[backend.rng(self.generator).permutation(len(idx))]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    r"""Yields indices ``0 .. len(weights) - 1`` drawn with the given probabilities.

    Args:
        weights (sequence of float): non-negative weights, one per sample; they need
            not sum to one.
        num_samples (int): how many indices per epoch.
        replacement (bool): draw with replacement. Default: ``True``. Without
            replacement, ``num_samples`` must not exceed the number of non-zero weights.
        generator (Generator, optional): source of randomness; default the global one.

    Example::

        >>> # oversample the rare class 1 so batches are balanced on average
        >>> labels = np.array([0] * 90 + [1] * 10)
        >>> w = 1.0 / np.bincount(labels)[labels]
        >>> sampler = WeightedRandomSampler(w, num_samples=100)
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        where = "WeightedRandomSampler"
        _check_positive_int("num_samples", num_samples, where)
        _check_bool("replacement", replacement, where)
        w = weights.numpy() if hasattr(weights, "numpy") else weights
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"{where}: weights should be a 1d sequence but given weights have shape "
                f"{tuple(w.shape)}"
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                f"{where}: weights must be finite and non-negative with a positive sum "
                f"(min={w.min() if w.size else None}, sum={w.sum()})"
            )
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(
                f"{where}: cannot draw num_samples={num_samples} without replacement from "
                f"{np.count_nonzero(w)} non-zero weights; lower num_samples or set replacement=True"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _epoch_indices(self):
        p = self.weights / self.weights.sum()
        rng = backend.rng(self.generator)
        return rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).astype(
            np.int64, copy=False
        )

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    r"""Groups the indices of another sampler into lists of ``batch_size``.

    Args:
        sampler (Sampler or iterable): the source of indices.
        batch_size (int): size of each batch.
        drop_last (bool): drop the last batch if it would be smaller than
            ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("batch_size", batch_size, "BatchSampler")
        _check_bool("drop_last", drop_last, "BatchSampler")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _index_batches(self):
        """Yield each batch as an int64 index array (the DataLoader's fast route)."""
        epoch = _array_epoch(self.sampler)
        if epoch is not None:
            idx = epoch()
            n, bs = len(idx), self.batch_size
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield idx[start : start + bs]
        else:
            for batch in self._list_batches():
                yield np.asarray(batch, dtype=np.int64)

    def _list_batches(self):
        it = iter(self.sampler)
        bs = self.batch_size
        while True:
            batch = []
            for i in it:
                batch.append(i)
                if len(batch) == bs:
                    break
            if not batch or (self.drop_last and len(batch) < bs):
                return
            yield batch
            if len(batch) < bs:
                return

    def __iter__(self):
        if _array_epoch(self.sampler) is not None:
            return (b.tolist() for b in self._index_batches())
        return self._list_batches()

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# The samplers whose iteration is exactly "walk _epoch_indices()": only for these may
# a batch be cut straight from the array (a subclass that overrides __iter__ is
# iterated the ordinary way, so its override is honoured).
_ARRAY_ITERS = {
    SequentialSampler.__iter__,
    RandomSampler.__iter__,
    SubsetRandomSampler.__iter__,
    WeightedRandomSampler.__iter__,
}


def _array_epoch(sampler):
    """The sampler's ``_epoch_indices`` method if batches may be sliced from it, else None."""
    if getattr(type(sampler), "__iter__", None) in _ARRAY_ITERS:
        return sampler._epoch_indices
    return None
