"""The Module system against torch.nn: registration, iteration order and names, modes,
dtype conversion, hooks, repr, state_dict round trips in both directions, containers."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402


def _lib(lib):
    return rg if lib == "rg" else torch


def _nograd(lib):
    return rg.no_grad() if lib is rg else torch.no_grad()


def build_net(lib):
    """The same nested model in retrograd or torch: Sequential, ModuleDict, ModuleList, a
    direct Parameter, persistent and non-persistent buffers, a None child."""
    L = lib.nn

    class Block(L.Module):
        def __init__(self):
            super().__init__()
            self.fc = L.Linear(6, 6)
            self.gate = L.Parameter(lib.ones(6))
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.gate

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.scale = L.Parameter(lib.ones(1))
            self.features = L.Sequential(L.Linear(4, 8), L.Dropout(0.2), L.Linear(8, 6),
                                         L.BatchNorm1d(6))
            self.blocks = L.ModuleList([Block(), Block()])
            self.heads = L.ModuleDict({"cls": L.Linear(6, 3), "id": L.Identity()})
            self.missing = None
            self.register_module("nothing", None)

        def forward(self, x):
            h = self.features(x)
            for b in self.blocks:
                h = b(h)
            return self.heads["cls"](h) * self.scale

    return Net()


def test_names_and_order_of_members_match_torch():
    r, t = build_net(rg), build_net(torch)
    assert [n for n, _ in r.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in r.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in r.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in r.named_children()] == [n for n, _ in t.named_children()]
    assert [type(m).__name__ for m in r.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in r.children()] == [type(m).__name__ for m in t.children()]
    assert list(r.state_dict()) == list(t.state_dict())
    assert len(list(r.parameters())) == len(list(t.parameters())) == 15
    assert all(isinstance(p, nn.Parameter) for p in r.parameters())
    # non-recursive forms
    assert [n for n, _ in r.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in r.blocks[0].named_buffers(recurse=False)] == ["count", "cache"]
    assert "blocks.0.cache" not in r.state_dict()  # non-persistent: a buffer, not saved
    assert r.get_submodule("blocks.1.fc") is r.blocks[1].fc
    assert r.get_parameter("features.2.bias") is r.features[2].bias
    assert r.get_buffer("features.3.running_var") is r.features[3].running_var


def test_shared_modules_and_parameters_are_listed_once():
    def build(lib):
        L = lib.nn
        shared = L.Linear(3, 3)
        m = L.Sequential(shared, L.Identity(), shared)
        m.extra = L.Linear(3, 3)
        m.extra.weight = shared.weight
        return m

    r, t = build(rg), build(torch)
    assert [n for n, _ in r.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in r.named_modules()] == [n for n, _ in t.named_modules()]
    assert list(r.state_dict()) == list(t.state_dict())
    assert len(list(r.named_modules(remove_duplicate=False))) == \
        len(list(t.named_modules(remove_duplicate=False)))


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(rg.zeros(2))
    m.register_buffer("b", rg.ones(3))
    m.child = nn.Linear(1, 1)
    m.plain = rg.zeros(1)  # a plain tensor attribute is neither parameter nor buffer
    assert list(m._parameters) == ["w"] and list(m._buffers) == ["b"]
    assert list(m._modules) == ["child"] and "plain" not in m.state_dict()
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = rg.zeros(2)  # a Tensor where a Parameter lives
    m.w = None
    assert m.w is None and list(m.parameters()) == list(m.child.parameters())
    m.b = rg.full((3,), 2.0)  # reassigning a buffer keeps it a buffer
    assert m.state_dict()["b"].tolist() == [2, 2, 2]
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("child", rg.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", rg.zeros(1))
    with pytest.raises(TypeError):
        m.register_parameter("q", rg.zeros(1))  # must be a Parameter
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", _nonleaf_parameter())
    del m.child
    assert list(m._modules) == [] and not hasattr(m, "child")
    m.buf = nn.Buffer(rg.ones(2), persistent=False)
    assert "buf" in dict(m.named_buffers()) and "buf" not in m.state_dict()

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(rg.zeros(1))  # before super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def _nonleaf_parameter():
    p = nn.Parameter(rg.zeros(1))
    q = p * 2
    q.__class__ = nn.Parameter  # a Parameter object that has a grad_fn
    return q


def test_train_eval_and_requires_grad():
    m = build_net(rg)
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    assert m.train() is m and all(x.training for x in m.modules())
    m.features.train(False)
    assert m.training and not m.features[1].training
    with pytest.raises(ValueError):
        m.train("yes")
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    m(rg.randn(4, 3)).sum().backward()
    grads = [p.grad for p in m.parameters()]
    assert all(g is not None and np.any(g.numpy()) for g in grads)
    m.zero_grad(set_to_none=set_to_none)
    for p, g in zip(m.parameters(), grads):
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is g and not np.any(p.grad.numpy())  # zeroed in place
    m.zero_grad()  # default: to None, as torch 2.x
    assert all(p.grad is None for p in m.parameters())


def test_apply_visits_children_first_like_torch():
    seen = {}
    for name in ("rg", "torch"):
        lib = _lib(name)
        seen[name] = order = []
        build_net(lib).apply(lambda mod, order=order: order.append(type(mod).__name__))
    assert seen["rg"] == seen["torch"] and seen["rg"][-1] == "Net"

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)

    m = build_net(rg).apply(init)
    linears = [x for x in m.modules() if isinstance(x, nn.Linear)]
    assert len(linears) == 5 and all(np.all(x.weight.detach().numpy() == 0.5) for x in linears)


def test_to_dtype_keeps_parameter_identity():
    m = build_net(rg)
    m(rg.randn(5, 4)).sum().backward()
    params = list(m.parameters())
    assert m.to(rg.float64) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == rg.float64 and p.grad.dtype == rg.float64 for p in params)
    assert m.features[3].running_mean.dtype == rg.float64
    assert m.features[3].num_batches_tracked.dtype == rg.int64  # integers are left alone
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    m.float()
    assert all(p.dtype == rg.float32 for p in m.parameters())
    m.double()
    assert m(rg.randn(2, 4, dtype=rg.float64)).dtype == rg.float64
    m.to(dtype=rg.float32)
    assert m.scale.dtype == rg.float32
    with pytest.raises(TypeError, match="floating point"):
        m.to(rg.int64)
    assert m.to("cpu") is m


def test_deepcopy_gives_independent_parameters():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    c = copy.deepcopy(m)
    assert list(c.state_dict()) == list(m.state_dict())
    for (k, a), b in zip(m.state_dict().items(), c.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    with rg.no_grad():
        c[0].weight.fill_(3.0)
    assert not np.any(m[0].weight.detach().numpy() == 3.0)
    assert isinstance(c[0].weight, nn.Parameter) and c[0].weight.requires_grad


# ------------------------------------------------------------------ forward hooks
def test_forward_pre_and_post_hooks():
    m = nn.Linear(3, 2)
    x = rg.randn(4, 3)
    base = m(x).detach().numpy()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append((mod, args[0].shape)))
    out = m(x).detach().numpy()
    np.testing.assert_allclose(out, np.broadcast_to(m.bias.detach().numpy() + 1, (4, 2)),
                               rtol=1e-6)
    assert calls == [(m, (4, 3))]
    # a pre-hook may return a single value instead of a tuple
    h1.remove()
    h4 = m.register_forward_pre_hook(lambda mod, args: args[0] * 2)
    np.testing.assert_allclose(m(x).detach().numpy(),
                               m.forward(x * 2).detach().numpy() + 1, rtol=1e-6)
    for h in (h2, h3, h4):
        h.remove()
    np.testing.assert_array_equal(m(x).detach().numpy(), base)
    assert len(calls) == 2


def test_forward_hooks_with_kwargs_and_prepend():
    order = []
    m = nn.Identity()
    m.register_forward_hook(lambda mod, a, o: order.append("second"))
    m.register_forward_hook(lambda mod, a, o: order.append("first"), prepend=True)

    def pre(mod, args, kwargs):
        order.append(("kw", kwargs))
        return args, kwargs

    m.register_forward_pre_hook(pre, with_kwargs=True)
    m(rg.zeros(1))
    assert order == [("kw", {}), "first", "second"]


# ------------------------------------------------------------------ backward hooks
def _copy_weights(r_mod, t_mod):
    r_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def _run_backward_hook(lib, mod, x, modify):
    recorded = []

    def hook(m, grad_input, grad_output):
        recorded.append(([None if g is None else g.detach().numpy().copy() for g in grad_input],
                         [g.detach().numpy().copy() for g in grad_output]))
        if modify:
            return tuple(None if g is None else g * 3 for g in grad_input)

    handle = mod.register_full_backward_hook(hook)
    xin = lib.tensor(x, requires_grad=True)
    (mod(xin) ** 2).sum().backward()
    handle.remove()
    params = [p.grad.numpy().copy() for p in mod.parameters()]
    return recorded, xin.grad.numpy(), params


@pytest.mark.parametrize("modify", [False, True])
@pytest.mark.parametrize("kind", ["linear", "sequential"])
def test_full_backward_hook_matches_torch(kind, modify):
    def make(lib):
        L = lib.nn
        if kind == "linear":
            return L.Linear(3, 2)
        return L.Sequential(L.Linear(3, 4), L.Linear(4, 2))

    t_mod, r_mod = make(torch), make(rg)
    _copy_weights(r_mod, t_mod)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    rr, rgx, rgp = _run_backward_hook(rg, r_mod, x, modify)
    tr, tgx, tgp = _run_backward_hook(torch, t_mod, x, modify)
    assert len(rr) == len(tr) == 1
    for a, b in zip(rr[0][0] + rr[0][1], tr[0][0] + tr[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rgx, tgx, rtol=1e-5, atol=1e-6)  # x3 when the hook modifies
    for a, b in zip(rgp, tgp):  # parameter gradients are not affected by the hook
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_full_backward_hook_modifies_every_input_of_a_two_input_module():
    t_mod = torch.nn.Bilinear(2, 3, 2)
    r_mod = nn.Bilinear(2, 3, 2)
    _copy_weights(r_mod, t_mod)
    grads = {}
    for lib, mod in ((rg, r_mod), (torch, t_mod)):
        mod.register_full_backward_hook(lambda m, gi, go: tuple(g * 10 for g in gi))
        a = lib.tensor(np.linspace(-1, 1, 4).reshape(2, 2), dtype=lib.float32, requires_grad=True)
        b = lib.tensor(np.linspace(0, 2, 6).reshape(2, 3), dtype=lib.float32, requires_grad=True)
        (mod(a, b) ** 2).sum().backward()
        grads[lib.__name__] = (a.grad.numpy(), b.grad.numpy())
    for a, b in zip(grads["retrograd"], grads["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_full_backward_pre_hook_and_input_without_grad():
    for lib in (rg, torch):
        m = lib.nn.Linear(3, 1)
        seen = []
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 0,))
        m.register_full_backward_hook(lambda mod, gi, go, seen=seen: seen.append((gi, go)))
        m(lib.ones(2, 3)).sum().backward()
        # grad_output was replaced by zeros before the module's backward: no weight gradient
        assert not np.any(m.weight.grad.numpy())
        assert seen[0][0] == (None,) and not np.any(seen[0][1][0].numpy())


def test_create_graph_through_a_hooked_module():
    t_mod, r_mod = torch.nn.Linear(2, 1), nn.Linear(2, 1)
    _copy_weights(r_mod, t_mod)
    res = []
    for lib, mod in ((rg, r_mod), (torch, t_mod)):
        mod.register_full_backward_hook(lambda m, gi, go: None)
        x = lib.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
        (g,) = lib.autograd.grad((mod(x) ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5)


# ------------------------------------------------------------------ repr
def _norm_repr(s):
    return s.replace("torch.", "retrograd.")


def test_nested_repr_is_torchs():
    assert _norm_repr(repr(build_net(torch))) == repr(build_net(rg))
    for lib_mod in (lambda L: L.Sequential(L.Linear(3, 4, bias=False), L.Dropout(p=0.1),
                                           L.Sequential(L.Flatten(), L.Identity())),
                    lambda L: L.ModuleList([L.Linear(2, 2) for _ in range(3)] + [L.Dropout()]),
                    lambda L: L.Sequential(OrderedDict(a=L.Linear(1, 1), b=L.Dropout2d())),
                    lambda L: L.Sequential(), lambda L: L.ModuleDict()):
        assert _norm_repr(repr(lib_mod(torch.nn))) == repr(lib_mod(nn))


def test_parameter_container_reprs_match_torch():
    def build(lib):
        L = lib.nn
        m = L.Module()
        m.pl = L.ParameterList([L.Parameter(lib.zeros(3, 4)),
                                L.Parameter(lib.zeros(2, dtype=lib.float64))])
        m.pd = L.ParameterDict({"a": L.Parameter(lib.zeros(3, 4)), "b": lib.zeros(2)})
        return m

    assert _norm_repr(repr(build(torch))) == repr(build(rg))


# ------------------------------------------------------------------ state dict
def test_state_dict_is_detached_and_shares_memory():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked"]
    assert not sd["0.weight"].requires_grad
    sd["0.bias"][0] = 42.0
    assert m[0].bias[0].item() == 42.0  # shares memory, as in torch
    kv = m.state_dict(keep_vars=True)
    assert kv["0.weight"] is m[0].weight
    assert list(m.state_dict(prefix="model.")) == ["model." + k for k in sd]


@pytest.mark.parametrize("convert", ["retrograd", "numpy", "torch"])
def test_load_state_dict_accepts_tensors_arrays_and_torch(convert):
    src = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    src(rg.randn(8, 3))  # running statistics move away from their initial values
    sd = src.state_dict()
    if convert == "numpy":
        sd = {k: v.numpy() for k, v in sd.items()}
    elif convert == "torch":
        sd = {k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()}
    dst = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    res = dst.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
        assert a.dtype == b.dtype
    # loading copies: the destination does not alias the source
    with rg.no_grad():
        src[0].weight.fill_(0.0)
    assert np.any(dst[0].weight.detach().numpy())


def test_load_state_dict_errors_name_keys_and_shapes():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = dict(sd, **{"0.weight": np.zeros((5, 3), np.float32)})
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(bad)
    msg = str(e.value)
    assert "size mismatch for 0.weight" in msg and "[5, 3]" in msg and "[4, 3]" in msg
    # shape mismatches raise even with strict=False, as in torch
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        m.load_state_dict(bad, strict=False)
    partial = {k: v for k, v in sd.items() if k != "1.running_var"}
    partial["head.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(partial)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "1.running_var"' in msg
    assert 'Unexpected key(s) in state_dict: "head.weight"' in msg
    res = m.load_state_dict(partial, strict=False)
    assert res.missing_keys == ["1.running_var"] and res.unexpected_keys == ["head.weight"]
    missing, unexpected = res
    assert missing == ["1.running_var"] and unexpected == ["head.weight"]
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def _mlp(lib):
    L = lib.nn
    return L.Sequential(L.Linear(5, 16), L.BatchNorm1d(16), L.Dropout(0.3), L.Linear(16, 8),
                        L.BatchNorm1d(8), L.Dropout(0.1), L.Linear(8, 3))


def _train_a_little(model, lib, steps=3):
    model.train()
    gen = np.random.default_rng(5)
    for _ in range(steps):
        x = lib.tensor(gen.standard_normal((16, 5)).astype(np.float32) * 2 + 1)
        model(x)  # batch norm running statistics move


def test_torch_state_dict_loads_into_retrograd_and_gives_same_outputs():
    t_model = _mlp(torch)
    _train_a_little(t_model, torch)
    r_model = _mlp(rg)
    r_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    assert r_model[1].num_batches_tracked.item() == 3
    t_model.eval()
    r_model.eval()
    x = np.random.default_rng(9).standard_normal((7, 5)).astype(np.float32)
    np.testing.assert_allclose(r_model(rg.tensor(x)).detach().numpy(),
                               t_model(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_retrograd_state_dict_loads_into_torch_and_gives_same_outputs():
    r_model = _mlp(rg)
    _train_a_little(r_model, rg)
    t_model = _mlp(torch)
    t_model.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                             for k, v in r_model.state_dict().items()})
    assert t_model[4].num_batches_tracked.item() == 3
    t_model.eval()
    r_model.eval()
    x = np.random.default_rng(10).standard_normal((7, 5)).astype(np.float32)
    np.testing.assert_allclose(r_model(rg.tensor(x)).detach().numpy(),
                               t_model(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ containers
def test_sequential_positional_and_ordered_dict():
    a, b, c = nn.Linear(2, 3), nn.Dropout(0.0), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert list(s._modules) == ["0", "1", "2"] and len(s) == 3
    assert s[0] is a and s[-1] is c and s[-3] is a
    assert list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    assert sub[0] is b
    with pytest.raises(IndexError, match="out of range"):
        s[3]
    with pytest.raises(IndexError):
        s[-4]
    x = rg.randn(4, 2)
    np.testing.assert_allclose(s(x).detach().numpy(), c(b(a(x))).detach().numpy())
    d = nn.Sequential(OrderedDict([("fc", a), ("drop", b), ("out", c)]))
    assert list(d._modules) == ["fc", "drop", "out"] and d.fc is a and d[2] is c
    assert [n for n, _ in d.named_parameters()] == ["fc.weight", "fc.bias", "out.weight",
                                                    "out.bias"]
    assert list(d[:2]._modules) == ["fc", "drop"]


def test_sequential_mutation_matches_torch():
    def keys_after(lib, ops):
        L = lib.nn
        s = L.Sequential(OrderedDict([("a", L.Identity()), ("b", L.Linear(1, 1)),
                                      ("c", L.Identity()), ("d", L.Dropout())]))
        for op in ops:
            op(s, L)
        return list(s._modules), [type(m).__name__ for m in s]

    cases = [
        [lambda s, L: s.__delitem__(0)],
        [lambda s, L: s.__delitem__(-1)],
        [lambda s, L: s.__delitem__(slice(1, 3))],
        [lambda s, L: s.append(L.Linear(2, 2))],
        [lambda s, L: s.__delitem__(1), lambda s, L: s.append(L.Identity())],
        [lambda s, L: s.pop(1)],
        [lambda s, L: s.__setitem__(-1, L.Linear(3, 3))],
    ]
    for ops in cases:
        assert keys_after(rg, ops) == keys_after(torch, ops)
    s = nn.Sequential(nn.Identity())
    assert s.append(nn.Linear(1, 1)) is s and len(s) == 2
    s.extend([nn.Identity(), nn.Identity()])
    assert list(s._modules) == ["0", "1", "2", "3"]
    s.insert(1, nn.Dropout())
    assert [type(m).__name__ for m in s] == ["Identity", "Dropout", "Linear", "Identity",
                                             "Identity"]
    both = nn.Sequential(nn.Identity()) + nn.Sequential(nn.Dropout())
    assert [type(m).__name__ for m in both] == ["Identity", "Dropout"]


def test_module_list():
    layers = [nn.Linear(2, 2) for _ in range(3)]
    ml = nn.ModuleList(layers)
    assert len(ml) == 3 and ml[-1] is layers[2] and list(ml) == layers
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == layers[1:]
    ml.append(nn.Identity())
    ml.extend([nn.Dropout()])
    ml += [nn.Identity()]
    assert len(ml) == 6 and list(ml._modules) == [str(i) for i in range(6)]
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)] and ml[0] is layers[1]
    ml.insert(0, layers[0])
    assert ml[0] is layers[0] and ml[1] is layers[1]
    assert ml.pop(0) is layers[0]
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range"):
        ml[10]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

    assert len(list(Holder().parameters())) == 4


def test_module_dict():
    md = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.Identity()})
    assert list(md.keys()) == ["b", "a"]  # insertion order, as torch
    md["c"] = nn.Linear(2, 2)
    md.update({"d": nn.Dropout()})
    md.update([("e", nn.Identity())])
    assert list(md) == ["b", "a", "c", "d", "e"] and "c" in md and len(md) == 5
    assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias", "c.weight", "c.bias"]
    assert isinstance(md.pop("c"), nn.Linear) and "c" not in md
    del md["d"]
    assert list(md.keys()) == ["b", "a", "e"]
    assert [k for k, _ in md.items()] == ["b", "a", "e"] and len(list(md.values())) == 3
    md.clear()
    assert len(md) == 0


def test_parameter_list_and_dict():
    pl = nn.ParameterList([rg.zeros(2), nn.Parameter(rg.ones(3))])
    pl.append(rg.full((1,), 5.0))
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert pl[-1].item() == 5.0 and pl[1].shape == (3,)
    pl.extend([rg.zeros(4)])
    assert len(list(pl.parameters())) == 4
    pd = nn.ParameterDict({"w": rg.zeros(2)})
    pd["b"] = nn.Parameter(rg.ones(1))
    pd.update({"c": rg.zeros(3)})
    assert list(pd.keys()) == ["w", "b", "c"] and "b" in pd and len(pd) == 3
    assert isinstance(pd["w"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b", "c"]
    del pd["w"]
    assert list(pd) == ["b", "c"]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([rg.zeros(2), rg.zeros(3)])

    h = Holder()
    assert list(h.state_dict()) == ["ps.0", "ps.1"]
    h.load_state_dict({"ps.0": np.ones(2), "ps.1": np.full(3, 2.0)})
    assert h.ps[1].tolist() == [2.0, 2.0, 2.0]
