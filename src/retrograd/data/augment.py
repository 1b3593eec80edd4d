"""Random augmentation of image batches, vectorised over the batch.

Each augmentation is a callable object taking a batch (N, C, H, W), one image
(C, H, W) or a single-channel (H, W), as a Tensor or a NumPy array, and returning
the same kind and shape. Unlike torchvision (which draws one set of parameters per
call, so a batched tensor gets the same transform for every image), **each image of
a batch gets its own random parameters**, drawn in one go; all channels of an image
share them. There are no Python loops over images or pixels.

Randomness goes through ``retrograd.backend.rng(generator)``: pass a seeded
``retrograd.Generator`` as ``generator=``, or rely on ``retrograd.manual_seed``.
Augmentation acts on data and is not differentiable: a Tensor result has no graph.

Example::

    >>> from retrograd.data import augment as A
    >>> from retrograd.data.transforms import Compose
    >>> aug = Compose([A.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
    ...                A.RandomCrop(28, padding=2)])
    >>> for xb, yb in loader:                   # doctest: +SKIP
    ...     xb = aug(xb)
"""

from __future__ import annotations

import numbers

import numpy as np

import retrograd

from .. import backend

__all__ = ["affine", "RandomAffine", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "GaussianNoise"]


def _as_batch(x, where):
    """Return (batch array (N, C, H, W), function turning a result back into x's form)."""
    is_tensor = isinstance(x, retrograd.Tensor)
    a = x._data if is_tensor else np.asarray(x)
    if a.ndim not in (2, 3, 4):
        raise ValueError(
            f"{where}: expected a batch of images (N, C, H, W), one image (C, H, W) or (H, W); "
            f"got shape {a.shape}"
        )
    lead = 4 - a.ndim
    batch = a.reshape((1,) * lead + a.shape)

    def restore(out):
        out = out.reshape(out.shape[lead:])
        return retrograd.from_numpy(np.ascontiguousarray(out)) if is_tensor else out

    return batch, restore


def _pair(v, where, name):
    if isinstance(v, numbers.Number):
        return int(v), int(v)
    v = tuple(v)
    if len(v) == 1:
        return int(v[0]), int(v[0])
    if len(v) != 2:
        raise ValueError(f"{where}: {name} should be an int or a pair (h, w), got {v}")
    return int(v[0]), int(v[1])


def _range(v, where, name, center=None, lo_bound=None):
    """A (low, high) interval from a number (symmetric around ``center``) or a pair."""
    if isinstance(v, numbers.Number):
        if v < 0:
            raise ValueError(f"{where}: if {name} is a single number, it must be positive, got {v}")
        lo, hi = center - v, center + v
    else:
        v = tuple(v)
        if len(v) != 2:
            raise ValueError(f"{where}: {name} should be a number or a pair (min, max), got {v}")
        lo, hi = float(v[0]), float(v[1])
    if lo > hi:
        raise ValueError(f"{where}: {name} range ({lo}, {hi}) has min > max")
    if lo_bound is not None and lo <= lo_bound:
        raise ValueError(f"{where}: {name} values must be > {lo_bound}, got ({lo}, {hi})")
    return float(lo), float(hi)


