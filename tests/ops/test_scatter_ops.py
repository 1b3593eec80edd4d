"""scatter / scatter_ / scatter_add / scatter_add_: parity with torch (values and the
gradients of both the input and src), double backward, gradcheck, and clear errors."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import check, double_backward, gradcheck, randn  # noqa: E402

import retrograd as rg  # noqa: E402

# (input shape, dim, index) with repeated indices, negative dims and an index smaller than
# the input apart from `dim`
CASES = [
    ((3, 5), 0, [[0, 1, 2, 0, 0], [2, 0, 0, 1, 2]]),
    ((3, 5), 1, [[0], [4], [2]]),
    ((4, 3), -1, [[2, 0], [1, 1]]),
    ((2, 3, 4), 1, [[[0, 2, 1, 0]], [[1, 1, 2, 0]]]),
    ((6,), 0, [5, 0, 3]),
]


@pytest.mark.parametrize("shape, dim, index", CASES)
def test_scatter_src_matches_torch(shape, dim, index):
    idx = np.asarray(index, dtype=np.int64)
    x, src = randn(shape, 1), randn(idx.shape, 2)
    check(lambda a, s: a.scatter(dim, rg.tensor(idx), s),
          lambda a, s: a.scatter(dim, torch.from_numpy(idx), s), x, src)
    check(lambda a, s: rg.scatter_add(a, dim, rg.tensor(idx), s),
          lambda a, s: torch.scatter_add(a, dim, torch.from_numpy(idx), s), x, src)


def test_scatter_with_a_larger_src_uses_its_leading_part():
    idx = np.array([[0, 2], [1, 0]])
    x, src = randn((3, 4), 1), randn((3, 3), 2)
    # torch's own backward fails for a src larger than the index: compare values only
    check(lambda a, s: a.scatter(0, rg.tensor(idx), s),
          lambda a, s: a.scatter(0, torch.from_numpy(idx), s), x, src, grad=False)
    s = rg.tensor(src, requires_grad=True)
    rg.zeros(3, 4).scatter(0, rg.tensor(idx), s).sum().backward()
    expected = np.zeros((3, 3), np.float32)
    expected[:2, :2] = 1  # only the part that was written gets a gradient
    np.testing.assert_array_equal(s.grad.numpy(), expected)


def test_scatter_value_and_in_place_forms():
    idx = [[0], [1], [2]]
    r = rg.zeros(3, 5).scatter_(1, rg.tensor(idx), 1.0)
    t = torch.zeros(3, 5).scatter_(1, torch.tensor(idx), 1.0)
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    r = rg.zeros(3, 5).scatter(1, rg.tensor(idx), value=2.5)
    np.testing.assert_array_equal(r.numpy(), torch.zeros(3, 5).scatter(1, torch.tensor(idx),
                                                                       value=2.5).numpy())
    # the one-hot Lambda of the "Transforms" tutorial: a 0-d index into a 1-d tensor
    one_hot = rg.zeros(10, dtype=rg.float).scatter_(0, rg.tensor(3), value=1)
    assert one_hot.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0] and one_hot.dtype == rg.float32
    acc = rg.zeros(3).scatter_add_(0, rg.tensor([0, 0, 1]), rg.tensor([1.0, 2.0, 3.0]))
    assert acc.tolist() == [3.0, 3.0, 0.0]


def test_scatter_reduce_argument():
    idx, src = [0, 0, 1], [1.0, 2.0, 3.0]
    for reduce in ("add", "multiply"):
        r = rg.ones(3).scatter(0, rg.tensor(idx), rg.tensor(src), reduce=reduce)
        t = torch.ones(3).scatter(0, torch.tensor(idx), torch.tensor(src), reduce=reduce)
        np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_scatter_in_place_on_a_graph():
    x = rg.tensor(randn((3, 4), 3), requires_grad=True)
    s = rg.tensor(randn((1, 4), 4), requires_grad=True)
    y = x * 2
    y.scatter_(0, rg.tensor([[2, 0, 1, 2]]), s)
    (y * y).sum().backward()
    xt = torch.tensor(randn((3, 4), 3), requires_grad=True)
    st = torch.tensor(randn((1, 4), 4), requires_grad=True)
    yt = xt * 2
    yt.scatter_(0, torch.tensor([[2, 0, 1, 2]]), st)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(s.grad.numpy(), st.grad.numpy(), rtol=1e-6)


def test_scatter_double_backward_and_gradcheck():
    idx = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
    double_backward(lambda a, s: a.scatter(0, rg.tensor(idx), s) ** 2,
                    lambda a, s: a.scatter(0, torch.from_numpy(idx), s) ** 2,
                    randn((3, 4), 5), randn((2, 4), 6))
    gradcheck(lambda a, s: a.scatter(0, rg.tensor(idx), s), randn((3, 4), 5), randn((2, 4), 6))
    gradcheck(lambda a, s: a.scatter_add(0, rg.tensor(idx), s), randn((3, 4), 5),
              randn((2, 4), 6))


def test_scatter_errors_name_the_problem():
    x = rg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"scatter\(\): index 3 is out of bounds for dimension 0"):
        x.scatter(0, rg.tensor([[3, 0, 0, 0]]), 1.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter(0, rg.tensor([0, 1]), 1.0)
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.scatter(0, rg.tensor([[0.0, 1.0, 0.0, 0.0]]), 1.0)
    with pytest.raises(RuntimeError, match="at least as large as index"):
        x.scatter(0, rg.tensor([[0, 1, 2, 0]]), rg.ones(1, 2))
    with pytest.raises(TypeError, match="exactly one of src"):
        x.scatter(0, rg.tensor([[0, 1, 2, 0]]))
