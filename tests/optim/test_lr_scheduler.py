"""Learning-rate schedulers against torch.optim.lr_scheduler: exact lr sequences."""

import copy
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.optim as ro  # noqa: E402
from retrograd.optim import lr_scheduler as rs  # noqa: E402

TS = torch.optim.lr_scheduler
N_STEPS = 120


def _optimizer(lib, kind="SGD"):
    """Two parameter groups with different lrs, so per-group logic is exercised."""
    if lib is torch:
        mk = lambda: torch.zeros(2, requires_grad=True)  # noqa: E731
        mod = torch.optim
    else:
        mk = lambda: rg.zeros(2, requires_grad=True)  # noqa: E731
        mod = ro
    groups = [{"params": [mk()]}, {"params": [mk()], "lr": 0.05}]
    if kind == "SGD":
        return mod.SGD(groups, lr=0.1, momentum=0.9)
    return mod.Adam(groups, lr=0.1, betas=(0.9, 0.99))


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _close(a, b, what):
    assert len(a) == len(b), what
    for x, y in zip(a, b):
        assert math.isclose(float(x), float(y), rel_tol=1e-12, abs_tol=1e-15), f"{what}: {a} != {b}"


# Each factory builds a scheduler for (optimizer, scheduler module).
SCHEDULERS = {
    "LambdaLR": (lambda o, m: m.LambdaLR(o, lambda e: 0.95**e), "SGD"),
    "LambdaLR-list": (lambda o, m: m.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (1 + e)]), "SGD"),
    "MultiplicativeLR": (lambda o, m: m.MultiplicativeLR(o, lambda e: 0.97), "SGD"),
    "StepLR": (lambda o, m: m.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda o, m: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3), "SGD"),
    "ConstantLR": (lambda o, m: m.ConstantLR(o, factor=0.25, total_iters=12), "SGD"),
    "LinearLR": (
        lambda o, m: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40),
        "SGD",
    ),
    "ExponentialLR": (lambda o, m: m.ExponentialLR(o, gamma=0.97), "SGD"),
    "PolynomialLR": (lambda o, m: m.PolynomialLR(o, total_iters=60, power=2.0), "SGD"),
    "CosineAnnealingLR": (lambda o, m: m.CosineAnnealingLR(o, T_max=25, eta_min=1e-3), "SGD"),
    "CosineAnnealingWarmRestarts": (
        lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-4),
        "SGD",
    ),
    "CosineAnnealingWarmRestarts-T1": (lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=7), "SGD"),
    "CyclicLR-triangular": (
        lambda o, m: m.CyclicLR(
            o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=8, step_size_down=5
        ),
        "SGD",
    ),
    "CyclicLR-triangular2": (
        lambda o, m: m.CyclicLR(
            o,
            base_lr=[0.01, 0.02],
            max_lr=0.1,
            step_size_up=6,
            mode="triangular2",
            base_momentum=0.7,
            max_momentum=0.95,
        ),
        "SGD",
    ),
    "CyclicLR-exp_range-adam": (
        lambda o, m: m.CyclicLR(
            o,
            base_lr=0.001,
            max_lr=0.01,
            step_size_up=9,
            mode="exp_range",
            gamma=0.99,
            base_momentum=0.8,
            max_momentum=0.9,
        ),
        "Adam",
    ),
    "CyclicLR-scale_fn-iterations": (
        lambda o, m: m.CyclicLR(
            o,
            base_lr=0.001,
            max_lr=0.01,
            step_size_up=5,
            scale_fn=lambda x: 1 / (1 + 0.05 * x),
            scale_mode="iterations",
            cycle_momentum=False,
        ),
        "SGD",
    ),
    "CyclicLR-scale_fn-cycle": (
        lambda o, m: m.CyclicLR(
            o,
            base_lr=0.001,
            max_lr=0.01,
            step_size_up=5,
            scale_fn=lambda x: 0.5**x,
            scale_mode="cycle",
        ),
        "Adam",
    ),
    "OneCycleLR-cos": (lambda o, m: m.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=N_STEPS), "SGD"),
    "OneCycleLR-linear-three_phase": (
        lambda o, m: m.OneCycleLR(
            o,
            max_lr=0.4,
            epochs=12,
            steps_per_epoch=10,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
        "SGD",
    ),
    "OneCycleLR-adam-betas": (
        lambda o, m: m.OneCycleLR(
            o, max_lr=0.01, total_steps=N_STEPS + 5, base_momentum=0.8, max_momentum=0.9
        ),
        "Adam",
    ),
    "OneCycleLR-no-momentum": (
        lambda o, m: m.OneCycleLR(o, max_lr=0.01, total_steps=N_STEPS, cycle_momentum=False),
        "SGD",
    ),
    "SequentialLR": (
        lambda o, m: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.1, total_iters=10), m.ExponentialLR(o, gamma=0.95)],
            milestones=[10],
        ),
        "SGD",
    ),
    "SequentialLR-3": (
        lambda o, m: m.SequentialLR(
            o,
            [
                m.ConstantLR(o, factor=0.5, total_iters=5),
                m.CosineAnnealingLR(o, T_max=30),
                m.StepLR(o, step_size=9, gamma=0.7),
            ],
            milestones=[5, 40],
        ),
        "SGD",
    ),
    "ChainedScheduler": (
        lambda o, m: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.96)]
        ),
        "SGD",
    ),
    "ChainedScheduler-optimizer": (
        lambda o, m: m.ChainedScheduler(
            [
                m.LinearLR(o, start_factor=0.5, total_iters=20),
                m.CosineAnnealingLR(o, T_max=33, eta_min=0.001),
                m.MultiStepLR(o, milestones=[50, 90], gamma=0.5),
            ],
            optimizer=o,
        ),
        "SGD",
    ),
}


