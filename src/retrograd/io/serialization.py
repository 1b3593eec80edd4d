"""``retrograd.save`` / ``retrograd.load``: safe files in the safetensors format.

A retrograd file is a standard safetensors file. Every tensor (or NumPy array) found
in the saved object becomes one safetensors entry, named by its path in the object
(``'fc.weight'`` for a state dict, ``'optimizer.state.0.momentum_buffer'`` in a
checkpoint); everything else (the nesting, the Python scalars and strings, which
containers are tuples, which keys are ints) is a JSON "skeleton" stored in the
file's ``__metadata__``. Loading rebuilds the object from the skeleton and the
entries. Nothing is ever pickled, so loading a file can never run code.

The exact layout is documented in ``docs/serialization.md``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import zlib
from collections import OrderedDict

import numpy as np

from .. import backend
from ..tensor import Tensor
from ._atomic import atomic_write

__all__ = ["CheckpointError", "save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1

# __metadata__ keys written by retrograd (safetensors metadata is a str -> str map)
_META_FORMAT = "format"
_META_VERSION = "retrograd.version"
_META_SKELETON = "retrograd.skeleton"
_META_CRC = "retrograd.crc32"
_FORMAT_NAME = "retrograd"

# safetensors refuses headers above 100 MB; a larger length field means garbage.
_MAX_HEADER = 100 * 1024 * 1024

_SAFETENSORS_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
    "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}
_SAVABLE_KINDS = {"b", "i", "u", "f"}

_INSTALL_HINT = "pip install retrograd[train]  (or: pip install safetensors)"


class CheckpointError(RuntimeError):
    """A file could not be loaded: truncated, corrupted, or not a retrograd/safetensors file.

    The message names the file and what is wrong with it.
    """


def _safetensors_numpy():
    try:
        import safetensors.numpy as st_numpy
    except ImportError:
        raise ImportError(
            "retrograd.save/load need the 'safetensors' package, an optional dependency of "
            f"retrograd: {_INSTALL_HINT}"
        ) from None
    return st_numpy


# ====================================================================== packing
def _path_str(path) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _encode_float(x: float):
    # JSON has no NaN/Infinity; Python floats otherwise round-trip exactly via repr.
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


class _Packer:
    """Walks an object, collecting arrays and building the JSON skeleton."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._by_id: dict[int, str] = {}
        self._alive = []  # keeps packed objects alive so their ids stay unique

    def _new_key(self, path) -> str:
        base = ".".join(str(p) for p in path) or "tensor"
        key, n = base, 1
        while key in self.arrays or key == "__metadata__":
            key, n = f"{base}#{n}", n + 1
        return key

    def _add_array(self, obj, arr: np.ndarray, path) -> str:
        # The same object saved twice (tied weights) is stored once and loads as
        # one object again.
        if id(obj) in self._by_id:
            return self._by_id[id(obj)]
        if arr.dtype.kind not in _SAVABLE_KINDS:
            raise TypeError(
                f"retrograd.save: cannot save the array at {_path_str(path)} with dtype "
                f"{arr.dtype}: only bool, integer and floating-point arrays can be stored"
            )
        # safetensors copies raw memory: it needs C order, and little-endian bytes.
        # (np.ascontiguousarray would turn a 0-d array into a 1-d one)
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _LITTLE):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        key = self._new_key(path)
        self.arrays[key] = arr
        self._by_id[id(obj)] = key
        self._alive.append(obj)
        return key

    def pack(self, obj, path=()):
        t = type(obj)
        if obj is None or t is bool or t is int or t is str:
            return obj
        if t is float:
            return _encode_float(obj)
        if isinstance(obj, Tensor):
            key = self._add_array(obj, obj._data, path)
            from ..nn.parameter import Parameter

            if isinstance(obj, Parameter):
                return {"$parameter": key, "requires_grad": bool(obj.requires_grad)}
            node = {"$tensor": key}
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self._add_array(obj, obj, path)}
        if isinstance(obj, dict):
            tag = "$odict" if isinstance(obj, OrderedDict) else "$dict"
            if all(type(k) is str for k in obj):
                return {tag: {k: self.pack(v, path + (k,)) for k, v in obj.items()}}
            return {tag: [[self._pack_key(k, path), self.pack(v, path + (k,))]
                          for k, v in obj.items()]}
        if t is list:
            return [self.pack(v, path + (i,)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):  # a namedtuple is stored as a plain tuple
            return {"$tuple": [self.pack(v, path + (i,)) for i, v in enumerate(obj)]}
        if isinstance(obj, np.generic) and obj.dtype.kind in _SAVABLE_KINDS:
            value = obj.item()
            return {"$scalar": obj.dtype.name,
                    "value": _encode_float(value) if isinstance(value, float) else value}
        if isinstance(obj, np.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, backend.device):
            return {"$device": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        # subclasses of the plain types (IntEnum, str subclasses...) keep their value
        for base in (bool, int, float, str):
            if isinstance(obj, base):
                return self.pack(base(obj), path)
        if isinstance(obj, list):
            return self.pack(list(obj), path)
        if callable(getattr(obj, "state_dict", None)):
            # torch.save(model, PATH) pickles the whole object; say what to do instead
            from ..nn import Module

            var = "model" if isinstance(obj, Module) else "optimizer"
            where = f" at {_path_str(path)}" if path else ""
            raise TypeError(
                f"retrograd.save: cannot save a whole {t.__name__} object{where}: "
                "PyTorch would pickle it, and retrograd never pickles (loading a pickle can run "
                "arbitrary code). Save its state_dict() instead, and load that into a freshly "
                f"built {t.__name__}: torch.save({var}.state_dict(), PATH), then "
                f"{var}.load_state_dict(torch.load(PATH, weights_only=True))."
            )
        raise TypeError(
            f"retrograd.save: cannot save a {t.__name__} at {_path_str(path)}. A retrograd file "
            "holds only tensors, NumPy arrays and scalars, None, bool, int, float, str, bytes, "
            "lists, tuples and dicts: it never pickles, so loading a file can never run code. "
            "Convert the value to those types (e.g. a state_dict()) or leave it out."
        )

    def _pack_key(self, k, path):
        if k is None or type(k) in (bool, int, str):
            return k
        if type(k) is float:
            return _encode_float(k)
        if isinstance(k, tuple):
            return {"$tuple": [self._pack_key(x, path) for x in k]}
        raise TypeError(
            f"retrograd.save: cannot save the dict key {k!r} ({type(k).__name__}) at "
            f"{_path_str(path)}: dict keys must be None, bool, int, float, str or tuples of them"
        )


_LITTLE = np.little_endian


def _crc(arr: np.ndarray) -> int:
    return zlib.crc32(arr.reshape(-1).view(np.uint8))


# ====================================================================== save
def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False, *, metadata=None):
    """Save an object to a file, safely (safetensors, never pickle) and atomically.

    ``obj`` may be a tensor, a state dict, or any nesting of dicts (str, int, float,
    bool, None or tuple keys), lists and tuples holding tensors, NumPy arrays and
    scalars, ``None``, ``bool``, ``int``, ``float``, ``str`` and ``bytes``, e.g. a
    training checkpoint ``{'model': model.state_dict(), 'optimizer':
    opt.state_dict(), 'epoch': 3}``. :func:`load` rebuilds it exactly (tuples stay
    tuples, int keys stay ints, ``OrderedDict`` stays ``OrderedDict``). Arbitrary
    Python objects (modules, functions, classes) are refused with a clear error:
    save their ``state_dict()`` instead.

    A path is written atomically: the data goes to a temporary file in the same
    directory, is flushed and fsync'ed, then renamed over ``f``; a crash at any
    point leaves the previous file intact.

    Args:
        obj: the object to save.
        f (str, os.PathLike or binary file object): where to write. A file object
            receives the bytes with one ``write`` (no atomicity: the caller owns it).
        pickle_module, pickle_protocol: accepted for compatibility with
            ``torch.save``; ignored (retrograd never pickles).
        metadata (dict[str, str], optional): extra text entries for the safetensors
            ``__metadata__`` header (keys must not start with ``'retrograd.'``).

    Example::

        >>> retrograd.save(model.state_dict(), "model.safetensors")      # doctest: +SKIP
        >>> model.load_state_dict(retrograd.load("model.safetensors"))   # doctest: +SKIP
    """
    data = save_to_bytes(obj, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        if hasattr(f, "flush"):
            f.flush()
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(
            f"retrograd.save: f must be a path (str or os.PathLike) or a binary file object, "
            f"got {type(f).__name__}"
        )
    atomic_write(f, data, what="retrograd.save")


def save_to_bytes(obj, *, metadata=None) -> bytes:
    """Serialize ``obj`` as :func:`save` does and return the file's bytes."""
    st_numpy = _safetensors_numpy()
    packer = _Packer()
    skeleton = packer.pack(obj)
    meta = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("retrograd.save: metadata must map str to str, got "
                                f"{k!r}: {type(v).__name__}")
            if k.startswith("retrograd.") or k == _META_FORMAT:
                raise ValueError(f"retrograd.save: metadata key {k!r} is reserved by retrograd")
            meta[k] = v
    meta[_META_FORMAT] = _FORMAT_NAME
    meta[_META_VERSION] = str(FORMAT_VERSION)
    meta[_META_SKELETON] = json.dumps(skeleton, separators=(",", ":"), allow_nan=False)
    meta[_META_CRC] = json.dumps({k: _crc(a) for k, a in packer.arrays.items()},
                                 separators=(",", ":"))
    return st_numpy.save(packer.arrays, metadata=meta)


# ====================================================================== load
def _name_of(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__} object>"


def _fail(name, msg):
    return CheckpointError(f"retrograd.load: cannot load {name!r}: {msg}")


def _read_header(data: bytes, name: str) -> dict:
    """Parse and check the safetensors header, turning every problem into a clear error."""
    n = len(data)
    if data[:4] == b"PK\x03\x04" or (n >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5):
        raise _fail(name, (
            "this is a pickle/zip file (as written by torch.save), not a safetensors file. "
            "retrograd never unpickles (unpickling can run arbitrary code). Convert it once, "
            "with PyTorch, from a source you trust: `import torch, safetensors.torch; "
            "safetensors.torch.save_file(torch.load(path), 'model.safetensors')`"
        ))
    if n < 8:
        raise _fail(name, f"the file is {'empty' if n == 0 else f'only {n} bytes long'}; a "
                          "safetensors file starts with an 8-byte header length (the write was "
                          "probably interrupted, or this is not a retrograd file)")
    header_len = struct.unpack("<Q", data[:8])[0]
    if header_len > _MAX_HEADER:
        raise _fail(name, f"not a safetensors file (its first 8 bytes give a header length of "
                          f"{header_len} bytes, beyond the format's limit)")
    if 8 + header_len > n:
        raise _fail(name, f"the file is truncated: the header declares {header_len} bytes but "
                          f"only {n - 8} follow the length field")
    raw = data[8:8 + header_len]
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(name, f"the header is corrupted (not valid JSON: {e})") from None
    if not isinstance(header, dict):
        raise _fail(name, "the header is corrupted (not a JSON object)")
    data_len = n - 8 - header_len
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict):
                raise _fail(name, "the header is corrupted (__metadata__ is not an object)")
            continue
        try:
            begin, stop = (int(x) for x in info["data_offsets"])
            shape = info["shape"]
            if not all(type(d) is int and d >= 0 for d in shape):
                raise ValueError(shape)
            size = _SAFETENSORS_DTYPES[info["dtype"]] * math.prod(shape)
        except (KeyError, TypeError, ValueError):
            raise _fail(name, f"the header entry for tensor {key!r} is corrupted or uses an "
                              f"unsupported dtype: {info!r}") from None
        if stop - begin != size:
            raise _fail(name, f"the header entry for tensor {key!r} is corrupted (its offsets "
                              f"span {stop - begin} bytes, its dtype and shape need {size})")
        end = max(end, stop)
    if end > data_len:
        raise _fail(name, f"the file is truncated: its tensors need {end} bytes of data but "
                          f"only {data_len} are present (the write was probably interrupted)")
    if end < data_len:
        raise _fail(name, f"the file is corrupted: {data_len - end} unexpected bytes follow the "
                          "tensor data")
    return header


def _to_tensor_mapper(map_location):
    """Check ``map_location`` (everything lands on the CPU) and return a per-tensor hook."""
    if map_location is None:
        return None
    if callable(map_location) and not isinstance(map_location, (str, backend.device)):
        return map_location
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        backend.check_device(target, "retrograd.load(map_location=...)")
    return None


class _Unpacker:
    def __init__(self, arrays, name, mapper):
        self.arrays = arrays
        self.name = name
        self.mapper = mapper
        self._memo: dict[tuple, object] = {}

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise _fail(self.name, f"the skeleton refers to a tensor {key!r} that the file does "
                                   "not contain (corrupted metadata)")
        return self.arrays[key]

    def _shared(self, kind, key, make):
        # a key referenced twice (tied weights) loads as one shared object
        memo_key = (kind, key)
        if memo_key not in self._memo:
            self._memo[memo_key] = make(self._array(key))
        return self._memo[memo_key]

    def _tensor(self, arr, requires_grad=False, parameter=False):
        if parameter:
            from ..nn.parameter import Parameter

            return Parameter(Tensor._make(arr), requires_grad=requires_grad)
        t = Tensor._make(arr)
        if requires_grad:
            t.requires_grad_(True)
        if self.mapper is not None:
            mapped = self.mapper(t, "cpu")
            if mapped is not None:
                t = mapped
        return t

    def unpack(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.unpack(v) for v in node]
        if not isinstance(node, dict) or not node:
            raise self._bad(node)
        tag = next(iter(node))
        if tag in ("$dict", "$odict"):
            body = node[tag]
            cls = OrderedDict if tag == "$odict" else dict
            if isinstance(body, dict):
                return cls((k, self.unpack(v)) for k, v in body.items())
            if isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 for p in body):
                return cls((self._unpack_key(k), self.unpack(v)) for k, v in body)
            raise self._bad(node)
        if tag == "$tuple":
            return tuple(self.unpack(v) for v in node[tag])
        if tag == "$tensor":
            rg = bool(node.get("requires_grad", False))
            return self._shared("t", node[tag], lambda a: self._tensor(a, rg))
        if tag == "$parameter":
            rg = bool(node.get("requires_grad", True))
            return self._shared("p", node[tag], lambda a: self._tensor(a, rg, parameter=True))
        if tag == "$ndarray":
            return self._shared("a", node[tag], lambda a: a)
        if tag == "$float":
            return float(node[tag])
        if tag == "$scalar":
            value = node.get("value")
            if isinstance(value, dict):
                value = self.unpack(value)
            return np.dtype(node[tag]).type(value)
        if tag == "$dtype":
            return np.dtype(node[tag])
        if tag == "$device":
            return backend.device(node[tag])
        if tag == "$bytes":
            return base64.b64decode(node[tag])
        raise self._bad(node)

    def _unpack_key(self, k):
        value = self.unpack(k)
        if isinstance(value, list):
            raise self._bad(k)
        return value

    def _bad(self, node):
        text = json.dumps(node)[:80]
        return _fail(self.name, f"the metadata skeleton is corrupted or from a newer retrograd "
                                f"(unexpected node {text})")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved with :func:`save` (or any safetensors file).

    Loading never executes code: the file holds only raw tensor bytes and a JSON
    description of the object around them. A file written by another safetensors
    tool (without retrograd's metadata) loads as a flat dict ``name -> Tensor``.

    Args:
        f (str, os.PathLike or binary file object): the file to read.
        map_location: where to put the tensors. retrograd computes on the CPU, so
            ``None``, ``'cpu'``, ``retrograd.device('cpu')`` or a dict mapping to
            ``'cpu'`` are accepted, and any other device raises. A callable is called
            as ``map_location(tensor, 'cpu')`` for each loaded tensor and its result
            (when not None) replaces it.
        pickle_module, weights_only, mmap, pickle_load_args: accepted for compatibility
            with ``torch.load``. Every retrograd load is "weights only": no code can
            run, whatever the value.

    Raises:
        CheckpointError: the file is truncated, corrupted (including a tensor whose
            checksum does not match), a pickle, or not a safetensors file. The
            message names the file and the problem.

    Example::

        >>> state = retrograd.load("model.safetensors")     # doctest: +SKIP
        >>> model.load_state_dict(state)                     # doctest: +SKIP
    """
    name = _name_of(f)
    mapper = _to_tensor_mapper(map_location)
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"retrograd.load: {name!r} must be opened in binary mode ('rb')")
        data = bytes(data)
    elif isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        raise TypeError(f"retrograd.load: f must be a path (str or os.PathLike) or a binary file "
                        f"object, got {type(f).__name__}")
    return load_from_bytes(data, name=name, _mapper=mapper)


def load_from_bytes(data: bytes, *, name: str = "<bytes>", _mapper=None):
    """Load an object from the bytes of a file written by :func:`save`."""
    header = _read_header(data, name)
    st_numpy = _safetensors_numpy()
    try:
        arrays = st_numpy.load(data)
    except Exception as e:  # safetensors raises its own SafetensorError type
        raise _fail(name, f"not a valid safetensors file ({e})") from None
    meta = header.get("__metadata__") or {}
    if meta.get(_META_FORMAT) != _FORMAT_NAME or _META_SKELETON not in meta:
        # a foreign safetensors file: a flat state dict in file order
        order = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0])
        unpacker = _Unpacker(arrays, name, _mapper)
        return OrderedDict((k, unpacker._tensor(arrays[k])) for k in order)
    try:
        version = int(meta.get(_META_VERSION, "1"))
    except ValueError:
        raise _fail(name, f"corrupted metadata (format version {meta.get(_META_VERSION)!r})") \
            from None
    if version > FORMAT_VERSION:
        raise _fail(name, f"it was written in retrograd format version {version}, newer than "
                          f"this retrograd understands ({FORMAT_VERSION}); upgrade retrograd")
    try:
        skeleton = json.loads(meta[_META_SKELETON])
        crcs = json.loads(meta.get(_META_CRC, "{}"))
    except json.JSONDecodeError as e:
        raise _fail(name, f"the metadata is corrupted (invalid JSON: {e})") from None
    if not isinstance(crcs, dict):
        raise _fail(name, "the metadata is corrupted (checksums are not a JSON object)")
    for key, expected in crcs.items():
        if key not in arrays:
            raise _fail(name, f"tensor {key!r} listed in the metadata is missing from the file")
        if _crc(arrays[key]) != expected:
            raise _fail(name, f"the data of tensor {key!r} is corrupted (checksum mismatch: the "
                              "file was damaged after it was written)")
    return _Unpacker(arrays, name, _mapper).unpack(skeleton)

