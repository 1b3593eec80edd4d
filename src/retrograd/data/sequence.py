"""Synthetic sequence tasks for recurrent networks.

:func:`make_adding_problem` is the classic long-range test of backpropagation through
time (Hochreiter & Schmidhuber, 1997; in the form of Le, Jaitly & Hinton, 2015): the
answer depends on two inputs that may lie a whole sequence away from the output, so a
network learns it only if the gradient survives the trip back through every step.
"""

from __future__ import annotations

import numpy as np

import retrograd

from .toy import _check_n, _rng

__all__ = ["make_adding_problem"]


def make_adding_problem(n, seq_len, generator=None, seed=None, *, return_tensors=True):
    r"""The adding problem: add the two marked numbers of a long sequence.

    Each sample is a sequence of ``seq_len`` pairs ``(value, marker)``: the values are
    drawn uniformly from ``[0, 1)``; the markers are 0 except at exactly two steps,
    one drawn uniformly from the first half of the sequence and one from the second
    half, where they are 1. The target is the sum of the two marked values.

    The target lies in ``[0, 2)`` with mean 1 and variance 1/6, so always predicting
    1.0 scores a mean squared error of :math:`1/6 \approx 0.167`: a model must beat
    that baseline to have learned anything. Because the first marked value may lie
    ``seq_len - 1`` steps before the end, the gradient of the loss must travel back
    that far through the recurrence: a vanilla tanh RNN's gradient vanishes long before
    (for ``seq_len`` around 100), an LSTM's survives.

    Args:
        n (int): number of sequences.
        seq_len (int): steps per sequence (at least 2).
        generator (Generator, optional): source of randomness (``retrograd.Generator``).
        seed (int, optional): seed for a private generator (instead of ``generator``);
            neither: the global generator (``retrograd.manual_seed``).
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 of shape ``(n, seq_len, 2)`` (batch first: use
        ``batch_first=True`` recurrent layers, or ``X.transpose(0, 1)`` for time-major
        ones), channel 0 the values and channel 1 the markers; y float32 of shape
        ``(n,)``, the sums.

    Example::

        >>> X, y = make_adding_problem(4, 100, seed=0)
        >>> tuple(X.shape), tuple(y.shape)
        ((4, 100, 2), (4,))
        >>> float((X[:, :, 0] * X[:, :, 1]).sum(1)[0]) == float(y[0])
        True
    """
    where = "make_adding_problem"
    _check_n(n, where, name="n")
    _check_n(seq_len, where, name="seq_len", minimum=2)
    rng = _rng(generator, seed, where)
    n, seq_len = int(n), int(seq_len)
    values = rng.random((n, seq_len), dtype=np.float32)
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    if return_tensors:
        return retrograd.from_numpy(X), retrograd.from_numpy(y)
    return X, y
