"""Reductions: parity with torch over random shapes, dims (int or tuple, negative too) and
keepdim; gradchecks in float64; known answers for the awkward cases (zeros in prod, ties
in max, empty inputs)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import SETTINGS, assert_same, check, float_dtypes, gradcheck, randn, seeds  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import retrograd as rg  # noqa: E402


@st.composite
def shape_and_dims(draw, min_dims=1, tuple_dims=True, allow_none=True):
    """A shape, a valid ``dim`` for it (None, int, negative int or a tuple) and keepdim."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    n = len(shape)
    choices = ["int"]
    if allow_none:
        choices.append("none")
    if tuple_dims and n:
        choices.append("tuple")
    kind = draw(st.sampled_from(choices))
    if kind == "none" or n == 0:
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-n, n - 1))
    else:
        dim = tuple(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=n,
                                  unique_by=lambda d: d % n)))
    return shape, dim, draw(st.booleans())


def _call(name, mod, dim, keepdim, **kw):
    f = getattr(mod, name)
    if dim is None:
        return lambda x: f(x, **kw)
    return lambda x: f(x, dim, keepdim=keepdim, **kw)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "amax", "amin"])
@SETTINGS
@given(sdk=shape_and_dims(), seed=seeds, dtype=float_dtypes)
def test_multi_dim_reductions(name, sdk, seed, dtype):
    shape, dim, keepdim = sdk
    if dim is None and name == "logsumexp":
        dim = tuple(range(len(shape)))
    check(_call(name, rg, dim, keepdim), _call(name, torch, dim, keepdim),
          randn(shape, seed, dtype), seed=seed)


def test_reductions_over_0d_and_all_dims():
    x = randn((), 1)
    for name in ["sum", "mean", "amax", "amin"]:
        check(getattr(rg, name), getattr(torch, name), x)
        check(lambda t, name=name: getattr(t, name)(0), lambda t, name=name: getattr(t, name)(0), x)
    check(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), x)
    check(lambda t: t.sum((), keepdim=True), lambda t: t.sum((), keepdim=True), randn((2, 3), 0))


@pytest.mark.parametrize("name", ["var", "std"])
@SETTINGS
@given(sdk=shape_and_dims(), seed=seeds, dtype=float_dtypes,
       corr=st.sampled_from([("correction", 0), ("correction", 1), ("correction", 2),
                             ("unbiased", False), ("unbiased", True), (None, None)]))
def test_var_std(name, sdk, seed, dtype, corr):
    shape, dim, keepdim = sdk
    n = int(np.prod(shape)) if dim is None else int(np.prod(
        [shape[d] for d in ((dim,) if isinstance(dim, int) else dim)]))
    ddof = 1 if corr[0] is None else int(corr[1])
    if n - ddof <= 0:
        ddof = 0
        corr = ("correction", 0)
    kw = {} if corr[0] is None else {corr[0]: corr[1]}
    f_rg = getattr(rg, name)
    f_t = getattr(torch, name)
    if dim is None:
        check(lambda x: f_rg(x, **kw), lambda x: f_t(x, **kw), randn(shape, seed, dtype), seed=seed)
    else:
        check(lambda x: f_rg(x, dim, keepdim=keepdim, **kw),
              lambda x: f_t(x, dim, keepdim=keepdim, **kw), randn(shape, seed, dtype), seed=seed)


def test_var_std_positional_unbiased_and_means():
    x = randn((3, 4), 2)
    check(lambda t: t.var(False), lambda t: t.var(False), x)
    check(lambda t: t.std(1, True), lambda t: t.std(1, True), x)
    check(lambda t: rg.var_mean(t, 1), lambda t: torch.var_mean(t, 1), x)
    check(lambda t: rg.std_mean(t, 0, keepdim=True), lambda t: torch.std_mean(t, 0, keepdim=True),
          x)


