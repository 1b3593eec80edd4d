"""DataLoader: iterate over a dataset in (shuffled) batches.

Mirrors ``torch.utils.data.DataLoader``. Loading always happens in the main process:
retrograd's work is NumPy, and for the in-memory datasets it targets a batch costs
one fancy-index, far less than shipping arrays between processes would.
"""

from __future__ import annotations

import numpy as np

import retrograd

from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]


def get_worker_info():
    """Information about the current data-loading worker: always ``None``.

    retrograd loads data in the main process (see :class:`DataLoader`), which is
    what ``None`` means in PyTorch too, so code that shards an
    :class:`IterableDataset` per worker takes its single-process branch.
    """
    return None


class _InfiniteConstantSampler(Sampler):
    """The sampler used for iterable datasets: yields ``None`` forever."""

    def __iter__(self):
        while True:
            yield None


def _tensor_source(dataset):
    """If ``dataset`` is a TensorDataset, or a chain of Subsets of one, return
    ``(arrays, index_map)`` where ``index_map`` (an int64 array or None) maps the
    dataset's indices to rows of ``arrays``. Otherwise return None.

    Only exact library behaviour qualifies: a subclass that overrides item access
    is loaded the ordinary way so its override is honoured.
    """
    maps = []
    d = dataset
    while isinstance(d, Subset):
        if (
            type(d).__getitem__ is not Subset.__getitem__
            or type(d).__getitems__ is not Subset.__getitems__
        ):
            return None
        idx = d.indices
        idx = idx._data if isinstance(idx, retrograd.Tensor) else idx
        idx = np.asarray(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            return None
        maps.append(idx.astype(np.int64, copy=False))
        d = d.dataset
    if not isinstance(d, TensorDataset) or type(d).__getitem__ is not TensorDataset.__getitem__:
        return None
    arrays = []
    for t in d.tensors:
        if isinstance(t, retrograd.Tensor):
            if t.requires_grad:
                return None  # batches must carry the graph: use the ordinary route
            arrays.append(t._data)
        elif isinstance(t, np.ndarray) and t.dtype.kind in "biuf":
            arrays.append(t)
        else:
            return None
    index_map = None
    for m in reversed(maps):  # innermost Subset first
        index_map = m if index_map is None else index_map[m]
    return arrays, index_map


class DataLoader:
    r"""Combines a dataset and a sampler, and iterates over the dataset in batches.

    Same arguments and behaviour as ``torch.utils.data.DataLoader``, with one
    difference: **data is always loaded in the main process.** ``num_workers``,
    ``pin_memory``, ``timeout``, ``prefetch_factor``, ``persistent_workers``,
    ``multiprocessing_context``, ``pin_memory_device`` and ``in_order`` are accepted
    (and checked as PyTorch checks them) so existing scripts run unchanged, but they
    change nothing: no worker processes are started, so ``worker_init_fn`` is never
    called and :func:`get_worker_info` returns ``None``.

    Fast path: when ``dataset`` is a :class:`TensorDataset` (or a :class:`Subset` of
    one) and the default ``collate_fn`` is used, each batch is cut from the
    underlying arrays with a single fancy-index per tensor instead of collating
    samples one by one. The batches are exactly the ones the ordinary route gives.

    Args:
        dataset (Dataset): the dataset to load from.
        batch_size (int, optional): samples per batch; ``None`` turns automatic
            batching off (each sample is only converted). Default: ``1``.
        shuffle (bool, optional): reshuffle the data at every epoch. Default: ``False``.
        sampler (Sampler or iterable, optional): the order of indices; mutually
            exclusive with ``shuffle``.
        batch_sampler (Sampler or iterable, optional): yields lists of indices, one
            list per batch; mutually exclusive with ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers (int): accepted for compatibility; loading stays in the main process.
        collate_fn (callable, optional): merges a list of samples into a batch.
            Default: :func:`default_collate` (or :func:`default_convert` when
            ``batch_size=None``).
        pin_memory (bool): accepted for compatibility; there is no accelerator memory.
        drop_last (bool): drop the last batch if it is smaller than ``batch_size``.
            Default: ``False``.
        timeout (numeric): accepted for compatibility (must be non-negative).
        worker_init_fn (callable, optional): accepted; never called (no workers).
        multiprocessing_context: accepted for compatibility.
        generator (Generator, optional): source of randomness for ``shuffle``;
            default the global generator, so ``retrograd.manual_seed`` makes the
            order reproducible.
        prefetch_factor (int, optional): accepted for compatibility (needs
            ``num_workers > 0``, as in PyTorch).
        persistent_workers (bool): accepted for compatibility (needs ``num_workers > 0``).

    Example::

        >>> X, y = retrograd.randn(100, 4), retrograd.randint(0, 3, (100,))
        >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
        >>> len(loader)
        4
        >>> for xb, yb in loader:
        ...     pass   # xb: (32, 4) float32, yb: (32,) int64; the last batch has 4
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; "
                "use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in multiprocessing. "
                "Let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")

        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler option is mutually exclusive with shuffle; "
                "shuffle inside your sampler (e.g. RandomSampler) instead"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True

    def __setattr__(self, attr, val):
        if self.__dict__.get("_DataLoader__initialized") and attr in self._FROZEN:
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is "
                "initialized; build a new DataLoader instead"
            )
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _DataLoaderIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns)."""

    def __init__(self, loader):
        self._loader = loader
        self._dataset = loader.dataset
        self._collate_fn = loader.collate_fn
        self._auto = loader._auto_collation
        self._num_yielded = 0
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._source = None
        if self._iterable:
            self._dataset_iter = iter(loader.dataset)
            self._index_iter = None
        else:
            if self._auto and loader.collate_fn is default_collate:
                self._source = _tensor_source(loader.dataset)
            self._index_iter = self._make_index_iter(loader)

    def _make_index_iter(self, loader):
        bs = loader._index_sampler
        exact_batch_sampler = (
            isinstance(bs, BatchSampler) and type(bs).__iter__ is BatchSampler.__iter__
        )
        if self._source is not None:
            if exact_batch_sampler:
                return bs._index_batches()
            return (np.asarray(b, dtype=np.int64) for b in bs)
        return iter(bs)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if self._iterable:
            data = self._next_iterable()
        elif self._source is not None:
            data = self._fast_batch(next(self._index_iter))
        else:
            index = next(self._index_iter)
            if self._auto:
                getitems = getattr(self._dataset, "__getitems__", None)
                if callable(getitems):
                    samples = getitems(index)
                else:
                    samples = [self._dataset[i] for i in index]
                data = self._collate_fn(samples)
            else:
                data = self._collate_fn(self._dataset[index])
        self._num_yielded += 1
        return data

    def _next_iterable(self):
        if not self._auto:
            return self._collate_fn(next(self._dataset_iter))
        bs, batch = self._loader.batch_size, []
        for sample in self._dataset_iter:
            batch.append(sample)
            if len(batch) == bs:
                break
        if not batch or (self._loader.drop_last and len(batch) < bs):
            raise StopIteration
        return self._collate_fn(batch)

    def _fast_batch(self, idx):
        arrays, index_map = self._source
        if index_map is not None:
            n = len(index_map)
            if idx.size and (idx.max() >= n or idx.min() < -n):
                raise IndexError(
                    f"DataLoader: sampler produced index {int(idx.max())} for a Subset of "
                    f"length {n}"
                )
            idx = index_map[idx]
        n = arrays[0].shape[0]
        if idx.size and (idx.max() >= n or idx.min() < -n):
            bad = int(idx.max()) if idx.max() >= n else int(idx.min())
            raise IndexError(
                f"DataLoader: index {bad} is out of range for a TensorDataset of length {n}"
            )
        # A list, as default_collate returns for tuple samples.
        return [retrograd.from_numpy(a[idx]) for a in arrays]
