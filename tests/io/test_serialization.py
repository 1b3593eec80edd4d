"""retrograd.save / retrograd.load: round trips, atomic writes, damaged files, checkpoints."""

import io
import math
import os
import pickle
import struct
import sys
from collections import OrderedDict

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.io import CheckpointError, _atomic, load, load_checkpoint, save, save_checkpoint
from retrograd.optim import SGD, Adam
from retrograd.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from retrograd.utils.data import DataLoader, TensorDataset

safetensors_numpy = pytest.importorskip("safetensors.numpy")


# ---------------------------------------------------------------- helpers
def assert_same(a, b, path="obj"):
    """Exact structural equality, types included (tuple vs list, int vs float...)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, retrograd.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.requires_grad == b.requires_grad, path
        assert a._data.tobytes() == b._data.tobytes(), path
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), path
        for k in a:
            assert type(k) is type(next(x for x in b if x == k)), f"{path} key {k!r}"
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), path
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b))), path
    else:
        assert a == b, path


def roundtrip(obj):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)


def small_state(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.safetensors"
    save(model.state_dict(), path)
    return model, path


# ---------------------------------------------------------------- round trips
def test_state_dict_roundtrip_loads_into_a_fresh_model(tmp_path):
    model = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 2))
    path = tmp_path / "m.safetensors"
    save(model.state_dict(), path)
    state = retrograd.load(path)
    assert isinstance(state, OrderedDict)
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    fresh = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 2))
    fresh.load_state_dict(state)
    x = retrograd.randn(3, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    # the loaded tensors own writable memory, detached from the file
    state["0.bias"]._data[...] = 7
    assert state["0.bias"].dtype == retrograd.float32


def test_nested_checkpoint_types_are_rebuilt_exactly():
    obj = {
        "model": OrderedDict(w=retrograd.randn(2, 3), b=retrograd.zeros(3)),
        "optimizer": {"state": {0: {"step": retrograd.tensor(3.0)}, 5: {}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 5],
                                        "nesterov": False, "foreach": None}]},
        "epoch": 3, "float_one": 1.0, "int_one": 1, "big": 2 ** 70, "neg_zero": -0.0,
        "specials": [math.nan, math.inf, -math.inf],
        "text": "héllo ✓", "empty": {}, "empty_list": [], "empty_tuple": (),
        "nested": [(1, [2, (3.5,)]), {"a": None}],
        "keys": {1: "int", 2.5: "float", None: "none", False: "bool", (1, "x"): "tuple"},
        "arrays": {str(dt): np.arange(6, dtype=dt).reshape(2, 3)
                   for dt in ("float16", "float32", "float64", "int8", "uint8", "int16",
                              "uint16", "int32", "uint32", "int64", "uint64")},
        "bool_array": np.array([True, False]),
        "zero_d": np.array(2.5, dtype=np.float32),
        "empty_array": np.zeros((0, 4), dtype=np.float32),
        "non_contiguous": np.arange(12, dtype=np.float32).reshape(3, 4).T,
        "big_endian": np.arange(3, dtype=">i4"),
        "np_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True), np.float64(math.nan)],
        "dtype": retrograd.float32, "device": retrograd.device("cpu"), "blob": b"\x00\xff",
        "rg": retrograd.ones(2, requires_grad=True),
        "param": nn.Parameter(retrograd.ones(2)),
    }
    back = roundtrip(obj)
    # exact, except that two arrays come back in the standard layout (C order,
    # little-endian) with the same values
    be = back.pop("big_endian")
    np.testing.assert_array_equal(be, obj.pop("big_endian"))
    assert be.dtype == np.dtype("<i4")
    nc = back.pop("non_contiguous")
    np.testing.assert_array_equal(nc, obj.pop("non_contiguous"))
    assert nc.flags.c_contiguous
    assert_same(obj, back)
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert back["rg"].requires_grad and back["rg"].is_leaf


def test_single_tensor_and_scalars_roundtrip():
    t = retrograd.arange(5)
    assert_same(roundtrip(t), t)
    for value in (None, 3, 2.5, "x", [1, 2], (1,)):
        assert_same(roundtrip(value), value)


def test_tied_tensors_load_as_one_object():
    w = retrograd.randn(3)
    back = roundtrip({"a": w, "b": w, "c": w.clone()})
    assert back["a"] is back["b"]
    assert back["c"] is not back["a"]


def test_optimizer_state_roundtrip_continues_bit_for_bit():
    def make():
        retrograd.manual_seed(0)
        model = nn.Linear(3, 2)
        return model, Adam(model.parameters(), lr=0.01), SGD(model.parameters(), lr=0.1,
                                                            momentum=0.9)

    def step(model, opt, x):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()

    x = retrograd.randn(4, 3)
    for which in (1, 2):
        model, adam, sgd = make()
        opt = adam if which == 1 else sgd
        for _ in range(3):
            step(model, opt, x)
        saved = roundtrip({"model": model.state_dict(), "opt": opt.state_dict()})
        step(model, opt, x)
        model2, adam2, sgd2 = make()
        opt2 = adam2 if which == 1 else sgd2
        model2.load_state_dict(saved["model"])
        opt2.load_state_dict(saved["opt"])
        step(model2, opt2, x)
        for p, q in zip(model.parameters(), model2.parameters()):
            assert p._data.tobytes() == q._data.tobytes()


def test_scheduler_state_with_infinity_roundtrips():
    opt = SGD([nn.Parameter(retrograd.zeros(1))], lr=0.1)
    sched = ReduceLROnPlateau(opt)
    back = roundtrip(sched.state_dict())
    assert back["best"] == math.inf
    assert_same(back, sched.state_dict())


def test_file_is_standard_safetensors_named_like_the_state_dict(tmp_path):
    model, path = small_state(tmp_path)
    arrays = safetensors_numpy.load_file(str(path))
    assert set(arrays) == {"weight", "bias"}
    np.testing.assert_array_equal(arrays["weight"], model.weight.detach().numpy())
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta["format"] == "retrograd" and meta["retrograd.version"] == "1"


def test_foreign_safetensors_file_loads_as_flat_state_dict(tmp_path):
    path = tmp_path / "foreign.safetensors"
    arrays = {"b": np.ones(2, np.float32), "a": np.arange(3, dtype=np.int64)}
    safetensors_numpy.save_file(arrays, str(path))
    state = load(path)
    assert isinstance(state, OrderedDict) and set(state) == {"a", "b"}
    assert all(isinstance(v, retrograd.Tensor) for v in state.values())
    np.testing.assert_array_equal(state["a"].numpy(), arrays["a"])


def test_torch_reads_our_file_and_we_read_torchs(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    model = nn.Linear(3, 2)
    path = tmp_path / "rg.safetensors"
    save(model.state_dict(), path)
    tmodel = torch.nn.Linear(3, 2)
    tmodel.load_state_dict(st_torch.load_file(str(path)))
    x = np.random.randn(4, 3).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(),
                               model(retrograd.from_numpy(x)).detach().numpy(), rtol=1e-6,
                               atol=1e-7)
    # the other way: a file written by PyTorch's safetensors helper
    tpath = tmp_path / "torch.safetensors"
    st_torch.save_file(tmodel.state_dict(), str(tpath))
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(load(tpath))
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), tmodel.weight.detach().numpy())


def test_bytesio_and_open_file_objects(tmp_path):
    t = {"x": retrograd.randn(2)}
    path = tmp_path / "f.safetensors"
    with open(path, "wb") as f:
        save(t, f)
    with open(path, "rb") as f:
        assert_same(load(f), t)
    with open(path, encoding="latin-1") as f, pytest.raises(TypeError, match="binary"):
        load(f)


def test_map_location_and_weights_only(tmp_path):
    _, path = small_state(tmp_path)
    for loc in (None, "cpu", retrograd.device("cpu"), {"cuda:0": "cpu"}):
        assert set(load(path, map_location=loc)) == {"weight", "bias"}
    assert set(load(path, weights_only=False)) == {"weight", "bias"}
    with pytest.raises(RuntimeError, match="not available"):
        load(path, map_location="cuda")
    seen = []
    out = load(path, map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert seen == ["cpu", "cpu"]
    np.testing.assert_array_equal(out["bias"].numpy(), load(path)["bias"].numpy() * 2)


# ---------------------------------------------------------------- refusing to pickle
@pytest.mark.parametrize("bad, kind", [
    ({"f": lambda x: x}, "function"),
    ({"m": nn.Linear(1, 1)}, "Linear"),
    ({"s": {1, 2}}, "set"),
    ([1, object()], "object"),
])
def test_unsavable_objects_are_refused_with_their_path(bad, kind):
    with pytest.raises(TypeError, match=kind) as e:
        save(bad, io.BytesIO())
    assert "obj[" in str(e.value) and "never pickles" in str(e.value)


def test_unsavable_array_dtype_and_key():
    with pytest.raises(TypeError, match="dtype"):
        save({"a": np.array(["x"])}, io.BytesIO())
    with pytest.raises(TypeError, match="dict key"):
        save({frozenset(): 1}, io.BytesIO())


# ---------------------------------------------------------------- atomic writes
def _tmp_files(directory):
    return [p for p in os.listdir(directory) if p.endswith(".tmp")]


def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    model, path = small_state(tmp_path)
    old = path.read_bytes()

    def write_half_then_crash(f, data):
        f.write(bytes(data[: len(data) // 2]))
        f.flush()
        raise OSError("No space left on device")

    monkeypatch.setattr(_atomic, "_write_all", write_half_then_crash)
    with pytest.raises(OSError, match="No space"):
        save({"weight": retrograd.zeros(100, 100)}, path)
    assert path.read_bytes() == old
    assert _tmp_files(tmp_path) == []
    model.load_state_dict(load(path))


@pytest.mark.parametrize("exc", [OSError("fsync failed"), KeyboardInterrupt()])
def test_crash_before_rename_keeps_the_old_file(tmp_path, monkeypatch, exc):
    _, path = small_state(tmp_path)
    old = path.read_bytes()

    def boom(fd):
        raise exc

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(type(exc)):
        save({"other": retrograd.ones(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert _tmp_files(tmp_path) == []


def test_small_chunks_write_the_whole_file(tmp_path, monkeypatch):
    obj = {"w": retrograd.randn(50, 7), "n": 3}
    monkeypatch.setattr(_atomic, "_CHUNK", 13)
    path = tmp_path / "chunked.safetensors"
    save(obj, path)
    assert_same(load(path), obj)
    assert _tmp_files(tmp_path) == []


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({"a": retrograd.ones(1)}, tmp_path / "nope" / "m.safetensors")


def test_written_file_permissions_follow_umask(tmp_path):
    if sys.platform.startswith("win"):
        pytest.skip("POSIX permissions")
    _, path = small_state(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- damaged files
def test_truncated_files_raise_checkpoint_error_naming_the_file(tmp_path):
    _, path = small_state(tmp_path)
    data = path.read_bytes()
    header_len = struct.unpack("<Q", data[:8])[0]
    for cut, words in [(0, "empty"), (5, "only 5 bytes"), (8 + header_len // 2, "truncated"),
                       (len(data) - 1, "truncated"), (8 + header_len + 3, "truncated")]:
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=words) as e:
            load(bad)
        assert str(bad) in str(e.value)
        assert isinstance(e.value, RuntimeError)


def test_flipped_data_byte_is_detected_and_the_tensor_named(tmp_path):
    _, path = small_state(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # last byte belongs to a tensor
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum") as e:
        load(path)
    assert "'weight'" in str(e.value) or "'bias'" in str(e.value)


def test_corrupted_header_and_trailing_garbage(tmp_path):
    _, path = small_state(tmp_path)
    data = path.read_bytes()
    broken = bytearray(data)
    broken[9] = ord("#")  # inside the JSON header
    bad = tmp_path / "hdr.safetensors"
    bad.write_bytes(bytes(broken))
    with pytest.raises(CheckpointError, match="header is corrupted"):
        load(bad)
    bad.write_bytes(data + b"junk")
    with pytest.raises(CheckpointError, match="unexpected bytes"):
        load(bad)
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load(bad)


def test_corrupted_skeleton_is_reported():
    buf = io.BytesIO()
    save({"a": retrograd.ones(2)}, buf)
    data = buf.getvalue().replace(b'$tensor', b'$tenxor')
    with pytest.raises(CheckpointError, match="skeleton"):
        load(io.BytesIO(data))


def test_pickles_are_refused_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="pickle"):
        load(path)
    assert not (tmp_path / "pwned").exists()
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)  # torch.save's zip container
    with pytest.raises(CheckpointError, match="torch.save"):
        load(path)


def test_newer_format_version_is_refused():
    buf = io.BytesIO()
    save({"a": 1}, buf)
    data = buf.getvalue().replace(b'"retrograd.version":"1"', b'"retrograd.version":"9"')
    with pytest.raises(CheckpointError, match="newer"):
        load(io.BytesIO(data))


def test_wrong_architecture_gives_the_module_error(tmp_path):
    _, path = small_state(tmp_path)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(4, 2).load_state_dict(load(path))
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.Sequential(nn.Linear(3, 2)).load_state_dict(load(path))


def test_missing_safetensors_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"retrograd\[train\]"):
        save({"a": retrograd.ones(1)}, io.BytesIO())


def test_user_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"a": retrograd.ones(1)}, path, metadata={"author": "me"})
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        assert f.metadata()["author"] == "me"
    with pytest.raises(ValueError, match="reserved"):
        save({}, io.BytesIO(), metadata={"retrograd.skeleton": "x"})


# ---------------------------------------------------------------- checkpoints
def _training_setup(seed):
    retrograd.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    g = retrograd.Generator().manual_seed(7)  # the same data whatever the seed
    data = TensorDataset(retrograd.randn(12, 3, generator=g), retrograd.randn(12, 1, generator=g))
    loader = DataLoader(data, batch_size=4, shuffle=True,
                        generator=retrograd.Generator().manual_seed(seed + 1))
    return model, opt, sched, loader


def _one_epoch(model, opt, sched, loader):
    for x, y in loader:
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    sched.step()


def test_save_and_load_checkpoint_resume_exactly(tmp_path):
    model, opt, sched, loader = _training_setup(0)
    _one_epoch(model, opt, sched, loader)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=1, generator=loader, note="hi")
    _one_epoch(model, opt, sched, loader)
    expected = [p._data.copy() for p in model.parameters()]

    model2, opt2, sched2, loader2 = _training_setup(42)  # different everything
    ckpt = load_checkpoint(path, model2, opt2, sched2, generator=loader2)
    assert ckpt["epoch"] == 1 and ckpt["note"] == "hi"
    assert sched2.last_epoch == 1 and opt2.param_groups[0]["lr"] == 0.05
    _one_epoch(model2, opt2, sched2, loader2)
    for p, e in zip(model2.parameters(), expected):
        assert p._data.tobytes() == e.tobytes()


def test_checkpoint_without_loader_generator_diverges(tmp_path):
    # the negative control for the test above: the loader's state matters
    model, opt, sched, loader = _training_setup(0)
    _one_epoch(model, opt, sched, loader)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=1)
    _one_epoch(model, opt, sched, loader)
    model2, opt2, sched2, loader2 = _training_setup(42)
    load_checkpoint(path, model2, opt2, sched2)
    _one_epoch(model2, opt2, sched2, loader2)
    assert any(p._data.tobytes() != q._data.tobytes()
               for p, q in zip(model.parameters(), model2.parameters()))


def test_checkpoint_errors(tmp_path):
    model, opt, sched, loader = _training_setup(0)
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(tmp_path / "c", model, rng=1)
    plain = tmp_path / "plain.safetensors"
    save(model.state_dict(), plain)
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(plain, model)
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)
    with pytest.raises(CheckpointError, match="no 'optimizer'"):
        load_checkpoint(path, model, opt)
    with pytest.raises(CheckpointError, match="generator"):
        load_checkpoint(path, model, generator=loader)
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_checkpoint(path, nn.Sequential(nn.Linear(3, 5), nn.Dropout(), nn.Linear(5, 1)))


def test_checkpoint_restores_global_rng(tmp_path):
    model = nn.Linear(2, 2)
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)
    expected = retrograd.rand(5).numpy()
    retrograd.manual_seed(123)
    load_checkpoint(path, model)
    np.testing.assert_array_equal(retrograd.rand(5).numpy(), expected)
