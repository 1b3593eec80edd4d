"""Everyday PyTorch idioms, each run with retrograd and checked against torch: legacy
attributes and constructors, CPU-only answers to device queries, dtype spellings, grad
modes, data utilities, schedulers, the small tensor functions scripts lean on, printing,
and the grad_fn names tutorials print."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.utils.data import DataLoader, TensorDataset, random_split  # noqa: E402


def same(r, t):
    """retrograd result equals torch's: values, shape and dtype name."""
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert tuple(r.shape) == tuple(t.shape)
    assert str(r.dtype) == str(t.dtype).replace("torch.", "")


def normalized(text):
    return re.sub(r"\b(torch|retrograd)\.", "", text)


# ---------------------------------------------------------------- legacy .data

def test_data_idioms_write_through_without_recording():
    p = nn.Parameter(rg.ones(3))
    p.data.add_(1)
    p.data.mul_(rg.tensor([1.0, 2.0, 3.0]))
    assert p.tolist() == [2.0, 4.0, 6.0] and p.grad_fn is None and p.requires_grad
    p.data.copy_(rg.zeros(3))
    assert p.tolist() == [0.0, 0.0, 0.0]
    p.data = rg.full((3,), 5.0)
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.tolist() == [5.0] * 3
    # the classic manual SGD step of the 60-minute blitz
    m = nn.Linear(2, 1)
    before = m.weight.detach().clone()
    m(rg.ones(4, 2)).sum().backward()
    for f in m.parameters():
        f.data.sub_(f.grad.data * 0.01)
    assert rg.allclose(m.weight, before - 0.01 * m.weight.grad)
    w = m.weight.data
    assert not w.requires_grad and w.grad_fn is None
    w[0, 0] = 42.0  # shares memory
    assert m.weight[0, 0].item() == 42.0


# ---------------------------------------------------------------- devices

def test_cpu_only_answers_to_device_queries():
    assert rg.cuda.is_available() is False and rg.cuda.device_count() == 0
    assert rg.backends.mps.is_available() is False
    assert rg.accelerator.is_available() is False
    assert rg.accelerator.current_accelerator() is None  # as torch says on a CPU machine
    device = rg.accelerator.current_accelerator().type if rg.accelerator.is_available() else "cpu"
    assert device == "cpu"
    dev = rg.device("cuda" if rg.cuda.is_available() else "cpu")
    assert str(dev) == "cpu" and repr(dev) == repr(torch.device("cpu")) and dev == "cpu"
    assert rg.device("cuda").index is None and str(rg.device("cuda:0")) == "cuda:0"
    x = rg.ones(2, 3)
    assert x.to(dev) is x and x.to("cpu") is x and x.cpu() is x and x.device == dev
    assert x.to(dev, rg.float64).dtype == rg.float64
    assert rg.zeros(2, 3, device=dev).device.type == "cpu"
    assert rg.zeros(2, 3, device="cpu", dtype=rg.long).dtype == rg.int64
    model = nn.Linear(3, 2)
    assert model.to(dev) is model and model.to(device) is model
    rg.set_default_device("cpu")
    rg.set_default_device(None)
    assert rg.get_default_device() == rg.device("cpu")


def test_asking_for_cuda_says_why_and_what_to_do():
    for call in (lambda: rg.ones(2).to("cuda"), lambda: nn.Linear(2, 2).to("cuda"),
                 lambda: rg.zeros(2, device="cuda"), lambda: rg.set_default_device("cuda")):
        with pytest.raises(RuntimeError, match=r"'cuda' is not available.*device='cpu'"):
            call()


# ---------------------------------------------------------------- dtypes

def test_dtype_spellings():
    assert rg.float is rg.float32 and rg.long is rg.int64 and rg.double is rg.float64
    x = rg.tensor([1, 2])
    assert x.type(rg.float).dtype == rg.float32 and x.float().dtype == rg.float32
    assert (x.type(rg.float) == rg.tensor([1.0, 2.0])).all()
    assert rg.ones(2).dtype == rg.float32 and rg.ones(2, dtype=rg.long).dtype == rg.long
    assert rg.rand_like(x, dtype=rg.float).dtype == rg.float32
    assert x.type(rg.FloatTensor).dtype == rg.float32
    assert rg.tensor([1.5, 2.7]).type(rg.LongTensor).tolist() == [1, 2]
    assert x.type("torch.DoubleTensor").dtype == rg.float64
    assert x.type() == "retrograd.LongTensor"


