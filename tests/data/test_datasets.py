"""retrograd.data datasets: bundled digits, toy generators, array splitting, and the
MNIST / Fashion-MNIST readers (on ../shared/data, and on damaged copies of it)."""

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

import retrograd
from retrograd.data import (
    MNIST,
    DataIntegrityError,
    Digits,
    FashionMNIST,
    default_data_dir,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
    make_xor,
    train_val_split,
    train_val_test_split,
)
from retrograd.data import mnist as mnist_module
from retrograd.utils.data import DataLoader

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "mnist").is_dir(),
                                  reason="../shared/data (MNIST copies) is not present")

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------- digits


def test_load_digits_known_answers():
    X, y = load_digits()
    assert isinstance(X, retrograd.Tensor) and X.dtype == retrograd.float32
    assert tuple(X.shape) == (1797, 8, 8) and y.dtype == retrograd.int64
    x, t = X.numpy(), y.numpy()
    assert np.bincount(t).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert x.min() == 0.0 and x.max() == 16.0
    assert int(x.astype(np.int64).sum()) == 561718
    digest = hashlib.sha256(x.astype(np.uint8).tobytes()).hexdigest()
    assert digest == "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
    assert x[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0] and t[:10].tolist() == list(range(10))


def test_load_digits_flat_numpy_and_independent_copies():
    X, y = load_digits(return_tensors=False, flatten=True)
    assert isinstance(X, np.ndarray) and X.shape == (1797, 64) and X.dtype == np.float32
    X[:] = -1.0  # must not corrupt later loads
    X2, _ = load_digits(return_tensors=False)
    assert X2.min() == 0.0


def test_digits_dataset():
    ds = Digits(flatten=True, target_transform=lambda t: t * 10)
    assert len(ds) == 1797 and ds.classes[3] == "3"
    x, t = ds[5]
    assert tuple(x.shape) == (64,) and t == 50
    xb, tb = next(iter(DataLoader(Digits(), batch_size=16)))
    assert tuple(xb.shape) == (16, 8, 8) and tb.tolist() == [i % 10 for i in range(16)]


# ---------------------------------------------------------------- toy problems


@pytest.mark.parametrize("make,kwargs,n_classes", [
    (make_xor, dict(n_samples=101), 2),
    (make_moons, dict(n_samples=101, noise=0.1), 2),
    (make_circles, dict(n_samples=101, noise=0.05, factor=0.5), 2),
    (make_spirals, dict(n_samples=101, n_classes=3, noise=0.2), 3),
    (make_blobs, dict(n_samples=101, centers=4), 4),
])
def test_classification_generators_shapes_and_seeding(make, kwargs, n_classes):
    X, y = make(**kwargs, seed=3)
    assert isinstance(X, retrograd.Tensor) and X.dtype == retrograd.float32
    assert y.dtype == retrograd.int64 and tuple(X.shape) == (101, 2) and tuple(y.shape) == (101,)
    assert sorted(set(y.tolist())) == list(range(n_classes))
    X2, y2 = make(**kwargs, seed=3)
    np.testing.assert_array_equal(X.numpy(), X2.numpy())
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    X3, _ = make(**kwargs, generator=retrograd.Generator().manual_seed(3))
    X4, _ = make(**kwargs, generator=retrograd.Generator().manual_seed(4))
    assert not np.array_equal(X3.numpy(), X4.numpy())
    retrograd.manual_seed(9)
    a = make(**kwargs)[0].numpy()
    retrograd.manual_seed(9)
    np.testing.assert_array_equal(a, make(**kwargs)[0].numpy())
    with pytest.raises(ValueError, match="either seed= or generator="):
        make(**kwargs, seed=1, generator=retrograd.Generator())


def test_toy_geometry_without_noise():
    X, y = make_xor(500, seed=0, return_tensors=False)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    X, y = make_moons(200, seed=0, return_tensors=False)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (y == 0).sum() == 100
    X, y = make_circles(100, factor=0.3, seed=0, return_tensors=False)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, atol=1e-6)
    X, y = make_spirals(90, n_classes=3, seed=0, return_tensors=False)
    assert np.bincount(y).tolist() == [30, 30, 30]
    assert np.hypot(*X.T).max() <= 1.0 + 1e-6
    X, y = make_blobs(60, centers=[[0.0, 0.0], [100.0, 100.0]], cluster_std=0.5, seed=0,
                      return_tensors=False)
    np.testing.assert_array_equal(y, (X[:, 0] > 50).astype(np.int64))
    with pytest.raises(ValueError, match="factor must be in"):
        make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match="n_samples must be an integer"):
        make_moons(0)