@SETTINGS
@given(sdk=shape_and_dims(tuple_dims=False), seed=seeds, dtype=float_dtypes)
def test_prod(sdk, seed, dtype):
    shape, dim, keepdim = sdk
    x = randn(shape, seed, dtype, low=0.5, high=1.5) * np.sign(randn(shape, seed + 1, dtype))
    check(_call("prod", rg, dim, keepdim), _call("prod", torch, dim, keepdim), x, seed=seed,
          grad_rtol=1e-4 if dtype == np.float32 else None)


@pytest.mark.parametrize("zeros", [[0], [0, 3], [1, 2, 4]])
def test_prod_with_zeros_gradient(zeros):
    x = randn((2, 6), 4, np.float64, low=0.5, high=2.0)
    x[0, zeros] = 0.0
    x[1, zeros[:1]] = 0.0
    for dim in (None, 1, 0, -1):
        check(_call("prod", rg, dim, False), _call("prod", torch, dim, False), x)
    gradcheck(lambda t: t.prod(1), x)
    gradcheck(lambda t: t.prod(), x[:, :3])


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(sdk=shape_and_dims(tuple_dims=False, allow_none=False), seed=seeds, dtype=float_dtypes)
def test_max_min_with_dim(name, sdk, seed, dtype):
    shape, dim, keepdim = sdk
    x = randn(shape, seed, dtype)
    f = lambda t: getattr(t, name)(dim, keepdim)
    _, out = check(f, f, x, seed=seed)
    assert out.values is out[0] and out.indices is out[1]
    assert out.indices.dtype == rg.int64 and not out.indices.requires_grad


def test_max_min_known_answers():
    x = rg.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
    v, i = x.max(1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]  # the first of tied maxima
    v.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    x.grad = None
    x.max().backward()  # the full reduction shares the gradient evenly between ties
    assert x.grad.tolist() == [[0, 0, 0], [0.5, 0, 0.5]]
    assert rg.max(x, rg.tensor(6.0)).tolist() == [[6, 6, 6], [7, 6, 7]]  # elementwise form
    assert x.min(0, keepdim=True).values.shape == (1, 3)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_extrema_ties_match_torch(name):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [4.0, 4.0, 4.0]], np.float32)
    check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)
    if name.startswith("a"):
        check(lambda t: getattr(t, name)(1), lambda t: getattr(t, name)(1), x)
        check(lambda t: getattr(t, name)((0, 1)), lambda t: getattr(t, name)((0, 1)), x)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@SETTINGS
@given(sdk=shape_and_dims(tuple_dims=False), seed=seeds)
def test_argmax_argmin(name, sdk, seed):
    shape, dim, keepdim = sdk
    x = randn(shape, seed)
    r = getattr(rg.tensor(x), name)(dim, keepdim)
    t = getattr(torch.tensor(x), name)(dim, keepdim)
    assert_same(r, t)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), float("-inf"), "fro", 0])
@SETTINGS
@given(sdk=shape_and_dims(min_dims=1), seed=seeds)
def test_norm(p, sdk, seed):
    shape, dim, keepdim = sdk
    x = randn(shape, seed, np.float64)
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    if p in (float("inf"), float("-inf")):
        # distinct magnitudes: the extremum is unique
        x = x + np.arange(x.size).reshape(shape) * 1e-3 * np.sign(x)
    if p == "fro" and dim is not None and not isinstance(dim, int) and len(dim) > 2:
        dim = dim[:2]
    check(lambda t: rg.norm(t, p, dim, keepdim), lambda t: torch.norm(t, p, dim, keepdim), x,
          seed=seed)