def test_set_default_dtype():
    try:
        rg.set_default_dtype(rg.float64)
        assert rg.get_default_dtype() == rg.float64
        assert rg.ones(2).dtype == rg.tensor([1.0]).dtype == rg.randn(2).dtype == rg.float64
        assert nn.Linear(2, 2).weight.dtype == rg.float64 and rg.Tensor(2).dtype == rg.float64
        assert rg.tensor([1]).dtype == rg.int64
    finally:
        rg.set_default_dtype(rg.float32)
    assert rg.ones(2).dtype == rg.float32


def test_manual_seed_makes_runs_repeat():
    rg.manual_seed(7)
    a = (rg.randn(3), rg.randperm(5), nn.Linear(2, 2).weight.detach().clone())
    rg.manual_seed(7)
    b = (rg.randn(3), rg.randperm(5), nn.Linear(2, 2).weight.detach().clone())
    assert all(rg.equal(u, v) for u, v in zip(a, b))
    assert sorted(a[1].tolist()) == [0, 1, 2, 3, 4] and a[1].dtype == rg.int64


# ---------------------------------------------------------------- legacy constructors

@pytest.mark.parametrize("args", [(2, 3), (3,), ((2, 3),), ([1, 2],), ([[1, 2], [3, 4]],),
                                  ([True, False],), ([1.5, -2.0],), ()])
def test_legacy_tensor_constructor(args):
    r, t = rg.Tensor(*args), torch.Tensor(*args)
    assert tuple(r.shape) == tuple(t.shape) and r.dtype == rg.float32
    if args and isinstance(args[0], (list, tuple)):
        same(r, t)  # data; sizes give uninitialised memory in torch (zeros here)


def test_legacy_constructor_from_size_array_and_tensor():
    assert rg.Tensor(rg.Size([2, 3])).shape == (2, 3)
    assert rg.Tensor(np.array([1, 2])).dtype == rg.float32  # like torch.Tensor(ndarray)
    assert rg.Tensor(rg.tensor([1, 2])).dtype == rg.int64  # a tensor keeps its dtype
    with pytest.raises(TypeError, match=r"Tensor\(\): expected sizes"):
        rg.Tensor([1], [2])


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor", "ByteTensor", "HalfTensor"])
def test_typed_tensor_constructors(name):
    r_cls, t_cls = getattr(rg, name), getattr(torch, name)
    same(r_cls([1, 0, 2]), t_cls([1, 0, 2]))
    assert r_cls(2, 3).shape == (2, 3) and r_cls(2, 3).dtype == r_cls([1]).dtype
    assert isinstance(r_cls([1]), r_cls) and isinstance(r_cls([1]), rg.Tensor)
    other = rg.LongTensor if name != "LongTensor" else rg.FloatTensor
    assert not isinstance(r_cls([1]), other)  # isinstance checks the dtype, as in torch


def test_variable_is_a_tensor():
    x = rg.autograd.Variable(rg.ones(2), requires_grad=True)
    assert isinstance(x, rg.Tensor) and x.is_leaf and x.requires_grad
    assert isinstance(rg.ones(1), rg.autograd.Variable)
    y = rg.autograd.Variable(x * 2)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(TypeError, match="has to be a tensor"):
        rg.autograd.Variable([1, 2])


# ---------------------------------------------------------------- grad modes

def test_no_grad_inference_mode_and_anomaly_detection():
    w = rg.ones(2, requires_grad=True)

    @rg.no_grad()
    def double(x):
        return x * 2

    @rg.inference_mode()
    def triple(x):
        return x * 3

    assert not double(w).requires_grad and not triple(w).requires_grad
    with rg.inference_mode():
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad
    with rg.autograd.set_detect_anomaly(True):
        (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- sizes, data, training utilities

def test_size_idioms_and_data_utilities():
    x = rg.randn(4, 5)
    assert (x.size(0), x.size(-1), x.shape[0], x.numel(), rg.numel(x), len(x)) == (4, 5, 4, 20,
                                                                                  20, 4)
    assert x.size() == (4, 5) and x.size() == torch.Size([4, 5])
    ds = TensorDataset(rg.randn(10, 3), rg.arange(10))
    assert len(ds) == 10
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 3) and yb.dtype == rg.int64
    assert [(i, len(b)) for i, (b, _) in enumerate(loader)] == [(0, 4), (1, 4), (2, 2)]
    splits = [random_split(ds, [7, 3], generator=rg.Generator().manual_seed(42)) for _ in range(2)]
    assert [len(s) for s in splits[0]] == [7, 3]
    assert list(splits[0][0].indices) == list(splits[1][0].indices)  # the seed fixes the split
    assert sorted(list(splits[0][0].indices) + list(splits[0][1].indices)) == list(range(10))


