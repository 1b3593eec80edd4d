"""Atomic file writes: a crash mid-save never destroys the previous file.

The bytes go to a temporary file in the *same* directory (so the final rename stays
on one filesystem and is atomic), are flushed and fsync'ed, then ``os.replace``
swaps the file into place and the directory entry is fsync'ed too. A reader sees
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets

# Large buffers are written in slices so that a failing write (disk full, signal)
# surfaces between slices, and memory for a slice copy stays bounded.
_CHUNK = 64 * 1024 * 1024


def _write_all(f, data) -> None:
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CHUNK):
        f.write(view[start:start + _CHUNK])


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable. Not possible on every platform (Windows
    # cannot open a directory), where the rename is as durable as the OS makes it.
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, data, *, what: str = "atomic_write") -> None:
    """Write ``data`` (bytes-like) to ``path`` atomically.

    The previous content of ``path``, if any, stays intact until the new content is
    completely on disk; on any error (including ``KeyboardInterrupt``) the temporary
    file is removed and the error propagates.

    Args:
        path (str or os.PathLike): the destination file.
        data (bytes-like): the complete new content.
        what (str): the operation named in error messages.

    Example::

        >>> atomic_write("notes.txt", b"hello")  # doctest: +SKIP
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{what}: cannot write {path!r}: the directory {directory!r} does not exist "
            "(create it first, e.g. with os.makedirs)"
        )
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never clobber someone else's file; mode 0o666 lets the umask decide the
    # final permissions, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
