"""Optimizers against torch.optim: trajectories, state, checkpoints, errors."""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.optim as ro  # noqa: E402

STEPS = 50

# ---------------------------------------------------------------- the two problems
_rng = np.random.default_rng(1234)
NET_INIT = {
    "W1": _rng.standard_normal((3, 6)) * 0.5,
    "b1": _rng.standard_normal(6) * 0.1,
    "W2": _rng.standard_normal((6, 2)) * 0.5,
    "b2": _rng.standard_normal(2) * 0.1,
    "unused": _rng.standard_normal((2, 2)),
}
NET_X = _rng.standard_normal((16, 3))
NET_Y = np.stack([np.sin(NET_X[:, 0]) + NET_X[:, 1], NET_X[:, 2] * NET_X[:, 0]], axis=1)
ROSEN_INIT = {"x": np.array([-1.5]), "y": np.array([2.0]), "unused": np.array([0.3, -0.7])}


def _net_loss(lib, p, X, Y):
    h = lib.tanh(X @ p["W1"] + p["b1"])
    out = h @ p["W2"] + p["b2"]
    return ((out - Y) ** 2).mean()


def _rosen_loss(lib, p, X, Y):
    x, y = p["x"], p["y"]
    return ((1 - x) ** 2 + 100 * (y - x**2) ** 2).sum()


PROBLEMS = {
    "net": (NET_INIT, ["W1", "b1"], ["W2", "b2", "unused"], _net_loss),
    "rosen": (ROSEN_INIT, ["x"], ["y", "unused"], _rosen_loss),
}


def _make_params(lib, init):
    if lib is torch:
        return {
            k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()
        }
    return {k: rg.tensor(v.copy(), dtype=rg.float64, requires_grad=True) for k, v in init.items()}


def _data(lib, X):
    return torch.tensor(X) if lib is torch else rg.tensor(X, dtype=rg.float64)


class Run:
    """One optimizer on one problem, in one library."""

    def __init__(self, lib, opt_name, kwargs, group1, problem, init=None):
        init_vals, names0, names1, loss_fn = PROBLEMS[problem]
        self.lib, self.loss_fn = lib, loss_fn
        self.p = _make_params(lib, init if init is not None else init_vals)
        self.names = names0 + names1
        self.X, self.Y = _data(lib, NET_X), _data(lib, NET_Y)
        cls = getattr(torch.optim if lib is torch else ro, opt_name)
        kw = dict(kwargs)
        if lib is torch:
            kw["foreach"] = False
        groups = [
            {"params": [self.p[n] for n in names0]},
            dict(group1, params=(self.p[n] for n in names1)),  # a generator works too
        ]
        self.opt = cls(groups, **kw)

    def closure(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.lib, self.p, self.X, self.Y)
        loss.backward()
        return loss

    def step(self):
        return self.opt.step(self.closure)

    def values(self):
        return {n: np.array(t.detach().numpy()) for n, t in self.p.items()}


# (optimizer, defaults, overrides of the second group, run on Rosenbrock too?)
CONFIGS = [
    ("SGD", dict(lr=1e-3), {}, True),
    ("SGD", dict(lr=1e-3, momentum=0.9), {"lr": 5e-4, "momentum": 0.5}, True),
    (
        "SGD",
        dict(lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-2),
        {"weight_decay": 0},
        True,
    ),
    ("SGD", dict(lr=1e-3, momentum=0.9, dampening=0.3, weight_decay=1e-2), {"dampening": 0}, True),
    ("SGD", dict(lr=1e-2, momentum=0.8, maximize=True), {}, False),
    ("Adam", dict(lr=1e-2), {"lr": 5e-3, "betas": (0.8, 0.99)}, True),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2), {"amsgrad": False}, True),
    ("Adam", dict(lr=1e-2, betas=(0.3, 0.9), eps=1e-6), {}, True),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True), {}, True),
    ("Adam", dict(lr=1e-2, maximize=True), {}, False),
    ("AdamW", dict(lr=1e-2), {"weight_decay": 0.1}, True),
    ("AdamW", dict(lr=1e-2, amsgrad=True, maximize=True), {}, False),
    ("RMSprop", dict(lr=1e-3), {}, True),
    (
        "RMSprop",
        dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-2),
        {"centered": False},
        True,
    ),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, momentum=0.5, maximize=True), {"momentum": 0}, False),
    ("Adagrad", dict(lr=0.1), {}, True),
    (
        "Adagrad",
        dict(lr=0.1, lr_decay=1e-2, weight_decay=1e-2, initial_accumulator_value=0.1, eps=1e-8),
        {"lr_decay": 0},
        True,
    ),
    ("Adagrad", dict(lr=0.05, maximize=True), {}, False),
    ("Adadelta", dict(), {}, True),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=1e-2), {"rho": 0.95}, True),
    ("Adadelta", dict(maximize=True), {}, False),
    ("Adamax", dict(), {}, True),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.9), weight_decay=1e-2), {"lr": 1e-3}, True),
    ("Adamax", dict(maximize=True), {}, False),
    ("NAdam", dict(), {}, True),
    ("NAdam", dict(lr=1e-2, weight_decay=1e-2, momentum_decay=1e-2), {"betas": (0.8, 0.99)}, True),
    (
        "NAdam",
        dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
        {},
        False,
    ),
    ("RAdam", dict(lr=1e-2), {"lr": 1e-3}, True),
    ("RAdam", dict(lr=1e-2, weight_decay=1e-2), {"betas": (0.5, 0.9)}, True),
    (
        "RAdam",
        dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
        {},
        False,
    ),
]