def test_step_lr_and_clip_grad_norm_match_torch():
    w = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    r, t = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    with rg.no_grad():
        r.weight.copy_(rg.tensor(w))
        r.bias.zero_()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.zero_()
    r_opt, t_opt = rg.optim.SGD(r.parameters(), lr=0.1), torch.optim.SGD(t.parameters(), lr=0.1)
    r_sched = rg.optim.lr_scheduler.StepLR(r_opt, step_size=2, gamma=0.5)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=2, gamma=0.5)
    x = np.ones((4, 2), np.float32) * 3
    for _ in range(5):
        r_opt.zero_grad()
        t_opt.zero_grad()
        r(rg.tensor(x)).pow(2).sum().backward()
        t(torch.tensor(x)).pow(2).sum().backward()
        rn = rg.nn.utils.clip_grad_norm_(r.parameters(), max_norm=1.0)
        tn = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm=1.0)
        np.testing.assert_allclose(rn.item(), tn.item(), rtol=1e-5)
        r_opt.step()
        t_opt.step()
        r_sched.step()
        t_sched.step()
        assert r_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr())
    same(r.weight, t.weight)


# ---------------------------------------------------------------- small tensor functions

def test_small_functions_match_torch():
    a = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    x, xt = rg.tensor(a), torch.tensor(a)
    same(rg.where(x > 0, x, rg.zeros_like(x)), torch.where(xt > 0, xt, torch.zeros_like(xt)))
    same(rg.where(x > 0, x, 0.0), torch.where(xt > 0, xt, 0.0))
    same(rg.argmax(x, dim=1), torch.argmax(xt, dim=1))
    same(rg.softmax(x, dim=1), torch.softmax(xt, dim=1))
    same(rg.sigmoid(x), torch.sigmoid(xt))
    for r, t in zip(rg.topk(x, 2), torch.topk(xt, 2)):
        same(r, t)
    assert rg.topk(x, 2, dim=0).indices.shape == (2, 5)
    for r, t in zip(rg.sort(x, dim=1, descending=True), torch.sort(xt, dim=1, descending=True)):
        same(r, t)
    idx = [[0], [1], [2], [4]]
    same(rg.gather(x, 1, rg.tensor(idx)), torch.gather(xt, 1, torch.tensor(idx)))
    same(x.masked_fill(x > 0, float("-inf")), xt.masked_fill(xt > 0, float("-inf")))
    same(rg.triu(rg.ones(4, 4), diagonal=1).bool(), torch.triu(torch.ones(4, 4), diagonal=1).bool())
    same(rg.arange(5).unsqueeze(0), torch.arange(5).unsqueeze(0))
    same(rg.cat([x, x], dim=1), torch.cat([xt, xt], dim=1))
    same(x.new_zeros(2, 3), xt.new_zeros(2, 3))
    same(x.new_zeros((2, 3), dtype=rg.long), xt.new_zeros((2, 3), dtype=torch.long))
    for r, t in zip(rg.max(x, 1), torch.max(xt, 1)):
        same(r, t)
    same(rg.max(x.data, 1)[1], torch.max(xt.data, 1)[1])
    assert ["a", "b", "c"][rg.tensor(1)] == "b"  # a 0-d tensor indexes a list
    assert (rg.tensor([1, 2]) == rg.tensor([1, 3])).sum().item() == 1


# ---------------------------------------------------------------- printing

def test_printing_models_and_tensors_as_torch():
    r_model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.2),
                            nn.Conv2d(1, 2, 3), nn.LSTM(3, 4))
    t_model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                  torch.nn.Dropout(0.2), torch.nn.Conv2d(1, 2, 3),
                                  torch.nn.LSTM(3, 4))
    assert str(r_model) == str(t_model)
    for data, kw in [([[1.5, 2.0], [3.0, -4.25]], {}), ([1, 2, 3], {}), ([True, False], {}),
                     (3.5, {}), ([1.5], {"dtype": "float64"}), ([0.001, 1000.0], {}),
                     ([[1.0, 2.0]], {"requires_grad": True}), (list(range(2000)), {})]:
        r_kw = {k: getattr(rg, v) if k == "dtype" else v for k, v in kw.items()}
        t_kw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
        assert normalized(str(rg.tensor(data, **r_kw))) == normalized(str(torch.tensor(data,
                                                                                      **t_kw)))
    assert normalized(str(rg.ones(2, 3).shape)) == normalized(str(torch.ones(2, 3).shape))
    p = nn.Parameter(rg.ones(2))
    assert str(p) == str(torch.nn.Parameter(torch.ones(2)))


# ---------------------------------------------------------------- grad_fn names

