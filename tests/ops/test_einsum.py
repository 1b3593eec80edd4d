"""einsum: values and gradients against torch."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("eq, shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ijk->ik", [(2, 3, 4)]),
])
def test_einsum_matches_torch(eq, shapes):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    rt = [rg.tensor(a, requires_grad=True) for a in arrs]
    tt = [torch.tensor(a, requires_grad=True) for a in arrs]
    ro, to = rg.einsum(eq, *rt), torch.einsum(eq, *tt)
    np.testing.assert_allclose(ro.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(to.shape))
    ro.backward(rg.tensor(g))
    to.backward(torch.tensor(g))
    for a, b in zip(rt, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
