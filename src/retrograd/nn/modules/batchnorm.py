"""Batch normalization layers: BatchNorm1d, BatchNorm2d, BatchNorm3d."""

from __future__ import annotations

from ... import creation
from ...backend import int64 as _int64
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """State shared by the batch-norm layers: affine parameters and running statistics."""

    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=_int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean to 0, running variance to 1, batch counter to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs, assign)
        version = local_metadata.get("version") if local_metadata else None
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key in missing_keys:
            # checkpoints written before num_batches_tracked existed (PyTorch < 0.4.1) lack
            # it: keep the current counter, as PyTorch does
            missing_keys.remove(key)


class _BatchNorm(_NormBase):
    _expected = ""

    def _check_input_dim(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected {self._expected} input (got "
                             f"{input.ndim}D input of shape {tuple(input.shape)})")
        has_state = self.weight is not None or self.running_mean is not None
        if has_state and input.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}({self.num_features}): expected input with "
                             f"{self.num_features} channels in dim 1, got shape "
                             f"{tuple(input.shape)}")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average over all batches seen
                factor = 1.0 / float(self.num_batches_tracked)
        # batch statistics in training, and in eval mode when no running estimates exist
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)


_BN_DOC = r"""Batch normalization over {what}.

    Each channel is normalised with the batch mean and (biased) variance over
    {axes} in training mode, then scaled by ``weight`` and shifted by ``bias`` (learnable,
    ``affine=True``). The running estimates ``running_mean`` / ``running_var`` are updated
    as ``(1 - momentum) * running + momentum * batch_stat`` (unbiased variance), or as a
    cumulative average when ``momentum=None``; eval mode normalises with them.

    Args:
        num_features: the number of channels ``C``.
        eps: added to the variance (default 1e-5).
        momentum: weight of the new batch in the running estimates (default 0.1), or None.
        affine: learn ``weight`` and ``bias`` (default True).
        track_running_stats: keep running estimates (default True); if False, batch
            statistics are used in eval mode too.

    Shape:
        {shape}

    Example::

        >>> bn = nn.{name}(16)
        >>> y = bn(x)          # training mode: batch statistics, running estimates updated
        >>> bn.eval(); y = bn(x)   # eval mode: running estimates
    """


class BatchNorm1d(_BatchNorm):
    _dims = (2, 3)
    _expected = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    _dims = (4,)
    _expected = "4D"


class BatchNorm3d(_BatchNorm):
    _dims = (5,)
    _expected = "5D"


BatchNorm1d.__doc__ = _BN_DOC.format(what="a 2D or 3D input", axes="``(N, L)``",
                                     shape="``(N, C)`` or ``(N, C, L)`` → same shape.",
                                     name="BatchNorm1d")
BatchNorm2d.__doc__ = _BN_DOC.format(what="a batch of images (4D input)", axes="``(N, H, W)``",
                                     shape="``(N, C, H, W)`` → same shape.", name="BatchNorm2d")
BatchNorm3d.__doc__ = _BN_DOC.format(what="a batch of volumes (5D input)",
                                     axes="``(N, D, H, W)``",
                                     shape="``(N, C, D, H, W)`` → same shape.",
                                     name="BatchNorm3d")
