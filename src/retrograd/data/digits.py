"""The 8x8 handwritten digits bundled with retrograd (no download needed).

1,797 images from the UCI "Optical Recognition of Handwritten Digits" dataset
(E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), the same copy scikit-learn ships.
Each pixel counts the "on" pixels of a 4x4 block of a 32x32 bitmap, so pixel values
are integers 0..16. See ``_bundled/README.md`` for the source and how the file was made.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

import retrograd

from ..utils.data import Dataset

__all__ = ["load_digits", "Digits"]

_FILE = Path(__file__).with_name("_bundled") / "digits.npz"


@functools.lru_cache(maxsize=1)
def _arrays():
    try:
        with np.load(_FILE, allow_pickle=False) as z:
            images, target = z["images"], z["target"]
    except (OSError, KeyError, ValueError) as e:
        raise RuntimeError(
            f"load_digits: the bundled file {_FILE} is missing or damaged ({e}); "
            "reinstall retrograd to restore it"
        ) from e
    if images.shape != (1797, 8, 8) or target.shape != (1797,):
        raise RuntimeError(
            f"load_digits: the bundled file {_FILE} has unexpected shapes {images.shape}, "
            f"{target.shape}; reinstall retrograd to restore it"
        )
    images.setflags(write=False)
    target.setflags(write=False)
    return images, target


def load_digits(return_tensors=True, *, flatten=False):
    r"""Load the bundled 8x8 handwritten digits (1,797 images, 10 classes).

    Pixel values are kept on their natural scale, float32 in ``[0, 16]`` (divide by
    16 for ``[0, 1]``, or fit a :class:`~retrograd.data.Standardize` on the
    training split).

    Args:
        return_tensors (bool): return Tensors (default) or NumPy arrays.
        flatten (bool): return images as rows of 64 features instead of 8x8.

    Returns:
        (X, y): X float32 of shape (1797, 8, 8) — or (1797, 64) if ``flatten`` —
        with values in ``[0, 16]``; y int64 of shape (1797,) with values 0..9.

    Example::

        >>> X, y = load_digits(flatten=True)
        >>> X.shape, y.shape
        ((1797, 64), (1797,))
    """
    images, target = _arrays()
    X = images.astype(np.float32)
    if flatten:
        X = X.reshape(len(X), 64)
    y = target.astype(np.int64)
    if return_tensors:
        return retrograd.from_numpy(X), retrograd.from_numpy(y)
    return X, y


class Digits(Dataset):
    r"""The bundled 8x8 digits as a map-style dataset.

    Sample ``i`` is ``(image, label)``: image a float32 Tensor of shape (8, 8)
    (or (64,) with ``flatten=True``) with values in ``[0, 16]``, label a Python int.

    Args:
        transform (callable, optional): applied to each image.
        target_transform (callable, optional): applied to each label.
        flatten (bool): give images as 64-vectors.

    Attributes:
        data (Tensor): all images, float32 (1797, 8, 8) or (1797, 64).
        targets (Tensor): all labels, int64 (1797,).
        classes (list of str): ``['0', ..., '9']``.

    Example::

        >>> ds = Digits(flatten=True)
        >>> x, label = ds[0]
        >>> x.shape, label
        ((64,), 0)
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, transform=None, target_transform=None, flatten=False):
        self.data, self.targets = load_digits(flatten=flatten)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self):
        return len(self.targets._data)

    def __getitem__(self, index):
        img = self.data[index]
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
