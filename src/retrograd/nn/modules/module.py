"""``Module``: the base class of every layer and model, with PyTorch's contract.

Parameters, buffers and submodules are registered by attribute assignment; the
module tree gives ``parameters()``, ``state_dict()`` with PyTorch's key names,
train/eval mode, dtype conversion and hooks.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from ... import backend
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node, _record, _RemovableHandle, apply
from ...tensor import Tensor
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


_global_forward_hooks = OrderedDict()
_global_forward_pre_hooks = OrderedDict()


class Module:
    """Base class for all neural-network modules.

    Subclasses define ``forward`` and assign layers and parameters as attributes in
    ``__init__`` (after calling ``super().__init__()``)::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

    Calling the module (``net(x)``) runs the forward pre-hooks, ``forward`` and the
    forward hooks; backward hooks see the gradients flowing through it.
    """

    training: bool
    _version = 1
    dump_patches = False
    call_super_init = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"{args} {list(kwargs)}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()

    forward = None  # subclasses define it

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(retrograd.nn.Parameter or None expected)")
            if value is not None and not isinstance(value, Parameter):
                raise TypeError(f"cannot assign 'Tensor' as parameter '{name}' (retrograd.nn.Parameter "
                                "or None expected); wrap it: nn.Parameter(tensor)")
            params[name] = value
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(retrograd.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(retrograd.Tensor or None expected)")
            buffers[name] = value
            return
        if isinstance(value, Tensor) and value.__dict__.get("_is_buffer"):
            self.register_buffer(name, value, persistent=value.__dict__.get("_buffer_persistent", True))
            return
        object.__setattr__(self, name, value)

    def _remove_from(self, name, keep=None):
        # the store being assigned to is kept: replacing a layer keeps its place (and so the
        # order of parameters() and state_dict()), as in PyTorch
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep and name in d.get(key, ()):
                del d[key][name]
        d.pop(name, None)
        d.get("_non_persistent_buffers_set", set()).discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name, param):
        """Add a parameter (or ``None``) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(retrograd.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                             "must be created explicitly: use .detach() first")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is saved in ``state_dict`` (if persistent) but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(retrograd.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", allow_dot=False)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item) or not isinstance(getattr(mod, item), Module):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}` (a submodule)")
            mod = getattr(mod, item)
        return mod

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    def get_buffer(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # ------------------------------------------------------------------ iteration
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """All modules in the tree (this one first), as ``(qualified_name, module)``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, get, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for k, v in get(mod):
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, Parameter)`` pairs, with PyTorch's dotted names (``features.0.weight``)."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse=True):
        """The learnable parameters (each once), for an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and conversion
    def train(self, mode=True):
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode (equivalent to ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, as PyTorch does)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on self; e.g. custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert):
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    new = convert(t._data)
                    if new is not t._data:
                        t._data = new
                        if t.grad is not None:
                            t.grad._data = convert(t.grad._data)
        return self

    def to(self, *args, **kwargs):
        """Convert floating-point parameters and buffers to a dtype (in place); devices: CPU only."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, backend.device) or (isinstance(a, str) and a.split(":")[0] in
                                                   ("cpu", "cuda", "mps", "meta", "xpu")):
                device = a
            elif a is not None:
                dtype = a
        backend.check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = backend.to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._apply_to_tensors(
            lambda a: a.astype(dtype) if a.dtype.kind == "f" and a.dtype != dtype else a)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def type(self, dst_type):
        return self.to(dst_type)

    def cpu(self):
        return self

    def cuda(self, device=None):
        backend.check_device("cuda", f"{type(self).__name__}.cuda")

    def share_memory(self):
        return self

    # ------------------------------------------------------------------ calling
    def _call_impl(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"] or _global_forward_hooks or _global_forward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hid, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                         d["_forward_pre_hooks"].items()):
            if d["_forward_pre_hooks_with_kwargs"].get(hid):
                r = hook(self, args, kwargs)
                if r is not None:
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        bw = None
        if d["_backward_hooks"] or d["_backward_pre_hooks"]:
            bw = _BackwardHookState(self)
            args = bw.setup_inputs(args)
        result = self.forward(*args, **kwargs)
        for hid, hook in itertools.chain(_global_forward_hooks.items(), d["_forward_hooks"].items()):
            if d["_forward_hooks_with_kwargs"].get(hid):
                r = hook(self, args, kwargs, result)
            else:
                r = hook(self, args, result)
            if r is not None:
                result = r
        if bw is not None:
            result = bw.setup_outputs(result)
        return result

    __call__ = _call_impl

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args) -> None or new args``, called before ``forward``."""
        return _add_hook(self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs,
                         with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output) -> None or new output``, called after ``forward``."""
        return _add_hook(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output) -> None or new grad_input``, during backward.

        ``grad_output`` holds the gradients w.r.t. the module's outputs, ``grad_input``
        those w.r.t. its (tensor) inputs; returning a tuple replaces ``grad_input``.
        """
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output) -> None or new grad_output``, before the module's backward."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        return self.register_full_backward_hook(hook)

    # ------------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer, keyed PyTorch-style.

        The tensors share memory with the module (detached); copy them to keep a snapshot.
        """
        if args:  # legacy positional (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            r = hook(self, destination, prefix, None)
            if r is not None:
                destination = r
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        local = {k: v for k, v in self._parameters.items() if v is not None}
        local.update({k: v for k, v in self._buffers.items()
                      if v is not None and k not in self._non_persistent_buffers_set})
        for name, t in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = _to_array(state_dict[key])
            if value.shape != t._data.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {_sz(value.shape)} from "
                    f"checkpoint, the shape in current model is {_sz(t._data.shape)}."
                )
                continue
            if assign:
                t._data = value.astype(t._data.dtype, copy=True)
            else:
                t._data[...] = value
            t._version[0] += 1

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` (retrograd tensors, NumPy arrays,
        or anything array-like, e.g. a converted PyTorch state dict).

        With ``strict=True`` a missing or unexpected key raises; a shape mismatch always
        raises, naming the key and both shapes. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, unexpected, errors = [], [], []
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, "", {}, strict, missing, unexpected, errors)

        def load(module, prefix):
            module._load_from_state_dict(state_dict, prefix, {}, True, missing, unexpected, errors,
                                         assign)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        expected = set(self.state_dict().keys())
        unexpected.extend(k for k in state_dict if k not in expected and k not in unexpected)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    def register_state_dict_pre_hook(self, hook):
        return _add_hook(OrderedDict(), hook, False)

    def _register_state_dict_hook(self, hook):
        return _add_hook(self._state_dict_hooks, hook, False)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        if with_module:
            mod = self
            return _add_hook(self._load_state_dict_pre_hooks,
                             lambda *a: hook(mod, *a), False)
        return _add_hook(self._load_state_dict_pre_hooks, hook, False)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """Extra text shown inside this module's repr (override in layers)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            text = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __getstate__(self):
        return self.__dict__.copy()


