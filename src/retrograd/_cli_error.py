"""The CLI's user-error type, in its own module so that ``python -m retrograd.cli`` (where
cli.py runs as ``__main__``) and the library modules raise and catch the same class."""


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""