def test_norm_at_zero_has_zero_gradient():
    x = np.zeros((2, 3))
    check(lambda t: t.norm(), lambda t: t.norm(), x)
    check(lambda t: t.norm(dim=1), lambda t: t.norm(dim=1), x)
    check(lambda t: t.norm(p=3, dim=1), lambda t: t.norm(p=3, dim=1), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(sdk=shape_and_dims(tuple_dims=False, allow_none=False), seed=seeds, dtype=float_dtypes)
def test_softmax(name, sdk, seed, dtype):
    shape, dim, _ = sdk
    x = 3 * randn(shape, seed, dtype)
    check(lambda t: getattr(rg, name)(t, dim), lambda t: getattr(torch, name)(t, dim), x, seed=seed)
    check(lambda t: getattr(t, name)(dim), lambda t: getattr(t, name)(dim), x, seed=seed)


def test_softmax_stable_for_large_inputs():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, 50.0]], np.float32)
    check(lambda t: rg.softmax(t, 1), lambda t: torch.softmax(t, 1), x)
    check(lambda t: rg.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), x)
    check(lambda t: rg.logsumexp(t, 1), lambda t: torch.logsumexp(t, 1), x)
    check(lambda t: rg.softmax(t, 0, dtype=rg.float64),
          lambda t: torch.softmax(t, 0, dtype=torch.float64), x)


GRADCHECK = {
    "sum": lambda x: x.sum(), "sum_dims": lambda x: x.sum((0, 2), keepdim=True),
    "mean": lambda x: x.mean(-1), "mean_tuple": lambda x: x.mean((0, 1)),
    "prod": lambda x: x.prod(1), "prod_all": lambda x: x.prod(),
    "max_dim": lambda x: x.max(1)[0], "min_dim": lambda x: x.min(0, keepdim=True)[0],
    "amax": lambda x: x.amax((1, 2)), "amin": lambda x: x.amin(0),
    "var": lambda x: x.var(1), "var_c0": lambda x: x.var((0, 2), correction=0),
    "std": lambda x: x.std(), "std_keep": lambda x: x.std(2, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(1), "norm": lambda x: x.norm(),
    "norm_p1": lambda x: x.norm(1, dim=2), "norm_p3": lambda x: rg.norm(x, 3, (0, 1)),
    "norm_inf": lambda x: x.norm(float("inf")),
    "softmax": lambda x: x.softmax(1), "log_softmax": lambda x: x.log_softmax(-1),
    "cumsum": lambda x: x.cumsum(1),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_reduction_gradcheck(name):
    x = randn((2, 3, 2), 9, np.float64)
    x = x + np.arange(x.size).reshape(x.shape) * 1e-2  # no ties in max/min/amax
    gradcheck(GRADCHECK[name], x)


def test_integer_and_bool_reductions_dtypes():
    i = rg.tensor([[1, 2], [3, 4]])
    b = rg.tensor([True, False, True])
    assert_same(i.sum(), torch.tensor([[1, 2], [3, 4]]).sum())
    assert_same(b.sum(), torch.tensor([True, False, True]).sum())
    assert_same(i.prod(1), torch.tensor([[1, 2], [3, 4]]).prod(1))
    assert_same(i.max(), torch.tensor([[1, 2], [3, 4]]).max())
    assert_same(i.argmax(), torch.tensor([[1, 2], [3, 4]]).argmax())
    with pytest.raises(RuntimeError, match="mean"):
        i.mean()
    assert rg.tensor([[1.0, 2.0]]).sum(dtype=rg.float64).dtype == rg.float64


def test_empty_reductions():
    e = np.zeros((0, 3), np.float32)
    for f in ("sum", "prod"):
        check(lambda t, f=f: getattr(t, f)(), lambda t, f=f: getattr(t, f)(), e)
        check(lambda t, f=f: getattr(t, f)(0), lambda t, f=f: getattr(t, f)(0), e)
    check(lambda t: t.mean(0), lambda t: t.mean(0), e)
    with pytest.raises((RuntimeError, IndexError), match="max"):
        rg.tensor(e).max(0)
    with pytest.raises(RuntimeError, match="amax"):
        rg.tensor(e).amax()


def test_reduction_bad_dim_names_op_and_range():
    x = rg.ones(2, 3)
    with pytest.raises(IndexError, match=r"sum.*range.*\[-2, 1\].*5"):
        x.sum(5)
    with pytest.raises(IndexError, match="softmax"):
        x.softmax(2)
    with pytest.raises(RuntimeError, match="multiple times"):
        x.sum((1, -1))
