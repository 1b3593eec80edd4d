"""Matrix products. ``matmul`` follows NumPy/PyTorch rules: 1-D operands are promoted
to matrices and the added dimension removed afterwards; batch dims broadcast.

Backward: for C = A @ B, dA = dC @ Bᵀ and dB = Aᵀ @ dC, summed over broadcast batch dims.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import Node, apply
from ..tensor import Tensor
from ._util import promote, sum_to


class MatMul(Node):
    reads = staticmethod(lambda needs: (needs[1], needs[0]))

    def forward(self, a, b):
        a, b = promote(a, b)
        return a @ b

    def backward(self, g, a, b):
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.needs[0] else None, g * a if self.needs[1] else None)
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        if self.needs[0]:
            ga = g @ b2.swapaxes(-1, -2)
            ga = sum_to(ga, a2.shape).reshape(a.shape)
        if self.needs[1]:
            if b2.ndim == 2 and a2.ndim > 2:
                # a 2-D weight shared over a batch: merge the batch rows into one GEMM
                gb = a2.reshape(-1, a2.shape[-1]).swapaxes(-1, -2) @ g.reshape(-1, g.shape[-1])
            else:
                gb = a2.swapaxes(-1, -2) @ g
            gb = sum_to(gb, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(input, other, *, out=None):
    """Matrix product with broadcasting over batch dimensions (``input @ other``)."""

    a = input if isinstance(input, Tensor) else Tensor(input)
    b = other if isinstance(other, Tensor) else Tensor(other)
    sa, sb = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(sa)} and {tuple(sb)}")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied ({ka} != {kb}): the "
            "last dim of the first must equal the " + ("only" if b.ndim == 1 else "second-to-last")
            + " dim of the second"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {tuple(sa)} and {tuple(sb)} do not "
                               "broadcast") from None
    r = apply(MatMul(), a, b)
    if out is not None:
        out.set_(r)
        return out
    return r


def mm(input, mat2, *, out=None):
    """Product of two matrices (2-D only)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    return matmul(input, vec)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    r = matmul(mat1, mat2)
    if alpha != 1:
        r = r * alpha
    return r + (input * beta if beta != 1 else input)


def einsum(equation, *operands):
    """Einstein summation, differentiable through the two-operand and one-operand forms."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return apply(Einsum(equation), *operands)


class Einsum(Node):
    def __init__(self, equation):
        eq = equation.replace(" ", "")
        if "->" not in eq:
            ins = eq.split(",")
            letters = sorted({c for c in "".join(ins) if c.isalpha() and "".join(ins).count(c) == 1})
            eq = eq + "->" + "".join(letters)
        self.eq = eq

    def forward(self, *arrays):
        return np.einsum(self.eq, *arrays, optimize=True)

    def backward(self, g, *inputs):
        lhs, out = self.eq.split("->")
        ins = lhs.split(",")
        grads = []
        for i, (spec, need) in enumerate(zip(ins, self.needs)):
            if not need:
                grads.append(None)
                continue
            if "." in spec:
                raise NotImplementedError("einsum backward with '...' is not supported")
            others = [inputs[j] for j in range(len(ins)) if j != i]
            other_specs = [ins[j] for j in range(len(ins)) if j != i]
            # letters of this input missing elsewhere (summed out alone) need broadcasting back
            present = set(out) | set("".join(other_specs))
            spec_eff = "".join(c for c in spec if c in present)
            eq = ",".join([out] + other_specs) + "->" + spec_eff
            if g.__class__ is np.ndarray:
                gi = np.einsum(eq, g, *others, optimize=True)
            else:
                gi = einsum(eq, g, *others)
            if spec_eff != spec or len(set(spec)) != len(spec):
                shape = inputs[i].shape
                # broadcast over letters summed only here, then keep repeated-letter diagonals
                idx = [spec_eff.index(c) if c in spec_eff else None for c in spec]
                expand_shape = [shape[k] for k in range(len(spec))]
                gi_np = gi if gi.__class__ is np.ndarray else gi
                view = gi_np.reshape([gi_np.shape[j] if j is not None else 1 for j in idx]) \
                    if len(set(spec)) == len(spec) else None
                if view is None:
                    raise NotImplementedError("einsum backward with a repeated index is not supported")
                from ._util import expand as _exp

                gi = _exp(view, tuple(expand_shape))
            grads.append(gi)
        return tuple(grads) if len(grads) > 1 else grads[0]


class Linear(Node):
    """Fused ``x @ weight.T + bias`` (one GEMM forward, two GEMMs + a sum backward)."""

    def forward(self, x, w, b=None):
        if x.ndim == 2:
            y = x @ w.T
        else:
            y = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b
        return y

    def backward(self, g, x, w, b=None):
        out_f = g.shape[-1]
        g2 = g.reshape(-1, out_f) if g.ndim != 2 else g
        gx = gw = gb = None
        if self.needs[0]:
            gx = (g2 @ w).reshape(x.shape) if x.ndim != 2 else g2 @ w
        if self.needs[1]:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if len(self.needs) > 2 and self.needs[2]:
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if len(self.needs) > 2 else (gx, gw)


def linear(input, weight, bias=None):
    """``y = input @ weight.T + bias`` — the fused affine map of ``nn.Linear``.

    Shape:
        input ``(*, in_features)``, weight ``(out_features, in_features)``,
        bias ``(out_features)``, output ``(*, out_features)``.
    """

    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim == 0 or weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} cannot be multiplied with weight of shape "
            f"{tuple(weight.shape)}: expected input with last dimension "
            f"{weight.shape[-1] if weight.ndim else '?'} "
            f"(in_features), i.e. shape (*, {weight.shape[-1] if weight.ndim else '?'})"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got {input.dtype} and "
                           f"{weight.dtype}; convert the input (x.float()) or the model (model.double())")
    if input.ndim == 1:
        r = apply(Linear(), input.reshape(1, -1), weight, *(() if bias is None else (bias,)))
        return r.reshape(-1)
    if bias is None:
        return apply(Linear(), input, weight)
    return apply(Linear(), input, weight, bias)
