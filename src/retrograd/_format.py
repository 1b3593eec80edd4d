"""PyTorch-style printing of tensors: ``tensor([[1., 2.], [3., 4.]], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import backend


def _float_formatter(a):
    """PyTorch's choice: integers as ``1.``, else 4 decimals, scientific for wide ranges."""
    finite = a[np.isfinite(a)].astype(np.float64)
    nonzero = np.abs(finite[finite != 0])
    if nonzero.size == 0:
        return lambda v: _special(v) or f"{v:.0f}."
    amax, amin = nonzero.max(), nonzero.min()
    integral = np.all(finite == np.ceil(finite))
    if integral:
        if amax / amin > 1e3 or amax > 1e8:
            return lambda v: _special(v) or f"{v:.4e}"
        return lambda v: _special(v) or f"{v:.0f}."
    if amax / amin > 1e3 or amax > 1e8 or amin < 1e-4:
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _summarized(a, edge, threshold):
    """The elements that get printed (the edges of each long dimension), for column widths."""
    if a.size <= threshold:
        return a
    for d in range(a.ndim):
        if a.shape[d] > 2 * edge:
            idx = np.r_[0:edge, a.shape[d] - edge:a.shape[d]]
            a = np.take(a, idx, axis=d)
    return a


def _padded(fmt, a, edge, threshold):
    """Right-align every element to the widest one, as PyTorch does (the width is taken
    over the printed non-zero finite values, so nan and inf don't widen the columns)."""
    sample = _summarized(a, edge, threshold).reshape(-1)
    if sample.dtype.kind == "f":
        sample = sample[np.isfinite(sample) & (sample != 0)]
    width = max((len(fmt(v)) for v in sample), default=0)
    return lambda v: fmt(v).rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def tensor_repr(t, prefix="tensor("):
    a = t._data
    kind = a.dtype.kind
    threshold, edge = 1000, 3
    if kind == "f":
        fmt = _padded(_float_formatter(a), a, edge, threshold)
        formatter = {"float_kind": fmt}
    elif kind == "b":
        formatter = {"bool": _padded(lambda v: "True" if v else "False", a, edge, threshold)}
    else:
        formatter = None
    indent = " " * len(prefix)
    body = np.array2string(a, separator=", ", formatter=formatter, prefix=indent,
                           threshold=threshold, edgeitems=edge, max_line_width=80)
    if a.size == 0:
        body = "[]" if a.ndim <= 1 else body
    elif a.size > threshold:
        body = body.replace(", ..., ", ",  ..., ")  # PyTorch's summary marker is " ..."
    extras = []
    default = {"f": backend.get_default_dtype(), "i": backend.int64, "b": backend.bool_}
    if a.size == 0 and a.ndim > 1:
        extras.append(f"size={tuple(a.shape)}")
    if default.get(kind) != a.dtype:
        extras.append(f"dtype=retrograd.{a.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    tail = "".join(", " + e for e in extras)
    if len(tail) and "\n" in body:
        tail = "," + tail[1:].replace(", ", ",\n" + indent) if False else tail
    return f"{prefix}{body}{tail})"