def test_make_regression():
    X, y, w = make_regression(80, n_features=3, bias=1.5, seed=0, return_coef=True)
    assert X.dtype == y.dtype == w.dtype == retrograd.float32 and tuple(y.shape) == (80,)
    A = np.hstack([X.numpy(), np.ones((80, 1), np.float32)])
    sol = np.linalg.lstsq(A.astype(np.float64), y.numpy().astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(sol, np.r_[w.numpy(), 1.5], atol=1e-5)
    X, y = make_regression(50, n_features=2, coef=[2.0, -1.0], noise=0.0, seed=1)
    np.testing.assert_allclose(y.numpy(), X.numpy() @ np.array([2.0, -1.0]), atol=1e-5)
    with pytest.raises(ValueError, match=r"coef must have shape \(2,\)"):
        make_regression(5, n_features=2, coef=[1.0])


# ---------------------------------------------------------------- splitting


def test_train_val_split_sizes_types_and_seeding():
    X = retrograd.arange(100.0).reshape(50, 2)
    y = np.arange(50)
    names = [f"n{i}" for i in range(50)]
    (Xtr, ytr, ntr), (Xv, yv, nv) = train_val_split(X, y, names, val_size=0.2, seed=0)
    assert isinstance(Xtr, retrograd.Tensor) and isinstance(ytr, np.ndarray)
    assert isinstance(ntr, list)
    assert len(ytr) == 40 and len(yv) == 10 and tuple(Xv.shape) == (10, 2)
    assert sorted(np.r_[ytr, yv].tolist()) == list(range(50))
    np.testing.assert_array_equal(Xtr.numpy()[:, 0], 2.0 * ytr)  # rows stay aligned
    assert ntr == [f"n{i}" for i in ytr]
    (_, y2, _), _ = train_val_split(X, y, names, val_size=0.2, seed=0)
    np.testing.assert_array_equal(ytr, y2)
    train, val = train_val_split(y, val_size=7, shuffle=False)
    np.testing.assert_array_equal(val, np.arange(43, 50))
    assert len(train_val_split(y, val_size=0.01)[1]) == 1  # fractions round up
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_split(y, np.arange(3))
    with pytest.raises(ValueError, match="leave no training samples"):
        train_val_split(y, val_size=50)


def test_stratified_three_way_split():
    labels = np.repeat(np.arange(3), [60, 30, 10])
    train, val, test = train_val_test_split(labels, val_size=0.2, test_size=0.1,
                                            stratify=labels, seed=1)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert np.abs(np.bincount(val, minlength=3) - [12, 6, 2]).max() <= 1
    assert np.abs(np.bincount(test, minlength=3) - [6, 3, 1]).max() <= 1
    assert sorted(np.r_[train, val, test].tolist()) == sorted(labels.tolist())
    X, y = load_digits()
    (_, ytr), (_, yval) = train_val_split(X, y, val_size=0.25, stratify=y, seed=0)
    frac = np.bincount(yval.numpy(), minlength=10) / np.bincount(y.numpy())
    assert np.abs(frac - 0.25).max() < 0.02
    with pytest.raises(ValueError, match="needs shuffle=True"):
        train_val_split(labels, stratify=labels, shuffle=False)


# ---------------------------------------------------------------- MNIST readers


@pytest.fixture(scope="module")
def mnist_train():
    if not (SHARED / "mnist").is_dir():
        pytest.skip("../shared/data (MNIST copies) is not present")
    return load_mnist(root=SHARED, train=True, download=False)


@needs_shared
def test_mnist_train_known_answers(mnist_train):
    X, y = mnist_train
    assert tuple(X.shape) == (60000, 1, 28, 28) and X.dtype == retrograd.float32
    assert y.dtype == retrograd.int64 and tuple(y.shape) == (60000,)
    x = X.numpy()
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y.numpy()).tolist() == MNIST_TRAIN_COUNTS
    assert y[0].item() == 5 and y.numpy()[:5].tolist() == [5, 0, 4, 1, 9]
    np.testing.assert_allclose(x.sum(dtype=np.float64), 1567298545 / 255, rtol=1e-7)


@needs_shared
def test_mnist_test_set_dataset_class_and_numpy(tmp_path):
    ds = MNIST(root=SHARED, train=False)
    assert len(ds) == 10000 and ds.data.dtype == retrograd.uint8
    assert tuple(ds.data.shape) == (10000, 28, 28)
    assert np.bincount(ds.targets.numpy()).tolist() == MNIST_TEST_COUNTS
    img, target = ds[0]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and target == 7
    assert int(ds.data.numpy().astype(np.int64).sum()) == 264923200
    X, y = load_mnist(SHARED, train=False, download=False, flatten=True, return_tensors=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0], ds.data.numpy()[0].reshape(-1) / np.float32(255))


