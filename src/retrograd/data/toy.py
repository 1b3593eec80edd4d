"""Toy datasets generated on the fly: small 2-D problems for seeing a network learn.

Every generator draws through ``retrograd.backend.rng``: pass ``seed=`` for a fixed
dataset, ``generator=`` for a :class:`retrograd.Generator`, or neither to use the
global generator (``retrograd.manual_seed``). Features come back as float32, class
labels as int64 (regression targets as float32).
"""

from __future__ import annotations

import numpy as np

import retrograd

from .. import backend

__all__ = ["make_xor", "make_moons", "make_circles", "make_spirals", "make_blobs",
           "make_regression"]


def _rng(generator, seed, where):
    if seed is not None and generator is not None:
        raise ValueError(f"{where}: pass either seed= or generator=, not both")
    if seed is not None:
        return np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    return backend.rng(generator)


def _check_n(n, where, name="n_samples", minimum=1):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {n!r}")


def _finish(X, y, rng, shuffle, return_tensors, y_dtype=np.int64):
    X = X.astype(np.float32, copy=False)
    y = y.astype(y_dtype, copy=False)
    if shuffle:
        perm = rng.permutation(len(X))
        X, y = X[perm], y[perm]
    if return_tensors:
        return retrograd.from_numpy(np.ascontiguousarray(X)), retrograd.from_numpy(
            np.ascontiguousarray(y)
        )
    return X, y


def _add_noise(X, noise, rng, where):
    if noise is None or noise == 0:
        return X
    if noise < 0:
        raise ValueError(f"{where}: noise is a standard deviation and must be >= 0, got {noise}")
    return X + rng.normal(0.0, noise, size=X.shape)


def make_xor(n_samples=200, noise=0.0, *, generator=None, seed=None, return_tensors=True):
    r"""The XOR problem: points uniform in the square ``[-1, 1]^2``, labelled 1 when
    exactly one coordinate is positive (the two diagonal quadrants), else 0.

    Not linearly separable: a network needs a hidden layer to solve it.

    Args:
        n_samples (int): number of points. Default: 200.
        noise (float): standard deviation of Gaussian jitter added to the points
            *after* labelling (so noisy points may cross the axes). Default: 0.
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator (instead of ``generator``).
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 of shape (n_samples, 2), y int64 of shape (n_samples,).
    """
    where = "make_xor"
    _check_n(n_samples, where)
    rng = _rng(generator, seed, where)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return _finish(_add_noise(X, noise, rng, where), y, rng, False, return_tensors)


def make_moons(n_samples=100, noise=None, *, shuffle=True, generator=None, seed=None,
               return_tensors=True):
    r"""Two interleaving half circles (the "moons"), as ``sklearn.datasets.make_moons``.

    The upper moon (label 0) is ``(cos t, sin t)`` and the lower one (label 1) is
    ``(1 - cos t, 0.5 - sin t)`` for ``t`` evenly spaced in ``[0, pi]``.

    Args:
        n_samples (int): total points; the upper moon gets ``n_samples // 2``.
        noise (float, optional): standard deviation of Gaussian noise on the points.
        shuffle (bool): shuffle the points (else all label 0 first). Default: ``True``.
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 (n_samples, 2), y int64 (n_samples,).

    Example::

        >>> X, y = make_moons(200, noise=0.1, seed=0)
        >>> X.shape, y.dtype
        ((200, 2), dtype('int64'))
    """
    where = "make_moons"
    _check_n(n_samples, where, minimum=2)
    rng = _rng(generator, seed, where)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
    ])
    y = np.repeat(np.array([0, 1]), [n_out, n_in])
    return _finish(_add_noise(X, noise, rng, where), y, rng, shuffle, return_tensors)


def make_circles(n_samples=100, noise=None, factor=0.8, *, shuffle=True, generator=None,
                 seed=None, return_tensors=True):
    r"""A large circle (label 0) around a smaller one (label 1), as
    ``sklearn.datasets.make_circles``.

    Args:
        n_samples (int): total points; the outer circle gets ``n_samples // 2``.
        noise (float, optional): standard deviation of Gaussian noise on the points.
        factor (float): radius of the inner circle relative to the outer one (radius
            1), in ``[0, 1)``. Default: 0.8.
        shuffle (bool): shuffle the points. Default: ``True``.
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 (n_samples, 2), y int64 (n_samples,).
    """
    where = "make_circles"
    _check_n(n_samples, where, minimum=2)
    if not 0 <= factor < 1:
        raise ValueError(f"{where}: factor must be in [0, 1), got {factor}")
    rng = _rng(generator, seed, where)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    y = np.repeat(np.array([0, 1]), [n_out, n_in])
    return _finish(_add_noise(X, noise, rng, where), y, rng, shuffle, return_tensors)


