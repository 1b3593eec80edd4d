"""Convolutions: ``conv1d``, ``conv2d`` and their transposes (im2col + one GEMM; ``ops.conv``)."""

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]