CASES = [
    pytest.param(name, kw, g1, prob, id=f"{name}-{i}-{prob}")
    for i, (name, kw, g1, rosen) in enumerate(CONFIGS)
    for prob in (["net", "rosen"] if rosen else ["net"])
]


def _assert_close(a, b, what):
    # The update rules follow torch's single-tensor operation order; what remains are
    # fused multiply-adds in torch's CPU kernels (~1 ulp per op). Observed worst case
    # over 50 float64 steps: ~2e-12 relative. 1e-9 keeps a wide margin for other BLAS.
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("name,kwargs,group1,problem", CASES)
def test_trajectory_matches_torch(name, kwargs, group1, problem):
    r = Run(rg, name, kwargs, group1, problem)
    t = Run(torch, name, kwargs, group1, problem)
    init = r.values()
    for step in range(STEPS):
        lr_loss, t_loss = r.step(), t.step()
        np.testing.assert_allclose(float(lr_loss.item()), float(t_loss.item()), rtol=1e-6)
        rv, tv = r.values(), t.values()
        for n in rv:
            _assert_close(rv[n], tv[n], f"{name} {kwargs} step {step}: parameter {n}")
    # the parameter with no gradient is neither moved nor given (lazy) state
    np.testing.assert_array_equal(r.values()["unused"], init["unused"])
    assert r.p["unused"].grad is None
    # the states agree: same keys per parameter index, same values
    rs, ts = r.opt.state_dict(), t.opt.state_dict()
    assert sorted(rs["state"]) == sorted(ts["state"])
    for idx, tstate in ts["state"].items():
        assert set(rs["state"][idx]) == set(tstate)
        for key, tval in tstate.items():
            rval = rs["state"][idx][key]
            assert isinstance(rval, rg.Tensor), f"state {key!r} should be a retrograd Tensor"
            _assert_close(rval.numpy(), tval.numpy(), f"state {idx} {key}")
    for rgp, tgp in zip(rs["param_groups"], ts["param_groups"]):
        assert set(rgp) == set(tgp)
        assert rgp["params"] == tgp["params"]
        for k in ("lr", "weight_decay", "momentum", "betas", "eps", "alpha", "rho"):
            if k in tgp:
                assert rgp[k] == tgp[k]


@pytest.mark.parametrize(
    "name,kwargs,group1",
    [pytest.param(n, kw, g1, id=f"{n}-{i}") for i, (n, kw, g1, _) in enumerate(CONFIGS)],
)
def test_state_dict_resume_is_bit_exact(name, kwargs, group1):
    full = Run(rg, name, kwargs, group1, "net")
    for _ in range(20):
        full.step()
    saved = copy.deepcopy(full.opt.state_dict())
    pristine = copy.deepcopy(saved)
    resumed = Run(rg, name, kwargs, group1, "net", init=full.values())
    resumed.opt.load_state_dict(saved)
    for _ in range(15):
        full.step()
        resumed.step()
    for n, v in full.values().items():
        np.testing.assert_array_equal(resumed.values()[n], v, err_msg=f"{name}: parameter {n}")
    # loading copied the buffers: stepping the resumed optimizer left `saved` untouched
    for idx, entry in pristine["state"].items():
        for key, val in entry.items():
            np.testing.assert_array_equal(saved["state"][idx][key].numpy(), val.numpy())
    assert resumed.opt.state_dict()["param_groups"] == full.opt.state_dict()["param_groups"]


def test_float32_parameters_and_state_stay_float32():
    for name in [
        "SGD",
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "NAdam",
        "RAdam",
    ]:
        w = rg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=rg.float32, requires_grad=True)
        kw = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        opt = getattr(ro, name)([w], lr=0.1, weight_decay=0.01, **kw)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        assert w.dtype == np.float32, name
        assert w._data.dtype == np.float32, name
        for key, val in opt.state[w].items():
            assert isinstance(val, rg.Tensor)
            if key not in ("step", "mu_product"):
                assert val.dtype == np.float32, (name, key)


