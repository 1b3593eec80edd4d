import numpy as np

import retrograd as rg


def test_polynomial_gradient_known_answer():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * x + 2 * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() + 2)
    assert y.item() == 50.0
