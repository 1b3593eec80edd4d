"""Matrix products: matmul / @ in every rank combination (1-D, 2-D, batched, broadcast batch
dims), mm, bmm, mv, dot, outer, addmm, einsum; parity with torch, gradchecks, clear errors."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _compare import SETTINGS, check, float_dtypes, gradcheck, randn, seeds  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import retrograd as rg  # noqa: E402

sides = st.integers(1, 4)
batch = st.lists(st.integers(1, 3), min_size=0, max_size=2)


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) that matmul accepts: any rank >= 1 on either side, broadcast batches."""
    n, k, m = draw(sides), draw(sides), draw(sides)
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ba, bb = draw(batch), draw(batch)
    # make the batch dims broadcastable: where both exist, one side is 1 or they are equal
    la, lb = len(ba), len(bb)
    for i in range(1, min(la, lb) + 1):
        if ba[-i] != bb[-i] and ba[-i] != 1 and bb[-i] != 1:
            bb[-i] = 1
    a = (k,) if ra == 1 else tuple(ba[: max(0, ra - 2)]) + (n, k)
    b = (k,) if rb == 1 else tuple(bb[: max(0, rb - 2)]) + (k, m)
    if ra > 2 and rb > 2:
        a = tuple(ba) + (n, k)
        b = tuple(bb) + (k, m)
    return a, b


@SETTINGS
@given(shapes=matmul_shapes(), seed=seeds, dtype=float_dtypes)
def test_matmul_parity(shapes, seed, dtype):
    sa, sb = shapes
    a, b = randn(sa, seed, dtype), randn(sb, seed + 1, dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else {}
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b, seed=seed, **tol)


@pytest.mark.parametrize("sa,sb", [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 4)), ((3,), (2, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)), ((2, 3), (2, 3, 2)),
    ((1, 2, 3), (2, 3, 1)),
])
def test_matmul_gradcheck(sa, sb):
    gradcheck(lambda x, y: rg.matmul(x, y), randn(sa, 1, np.float64), randn(sb, 2, np.float64))


def test_matmul_known_answer_and_dtype():
    a = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = rg.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    c = a @ b
    assert c.tolist() == [[19.0, 22.0], [43.0, 50.0]] and c.dtype == rg.float32
    c.sum().backward()
    assert a.grad.tolist() == [[11.0, 15.0], [11.0, 15.0]]
    assert b.grad.tolist() == [[4.0, 4.0], [6.0, 6.0]]
    assert (rg.tensor([[1, 2]]) @ rg.tensor([[3], [4]])).dtype == rg.int64


def test_matmul_with_numpy_operands_reflected():
    w = randn((3, 2), 3)
    x = randn((4, 3), 4)
    check(lambda t: t @ w, lambda t: t @ torch.from_numpy(w), x)
    check(lambda t: x @ t, lambda t: torch.from_numpy(x) @ t, w)


OTHER = {
    "mm": (rg.mm, torch.mm, (2, 3), (3, 4)),
    "bmm": (rg.bmm, torch.bmm, (2, 2, 3), (2, 3, 4)),
    "mv": (rg.mv, torch.mv, (2, 3), (3,)),
    "dot": (rg.dot, torch.dot, (3,), (3,)),
    "outer": (rg.outer, torch.outer, (3,), (4,)),
    "method_mm": (lambda a, b: a.mm(b), lambda a, b: a.mm(b), (2, 3), (3, 1)),
    "einsum_ij_jk": (lambda a, b: rg.einsum("ij,jk->ik", a, b),
                     lambda a, b: torch.einsum("ij,jk->ik", a, b), (2, 3), (3, 4)),
    "einsum_batch": (lambda a, b: rg.einsum("bij,bjk->bik", a, b),
                     lambda a, b: torch.einsum("bij,bjk->bik", a, b), (2, 2, 3), (2, 3, 4)),
    "einsum_sum": (lambda a, b: rg.einsum("ij,ij->i", a, b),
                   lambda a, b: torch.einsum("ij,ij->i", a, b), (2, 3), (2, 3)),
    "einsum_implicit": (lambda a, b: rg.einsum("ij,jk", a, b),
                        lambda a, b: torch.einsum("ij,jk", a, b), (2, 3), (3, 4)),
}


@pytest.mark.parametrize("name", list(OTHER))
def test_other_products(name):
    f_rg, f_t, sa, sb = OTHER[name]
    check(f_rg, f_t, randn(sa, 1), randn(sb, 2), rtol=1e-5, atol=1e-5)
    gradcheck(f_rg, randn(sa, 1, np.float64), randn(sb, 2, np.float64))


def test_addmm():
    check(lambda i, a, b: rg.addmm(i, a, b, beta=0.5, alpha=2.0),
          lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2.0),
          randn((4,), 0), randn((2, 3), 1), randn((3, 4), 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sa,sb,pattern", [
    ((2, 3), (4, 5), r"matmul.*\(2, 3\).*\(4, 5\)"),
    ((3,), (4,), r"matmul.*\(3,\).*\(4,\)"),
    ((2, 2, 3), (3, 3, 2), r"matmul.*\(2, 2, 3\).*\(3, 3, 2\)"),
    ((), (3,), r"matmul.*\(\).*\(3,\)"),
])
def test_matmul_shape_errors_name_op_and_shapes(sa, sb, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        rg.ones(*sa) @ rg.ones(*sb)


def test_mm_bmm_dot_errors():
    with pytest.raises(RuntimeError, match=r"mm.*2-D.*\(3,\)"):
        rg.mm(rg.ones(3), rg.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"bmm.*\(2, 2, 3\).*\(3, 3, 2\)"):
        rg.bmm(rg.ones(2, 2, 3), rg.ones(3, 3, 2))
    with pytest.raises(RuntimeError, match="1D"):
        rg.dot(rg.ones(2, 2), rg.ones(2))