def _cast_back(out, dtype):
    """Return float results in the input's dtype, rounding and clipping for integer images."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return out >= 0.5
    return out.astype(dtype, copy=False)


def _sample(batch, src_x, src_y, interpolation, fill):
    """Sample every image of ``batch`` (N, C, H, W) at source coordinates (N, H, W)."""
    N, C, H, W = batch.shape
    work = batch.dtype if batch.dtype.kind == "f" else np.dtype(np.float32)
    # Surround every image with a border of `fill` (one pixel before, two after) and
    # clamp the coordinates to [-1, size]: whatever lies outside the image then reads
    # `fill`, and a pixel's right and lower neighbours are at fixed offsets (+1, +Wp)
    # from it, so one index array serves all four bilinear corners. Channels go first
    # so that one np.take per corner serves every channel.
    Hp, Wp = H + 3, W + 3
    padded = np.full((C, N, Hp, Wp), fill, dtype=work)
    padded[:, :, 1:H + 1, 1:W + 1] = batch.transpose(1, 0, 2, 3)
    table = padded.reshape(C, N * Hp * Wp)
    src_x = np.clip(src_x, -1, W)
    src_y = np.clip(src_y, -1, H)
    base = (np.arange(N) * (Hp * Wp) + Wp + 1)[:, None, None]
    if interpolation == "nearest":
        idx = base + np.rint(src_y).astype(np.int64) * Wp + np.rint(src_x).astype(np.int64)
        out = np.take(table, idx.reshape(-1), axis=1)
    else:
        x0, y0 = np.floor(src_x), np.floor(src_y)
        wx = (src_x - x0).astype(work).reshape(-1)
        wy = (src_y - y0).astype(work).reshape(-1)
        idx = (base + y0.astype(np.int64) * Wp + x0.astype(np.int64)).reshape(-1)
        top = np.take(table, idx, axis=1)
        top += (np.take(table, idx + 1, axis=1) - top) * wx
        bottom = np.take(table, idx + Wp, axis=1)
        bottom += (np.take(table, idx + (Wp + 1), axis=1) - bottom) * wx
        out = top + (bottom - top) * wy
    return out.reshape(C, N, H, W).transpose(1, 0, 2, 3)


def _affine_batch(batch, angle, tx, ty, scale, interpolation, fill, center):
    """Apply per-image affine maps (arrays of length N) to ``batch`` (N, C, H, W)."""
    N, _, H, W = batch.shape
    if center is None:
        cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    else:
        cx, cy = float(center[0]), float(center[1])
    theta = np.deg2rad(angle)
    cos = (np.cos(theta) / scale)[:, None, None]
    sin = (np.sin(theta) / scale)[:, None, None]
    # The inverse map for every output pixel of every image at once, (N, H, W) each:
    # source = c + R(-angle) (p - c - t) / scale.
    # The per-image factors are computed in float64 and only the full-size (N, H, W)
    # arrays use the images' precision (float32 unless the images are float64).
    dx = np.arange(W, dtype=np.float64)[None, None, :] - (cx + tx)[:, None, None]
    dy = np.arange(H, dtype=np.float64)[None, :, None] - (cy + ty)[:, None, None]
    coord = np.float64 if batch.dtype == np.float64 else np.float32
    src_x = (cx + cos * dx).astype(coord) - (sin * dy).astype(coord)
    src_y = (cy + sin * dx).astype(coord) + (cos * dy).astype(coord)
    return _cast_back(_sample(batch, src_x, src_y, interpolation, fill), batch.dtype)


def affine(img, angle, translate=(0.0, 0.0), scale=1.0, interpolation="bilinear", fill=0.0,
           center=None):
    r"""Rotate, shift and scale images with given parameters (the deterministic core of
    :class:`RandomAffine`).

    Each parameter is one value for all images, or one value per image of a batch.

    Args:
        img (Tensor or ndarray): (N, C, H, W), (C, H, W) or (H, W).
        angle (float or array of shape (N,)): rotation in degrees, counter-clockwise
            as displayed.
        translate (pair, or array of shape (N, 2)): shift ``(tx, ty)`` in pixels
            (right and down are positive).
        scale (float or array of shape (N,)): zoom factor (> 0).
        interpolation (str): ``'bilinear'`` or ``'nearest'``.
        fill (float): value for pixels that come from outside the image.
        center (pair, optional): centre ``(x, y)`` of rotation and scaling, in pixels;
            default the image centre.

    Returns:
        the transformed images, the same kind, shape and dtype as ``img``.

    Example::

        >>> img = np.eye(4, dtype=np.float32)[None]
        >>> affine(img, angle=0.0, translate=(1, 0), interpolation="nearest")[0, 0]
        array([0., 1., 0., 0.], dtype=float32)
    """
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(
            f"affine: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}"
        )
    batch, restore = _as_batch(img, "affine")
    N = batch.shape[0]
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (N,))
    t = np.broadcast_to(np.asarray(translate, dtype=np.float64), (N, 2))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (N,))
    if np.any(scale <= 0):
        raise ValueError(f"affine: scale must be > 0, got {scale}")
    return restore(_affine_batch(batch, angle, t[:, 0], t[:, 1], scale, interpolation, fill,
                                 center))


class RandomAffine:
    r"""Random rotation, translation and scaling, one draw per image.

    For each image, an angle ``a ~ U(degrees)``, a shift ``(tx, ty)`` with
    ``tx ~ U(-translate[0] * W, translate[0] * W)`` and ``ty ~ U(-translate[1] * H,
    translate[1] * H)`` pixels, and a zoom ``s ~ U(scale)`` are drawn. The output
    pixel at ``p`` takes the input value at ``c + R(-a) (p - c - t) / s`` (``c`` the
    centre), computed for the whole batch as one array of source coordinates, then
    sampled bilinearly (or by nearest neighbour). Positive angles rotate
    counter-clockwise as the image is displayed, as in torchvision; unlike
    torchvision the shift is not rounded to whole pixels. Areas that come from
    outside the image take the value ``fill``.

    Args:
        degrees (float or (float, float)): rotation range in degrees; a number ``d``
            means ``(-d, d)``. ``0`` disables rotation.
        translate (tuple of float, optional): maximal absolute shift as fractions of
            the width and height, e.g. ``(0.1, 0.1)``.
        scale (tuple of float, optional): zoom range, e.g. ``(0.9, 1.1)``.
        interpolation (str): ``'bilinear'`` (default) or ``'nearest'``.
        fill (float): value for pixels sampled outside the image. Default: 0.
        center (tuple of float, optional): rotation centre ``(x, y)`` in pixels;
            default the image centre ``((W - 1) / 2, (H - 1) / 2)``.
        generator (Generator, optional): source of randomness.

    Shape:
        (N, C, H, W), (C, H, W) or (H, W); output the same.

    Example::

        >>> rot90 = RandomAffine(degrees=(90, 90))
        >>> img = np.arange(9.0, dtype=np.float32).reshape(1, 3, 3)
        >>> np.allclose(rot90(img), np.rot90(img, axes=(1, 2)), atol=1e-5)
        True
    """

    def __init__(self, degrees, translate=None, scale=None, interpolation="bilinear", fill=0.0,
                 center=None, generator=None):
        where = "RandomAffine"
        self.degrees = _range(degrees, where, "degrees", center=0.0)
        if translate is not None:
            translate = tuple(float(t) for t in translate)
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(
                    f"{where}: translate should be a pair of fractions in [0, 1], got {translate}"
                )
        self.translate = translate
        self.scale = None if scale is None else _range(scale, where, "scale", lo_bound=0.0)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(
                f"{where}: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}"
            )
        self.interpolation = interpolation
        self.fill = float(fill)
        self.center = center
        self.generator = generator

    def __call__(self, img):
        batch, restore = _as_batch(img, "RandomAffine")
        N, _, H, W = batch.shape
        rng = backend.rng(self.generator)
        angle = rng.uniform(*self.degrees, size=N)
        if self.translate is not None:
            tx = rng.uniform(-1.0, 1.0, size=N) * (self.translate[0] * W)
            ty = rng.uniform(-1.0, 1.0, size=N) * (self.translate[1] * H)
        else:
            tx = ty = np.zeros(N)
        scale = rng.uniform(*self.scale, size=N) if self.scale is not None else np.ones(N)
        out = _affine_batch(batch, angle, tx, ty, scale, self.interpolation, self.fill,
                            self.center)
        return restore(out)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale}, interpolation={self.interpolation!r})")


class RandomCrop:
    r"""Crop a random ``size`` window out of each image, after optional padding.

    Padding follows torchvision: an int pads all four sides, a pair ``(lr, tb)``
    pads left/right and top/bottom, a 4-tuple is ``(left, top, right, bottom)``.
    Each image of a batch gets its own window position.

    Args:
        size (int or (int, int)): output height and width.
        padding (int or sequence, optional): padding added before cropping.
        pad_if_needed (bool): pad images smaller than ``size`` (by the shortfall on
            each side, as torchvision does).
        fill (float): value for ``padding_mode='constant'``. Default: 0.
        padding_mode (str): ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.
        generator (Generator, optional): source of randomness.

    Shape:
        (N, C, H, W), (C, H, W) or (H, W) -> the same with H, W replaced by ``size``.

    Example::

        >>> crop = RandomCrop(28, padding=4)   # the classic shift augmentation
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 generator=None):
        where = "RandomCrop"
        self.size = _pair(size, where, "size")
        if min(self.size) < 1:
            raise ValueError(f"{where}: size must be positive, got {self.size}")
        if padding is not None:
            p = (padding,) if isinstance(padding, numbers.Number) else tuple(padding)
            if len(p) not in (1, 2, 4) or any(int(v) < 0 for v in p):
                raise ValueError(
                    f"{where}: padding must be a non-negative int or a sequence of 1, 2 or 4 "
                    f"ints, got {padding}"
                )
            if len(p) == 1:
                p = p * 4
            elif len(p) == 2:
                p = (p[0], p[1], p[0], p[1])
            left, top, right, bottom = p
            padding = tuple(int(v) for v in (left, top, right, bottom))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"{where}: padding_mode must be 'constant', 'edge', 'reflect' or 'symmetric', "
                f"got {padding_mode!r}"
            )
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _pad(self, batch, left, top, right, bottom):
        if not (left or top or right or bottom):
            return batch
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(batch, widths, mode="constant", constant_values=self.fill)
        return np.pad(batch, widths, mode=self.padding_mode)

    def __call__(self, img):
        batch, restore = _as_batch(img, "RandomCrop")
        if self.padding is not None:
            batch = self._pad(batch, *self.padding)
        h, w = self.size
        H, W = batch.shape[-2:]
        if self.pad_if_needed and (H < h or W < w):
            dw, dh = max(w - W, 0), max(h - H, 0)
            batch = self._pad(batch, dw, dh, dw, dh)
            H, W = batch.shape[-2:]
        if H < h or W < w:
            raise ValueError(
                f"RandomCrop: required crop size {(h, w)} is larger than the (padded) input image "
                f"size {(H, W)}; lower size, add padding, or pass pad_if_needed=True"
            )
        N = batch.shape[0]
        rng = backend.rng(self.generator)
        top = rng.integers(0, H - h + 1, size=N)
        left = rng.integers(0, W - w + 1, size=N)
        # All windows as a view (no copy); one fancy-index picks each image's window.
        windows = np.lib.stride_tricks.sliding_window_view(batch, (h, w), axis=(2, 3))
        out = windows[np.arange(N), :, top, left]  # (N, C, h, w)
        return restore(out)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip:
    _axis = -1

    def __init__(self, p=0.5, generator=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, img):
        batch, restore = _as_batch(img, type(self).__name__)
        flip = backend.rng(self.generator).random(batch.shape[0]) < self.p
        out = np.where(flip[:, None, None, None], np.flip(batch, axis=self._axis), batch)
        return restore(out)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    r"""Flip each image left-right with probability ``p`` (independently per image).

    Args:
        p (float): probability of flipping. Default: 0.5.
        generator (Generator, optional): source of randomness.
    """

    _axis = -1


