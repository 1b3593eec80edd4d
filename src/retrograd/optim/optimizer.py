"""The Optimizer base class: parameter groups, per-parameter state, checkpoints.

Every optimizer in ``retrograd.optim`` keeps the same three things torch.optim keeps:

* ``param_groups``: a list of dicts, each with a ``'params'`` list and every
  hyper-parameter of the optimizer (missing ones are filled from ``defaults``);
* ``defaults``: the hyper-parameters given to the constructor;
* ``state``: a dict keyed by the parameter Tensor, holding that parameter's buffers
  (``'step'``, ``'momentum_buffer'``, ``'exp_avg'`` ...) as retrograd Tensors.

Updates work on the NumPy arrays behind the tensors (``p._data``), in place, with the
floating-point operations in the order of PyTorch's single-tensor (``foreach=False``)
implementation, so trajectories agree with PyTorch to rounding.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..backend import get_default_dtype
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter without default (``torch.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


# ------------------------------------------------------------------ small helpers
def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _scalar(x) -> float:
    """A hyper-parameter as a Python float (a 1-element Tensor lr is allowed, as in torch).

    Python floats matter: NumPy keeps float32 arrays float32 when combined with a
    Python float, while a ``np.float64`` scalar would silently upcast them.
    """
    if _is_tensor(x):
        if x._data.size != 1:
            raise ValueError(
                f"a Tensor hyper-parameter must have 1 element, got shape {tuple(x.shape)}"
            )
        return float(x._data.reshape(()))
    return float(x)


def _typename(x) -> str:
    mod = type(x).__module__
    return type(x).__qualname__ if mod == "builtins" else f"{mod}.{type(x).__qualname__}"


def _scalar_dtype():
    """dtype of scalar state (``'step'``, ``'mu_product'``): float32, or float64 if default.

    Mirrors torch's ``_get_scalar_dtype`` so that, e.g., NAdam's ``mu_product`` is
    rounded exactly as PyTorch rounds it.
    """
    return np.dtype(np.float64) if get_default_dtype() == np.float64 else np.dtype(np.float32)


# Scalar bookkeeping kept in its own dtype when a state is loaded. PyTorch exempts
# only 'step' and casts NAdam's float32 'mu_product' to the parameter dtype, which
# makes a resumed float64 run drift from the uninterrupted one in the last bits.
_SCALAR_STATE_KEYS = frozenset({"step", "mu_product"})


def _state_tensor(array: np.ndarray):
    """Wrap a freshly made NumPy array as a (non-grad) retrograd Tensor sharing its memory."""
    return Tensor._make(array, None, False)


def _zeros_state(p):
    return _state_tensor(np.zeros_like(p._data))


def _scalar_state(value: float):
    return _state_tensor(np.array(value, dtype=_scalar_dtype()))


def _writable_data(p) -> np.ndarray:
    """The array behind ``p``, made writeable (a read-only view is replaced by a copy)."""
    arr = p._data
    if not arr.flags.writeable:
        arr = arr.copy()
        p._data = arr
    return arr


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """In-place ``start.lerp_(end, weight)`` with PyTorch's two-branch formula.

    Small weights use ``start + w*(end-start)``, large ones ``end - (end-start)*(1-w)``,
    which is what PyTorch's CPU kernel does (it keeps the result exact at w=0 and w=1).
    """
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=start)


class _RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _wrap_step(step_fn):
    """Wrap an optimizer's ``step`` so it records that it ran and runs the step hooks.

    The learning-rate schedulers read ``_opt_called`` to warn when ``scheduler.step()``
    is called before the first ``optimizer.step()`` (the ordering mistake that makes a
    schedule skip its first value).
    """
    if getattr(step_fn, "_retrograd_step_wrapper", False):
        return step_fn

    @functools.wraps(step_fn)
    def step(self, *args, **kwargs):
        if getattr(self, "_in_step", False):  # a subclass calling super().step()
            return step_fn(self, *args, **kwargs)
        self._opt_called = True
        for hook in list(getattr(self, "_optimizer_step_pre_hooks", {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"optimizer step pre-hook {hook} must return None or a tuple "
                        f"(new_args, new_kwargs), but got {result!r}"
                    )
                args, kwargs = result
        self._in_step = True
        try:
            out = step_fn(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(getattr(self, "_optimizer_step_post_hooks", {}).values()):
            hook(self, args, kwargs)
        return out

    step._retrograd_step_wrapper = True
    return step


# ------------------------------------------------------------------ the base class
class Optimizer:
    r"""Base class for all optimizers (mirrors ``torch.optim.Optimizer``).

    Args:
        params (iterable): an iterable of Tensors (a generator such as
            ``model.parameters()`` is fine), of ``(name, Tensor)`` pairs, or of dicts
            defining parameter groups (each with a ``'params'`` entry and any
            hyper-parameters that should differ from ``defaults``).
        defaults (dict): default values of the optimization options, used for
            parameter groups that don't specify them.

    A subclass implements :meth:`step`; it reads each group's hyper-parameters,
    skips parameters whose ``grad`` is ``None``, creates state lazily and updates the
    parameters in place.

    Example::

        >>> optimizer = retrograd.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> loss_fn(model(x), y).backward()
        >>> optimizer.step()
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _wrap_step(cls.__dict__["step"])

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if _is_tensor(params):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got {_typename(params)}. Wrap a single tensor in a list: [t]."
            )
        if isinstance(params, dict):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a dict. To give one parameter group, wrap it in a list: [group]."
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list (is the model empty, or was its "
                "parameters() generator already consumed?)"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -------------------------------------------------------------- pickling / repr
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self.defaults.setdefault("differentiable", False)
        # Old checkpoints stored 'step' as a plain number; make it a scalar Tensor.
        for p_state in self.state.values():
            if isinstance(p_state, dict) and "step" in p_state and not _is_tensor(p_state["step"]):
                p_state["step"] = _scalar_state(float(p_state["step"]))

    def __repr__(self) -> str:
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    # -------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a param group to the optimizer's ``param_groups``.

        Useful when fine-tuning: frozen layers can be made trainable and added to the
        optimizer as training progresses.

        Args:
            param_group (dict): the Tensors to optimize (``'params'``) along with
                group-specific optimization options; options not given take the
                optimizer's defaults.

        Raises:
            ValueError: a parameter already belongs to another group, a required
                option is missing, or a parameter is a non-leaf tensor.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if _is_tensor(params):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. "
                    "Some param names are missing"
                )
            param_group["param_names"] = names

        for param in tensors:
            if not _is_tensor(param):
                raise TypeError(
                    "optimizer can only optimize Tensors, "
                    f"but one of the params is {_typename(param)}"
                )
            if not self.defaults.get("differentiable", None) and not (
                getattr(param, "is_leaf", True) or getattr(param, "retains_grad", False)
            ):
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it was computed from other tensors); "
                    "optimize the leaf tensors it came from, or detach it and set "
                    "requires_grad=True"
                )

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool): instead of filling the gradients with zeros, set them
                to ``None`` (default ``True``). A parameter whose grad is ``None`` is
                skipped by :meth:`step`, while a zero gradient still takes a step
                (weight decay and momentum keep acting).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None or g.requires_grad:
                    g = g.detach()
                    p.grad = g
                if g._data.flags.writeable:
                    g._data.fill(0)
                else:
                    g._data = np.zeros_like(g._data)

    def step(self, closure=None):
        """Perform a single optimization step (implemented by each optimizer).

        Args:
            closure (Callable, optional): a closure that re-evaluates the model and
                returns the loss.
        """
        raise NotImplementedError

    @staticmethod
    def _eval_closure(closure):
        if closure is None:
            return None
        # Optimizers run their updates without recording a graph; the closure must
        # still build one so that its backward() fills the gradients.
        with enable_grad():
            return closure()

    # -------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` to run before step.

        Returns:
            a handle whose ``remove()`` unregisters the hook.
        """
        handle = _RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """Register a hook ``hook(optimizer, args, kwargs) -> None`` run after ``step``.

        Returns:
            a handle whose ``remove()`` unregisters the hook.
        """
        handle = _RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # -------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Return the optimizer's state as a dict, in PyTorch's layout.

        It holds two entries:

        * ``'state'``: a dict from parameter index to that parameter's state dict
          (its buffers as Tensors, e.g. ``{'step': tensor(3.), 'exp_avg': ...}``);
        * ``'param_groups'``: a list of the groups' option dicts, where ``'params'``
          is the list of parameter indices (counted across groups, in order).

        Like PyTorch, the tensors are the live state buffers, not copies: save the
        dict (or deep-copy it) before the next ``step`` if you keep it around.
        """
        mapping: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if _is_tensor(k) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load an optimizer state produced by :meth:`state_dict`.

        The saved groups must match this optimizer's groups in number and size.
        State buffers are copied and cast to their parameter's dtype (the scalar
        ``'step'`` and ``'mu_product'`` keep their own), so the loaded optimizer
        continues bit for bit where the saved one stopped and shares no memory with
        ``state_dict``.

        Args:
            state_dict (dict): optimizer state, as returned by :meth:`state_dict`.

        Call this *after* constructing any learning-rate scheduler for this
        optimizer: a scheduler's constructor writes the learning rates.
        """
        if (
            not isinstance(state_dict, dict)
            or "state" not in state_dict
            or "param_groups" not in state_dict
        ):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected a dict with keys 'state' and "
                "'param_groups' (as returned by optimizer.state_dict())"
            )
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(groups)} in this optimizer)"
            )
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group (group {i}: {len(sg['params'])} saved parameters, "
                    f"{len(g['params'])} in this optimizer)"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def cast(param, value, key=None):
            if _is_tensor(value):
                arr = value._data
                if key not in _SCALAR_STATE_KEYS and param._data.dtype.kind == "f":
                    arr = arr.astype(param._data.dtype, copy=True)
                else:
                    arr = arr.copy()
                return _state_tensor(arr)
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return copy.deepcopy(value)

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})


def _check_unsupported(
    opt_name: str, differentiable: bool = False, capturable: bool = False
) -> None:
    """Refuse the PyTorch options that only make sense for autograd-through-step or GPUs.

    ``foreach`` and ``fused`` are accepted and ignored: retrograd has a single
    vectorised NumPy implementation, which follows PyTorch's ``foreach=False`` one.
    """
    if differentiable:
        raise NotImplementedError(
            f"{opt_name}: differentiable=True is not supported; retrograd updates parameters "
            "in place outside the autograd graph. Leave differentiable=False."
        )
    if capturable:
        raise NotImplementedError(
            f"{opt_name}: capturable=True (CUDA graph capture) is not supported; leave it False."
        )


_CHUNK = 1 << 16


def _add_scaled_(y, x, alpha):
    """``y += alpha * x`` in place without a full-size temporary (the same arithmetic, done
    in chunks of 64K elements), so a large parameter's update allocates almost nothing."""
    if y.size <= _CHUNK or not (y.flags.c_contiguous and x.flags.c_contiguous) or x.shape != y.shape:
        y += alpha * x
        return
    yf, xf = y.reshape(-1), x.reshape(-1)
    tmp = np.empty(_CHUNK, dtype=np.result_type(xf.dtype, alpha))
    for start in range(0, yf.size, _CHUNK):
        stop = min(start + _CHUNK, yf.size)
        t = tmp[: stop - start]
        np.multiply(xf[start:stop], alpha, out=t)
        yf[start:stop] += t
