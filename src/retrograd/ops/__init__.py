"""Differentiable operations, grouped by kind. Each op class holds its forward and backward."""

from . import compare, elementwise, linalg, reduction, shape
