"""``retrograd.special``: special functions, as in ``torch.special``.

All are differentiable (to any order). ``erf``/``erfc`` use W. J. Cody's rational
approximations (about 1e-16 relative accuracy in float64) in plain NumPy.
"""

from __future__ import annotations

from .ops.activation import SQRT1_2, erf, erfc, logit, xlogy
from .ops.elementwise import exp2, log1p
from .ops.elementwise import sigmoid as expit
from .ops.reduction import log_softmax, logsumexp, softmax

__all__ = ["erf", "erfc", "expit", "logit", "xlogy", "log_softmax", "softmax", "logsumexp",
           "log1p", "exp2", "ndtr"]


def ndtr(input):
    r"""The standard normal CDF :math:`\Phi(x) = \frac{1}{2}\,\mathrm{erfc}(-x/\sqrt2)`."""
    return 0.5 * erfc(-input * SQRT1_2)