def test_float32_matches_torch():
    w0 = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)
    rw = rg.tensor(w0.copy(), requires_grad=True)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    ro_ = ro.Adam([rw], lr=0.05, weight_decay=0.01)
    to_ = torch.optim.Adam([tw], lr=0.05, weight_decay=0.01, foreach=False)
    for _ in range(20):
        for opt, w in ((ro_, rw), (to_, tw)):
            opt.zero_grad()
            (w**3).sum().backward()
            opt.step()
    assert rw.dtype == np.float32
    np.testing.assert_allclose(rw.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_is_inspectable_like_torch():
    w = rg.tensor([1.0, -2.0], requires_grad=True)
    opt = ro.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    buf = opt.state[w]["momentum_buffer"]
    assert isinstance(buf, rg.Tensor)
    np.testing.assert_allclose(buf.numpy(), [2.0, -4.0])
    adam = ro.Adam([w])
    adam.step()
    assert set(adam.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    assert adam.state[w]["step"].item() == 1.0


def test_closure_runs_with_grad_enabled_and_returns_loss():
    w = rg.tensor([3.0], requires_grad=True)
    opt = ro.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rg.no_grad():
        loss = opt.step(closure)
    assert float(loss.item()) == 9.0
    np.testing.assert_allclose(w.detach().numpy(), [1.5])
    assert opt.step() is None


def test_zero_grad():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = ro.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_params_forms_and_add_param_group():
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([2.0], requires_grad=True)
    c = rg.tensor([3.0], requires_grad=True)
    opt = ro.SGD((p for p in [a, b]), lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 1 and len(opt.param_groups[0]["params"]) == 2
    opt.add_param_group({"params": c, "lr": 0.01})
    g = opt.param_groups[1]
    assert g["lr"] == 0.01 and g["momentum"] == 0.9 and g["params"] == [c]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        ro.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        ro.Adam(a)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        ro.Adam([a, 3.0])
    with pytest.raises(TypeError, match="ordered collections"):
        ro.Adam([{"params": {a, b}}])
    with pytest.raises(ValueError, match="non-leaf"):
        ro.SGD([a * 2])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ro.SGD([a, a], lr=0.1)


def test_named_parameters_are_accepted():
    a = rg.tensor([1.0], requires_grad=True)
    opt = ro.Adam([("weight", a)])
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.param_groups[0]["params"][0] is a


BAD_ARGS = [
    ("SGD", dict(lr=-1)),
    ("SGD", dict(lr=0.1, momentum=-1)),
    ("SGD", dict(lr=0.1, weight_decay=-1)),
    ("SGD", dict(lr=0.1, nesterov=True)),
    ("Adam", dict(lr=-1)),
    ("Adam", dict(eps=-1)),
    ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(weight_decay=-1)),
    ("AdamW", dict(lr=-0.5)),
    ("RMSprop", dict(alpha=-1)),
    ("RMSprop", dict(momentum=-1)),
    ("Adagrad", dict(lr_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)),
    ("Adadelta", dict(rho=1.5)),
    ("Adamax", dict(betas=(0.9, 1.0))),
    ("NAdam", dict(momentum_decay=-1)),
    ("RAdam", dict(eps=-1)),
]


@pytest.mark.parametrize("name,kwargs", BAD_ARGS)
def test_invalid_hyperparameters_match_torch_messages(name, kwargs):
    with pytest.raises(ValueError) as t_err:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as r_err:
        getattr(ro, name)([rg.zeros(1, requires_grad=True)], **kwargs)
    assert str(r_err.value) == str(t_err.value)


def test_invalid_lr_message():
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ro.SGD([rg.zeros(1, requires_grad=True)], lr=-1)


def test_defaults_match_torch():
    import inspect

    for name in ro.__all__:
        if name in ("Optimizer", "lr_scheduler"):
            continue
        ours = inspect.signature(getattr(ro, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        assert list(ours) == list(theirs), name
        for k, v in theirs.items():
            assert ours[k].default == v.default, (name, k)
            assert ours[k].kind == v.kind, (name, k)


def test_step_hooks_and_no_warning_in_normal_use():
    w = rg.tensor([1.0], requires_grad=True)
    opt = ro.SGD([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert calls == ["pre", "post"]
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable"):
        ro.Adam([rg.zeros(1, requires_grad=True)], differentiable=True)


def test_load_state_dict_checks_groups():
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([1.0], requires_grad=True)
    sd = ro.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        ro.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ro.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


@settings(max_examples=12, deadline=None)
@given(
    name=st.sampled_from(["SGD", "Adam", "RMSprop", "NAdam", "RAdam"]),
    lr=st.floats(1e-4, 5e-2),
    beta_or_momentum=st.floats(0.0, 0.95),
    weight_decay=st.sampled_from([0.0, 1e-3, 0.1]),
    maximize=st.booleans(),
)
def test_random_hyperparameters_match_torch(name, lr, beta_or_momentum, weight_decay, maximize):
    kw = dict(lr=lr, weight_decay=weight_decay, maximize=maximize)
    if name in ("SGD", "RMSprop"):
        kw["momentum"] = beta_or_momentum
    else:
        kw["betas"] = (beta_or_momentum, 0.99)
    r = Run(rg, name, kw, {}, "net")
    t = Run(torch, name, kw, {}, "net")
    for _ in range(10):
        r.step()
        t.step()
    for n, v in t.values().items():
        _assert_close(r.values()[n], v, f"{name} {kw}: parameter {n}")
