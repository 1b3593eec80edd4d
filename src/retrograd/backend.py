"""The array layer: NumPy, dtypes, the device story and random numbers.

Everything above this module speaks NumPy through here, so dtype rules and the
random generator live in one place.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- dtypes
# retrograd's dtypes *are* NumPy dtypes, so `np.zeros(3, dtype=retrograd.float32)`
# works and no translation table is needed.
float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_default_float = float32


def get_default_dtype():
    """Return the dtype floating-point tensors get when none is asked for (float32)."""
    return _default_float


def set_default_dtype(dtype):
    """Set the default floating-point dtype (float32 or float64), like ``torch.set_default_dtype``."""
    global _default_float
    dtype = to_dtype(dtype)
    if dtype not in (float32, float64, float16):
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_float = dtype


_DTYPE_NAMES = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "float16": float16, "half": float16, "int64": int64, "long": int64,
    "int32": int32, "int": int32, "int16": int16, "int8": int8, "uint8": uint8,
    "bool": bool_,
}


def to_dtype(dtype):
    """Turn anything naming a dtype (np.dtype, numpy type, 'float32', torch-style name) into np.dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str):
        name = dtype.replace("torch.", "").replace("retrograd.", "")
        if name in _DTYPE_NAMES:
            return _DTYPE_NAMES[name]
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; use e.g. retrograd.float32 or retrograd.int64") from None


import builtins as _builtins  # noqa: E402  (after the dtype names that shadow builtins)

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


# ---------------------------------------------------------------- devices
class device:
    """A device descriptor. retrograd computes on the CPU; 'cpu' is the only real device.

    ``device('cuda')`` can be *named* (so scripts that build a device object run), but
    moving a tensor to it raises a clear error; ``retrograd.cuda.is_available()`` is False.
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        type = str(type)
        if ":" in type:
            type, idx = type.split(":", 1)
            index = _builtins.int(idx)
        self.type = type
        self.index = index

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(dev, where="tensor"):
    """Accept None/'cpu'/device('cpu'); refuse anything else with a clear message."""
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cpu":
        raise RuntimeError(
            f"{where}: device {str(d)!r} is not available: retrograd computes on the CPU with NumPy. "
            "Use device='cpu' (retrograd.cuda.is_available() returns False, so the usual "
            "`'cuda' if torch.cuda.is_available() else 'cpu'` picks the CPU)."
        )
    return CPU


# ---------------------------------------------------------------- random numbers
class Generator:
    """A seedable source of random numbers, like ``torch.Generator``.

    Wraps a NumPy ``Generator`` (PCG64). ``retrograd.manual_seed(s)`` reseeds the
    global default generator, which every random draw in the library uses unless
    a ``generator=`` is passed.
    """

    def __init__(self, device="cpu"):
        check_device(device, "Generator")
        self._seed = 67280421310721
        self.np = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        seed = _builtins.int(seed)
        self._seed = seed
        self.np = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self):
        s = _builtins.int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 array (JSON-encoded bit-generator state)."""
        import json

        blob = json.dumps(self.np.bit_generator.state).encode()
        return np.frombuffer(blob, dtype=np.uint8).copy()

    def set_state(self, state):
        import json

        arr = state.numpy() if hasattr(state, "numpy") else np.asarray(state)
        self.np.bit_generator.state = json.loads(arr.astype(np.uint8).tobytes().decode())
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the global generator so that every random draw in retrograd is reproducible."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None) -> np.random.Generator:
    """The NumPy generator to draw from: the given retrograd Generator's, else the global one."""
    return (generator or default_generator).np