@needs_shared
def test_fashion_mnist():
    X, y = load_fashion_mnist(root=SHARED, train=False, download=False)
    assert tuple(X.shape) == (10000, 1, 28, 28)
    assert np.bincount(y.numpy()).tolist() == [1000] * 10
    assert y.numpy()[:5].tolist() == [9, 2, 1, 1, 6]
    ds = FashionMNIST(SHARED, train=False, transform=lambda a: a.shape)
    assert ds.classes[9] == "Ankle boot" and ds[0] == ((28, 28), 9)


def _copy_mnist_test(dest, names=("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SHARED / "mnist" / name, dest / name)
    return dest


@needs_shared
def test_environment_variable_and_flat_layout(tmp_path, monkeypatch):
    _copy_mnist_test(tmp_path)  # files directly in the folder, no mnist/ subfolder
    monkeypatch.setenv("RETROGRAD_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    _, y = load_mnist(train=False, download=False)
    assert y.numpy()[0] == 7
    monkeypatch.delenv("RETROGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "retrograd"


@needs_shared
def test_uncompressed_files_are_read(tmp_path):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(SHARED / "mnist" / (name + ".gz"), "rb") as f:
            (d / name).write_bytes(f.read())
    _, y = load_mnist(tmp_path, train=False, download=False)
    assert np.bincount(y.numpy()).tolist() == MNIST_TEST_COUNTS


@needs_shared
def test_truncated_file_gives_clear_error(tmp_path):
    d = _copy_mnist_test(tmp_path / "mnist")
    labels = d / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:1000])
    with pytest.raises(DataIntegrityError) as info:
        load_mnist(tmp_path, train=False, download=False)
    msg = str(info.value)
    assert str(labels) in msg and "truncated" in msg
    assert "ec29112dd5afa0611ce80d1b7f02629c" in msg  # the expected checksum
    assert "delete the file" in msg and "download=True" in msg


@needs_shared
def test_corrupted_file_gives_clear_error(tmp_path):
    d = _copy_mnist_test(tmp_path / "mnist")
    images = d / "t10k-images-idx3-ubyte.gz"
    data = bytearray(images.read_bytes())
    data[len(data) // 2] ^= 0xFF
    images.write_bytes(bytes(data))
    with pytest.raises(DataIntegrityError, match="corrupted or truncated: its MD5 is") as info:
        MNIST(tmp_path, train=False)
    assert "9fb629c4189551a2d022fa330f9573f3" in str(info.value)


@needs_shared
def test_dataset_mix_up_is_named(tmp_path):
    d = tmp_path / "mnist"
    d.mkdir()
    shutil.copy(SHARED / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz", d)
    shutil.copy(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz", d)
    with pytest.raises(DataIntegrityError, match="it is FashionMNIST's t10k-labels"):
        load_mnist(tmp_path, train=False, download=False)


def test_missing_files_offline_message(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, train=False, download=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and str(tmp_path / "mnist") in msg
    assert "RETROGRAD_DATA" in msg and "download=True" in msg
    # Offline: every mirror fails; the message lists each attempt.
    missing = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setitem(mnist_module._SPECS["mnist"], "mirrors", (missing,))
    with pytest.raises(FileNotFoundError, match="Downloading it failed") as info:
        load_mnist(tmp_path, train=False, download=True)
    assert missing in str(info.value)
    assert not list((tmp_path / "mnist").glob("*.part"))


@needs_shared
def test_download_writes_verified_files_atomically(tmp_path, monkeypatch):
    mirror = _copy_mnist_test(tmp_path / "mirror")
    monkeypatch.setitem(mnist_module._SPECS["mnist"], "mirrors", (mirror.as_uri() + "/",))
    root = tmp_path / "cache"
    _, y = load_mnist(root, train=False, download=True)
    assert y.numpy()[0] == 7
    assert sorted(p.name for p in (root / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]  # no temp files left
    # A mirror serving a damaged file: rejected, and nothing is left in the cache.
    labels = mirror / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-10])
    with pytest.raises(FileNotFoundError, match="downloaded file has MD5"):
        load_mnist(tmp_path / "other", train=False, download=True)
    assert not (tmp_path / "other" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list((tmp_path / "other" / "mnist").glob("*.part"))


@needs_shared
def test_checksum_verified_once_per_process(tmp_path, monkeypatch):
    _copy_mnist_test(tmp_path / "mnist")
    calls = []
    real = mnist_module._md5
    monkeypatch.setattr(mnist_module, "_md5", lambda p: calls.append(p) or real(p))
    load_mnist(tmp_path, train=False, download=False)
    load_mnist(tmp_path, train=False, download=False)
    assert len(calls) == 2  # two files, hashed once each