def _sz(shape):
    return f"retrograd.Size({list(shape)})"


def _to_array(v):
    if isinstance(v, Tensor):
        return v._data
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch.Tensor
        v = v.detach().cpu().numpy()
    return np.asarray(v)


def _check_name(name, what, allow_dot=False):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{what} name can\'t be empty string ""')
    if "." in name and not allow_dot:
        raise KeyError(f'{what} name can\'t contain ".", got: {name}')


_hook_ids = itertools.count()


class _HookHandle(_RemovableHandle):
    __slots__ = ("_dict", "_id", "_extra")

    def __init__(self, d, hid, extra=None):
        self._dict, self._id, self._extra = d, hid, extra

    def remove(self):
        self._dict.pop(self._id, None)
        if self._extra is not None:
            self._extra.pop(self._id, None)

    @property
    def id(self):
        return self._id


def _add_hook(store, hook, prepend, kw_store=None, with_kwargs=False):
    hid = next(_hook_ids)
    store[hid] = hook
    if prepend:
        store.move_to_end(hid, last=False)
    if kw_store is not None and with_kwargs:
        kw_store[hid] = True
    return _HookHandle(store, hid, kw_store)


def register_module_forward_hook(hook):
    return _add_hook(_global_forward_hooks, hook, False)


def register_module_forward_pre_hook(hook):
    return _add_hook(_global_forward_pre_hooks, hook, False)


# ---------------------------------------------------------------------- backward hooks

