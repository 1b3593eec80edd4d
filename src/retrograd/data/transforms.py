"""Preprocessing transforms: torchvision's ``ToTensor``, ``Normalize``, ``Compose`` and
``Lambda``, plus ``Standardize`` (fit on the training data) and ``OneHot``.

Each transform is a callable object. Given a Tensor it returns a Tensor; given a
NumPy array it returns a NumPy array (``ToTensor`` and ``OneHot`` always return Tensors).
Random augmentation of image batches is in :mod:`retrograd.data.augment`.
"""

from __future__ import annotations

import numbers

import numpy as np

import retrograd

__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "Standardize", "OneHot"]


def _is_tensor(x):
    return isinstance(x, retrograd.Tensor)


def _array(x):
    return x._data if _is_tensor(x) else np.asarray(x)


def _shift_scale(x, shift, div, where, inverse=False):
    """``(x - shift) / div`` (or ``x * div + shift`` if ``inverse``), keeping x's kind
    (Tensor or array) and float dtype.

    A Tensor that requires grad goes through differentiable Tensor ops; otherwise
    the arithmetic is plain NumPy (no graph is needed for data).
    """
    a = _array(x)
    if a.dtype.kind != "f":
        a = a.astype(retrograd.get_default_dtype())
    shift = np.asarray(shift, dtype=a.dtype)
    div = np.asarray(div, dtype=a.dtype)
    if _is_tensor(x) and x.requires_grad:
        s, d = retrograd.from_numpy(shift), retrograd.from_numpy(div)
        return x * d + s if inverse else (x - s) / d
    try:
        out = a * div + shift if inverse else (a - shift) / div
    except ValueError:
        raise ValueError(
            f"{where}: cannot broadcast statistics of shape {shift.shape} against input of "
            f"shape {a.shape}"
        ) from None
    return retrograd.from_numpy(out) if _is_tensor(x) else out


