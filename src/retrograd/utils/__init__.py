"""Utilities, mirroring ``torch.utils``."""

from . import data