class RandomVerticalFlip(_RandomFlip):
    r"""Flip each image upside down with probability ``p`` (independently per image).

    Args:
        p (float): probability of flipping. Default: 0.5.
        generator (Generator, optional): source of randomness.
    """

    _axis = -2


class GaussianNoise:
    r"""Add Gaussian noise ``N(mean, std^2)`` to every pixel, optionally clipping.

    Args:
        std (float): standard deviation of the noise. Default: 0.1.
        mean (float): mean of the noise. Default: 0.
        clip (tuple of float, optional): clip the result to ``(low, high)``,
            e.g. ``(0.0, 1.0)`` for images in ``[0, 1]``.
        generator (Generator, optional): source of randomness.

    Shape:
        any float array or Tensor; output the same shape and dtype.
    """

    def __init__(self, std=0.1, mean=0.0, clip=None, generator=None):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)
        self.mean = float(mean)
        self.clip = None if clip is None else (float(clip[0]), float(clip[1]))
        self.generator = generator

    def __call__(self, img):
        is_tensor = isinstance(img, retrograd.Tensor)
        a = img._data if is_tensor else np.asarray(img)
        if a.dtype.kind != "f":
            raise TypeError(
                f"GaussianNoise: expects float images, got dtype {a.dtype}; convert them first "
                "(e.g. ToTensor() maps uint8 to float32 in [0, 1])"
            )
        draw = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)
        noise = backend.rng(self.generator).standard_normal(size=a.shape, dtype=draw)
        out = a + (noise * draw.type(self.std) + draw.type(self.mean)).astype(a.dtype)
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return retrograd.from_numpy(out) if is_tensor else out

    def __repr__(self):
        return f"{type(self).__name__}(std={self.std}, mean={self.mean}, clip={self.clip})"
