"""MNIST and Fashion-MNIST: readers for the original IDX files, with checksums and
an optional download.

Where the files are looked for, in order, inside one base folder:

* the ``root`` argument, if given;
* else the folder named by the environment variable ``RETROGRAD_DATA``;
* else the per-user cache, ``$XDG_CACHE_HOME/retrograd`` (``~/.cache/retrograd``).

Inside the base folder, a dataset's files may sit in its own subfolder (``mnist/``
or ``fashion-mnist/``; torchvision's ``MNIST/raw/`` and ``FashionMNIST/raw/`` work
too) or directly in the base folder. Each file is the gzipped original
(``train-images-idx3-ubyte.gz``) or its uncompressed form. Every file is checked
against the MD5 checksum the dataset's authors published before it is read (once
per process), so a truncated or damaged file is reported, never silently parsed.

Missing files are downloaded (``download=True``) into ``<base>/<subfolder>/``:
written to a temporary file, checked, flushed to disk and only then renamed into
place, so an interrupted download never leaves a half-written file behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

import retrograd

from ..io._atomic import _fsync_directory
from ..utils.data import Dataset

__all__ = [
    "MNIST",
    "FashionMNIST",
    "load_mnist",
    "load_fashion_mnist",
    "DataIntegrityError",
    "default_data_dir",
]

DOWNLOAD_TIMEOUT = 30.0  # seconds without data before a download attempt is abandoned


class DataIntegrityError(RuntimeError):
    """A dataset file is truncated, damaged, or not the file it claims to be."""


# The published checksums: MD5 of each .gz, and of its decompressed contents, with sizes.
_SPECS = {
    "mnist": {
        "title": "MNIST",
        "subdirs": ("mnist", "MNIST/raw"),
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "files": {
            "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422,
                                        "6bbc9ace898e44ae57da46a324031adb", 47040016),
            "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", 28881,
                                        "a25bea736e30d166cdddb491f175f624", 60008),
            "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", 1648877,
                                       "2646ac647ad5339dbf082846283269ea", 7840016),
            "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", 4542,
                                       "27ae3e4e09519cfbb04c329615203637", 10008),
        },
    },
    "fashion-mnist": {
        "title": "FashionMNIST",
        "subdirs": ("fashion-mnist", "FashionMNIST/raw"),
        "mirrors": (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        "files": {
            "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880,
                                        "f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016),
            "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", 29515,
                                        "9018921c3c673c538a1fc5bad174d6f9", 60008),
            "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", 4422102,
                                       "8181f5470baa50b63fa0f6fddb340f0a", 7840016),
            "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", 5148,
                                       "15d484375f8d13e6eb1aabb0c3f46965", 10008),
        },
    },
}

# Every known checksum -> (dataset title, file name): lets a mix-up (a Fashion-MNIST
# file where an MNIST one belongs) be named as such instead of as "corrupted".
_KNOWN_MD5 = {}
for _key, _spec in _SPECS.items():
    for _name, (_gz, _, _raw, _) in _spec["files"].items():
        _KNOWN_MD5[_gz] = (_spec["title"], _name + ".gz")
        _KNOWN_MD5[_raw] = (_spec["title"], _name)

# Files already verified in this process: (path, size, mtime_ns) -> md5. Hashing the
# 47 MB uncompressed images costs a noticeable fraction of a second; do it once.
_VERIFIED = {}


def default_data_dir(root=None):
    """The base folder for datasets: ``root``, else ``$RETROGRAD_DATA``, else the user cache.

    Args:
        root (str or Path, optional): an explicit folder; returned as given.

    Returns:
        Path
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("RETROGRAD_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "retrograd"


def _search_dirs(base, spec):
    return [base / sub for sub in spec["subdirs"]] + [base]


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path, expected_md5, expected_size, spec):
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(key) == expected_md5:
        return
    actual = _md5(path)
    if actual != expected_md5:
        title = spec["title"]
        if actual in _KNOWN_MD5:
            other_title, other_name = _KNOWN_MD5[actual]
            raise DataIntegrityError(
                f"{title}: {path} is not the {title} file of that name: it is {other_title}'s "
                f"{other_name} (MD5 {actual}, expected {expected_md5}). MNIST and "
                "Fashion-MNIST use the same file names: keep each dataset in its own "
                f"subfolder ({' or '.join(spec['subdirs'])})."
            )
        hint = ""
        if st.st_size < expected_size:
            hint = " It is shorter than the original: the copy is truncated."
        raise DataIntegrityError(
            f"{title}: {path} is corrupted or truncated: its MD5 is {actual} but the published "
            f"MD5 is {expected_md5} (size {st.st_size} bytes, expected {expected_size}).{hint} "
            "Fix: delete the file and load again with download=True to fetch a fresh copy, or "
            "copy an intact file there (check it with `md5sum`)."
        )
    _VERIFIED[key] = actual


