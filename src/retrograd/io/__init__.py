"""Safe saving and loading: safetensors files, atomic writes, training checkpoints.

``retrograd.save`` / ``retrograd.load`` are :func:`save` / :func:`load` from here.
Files never contain pickles, so loading one can never run code. The format is
described in ``docs/serialization.md``.
"""

from ._atomic import atomic_write
from .checkpoint import load_checkpoint, save_checkpoint
from .serialization import (
    FORMAT_VERSION,
    CheckpointError,
    load,
    load_from_bytes,
    save,
    save_to_bytes,
)

__all__ = [
    "CheckpointError",
    "FORMAT_VERSION",
    "atomic_write",
    "load",
    "load_checkpoint",
    "load_from_bytes",
    "save",
    "save_checkpoint",
    "save_to_bytes",
]