def _pair(name):
    factory, kind = SCHEDULERS[name]
    r_opt, t_opt = _optimizer(rg, kind), _optimizer(torch, kind)
    return r_opt, factory(r_opt, rs), t_opt, factory(t_opt, TS)


def _compare(r_opt, r_s, t_opt, t_s, what):
    _close(r_s.get_last_lr(), t_s.get_last_lr(), f"{what}: get_last_lr")
    _close(
        [g["lr"] for g in r_opt.param_groups],
        [g["lr"] for g in t_opt.param_groups],
        f"{what}: group lr",
    )
    rm, tm = _momenta(r_opt), _momenta(t_opt)
    assert rm == tm, f"{what}: momentum {rm} != {tm}"


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    r_opt, r_s, t_opt, t_s = _pair(name)
    _compare(r_opt, r_s, t_opt, t_s, f"{name} after construction")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right order (optimizer first) warns about nothing
        for i in range(N_STEPS):
            r_opt.step()
            t_opt.step()
            r_s.step()
            t_s.step()
            _compare(r_opt, r_s, t_opt, t_s, f"{name} step {i}")


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip_midway(name):
    r_opt, r_s, t_opt, t_s = _pair(name)
    for _ in range(50):
        for o, s in ((r_opt, r_s), (t_opt, t_s)):
            o.step()
            s.step()
    sched_state = copy.deepcopy(r_s.state_dict())
    opt_state = copy.deepcopy(r_opt.state_dict())
    assert "optimizer" not in sched_state
    if not name.startswith(("Sequential", "Chained")):
        assert set(sched_state) == set(t_s.state_dict()), "same state keys as torch"

    # resume: fresh optimizer and scheduler, scheduler state first, then optimizer state
    factory, kind = SCHEDULERS[name]
    new_opt = _optimizer(rg, kind)
    new_s = factory(new_opt, rs)
    new_s.load_state_dict(sched_state)
    new_opt.load_state_dict(opt_state)
    _compare(new_opt, new_s, t_opt, t_s, f"{name} after loading")
    for i in range(N_STEPS - 50):
        new_opt.step()
        t_opt.step()
        new_s.step()
        t_s.step()
        _compare(new_opt, new_s, t_opt, t_s, f"{name} resumed step {i}")


def test_lambda_state_dict_skips_functions_but_keeps_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    opt = _optimizer(rg)
    s = rs.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"rate": 0.5}]
    s2 = rs.LambdaLR(_optimizer(rg), [lambda e: 1.0, Decay(0.9)])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[1].rate == 0.5


PLATEAU_METRICS = [
    1.0,
    0.9,
    0.95,
    0.95,
    0.95,
    0.89,
    0.9,
    0.9,
    0.9,
    0.9,
    0.9,
    0.9,
    0.9,
    0.7,
    0.71,
    0.72,
    0.73,
    0.74,
    0.75,
    0.76,
    0.77,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
]


