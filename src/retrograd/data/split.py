"""Splitting arrays into train / validation / test parts, with seeded shuffling and
optional stratification.

For splitting a :class:`~retrograd.utils.data.Dataset` object, see
:func:`retrograd.utils.data.random_split`; these helpers split the arrays themselves
(Tensors, NumPy arrays or lists, all indexed along their first dimension).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import retrograd

from .toy import _rng

__all__ = ["train_val_split", "train_val_test_split"]


def _length(a):
    return a.shape[0] if hasattr(a, "shape") and len(a.shape) else len(a)


def _take(a, idx):
    if isinstance(a, retrograd.Tensor):
        return retrograd.from_numpy(a._data[idx])
    if isinstance(a, np.ndarray):
        return a[idx]
    return [a[i] for i in idx.tolist()]


def _count(size, n, where, name):
    """A split size given as a fraction (rounded up, as scikit-learn does) or a count."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"{where}: {name} must be a fraction in [0, 1) or a count, got {size!r}")
    if isinstance(size, numbers.Integral):
        k = int(size)
    else:
        if not 0.0 <= size < 1.0:
            raise ValueError(f"{where}: {name}={size} must be a fraction in [0, 1) or an int count")
        k = math.ceil(size * n)
    if not 0 <= k <= n:
        raise ValueError(f"{where}: {name}={size} is out of range for {n} samples")
    return k


def _split_indices(n, sizes, shuffle, stratify, rng, where):
    """Indices of each part; ``sizes`` are the part sizes, summing to n."""
    bounds = np.cumsum([0] + sizes)
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    if not shuffle:
        raise ValueError(f"{where}: stratified splitting needs shuffle=True")
    labels = stratify._data if isinstance(stratify, retrograd.Tensor) else np.asarray(stratify)
    if labels.shape != (n,):
        raise ValueError(
            f"{where}: stratify must be a 1-D array with one label per sample ({n}), "
            f"got shape {labels.shape}"
        )
    # Group the samples by class in random order within each class, give each sample
    # its quantile inside its class, and sort by quantile: every prefix of that order
    # holds each class in proportion (within one sample), so cutting it at the part
    # sizes gives exact sizes *and* stratified parts.
    perm = rng.permutation(n)
    _, inverse, counts = np.unique(labels[perm], return_inverse=True, return_counts=True)
    by_class = np.argsort(inverse, kind="stable")
    starts = np.cumsum(counts) - counts
    rank = np.empty(n, dtype=np.int64)
    rank[by_class] = np.arange(n) - np.repeat(starts, counts)
    quantile = (rank + 0.5) / counts[inverse]
    order = perm[np.argsort(quantile, kind="stable")]
    # Undo the class interleaving inside each part.
    return [rng.permutation(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _split(arrays, held_out, names, shuffle, stratify, generator, seed, where):
    if not arrays:
        raise ValueError(f"{where}: pass at least one array to split")
    n = _length(arrays[0])
    for a in arrays[1:]:
        if _length(a) != n:
            shapes = [tuple(getattr(x, "shape", (len(x),))) for x in arrays]
            raise ValueError(
                f"{where}: all arrays need the same number of samples (first dimension), "
                f"got shapes {shapes}"
            )
    counts = [_count(s, n, where, name) for s, name in zip(held_out, names)]
    n_train = n - sum(counts)
    if n_train < 1:
        raise ValueError(
            f"{where}: {', '.join(f'{k}={s}' for k, s in zip(names, held_out))} leave no "
            f"training samples out of {n}"
        )
    rng = _rng(generator, seed, where)
    parts = _split_indices(n, [n_train] + counts, shuffle, stratify, rng, where)
    if len(arrays) == 1:
        return tuple(_take(arrays[0], idx) for idx in parts)
    return tuple(tuple(_take(a, idx) for a in arrays) for idx in parts)


def train_val_split(*arrays, val_size=0.2, shuffle=True, stratify=None, generator=None,
                    seed=None):
    r"""Split arrays into a training part and a validation part.

    Args:
        *arrays (Tensor, ndarray or list): data to split, all with the same number
            of samples (first dimension); they are split with the same indices.
        val_size (float or int): fraction of samples for validation (rounded up) or a
            count. Default: 0.2.
        shuffle (bool): shuffle before splitting; if ``False``, the validation part
            is the last ``val_size`` samples. Default: ``True``.
        stratify (array-like, optional): class labels (one per sample); each class is
            then represented in both parts in proportion (within one sample).
        generator (Generator, optional): source of randomness (default the global one).
        seed (int, optional): seed for a private generator, instead of ``generator``.

    Returns:
        ``(train, val)``. With one array, each part is that array's split; with
        several, each part is a tuple of their splits, in the order given.
        Tensors give Tensors, arrays give arrays, lists give lists.

    Example::

        >>> X, y = load_digits()
        >>> (X_tr, y_tr), (X_val, y_val) = train_val_split(X, y, val_size=0.2,
        ...                                                stratify=y, seed=0)
    """
    return _split(arrays, [val_size], ["val_size"], shuffle, stratify, generator, seed,
                  "train_val_split")


def train_val_test_split(*arrays, val_size=0.1, test_size=0.1, shuffle=True, stratify=None,
                         generator=None, seed=None):
    r"""Split arrays into training, validation and test parts.

    Same arguments as :func:`train_val_split`, plus ``test_size`` (a fraction, rounded
    up, or a count). Without shuffling the order is train, then validation, then test.

    Returns:
        ``(train, val, test)``, each part as in :func:`train_val_split`.

    Example::

        >>> X, y = load_digits()
        >>> train, val, test = train_val_test_split(X, y, val_size=0.15, test_size=0.15,
        ...                                         stratify=y, seed=0)
    """
    return _split(arrays, [val_size, test_size], ["val_size", "test_size"], shuffle, stratify,
                  generator, seed, "train_val_test_split")
