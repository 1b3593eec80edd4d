"""Datasets, preprocessing and augmentation — what PyTorch leaves to torchvision.

* Bundled: :func:`load_digits` / :class:`Digits` (8x8 handwritten digits, no download).
* Downloadable, checksummed: :func:`load_mnist`, :func:`load_fashion_mnist`,
  :class:`MNIST`, :class:`FashionMNIST`.
* Toy problems: :func:`make_xor`, :func:`make_moons`, :func:`make_circles`,
  :func:`make_spirals`, :func:`make_blobs`, :func:`make_regression`.
* Sequence tasks: :func:`make_adding_problem` (long-range dependencies for RNNs).
* Preprocessing (:mod:`retrograd.data.transforms`): ``ToTensor``, ``Normalize``,
  ``Compose``, ``Lambda``, ``Standardize``, ``OneHot``.
* Batch augmentation (:mod:`retrograd.data.augment`): ``RandomAffine``,
  ``RandomCrop``, ``RandomHorizontalFlip``, ``RandomVerticalFlip``, ``GaussianNoise``.
* Splitting arrays: :func:`train_val_split`, :func:`train_val_test_split`.

The Dataset / DataLoader machinery itself is :mod:`retrograd.utils.data`.
"""

from . import augment, transforms
from .augment import (
    GaussianNoise,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    affine,
)
from .digits import Digits, load_digits
from .mnist import (
    MNIST,
    DataIntegrityError,
    FashionMNIST,
    default_data_dir,
    load_fashion_mnist,
    load_mnist,
)
from .sequence import make_adding_problem
from .split import train_val_split, train_val_test_split
from .toy import make_blobs, make_circles, make_moons, make_regression, make_spirals, make_xor
from .transforms import Compose, Lambda, Normalize, OneHot, Standardize, ToTensor

__all__ = [
    "MNIST",
    "Compose",
    "DataIntegrityError",
    "Digits",
    "FashionMNIST",
    "GaussianNoise",
    "Lambda",
    "Normalize",
    "OneHot",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "Standardize",
    "ToTensor",
    "affine",
    "augment",
    "default_data_dir",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_adding_problem",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression",
    "make_spirals",
    "make_xor",
    "train_val_split",
    "train_val_test_split",
    "transforms",
]