class _GradCapture(Node):
    """Identity op whose backward reports the gradient flowing through it."""

    save_inputs = False

    def __init__(self, state, index, kind):
        self.state, self.index, self.kind = state, index, kind

    def forward(self, a):
        return a

    def backward(self, g):
        return self.state.on_grad(self.kind, self.index, g)


class _BackwardHookState:
    """Ties a module call's outputs and inputs together so its backward hooks see both sides."""

    def __init__(self, module):
        self.module = module
        self.n_in = 0
        self.grad_inputs = None
        self.grad_outputs = None
        self.pending_out = 0
        self.pending_in = 0
        self.input_needs = ()

    def setup_inputs(self, args):
        needs = [isinstance(a, Tensor) and a.requires_grad for a in args]
        self.n_in = len(args)
        self.input_needs = needs
        self.pending_in = sum(needs)
        self.grad_inputs = [None] * len(args)
        if not self.pending_in or not GRAD.enabled:
            return tuple(args)
        # One node for all inputs: the hooks run once every input's gradient has arrived,
        # and what they return reaches every input (not only the last one to arrive).
        index = [i for i, n in enumerate(needs) if n]
        node = _InputsCapture(self, index)
        base = _record(node, [args[i] for i in index], [None] * len(index), np.zeros(()))
        out = list(args)
        for k, i in enumerate(index):
            out[i] = _record(_SlotSelect(k), (base,), [None], args[i]._data)
        return tuple(out)

    def setup_outputs(self, result):
        single = isinstance(result, Tensor)
        outs = [result] if single else list(result) if isinstance(result, (tuple, list)) else [result]
        self.grad_outputs = [None] * len(outs)
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                wrapped.append(apply(_GradCapture(self, i, "out"), o))
                self.pending_out += 1
            else:
                wrapped.append(o)
        if single:
            return wrapped[0]
        return type(result)(wrapped) if isinstance(result, tuple) else wrapped

    def _wrap(self, g):
        return g if isinstance(g, Tensor) or g is None else Tensor._make(g, None)

    def on_grad(self, kind, index, g):
        if kind == "out":
            self.grad_outputs[index] = g
            self.pending_out -= 1
            if self.pending_out == 0:
                gout = tuple(self._wrap(x) for x in self.grad_outputs)
                for hook in self.module._backward_pre_hooks.values():
                    r = hook(self.module, gout)
                    if r is not None:
                        gout = tuple(r)
                        g = gout[index]._data if g.__class__ is np.ndarray else gout[index]
                self.grad_outputs = list(gout)
                if self.pending_in == 0:
                    # no input needs a gradient: PyTorch calls the hooks with grad_input of Nones
                    for hook in self.module._backward_hooks.values():
                        hook(self.module, (None,) * max(self.n_in, 1), gout)
            return g
        raise AssertionError("input gradients arrive through _InputsCapture")

    def on_input_grads(self, index, gs):
        """All gradients w.r.t. the module's inputs are in: run the backward hooks."""
        for i, g in zip(index, gs):
            self.grad_inputs[i] = g
        gin = tuple(self._wrap(x) for x in self.grad_inputs)
        gout = tuple(self._wrap(x) for x in (self.grad_outputs or ()))
        for hook in self.module._backward_hooks.values():
            r = hook(self.module, gin, gout)
            if r is not None:
                gin = tuple(r)
        plain = not GRAD.enabled  # the engine records the backward only under create_graph
        res = []
        for i in index:
            new = gin[i]
            res.append(None if new is None else new._data if plain and isinstance(new, Tensor)
                       else new)
        return res[0] if len(res) == 1 else tuple(res)


class _InputsCapture(Node):
    """Joins the inputs of a hooked module call: its backward receives the gradient of every
    input at once (one slot each, via :class:`_SlotSelect`) and hands them to the hooks."""

    save_inputs = False
    multi_output = True

    def __init__(self, state, index):
        self.state, self.index = state, index
        self.n_outputs = len(index)

    def backward(self, g):
        return self.state.on_input_grads(self.index, list(g))


class _SlotSelect(Node):
    """Input ``k`` of an :class:`_InputsCapture`, as the module's forward sees it."""

    save_inputs = False

    def __init__(self, k):
        self.k = k

    def backward(self, g):
        return (self.k, g)
