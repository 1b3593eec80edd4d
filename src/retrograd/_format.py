"""PyTorch-style printing of tensors: ``tensor([[1., 2.], [3., 4.]], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import backend


def _float_formatter(a):
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    amax = np.abs(finite).max()
    amin = np.abs(finite[finite != 0]).min() if (finite != 0).any() else 0.0
    integral = np.all(finite == np.round(finite))
    if integral and amax < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    if amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e3 and amax >= 1e3):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def tensor_repr(t, prefix="tensor("):
    a = t._data
    kind = a.dtype.kind
    if kind == "f":
        fmt = _float_formatter(a)
        formatter = {"float_kind": fmt}
    elif kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
    else:
        formatter = None
    indent = " " * len(prefix)
    threshold = 1000
    body = np.array2string(a, separator=", ", formatter=formatter, prefix=indent,
                           threshold=threshold, edgeitems=3, max_line_width=80)
    if a.size == 0:
        body = "[]" if a.ndim <= 1 else body
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