@pytest.mark.parametrize(
    "kwargs,metrics",
    [
        (dict(mode="min", factor=0.5, patience=2), PLATEAU_METRICS),
        (
            dict(
                mode="min", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2
            ),
            PLATEAU_METRICS,
        ),
        (
            dict(mode="max", factor=0.3, patience=0, threshold_mode="rel", min_lr=[1e-3, 4e-3]),
            [-m for m in PLATEAU_METRICS],
        ),
        (
            dict(
                mode="max", patience=1, threshold=0.1, threshold_mode="abs", min_lr=0.02, eps=1e-3
            ),
            list(np.cos(np.arange(40) / 3.0)),
        ),
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs, metrics):
    r_opt, t_opt = _optimizer(rg), _optimizer(torch)
    r_s, t_s = rs.ReduceLROnPlateau(r_opt, **kwargs), TS.ReduceLROnPlateau(t_opt, **kwargs)
    for i, m in enumerate(metrics):
        if i % 2:  # a 1-element tensor works as the metric
            r_s.step(rg.tensor(m))
            t_s.step(torch.tensor(m))
        else:
            r_s.step(m)
            t_s.step(m)
        _close(r_s.get_last_lr(), t_s.get_last_lr(), f"step {i}")
        assert (r_s.num_bad_epochs, r_s.cooldown_counter, r_s.best) == (
            t_s.num_bad_epochs,
            t_s.cooldown_counter,
            t_s.best,
        )
        if i == 20:  # round trip mid-run
            new = rs.ReduceLROnPlateau(r_opt, **kwargs)
            new.load_state_dict(copy.deepcopy(r_s.state_dict()))
            r_s = new
    assert r_s.get_last_lr() != [0.1, 0.05], "the scripted metrics must trigger reductions"


def test_cosine_warm_restarts_fractional_epochs():
    r_opt, t_opt = _optimizer(rg), _optimizer(torch)
    kw = dict(T_0=3, T_mult=2, eta_min=0.001)
    r_s, t_s = (
        rs.CosineAnnealingWarmRestarts(r_opt, **kw),
        TS.CosineAnnealingWarmRestarts(t_opt, **kw),
    )
    iters = 7
    for epoch in range(15):
        for i in range(iters):
            r_s.step(epoch + i / iters)
            t_s.step(epoch + i / iters)
            _close(r_s.get_last_lr(), t_s.get_last_lr(), f"epoch {epoch} iter {i}")
            assert (r_s.T_i, r_s.last_epoch) == (t_s.T_i, t_s.last_epoch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        r_s.step(-1)


@pytest.mark.parametrize(
    "name",
    [
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "LinearLR",
        "ConstantLR",
        "PolynomialLR",
    ],
)
def test_step_with_epoch_uses_closed_form(name):
    r_opt, r_s, t_opt, t_s = _pair(name)
    for epoch in [3, 17, 40, 41, 90]:
        r_opt.step()
        t_opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            r_s.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_s.step(epoch)
        _close(r_s.get_last_lr(), t_s.get_last_lr(), f"{name} epoch {epoch}")


def test_scheduler_before_optimizer_warns():
    opt = _optimizer(rg)
    s = rs.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


def test_construction_sets_initial_lr_and_resume_needs_it():
    opt = _optimizer(rg)
    with pytest.raises(KeyError, match="initial_lr"):
        rs.StepLR(opt, step_size=3, last_epoch=4)
    s = rs.StepLR(opt, step_size=3)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert s.last_epoch == 0 and s.base_lrs == [0.1, 0.05]
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()
    assert rs._LRScheduler is not None and issubclass(rs._LRScheduler, rs.LRScheduler)


def test_bad_arguments():
    opt = _optimizer(rg)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        rs.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        rs.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        rs.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode bogus is unknown"):
        rs.ReduceLROnPlateau(opt, mode="bogus")
    with pytest.raises(ValueError, match="Tried to step"):
        s = rs.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(5):
            opt.step()
            s.step()
    with pytest.raises(ValueError, match="must support momentum"):
        rs.CyclicLR(ro.Adagrad([rg.zeros(1, requires_grad=True)]), base_lr=0.1, max_lr=1.0)
    with pytest.raises(ValueError, match="same length as optimizer.param_groups"):
        rs.OneCycleLR(opt, max_lr=[0.1, 0.2, 0.3], total_steps=10)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        rs.SequentialLR(opt, [rs.ReduceLROnPlateau(opt)], milestones=[])


def test_resume_optimizer_and_scheduler_training():
    """A training run checkpointed mid-way and resumed continues exactly (params and lrs)."""
    rng = np.random.default_rng(0)
    X, w0 = rng.standard_normal((32, 4)), rng.standard_normal(4)
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])

    def setup(init):
        w = rg.tensor(init.copy(), dtype=rg.float64, requires_grad=True)
        opt = ro.SGD([w], lr=0.05, momentum=0.9, nesterov=True)
        sched = rs.OneCycleLR(opt, max_lr=0.1, total_steps=60)
        return w, opt, sched

    def train(w, opt, sched, n):
        Xt, yt = rg.tensor(X, dtype=rg.float64), rg.tensor(y, dtype=rg.float64)
        for _ in range(n):
            opt.zero_grad()
            ((Xt @ w - yt) ** 2).mean().backward()
            opt.step()
            sched.step()

    w, opt, sched = setup(w0)
    train(w, opt, sched, 25)
    ckpt = copy.deepcopy(
        {"w": w.detach().numpy().copy(), "opt": opt.state_dict(), "sched": sched.state_dict()}
    )
    train(w, opt, sched, 30)

    w2, opt2, sched2 = setup(ckpt["w"])
    sched2.load_state_dict(ckpt["sched"])
    opt2.load_state_dict(ckpt["opt"])
    train(w2, opt2, sched2, 30)
    np.testing.assert_array_equal(w2.detach().numpy(), w.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert opt2.param_groups[0]["momentum"] == opt.param_groups[0]["momentum"]
