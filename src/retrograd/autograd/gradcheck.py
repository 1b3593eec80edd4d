"""Check analytic gradients against finite differences."""

from __future__ import annotations

import numpy as np

from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytic and numerical Jacobians disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _outputs(fn, inputs):
    from ..tensor import Tensor

    out = _as_tuple(fn(*inputs))
    return [o for o in out if isinstance(o, Tensor)]


def _numerical_jacobians(fn, inputs, eps):
    """One Jacobian per (input, output), by central differences in float64."""
    from ..tensor import Tensor

    jacs = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            jacs.append(None)
            continue
        flat = t._data.reshape(-1)  # a view: perturb in place
        cols = []
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            with no_grad():
                plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            with no_grad():
                minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        # jac[out][n_out, n_in]
        n_out = len(cols[0]) if cols else len(_outputs(fn, inputs))
        jacs.append([np.stack([c[j] for c in cols], axis=1) if cols else None for j in range(n_out)])
    return jacs


def _analytic_jacobians(fn, inputs, create_graph=False):
    from . import grad as autograd_grad

    outs = _outputs(fn, inputs)
    diff_inputs = [t for t in inputs if hasattr(t, "requires_grad") and t.requires_grad]
    jac = {id(t): [np.zeros((o._data.size, t._data.size)) for o in outs] for t in diff_inputs}
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o._data.size):
            go = np.zeros(o._data.size, dtype=o.dtype)
            go[r] = 1
            from ..tensor import Tensor

            gs = autograd_grad([o], diff_inputs, [Tensor._make(go.reshape(o.shape), None)],
                               retain_graph=True, allow_unused=True)
            for t, g in zip(diff_inputs, gs):
                if g is not None:
                    jac[id(t)][j][r] = g._data.reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **kwargs):
    """Compare the gradients backprop computes with central finite differences.

    ``inputs`` should be float64 tensors with ``requires_grad=True``. Returns True when
    every entry of every Jacobian agrees within ``atol + rtol * |numerical|``; otherwise
    raises :class:`GradcheckError` describing the worst entry (or returns False when
    ``raise_exception=False``).
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            import warnings

            warnings.warn(f"gradcheck: input {i} is {t.dtype}, not float64; finite differences "
                          "will be imprecise", stacklevel=2)
    numerical = _numerical_jacobians(func, inputs, eps)
    analytic = _analytic_jacobians(func, inputs)
    for i, (t, num) in enumerate(zip(inputs, numerical)):
        if num is None:
            continue
        for j, n in enumerate(num):
            if n is None:
                continue
            a = analytic[id(t)][j]
            err = np.abs(a - n) - (atol + rtol * np.abs(n))
            if err.size and err.max() > 0:
                k = np.unravel_index(np.argmax(err), err.shape)
                msg = (f"Jacobian mismatch for output {j} with respect to input {i},\n"
                       f"worst entry (output element {k[0]}, input element {k[1]}): "
                       f"numerical {n[k]:.8g} vs analytical {a[k]:.8g} "
                       f"(|difference| {abs(a[k] - n[k]):.3g} > atol {atol} + rtol {rtol} * |numerical|)")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **kwargs):
    """Check second derivatives: gradcheck of the function ``inputs -> grad(func(inputs))``."""
    from ..tensor import Tensor
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True)
                        for o in outs]
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first_grads(*args):
        ins = args[: len(inputs)]
        gos = args[len(inputs):]
        with enable_grad():  # the finite differences call this inside no_grad
            o = _outputs(func, ins)
            d = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
            gs = autograd_grad(o, d, list(gos), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros(t.shape)) for g, t in zip(gs, d))

    del diff
    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
