"""``retrograd.nn``: modules, parameters, functional forms, initialisation and utilities."""

from . import functional, init
from .modules import *
from .modules import Module
from .parameter import Buffer, Parameter, UninitializedParameter


def __getattr__(name):
    if name == "utils":
        import importlib

        return importlib.import_module(".utils", __name__)
    raise AttributeError(f"module 'retrograd.nn' has no attribute {name!r}")
