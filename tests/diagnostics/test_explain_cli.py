"""`retrograd explain` command-line entry points."""

import argparse

import pytest

from retrograd.diagnostics import explain_cli_main
from retrograd.diagnostics.cli import add_explain_parser, run_explain


def test_text_to_stdout(capsys):
    assert explain_cli_main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backpropagation, step by step")
    assert "0.298371109" in out and "0.35891648" in out


def test_markdown_to_file_and_format_from_suffix(tmp_path, capsys):
    p = tmp_path / "bp.md"
    assert explain_cli_main(["--output", str(p)]) == 0
    text = p.read_text(encoding="utf-8")
    assert text.startswith("# Backpropagation") and "| unit |" in text
    p2 = tmp_path / "bp.out"
    assert explain_cli_main(["--format", "html", "-o", str(p2)]) == 0
    assert p2.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "wrote html report" in capsys.readouterr().err


def test_lr_and_fixed_bias_options(capsys):
    assert explain_cli_main(["--lr", "0.1", "--fixed-bias", "--digits", "6"]) == 0
    out = capsys.readouterr().out
    assert "η = 0.1" in out and "(fixed)" in out
    assert "0.391783" in out  # w5 - 0.1 * 0.0821670406


def test_bad_options(capsys):
    assert explain_cli_main(["--lr", "-1"]) == 2
    assert "--lr must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        explain_cli_main(["--format", "pdf"])


def test_subparser_wiring(capsys):
    parser = argparse.ArgumentParser(prog="retrograd")
    sub = parser.add_subparsers(dest="command")
    add_explain_parser(sub)
    args = parser.parse_args(["explain", "--format", "md"])
    assert args.func is run_explain
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("# Backpropagation")


def test_explain_backprop_example_runs(capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "explain_backprop.py"
    ex, errors = runpy.run_path(str(script))["main"](["--steps", "3", "--format", "markdown"])
    out = capsys.readouterr().out
    assert out.startswith("# Backpropagation") and "E_total = 0.298371109" in out
    assert len(errors) == 4 and errors[-1] < errors[0]