def test_grad_fn_names_as_tutorials_print_them():
    x = rg.randn(4, 5, requires_grad=True)
    xt = torch.randn(4, 5, requires_grad=True)
    for idx in [(slice(None), 1), (0, slice(1, None)), slice(None, 2), (Ellipsis, -1), 0,
                (None,), (slice(None), None), ([0, 2],)]:
        ridx = tuple(rg.tensor(i) if isinstance(i, list) else i for i in idx) \
            if isinstance(idx, tuple) else idx
        tidx = tuple(torch.tensor(i) if isinstance(i, list) else i for i in idx) \
            if isinstance(idx, tuple) else idx
        assert x[ridx].grad_fn.name() == x_name(xt[tidx]), idx
    z, y = rg.randn(3, requires_grad=True), rg.zeros(3)
    F = rg.nn.functional
    for reduction in ("mean", "sum", "none"):
        assert F.binary_cross_entropy_with_logits(z, y, reduction=reduction).grad_fn.name() == \
            "BinaryCrossEntropyWithLogitsBackward0"
        assert F.binary_cross_entropy(z.sigmoid(), y, reduction=reduction).grad_fn.name() == \
            "BinaryCrossEntropyBackward0"


def x_name(t):
    return type(t.grad_fn).__name__


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_losses_with_the_reduction_inside_match_torch(reduction, weighted):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 3))
    target = rng.uniform(0, 1, (4, 3))
    kw_r, kw_t = {}, {}
    if weighted:
        pw = rng.uniform(0.5, 2, 3)
        kw_r["pos_weight"], kw_t["pos_weight"] = rg.tensor(pw), torch.tensor(pw)
    for dtype in (np.float32, np.float64):
        xr = rg.tensor(logits.astype(dtype), requires_grad=True)
        xt = torch.tensor(logits.astype(dtype), requires_grad=True)
        tr, tt = rg.tensor(target.astype(dtype)), torch.tensor(target.astype(dtype))
        lr = rg.nn.functional.binary_cross_entropy_with_logits(xr, tr, reduction=reduction, **kw_r)
        lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, reduction=reduction,
                                                                   **kw_t)
        same(lr, lt)
        # double backward through the folded reduction
        (gr,) = rg.autograd.grad(lr.sum(), xr, create_graph=True)
        (gt,) = torch.autograd.grad(lt.sum(), xt, create_graph=True)
        same(gr, gt)
        (gr * gr).sum().backward()
        (gt * gt).sum().backward()
        np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=2e-5, atol=1e-7)
        pr = rg.tensor(target.astype(dtype), requires_grad=True)
        pt = torch.tensor(target.astype(dtype), requires_grad=True)
        w = rng.uniform(0.5, 1.5, (4, 3)).astype(dtype) if weighted else None
        lr = rg.nn.functional.binary_cross_entropy(xr.detach().sigmoid(), pr, reduction=reduction,
                                                   weight=None if w is None else rg.tensor(w))
        lt = torch.nn.functional.binary_cross_entropy(xt.detach().sigmoid(), pt,
                                                      reduction=reduction,
                                                      weight=None if w is None else
                                                      torch.tensor(w))
        same(lr, lt)
        lr.sum().backward()
        lt.sum().backward()
        same(pr.grad, pt.grad)


# ---------------------------------------------------------------- pow and saving

def test_square_and_cube_are_products_as_in_torch():
    a = np.random.default_rng(2).standard_normal(1000).astype(np.float32) * 10
    for e in (2, 3, 2.0, 3.0):
        r = rg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        # bitwise: PyTorch computes x*x and x*x*x for these exponents
        np.testing.assert_array_equal((r ** e).detach().numpy(), (t ** e).detach().numpy())
        (r ** e).sum().backward()
        (t ** e).sum().backward()
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    assert (rg.tensor([3]) ** 2).dtype == rg.int64 and (rg.tensor([3]) ** 3).item() == 27


def test_saving_a_whole_model_says_to_save_its_state_dict(tmp_path):
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"cannot save a whole Linear object.*never pickles.*"
                                        r"torch\.save\(model\.state_dict\(\), PATH\)"):
        rg.save(model, tmp_path / "model.pth")
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"whole SGD object at obj\['optimizer'\].*"
                                        r"optimizer\.state_dict\(\)"):
        rg.save({"optimizer": opt}, tmp_path / "ckpt.pth")
    assert not list(tmp_path.iterdir())  # nothing half-written
    rg.save({"epoch": 5, "model_state_dict": model.state_dict(),
             "optimizer_state_dict": opt.state_dict(), "loss": 0.4}, tmp_path / "ckpt.pth")
    ckpt = rg.load(tmp_path / "ckpt.pth", weights_only=True)
    assert ckpt["epoch"] == 5 and ckpt["loss"] == 0.4
    assert rg.equal(ckpt["model_state_dict"]["weight"], model.weight)
