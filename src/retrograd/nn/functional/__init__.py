"""``retrograd.nn.functional``: the stateless forms of layers, activations and losses.

Each submodule holds one family; this namespace re-exports them under PyTorch's names.
"""

from ...ops.reduction import log_softmax, softmax
from ...ops.shape import pad
from ._activation import *
from ._attention import *
from ._conv import *
from ._dropout import *
from ._linear import *
from ._loss import *
from ._normalization import *
from ._pooling import *
from ._sparse import *
