"""The layer classes of ``retrograd.nn``, one file per family as in PyTorch."""

from .activation import *
from .batchnorm import *
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import *
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .loss import *
from .module import Module, register_module_forward_hook, register_module_forward_pre_hook
from .normalization import *
from .pooling import *
from .rnn import *
from .sparse import Embedding
from .transformer import *
