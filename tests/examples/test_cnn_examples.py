"""The LeNet-5 and residual-network examples run and learn (a couple of epochs)."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_lenet5_example_learns():
    main = runpy.run_path(str(EXAMPLES / "lenet5.py"))["main"]
    assert main(epochs=2) > 0.85


def test_resnet_example_learns():
    main = runpy.run_path(str(EXAMPLES / "resnet.py"))["main"]
    assert main(epochs=2) > 0.85