def _locate(name, base, spec):
    """The first existing copy of ``name`` (gzipped preferred) and its checksum and size."""
    gz_md5, gz_size, raw_md5, raw_size = spec["files"][name]
    for d in _search_dirs(base, spec):
        if (d / (name + ".gz")).is_file():
            return d / (name + ".gz"), gz_md5, gz_size
        if (d / name).is_file():
            return d / name, raw_md5, raw_size
    return None


def _download(name, dest_dir, spec, timeout):
    """Fetch ``name``.gz from the mirrors into ``dest_dir``; return (path or None, errors)."""
    import urllib.request  # only when downloading: it pulls in the whole http stack

    fname = name + ".gz"
    gz_md5, _, _, _ = spec["files"][name]
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return None, [f"cannot create {dest_dir}: {e}"]
    errors = []
    for mirror in spec["mirrors"]:
        url = mirror + fname
        tmp = None
        try:
            print(f"Downloading {url} to {dest_dir / fname}", file=sys.stderr)
            req = urllib.request.Request(url, headers={"User-Agent": "retrograd"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=fname + ".", suffix=".part")
                h = hashlib.md5()
                with os.fdopen(fd, "wb") as f:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        f.write(chunk)
                        h.update(chunk)
                    f.flush()
                    os.fsync(f.fileno())
            if h.hexdigest() != gz_md5:
                errors.append(f"{url}: downloaded file has MD5 {h.hexdigest()}, expected {gz_md5}")
                continue
            dest = dest_dir / fname
            os.replace(tmp, dest)
            tmp = None
            _fsync_directory(dest_dir)
            st = dest.stat()
            _VERIFIED[(str(dest.resolve()), st.st_size, st.st_mtime_ns)] = gz_md5
            return dest, errors
        except (OSError, ValueError) as e:  # URLError and timeouts are OSErrors
            errors.append(f"{url}: {e}")
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
    return None, errors


def _find_or_fetch(name, base, spec, download, explicit_root):
    found = _locate(name, base, spec)
    if found is not None:
        path, md5, size = found
        _verify(path, md5, size, spec)
        return path
    errors = []
    if download:
        path, errors = _download(name, base / spec["subdirs"][0], spec, DOWNLOAD_TIMEOUT)
        if path is not None:
            return path
    title = spec["title"]
    looked = ", ".join(str(d) for d in _search_dirs(base, spec))
    names = ", ".join(n + ".gz" for n in spec["files"])
    origin = "the root argument" if explicit_root else (
        "$RETROGRAD_DATA" if os.environ.get("RETROGRAD_DATA") else "the user cache")
    if download:
        why = "Downloading it failed:\n  " + "\n  ".join(errors) + "\n"
    else:
        why = "download=False, so it was not downloaded.\n"
    raise FileNotFoundError(
        f"{title}: cannot find {name}.gz (or the uncompressed {name}).\n"
        f"Looked in ({origin}): {looked}.\n{why}"
        f"Fix: pass root=<folder> holding the files (directly or in a "
        f"'{spec['subdirs'][0]}' subfolder), or set the environment variable RETROGRAD_DATA "
        f"to such a folder, or copy the original files ({names}) into "
        f"{base / spec['subdirs'][0]}" + ("" if download else ", or pass download=True") + "."
    )


def _read_idx(path, ndim, title):
    """Parse one IDX file (gzipped or not) into a writable uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4 + 4 * ndim)
            if len(head) < 4 + 4 * ndim:
                raise DataIntegrityError(f"{title}: {path} is too short to hold an IDX header")
            zero, dtype, nd = struct.unpack(">HBB", head[:4])
            if zero != 0 or dtype != 0x08 or nd != ndim:
                raise DataIntegrityError(
                    f"{title}: {path} is not an unsigned-byte IDX file with {ndim} dimension(s) "
                    f"(magic bytes {head[:4].hex()}, expected 000008{ndim:02x})"
                )
            dims = struct.unpack(">" + "I" * ndim, head[4:])
            buf = bytearray(int(np.prod(dims, dtype=np.int64)))
            view, got = memoryview(buf), 0
            while got < len(buf):
                n = f.readinto(view[got:])
                if not n:
                    break
                got += n
            if got < len(buf) or f.read(1):
                raise DataIntegrityError(
                    f"{title}: {path} holds {'fewer' if got < len(buf) else 'more'} bytes than "
                    f"its header announces for shape {dims}; delete it and download it again"
                )
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataIntegrityError(
            f"{title}: {path} is not a readable gzip file ({e}); delete it and download it again"
        ) from e
    return np.frombuffer(buf, dtype=np.uint8).reshape(dims)


def _load_arrays(key, root, train, download):
    spec = _SPECS[key]
    title = spec["title"]
    base = default_data_dir(root)
    prefix = "train" if train else "t10k"
    img_path = _find_or_fetch(f"{prefix}-images-idx3-ubyte", base, spec, download, root is not None)
    lbl_path = _find_or_fetch(f"{prefix}-labels-idx1-ubyte", base, spec, download, root is not None)
    images = _read_idx(img_path, 3, title)
    labels = _read_idx(lbl_path, 1, title)
    if len(images) != len(labels):
        raise DataIntegrityError(
            f"{title}: {img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataIntegrityError(f"{title}: {lbl_path} has a label {labels.max()} outside 0..9")
    return images, labels


def _load(key, root, train, download, flatten, return_tensors):
    images, labels = _load_arrays(key, root, train, download)
    X = images.astype(np.float32)
    X /= np.float32(255.0)  # divide, as torchvision's ToTensor does, for identical values
    X = X.reshape(len(X), -1) if flatten else X[:, None]
    y = labels.astype(np.int64)
    if return_tensors:
        return retrograd.from_numpy(X), retrograd.from_numpy(y)
    return X, y


def load_mnist(root=None, train=True, download=True, *, flatten=False, return_tensors=True):
    r"""Load MNIST (LeCun, Cortes and Burges) as arrays ready to train on.

    Args:
        root (str or Path, optional): folder holding the IDX files, directly or in a
            ``mnist/`` subfolder. Default: ``$RETROGRAD_DATA``, else ``~/.cache/retrograd``.
        train (bool): the 60,000 training images (``True``) or the 10,000 test images.
        download (bool): fetch missing files from the canonical mirrors. Default: ``True``.
        flatten (bool): give images as rows of 784 features.
        return_tensors (bool): return Tensors (default) or NumPy arrays.

    Returns:
        (X, y): X float32 of shape (N, 1, 28, 28) — or (N, 784) — scaled to ``[0, 1]``;
        y int64 of shape (N,) with values 0..9.

    Raises:
        FileNotFoundError: a file is missing and could not be downloaded; the message
            says where it looked and how to fix it.
        DataIntegrityError: a file does not match its published checksum.

    Example::

        >>> X, y = load_mnist(train=False)            # doctest: +SKIP
        >>> loader = DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)
    """
    return _load("mnist", root, train, download, flatten, return_tensors)


def load_fashion_mnist(root=None, train=True, download=True, *, flatten=False,
                       return_tensors=True):
    r"""Load Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando, 2017) as arrays.

    Same arguments and result as :func:`load_mnist`; the files live directly in
    ``root`` or in a ``fashion-mnist/`` subfolder. Labels: 0 T-shirt/top, 1 Trouser,
    2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
    """
    return _load("fashion-mnist", root, train, download, flatten, return_tensors)


class MNIST(Dataset):
    r"""The MNIST dataset, with torchvision's signature.

    Sample ``i`` is ``(img, target)``: ``img`` is the uint8 NumPy array (28, 28) —
    where torchvision hands out a PIL image — so ``transforms.ToTensor()`` turns it
    into the familiar float32 (1, 28, 28) in ``[0, 1]``; ``target`` is a Python int.

    For speed, prefer ``TensorDataset(*load_mnist())``: the DataLoader then cuts
    whole batches with one index operation, and augmentation runs on batches.

    Args:
        root (str or Path, optional): folder holding the files (directly or in a
            ``mnist/`` or ``MNIST/raw/`` subfolder). Default: ``$RETROGRAD_DATA``,
            else ``~/.cache/retrograd``.
        train (bool): the training set (60,000 images) or the test set (10,000).
        transform (callable, optional): applied to each image.
        target_transform (callable, optional): applied to each label.
        download (bool): fetch missing files. Default: ``False`` (as in torchvision).

    Attributes:
        data (Tensor): uint8 images (N, 28, 28), 0 = background, 255 = ink.
        targets (Tensor): int64 labels (N,).
        classes (list of str): the class names.

    Example::

        >>> from retrograd.data import transforms as T
        >>> ds = MNIST("data", train=True, download=True,            # doctest: +SKIP
        ...            transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
    """

    _key = "mnist"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        images, labels = _load_arrays(self._key, root, train, download)
        self.data = retrograd.from_numpy(images)
        self.targets = retrograd.from_numpy(labels.astype(np.int64))

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self):
        return len(self.targets._data)

    def __getitem__(self, index):
        img = self.data._data[index]
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        split = "Train" if self.train else "Test"
        return f"{type(self).__name__}(split={split}, n={len(self)}, root={self.root!r})"


class FashionMNIST(MNIST):
    r"""The Fashion-MNIST dataset (Zalando, MIT licence), with torchvision's signature.

    Same interface as :class:`MNIST`; files in ``root``, ``root/fashion-mnist/`` or
    ``root/FashionMNIST/raw/``.
    """

    _key = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
