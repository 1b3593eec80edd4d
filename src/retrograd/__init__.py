"""retrograd: backpropagation, done right and shown plainly.

A define-by-run computational graph over NumPy with reverse-mode automatic
differentiation and PyTorch's API: ``import retrograd as torch`` runs PyTorch code
inside the covered subset.
"""

from __future__ import annotations

import importlib as _importlib
import types as _types

from . import backend, cuda
from ._tensor_methods import Tensor as _T  # noqa: F401  (attaches operators and methods)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    Generator,
    bool_,
    default_generator,
    device,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    get_rng_state,
    half,
    initial_seed,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    manual_seed,
    seed,
    set_default_dtype,
    set_rng_state,
    short,
    uint8,
)
from .creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .ops.activation import erf, erfc
from .ops.compare import (
    allclose,
    argsort,
    bincount,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bucketize,
    ceil,
    count_nonzero,
    eq,
    equal,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    nonzero,
    not_equal,
    remainder,
    round,
    searchsorted,
    sort,
    topk,
    trunc,
    unique,
)
from .ops.elementwise import (
    abs,
    absolute,
    add,
    clamp,
    clip,
    cos,
    div,
    divide,
    exp,
    exp2,
    lerp,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    multiply,
    neg,
    negative,
    pow,
    reciprocal,
    relu,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    subtract,
    tanh,
    true_divide,
    where,
)
from .ops.linalg import addmm, bmm, dot, einsum, ger, matmul, mm, mv, outer
from .ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.shape import (
    atleast_2d,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    diagonal,
    flatten,
    flip,
    fliplr,
    flipud,
    gather,
    hstack,
    index_select,
    masked_fill,
    masked_select,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat_interleave,
    reshape,
    roll,
    scatter,
    scatter_add,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    take_along_dim,
    tensor_split,
    tile,
    trace,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from .tensor import TYPED_TENSORS as _TYPED
from .tensor import Size, Tensor

Tensor.erf = lambda self: erf(self)
Tensor.erfc = lambda self: erfc(self)

__version__ = "0.1.0"

bool = bool_  # torch.bool (the dtype); the builtin is not used in this module

strided = "strided"
contiguous_format = preserve_format = channels_last = "contiguous_format"

# legacy typed constructors: LongTensor([1, 2]), FloatTensor(2, 3), isinstance(x, FloatTensor)
FloatTensor, DoubleTensor, HalfTensor = _TYPED["FloatTensor"], _TYPED["DoubleTensor"], \
    _TYPED["HalfTensor"]
LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor = _TYPED["LongTensor"], \
    _TYPED["IntTensor"], _TYPED["ShortTensor"], _TYPED["CharTensor"], _TYPED["ByteTensor"]
BoolTensor = _TYPED["BoolTensor"]


def is_tensor(obj):
    """True if ``obj`` is a retrograd Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.kind == "f"


def numel(input):
    return input.numel()


def clone(input, *, memory_format=None):
    return input.clone()


def detach(input):
    return input.detach()


def set_default_device(device):  # noqa: F811  (PyTorch's argument name)
    """Set the device new tensors go to: ``'cpu'`` (or None), the only device retrograd has.

    Accepted so that device-agnostic scripts run; any other device raises a clear error.
    """
    backend.check_device(device, "set_default_device")


def get_default_device():
    """The device new tensors go to: always ``device(type='cpu')``."""
    return backend.CPU


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Accepted for compatibility; retrograd prints with PyTorch's default style."""


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted for compatibility: every retrograd op is deterministic."""


def set_num_threads(n):
    """Limit BLAS threads (through threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


def get_num_threads():
    import os

    return os.cpu_count() or 1


def compile(model=None, **kwargs):
    """No-op ``torch.compile``: returns the model (or a decorator) unchanged."""
    if model is None:
        return lambda m: m
    return model


# CPU-only answers for other accelerator queries
backends = _types.SimpleNamespace(
    mps=_types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False),
    cudnn=_types.SimpleNamespace(benchmark=False, deterministic=True, enabled=False,
                                 is_available=lambda: False),
)
accelerator = _types.SimpleNamespace(is_available=lambda: False, current_accelerator=lambda: None,
                                     device_count=lambda: 0)
mps = backends.mps

_LAZY = {"nn", "optim", "utils", "data", "train", "diagnostics", "io", "cli", "autograd",
         "special", "models", "text", "testing"}


def __getattr__(name):
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        io = _importlib.import_module(".io", __name__)
        return getattr(io, name)
    raise AttributeError(f"module 'retrograd' has no attribute {name!r}")