class Compose:
    r"""Chain transforms: ``Compose([f, g])(x) == g(f(x))``.

    Args:
        transforms (list of callables): the transforms, applied in order.

    Example::

        >>> t = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    r"""Wrap a function as a transform.

    Args:
        lambd (callable): the function to apply.
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToTensor:
    r"""Convert an image array (H, W) or (H, W, C) to a Tensor (C, H, W).

    As torchvision's ``ToTensor``: uint8 images are scaled to float32 in ``[0, 1]``;
    other dtypes keep their values and dtype. Also accepts a Tensor laid out the
    same way, and anything ``numpy.asarray`` understands (e.g. a PIL image).

    Shape:
        - Input: (H, W) or (H, W, C).
        - Output: (1, H, W) or (C, H, W).

    Example::

        >>> img = np.full((28, 28), 255, dtype=np.uint8)
        >>> ToTensor()(img).shape
        (1, 28, 28)
    """

    def __call__(self, pic):
        a = _array(pic)
        if a.ndim not in (2, 3):
            raise ValueError(
                f"ToTensor: pic should be 2 or 3 dimensional, (H, W) or (H, W, C); got shape "
                f"{a.shape}. For a batch of images, convert with retrograd.from_numpy instead."
            )
        if a.ndim == 2:
            a = a[:, :, None]
        a = np.ascontiguousarray(a.transpose(2, 0, 1))
        if a.dtype == np.uint8:
            a = a.astype(np.float32)
            a /= np.float32(255.0)
        return retrograd.from_numpy(a)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    r"""Normalize each channel: ``out[c] = (x[c] - mean[c]) / std[c]`` (torchvision semantics).

    Works on one image (C, H, W) or a batch (N, C, H, W) — any (..., C, H, W).

    Args:
        mean (sequence of float): per-channel means (one value is used for all channels).
        std (sequence of float): per-channel standard deviations.
        inplace (bool): write the result into the input (Tensors and arrays).

    Example::

        >>> x = retrograd.rand(1, 28, 28)
        >>> y = Normalize((0.1307,), (0.3081,))(x)
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        a = _array(tensor)
        if a.dtype.kind != "f":
            raise TypeError(
                f"Normalize: input should be a float tensor, got {a.dtype}; convert images with "
                "ToTensor() (uint8 -> float32 in [0, 1]) first"
            )
        if a.ndim < 3:
            raise ValueError(
                f"Normalize: expected a tensor image of size (..., C, H, W), got shape {a.shape}"
            )
        mean = np.asarray(self.mean, dtype=a.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=a.dtype).reshape(-1)
        c = a.shape[-3]
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, c):
                raise ValueError(
                    f"Normalize: {name} has {v.size} values but the input has {c} channels "
                    f"(shape {a.shape}); give one value per channel"
                )
        if np.any(std == 0):
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {a.dtype}, leading to "
                "division by zero"
            )
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if self.inplace:
            if _is_tensor(tensor):
                # Through the Tensor's own in-place ops, so autograd's rules apply.
                return tensor.sub_(retrograd.from_numpy(mean)).div_(retrograd.from_numpy(std))
            a -= mean
            a /= std
            return tensor
        return _shift_scale(tensor, mean, std, "Normalize")

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Standardize:
    r"""Standardize features to zero mean and unit variance, with statistics fitted on
    training data only.

    ``fit(X_train)`` records the mean and the (population) standard deviation over
    the dimensions in ``dim`` (default: over samples, i.e. one statistic per
    feature); ``transform(X)`` applies ``(X - mean) / std`` to any data — the
    validation and test sets use the *training* statistics. Features with zero
    standard deviation are left unscaled (their std is stored as 1). The statistics
    travel with a model through :meth:`state_dict` / :meth:`load_state_dict`.

    Args:
        dim (int or tuple of int): dimensions to average over; must include 0 (the
            sample dimension). E.g. ``dim=(0, 2, 3)`` gives per-channel statistics
            for images (N, C, H, W). Default: ``0``.
        mean, std (array-like, optional): known statistics, instead of calling fit.

    Example::

        >>> scaler = Standardize().fit(X_train)
        >>> X_train_s, X_test_s = scaler(X_train), scaler(X_test)
        >>> state = scaler.state_dict()          # {'mean': Tensor, 'std': Tensor}
    """

    def __init__(self, dim=0, mean=None, std=None):
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if 0 not in dims:
            raise ValueError(
                f"Standardize: dim must include 0, the sample dimension, got dim={dim}"
            )
        self.dim = dims
        self.mean = None if mean is None else np.asarray(_array(mean))
        self.std = None if std is None else np.asarray(_array(std))
        if (self.mean is None) != (self.std is None):
            raise ValueError("Standardize: give both mean and std, or neither (then call fit)")

    def fit(self, X):
        """Compute the mean and std of ``X`` (the training data); returns ``self``."""
        a = _array(X)
        if a.ndim == 0 or a.shape[0] == 0:
            raise ValueError(f"Standardize.fit: need at least one sample, got shape {a.shape}")
        if any(d >= a.ndim or d < -a.ndim for d in self.dim):
            raise ValueError(
                f"Standardize.fit: dim={self.dim} is out of range for input of shape {a.shape}"
            )
        dtype = a.dtype if a.dtype.kind == "f" else retrograd.get_default_dtype()
        axes = tuple(d % a.ndim for d in self.dim)
        # Accumulate in float64 so a large float32 dataset does not lose precision,
        # while the one full-size temporary stays in the data's own dtype.
        mean = a.mean(axis=axes, dtype=np.float64, keepdims=True)
        d = a - mean.astype(dtype)
        np.square(d, out=d)
        std = np.sqrt(d.mean(axis=axes, dtype=np.float64, keepdims=True))
        std[std == 0] = 1.0
        # Drop the sample dimension; the kept size-1 dims broadcast against (N, ...) and (...).
        self.mean = mean[0].astype(dtype)
        self.std = std[0].astype(dtype)
        return self

    def _check_fitted(self, where):
        if self.mean is None:
            raise RuntimeError(
                f"Standardize.{where}: not fitted; call .fit(X_train) (or load_state_dict) first"
            )

    def transform(self, X):
        """``(X - mean) / std`` with the fitted statistics."""
        self._check_fitted("transform")
        return _shift_scale(X, self.mean, self.std, "Standardize.transform")

    __call__ = transform

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``X * std + mean``."""
        self._check_fitted("inverse_transform")
        return _shift_scale(X, self.mean, self.std, "Standardize.inverse_transform",
                            inverse=True)

    def state_dict(self):
        """``{'mean': Tensor, 'std': Tensor}``, e.g. to save beside a model's weights."""
        self._check_fitted("state_dict")
        return {"mean": retrograd.from_numpy(self.mean.copy()),
                "std": retrograd.from_numpy(self.std.copy())}

    def load_state_dict(self, state_dict):
        """Restore statistics saved by :meth:`state_dict`."""
        missing = {"mean", "std"} - set(state_dict)
        if missing:
            raise KeyError(f"Standardize.load_state_dict: missing keys {sorted(missing)}")
        mean, std = np.array(_array(state_dict["mean"])), np.array(_array(state_dict["std"]))
        if mean.shape != std.shape:
            raise ValueError(
                f"Standardize.load_state_dict: mean shape {mean.shape} != std shape {std.shape}"
            )
        self.mean, self.std = mean, std
        return self

    def __repr__(self):
        fitted = "fitted" if self.mean is not None else "not fitted"
        return f"{type(self).__name__}(dim={self.dim}, {fitted})"


class OneHot:
    r"""Turn class labels into one-hot vectors.

    Args:
        num_classes (int): number of classes.
        dtype (dtype): dtype of the result. Default: float32 (ready for a
            regression-style loss; ``retrograd.nn.functional.one_hot`` gives int64).

    Shape:
        - Input: an int, or an integer array/Tensor of any shape (*).
        - Output: (*, num_classes).

    Example::

        >>> OneHot(3)(2)
        tensor([0., 0., 1.])
    """

    def __init__(self, num_classes, dtype=None):
        if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
            raise ValueError(f"OneHot: num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.dtype = retrograd.get_default_dtype() if dtype is None else np.dtype(dtype)

    def __call__(self, target):
        a = _array(target)
        if a.dtype.kind not in "iu":
            raise TypeError(f"OneHot: labels must be integers, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= self.num_classes):
            bad = a.min() if a.min() < 0 else a.max()
            raise ValueError(
                f"OneHot: label {bad} is out of range for num_classes={self.num_classes} "
                f"(labels must be 0 .. {self.num_classes - 1})"
            )
        out = (a[..., None] == np.arange(self.num_classes)).astype(self.dtype)
        return retrograd.from_numpy(out)

    def __repr__(self):
        return f"{type(self).__name__}(num_classes={self.num_classes})"
