"""Backpropagation, step by step, on the classic 2-2-2 network and on one of your own.

Part 1 prints the explain report of the classic example (inputs 0.05 and 0.10,
targets 0.01 and 0.99, sigmoid units, squared error, learning rate 0.5): the forward
pass, the error signals δ of the output and hidden units, and each weight's gradient
and update, with the formula beside every number. Every number comes from
retrograd's autograd engine.

Part 2 explains one step of a small tanh network on a batch of XOR points, then
keeps training it with explain() alone, to show the error going down step by step.

Run:  python examples/explain_backprop.py [--format text|markdown|html] [--output FILE]
"""

from __future__ import annotations

import argparse

import retrograd
from retrograd import nn
from retrograd.diagnostics import explain


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--format", choices=["text", "markdown", "html"], default="text")
    p.add_argument("--output", default=None, help="also save the classic report to FILE")
    p.add_argument("--steps", type=int, default=20, help="training steps in part 2")
    args = p.parse_args(argv)

    # Part 1: the classic example (explain() with no arguments builds it)
    ex = explain()
    print(ex.render(args.format))
    if args.output:
        ex.save(args.output, args.format)
        print(f"(saved to {args.output})")
    print(f"Published figures: E_total = {ex.figures['E_total']:.9f} (0.298371109), "
          f"new w5 = {ex.figures['w5_new']:.8f} (0.35891648), "
          f"new w1 = {ex.figures['w1_new']:.9f} (0.149780716)")

    # Part 2: your own network, a batch of four XOR points
    retrograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid()).double()
    x = retrograd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
                         dtype=retrograd.float64)
    y = retrograd.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=retrograd.float64)
    loss_fn = nn.MSELoss()
    first = explain(model, x, y, loss_fn, lr=2.0, digits=5)
    print()
    print(first.render(args.format))
    errors = [first.loss, first.loss_after]
    for _ in range(args.steps - 1):
        errors.append(explain(model, x, y, loss_fn, lr=2.0).loss_after)
    print("Error after each step: " + ", ".join(f"{e:.4f}" for e in errors))
    return ex, errors


if __name__ == "__main__":
    main()
