"""``retrograd explain``: the explain report from the command line.

The ``retrograd`` command wires this in with :func:`add_explain_parser` and
:func:`run_explain`; :func:`explain_cli_main` runs it on its own
(``python -m retrograd.diagnostics.cli --format markdown``).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_explain_parser", "run_explain", "explain_cli_main"]

_DESCRIPTION = (
    "Run one training step of the classic 2-2-2 sigmoid network (inputs 0.05, 0.10; targets "
    "0.01, 0.99; squared error; learning rate 0.5) and show backpropagation at work: the "
    "forward pass, the output and hidden error signals δ = ∂E/∂net, every weight's gradient "
    "and its update, with the formula beside each number. The numbers come from retrograd's "
    "autograd engine."
)

_FORMATS = {"text": "text", "txt": "text", "markdown": "markdown", "md": "markdown",
            "html": "html", "htm": "html"}


def _add_arguments(p):
    p.add_argument("--format", "-f", choices=["text", "markdown", "md", "html"], default=None,
                   help="output format (default: from the --output suffix, else text)")
    p.add_argument("--output", "-o", metavar="FILE", default=None,
                   help="write the report to FILE instead of standard output")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate η of the update (default 0.5, the tutorial's)")
    p.add_argument("--digits", type=int, default=None,
                   help="significant digits shown (default 9)")
    p.add_argument("--fixed-bias", action="store_true",
                   help="keep the biases fixed, as the classic tutorial does (their gradients "
                        "are still shown)")
    return p


def add_explain_parser(subparsers):
    """Add the ``explain`` sub-command to an ``argparse`` sub-parsers object.

    Returns the new parser; its ``func`` default is :func:`run_explain`.
    """
    p = subparsers.add_parser("explain", help="show backpropagation step by step on the "
                              "classic 2-2-2 network", description=_DESCRIPTION)
    _add_arguments(p)
    p.set_defaults(func=run_explain)
    return p


def run_explain(args):
    """Run ``retrograd explain`` with parsed ``args``; returns the exit status."""
    from .explain import explain

    if args.lr is not None and not (args.lr >= 0 and args.lr != float("inf")):
        print(f"retrograd explain: --lr must be a finite number >= 0, got {args.lr}",
              file=sys.stderr)
        return 2
    if args.digits is not None and not 1 <= args.digits <= 17:
        print(f"retrograd explain: --digits must be between 1 and 17, got {args.digits}",
              file=sys.stderr)
        return 2
    fmt = args.format
    if fmt is None and args.output:
        fmt = {".md": "markdown", ".markdown": "markdown", ".html": "html",
               ".htm": "html"}.get(os.path.splitext(args.output)[1].lower(), "text")
    fmt = _FORMATS[fmt or "text"]
    ex = explain(lr=args.lr, update_bias=not args.fixed_bias, digits=args.digits)
    text = ex.render(fmt)
    if args.output:
        try:
            ex.save(args.output, fmt)
        except OSError as e:
            print(f"retrograd explain: cannot write {args.output!r}: {e.strerror or e}",
                  file=sys.stderr)
            return 1
        print(f"wrote {fmt} report to {args.output}", file=sys.stderr)
        return 0
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        # a terminal that cannot show δ, η, Σ: degrade those characters, keep the numbers
        enc = sys.stdout.encoding or "ascii"
        sys.stdout.write(text.encode(enc, "replace").decode(enc))
    sys.stdout.flush()
    return 0


def explain_cli_main(argv=None):
    """Entry point for ``retrograd explain`` on its own; returns the exit status."""
    p = argparse.ArgumentParser(prog="retrograd explain", description=_DESCRIPTION)
    _add_arguments(p)
    args = p.parse_args(argv)
    return run_explain(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(explain_cli_main())