def make_spirals(n_samples=300, n_classes=3, noise=0.0, *, turns=1.0, shuffle=True,
                 generator=None, seed=None, return_tensors=True):
    r"""Interleaved spiral arms, one per class (the CS231n "spiral" problem).

    Arm ``k`` has points at radius ``r`` evenly spaced in ``[0, 1]`` and angle
    ``2 pi (k / n_classes + turns * r)``; ``noise`` is the standard deviation of
    Gaussian noise added to the angle (in radians), so the arms blur while keeping
    their radius.

    Args:
        n_samples (int): total points, split as evenly as possible between the arms.
        n_classes (int): number of arms / classes. Default: 3.
        noise (float): standard deviation of the angular noise. Default: 0.
        turns (float): how many full turns each arm makes. Default: 1.
        shuffle (bool): shuffle the points. Default: ``True``.
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 (n_samples, 2), y int64 (n_samples,) in ``0 .. n_classes-1``.
    """
    where = "make_spirals"
    _check_n(n_samples, where)
    _check_n(n_classes, where, "n_classes")
    if noise < 0:
        raise ValueError(f"{where}: noise must be >= 0, got {noise}")
    rng = _rng(generator, seed, where)
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    y = np.repeat(np.arange(n_classes), counts)
    # Position of each point along its own arm, 0 .. 1 (vectorised over all arms).
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.arange(n_samples) - starts
    denom = np.maximum(np.repeat(counts, counts) - 1, 1)
    r = pos / denom
    theta = 2 * np.pi * (y / n_classes + turns * r)
    if noise:
        theta = theta + rng.normal(0.0, noise, size=n_samples)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return _finish(X, y, rng, shuffle, return_tensors)


def make_blobs(n_samples=100, centers=3, n_features=2, cluster_std=1.0,
               center_box=(-10.0, 10.0), *, shuffle=True, generator=None, seed=None,
               return_tensors=True):
    r"""Isotropic Gaussian clusters, one per class, like ``sklearn.datasets.make_blobs``.

    Args:
        n_samples (int): total points, split as evenly as possible between clusters.
        centers (int or array-like): number of clusters (centres drawn uniformly from
            ``center_box``), or the centres themselves, shape (k, n_features).
        n_features (int): dimension of each point (ignored when centres are given).
        cluster_std (float or sequence of float): standard deviation of each cluster.
        center_box (tuple of float): bounds for random centres.
        shuffle (bool): shuffle the points. Default: ``True``.
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 (n_samples, n_features), y int64 (n_samples,).
    """
    where = "make_blobs"
    _check_n(n_samples, where)
    rng = _rng(generator, seed, where)
    if isinstance(centers, (int, np.integer)):
        _check_n(centers, where, "centers")
        _check_n(n_features, where, "n_features")
        C = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2:
            raise ValueError(f"{where}: centers must have shape (k, n_features), got {C.shape}")
    k = len(C)
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(std < 0):
        raise ValueError(f"{where}: cluster_std must be >= 0, got {cluster_std}")
    counts = np.full(k, n_samples // k)
    counts[: n_samples % k] += 1
    y = np.repeat(np.arange(k), counts)
    X = C[y] + rng.normal(size=(n_samples, C.shape[1])) * std[y][:, None]
    return _finish(X, y, rng, shuffle, return_tensors)


def make_regression(n_samples=100, n_features=1, noise=0.0, *, coef=None, bias=0.0,
                    return_coef=False, generator=None, seed=None, return_tensors=True):
    r"""A linear regression problem: ``y = X @ coef + bias + noise``.

    ``X`` is standard normal; ``coef`` is drawn uniformly from ``[-2, 2]`` unless given.

    Args:
        n_samples (int): number of samples.
        n_features (int): number of input features.
        noise (float): standard deviation of Gaussian noise added to ``y``.
        coef (array-like, optional): the true weights, shape (n_features,).
        bias (float): the true intercept.
        return_coef (bool): also return the true weights (float32, (n_features,)).
        generator (Generator, optional): source of randomness.
        seed (int, optional): seed for a private generator.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y) or (X, y, coef): X float32 (n_samples, n_features), y float32
        (n_samples,).

    Example::

        >>> X, y, w = make_regression(50, n_features=3, noise=0.1, seed=0, return_coef=True)
    """
    where = "make_regression"
    _check_n(n_samples, where)
    _check_n(n_features, where, "n_features")
    rng = _rng(generator, seed, where)
    X = rng.normal(size=(n_samples, n_features))
    if coef is None:
        w = rng.uniform(-2.0, 2.0, size=n_features)
    else:
        w = np.asarray(coef.numpy() if hasattr(coef, "numpy") else coef, dtype=np.float64)
        if w.shape != (n_features,):
            raise ValueError(
                f"{where}: coef must have shape ({n_features},) to match n_features, got {w.shape}"
            )
    y = X @ w + bias
    if noise:
        if noise < 0:
            raise ValueError(f"{where}: noise must be >= 0, got {noise}")
        y = y + rng.normal(0.0, noise, size=n_samples)
    X, y = _finish(X, y, rng, False, return_tensors, y_dtype=np.float32)
    if not return_coef:
        return X, y
    w = w.astype(np.float32)
    return X, y, (retrograd.from_numpy(w) if return_tensors else w)
