"""PyTorch's own tutorials, run with ``import retrograd as torch``.

Each script beside this file is a near-verbatim copy of a tutorial from
pytorch/tutorials (see its header for what was adapted: the import lines, datasets
that torchvision would download, fewer steps where the run would be slow) and ends
with asserts on what it computed. The tests run each one as a script, in a fresh
working directory (the scripts write model files), and check its results; the
tutorials that are deterministic are also run with PyTorch itself and compared.
"""

import contextlib
import io
import random
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


def run_script(name, *, with_torch=False):
    """Run ``HERE/name.py`` as ``__main__``; return (its globals, what it printed).

    ``with_torch=True`` runs the same text with PyTorch: each ``retrograd`` import
    line becomes the ``torch`` one it stands for.
    """
    path = HERE / f"{name}.py"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if with_torch:
            torch = pytest.importorskip("torch")
            source = path.read_text().replace("import retrograd as torch", "import torch")
            source = re.sub(r"\bretrograd\b", "torch", source)
            ns = {"__name__": "__main__", "__file__": str(path)}
            torch.manual_seed(0)
            exec(compile(source, str(path), "exec"), ns)
        else:
            ns = runpy.run_path(str(path), run_name="__main__")
    return ns, out.getvalue()


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def with_data(in_tmp, shared_data):
    """The scripts read FashionMNIST from ./data, as the tutorials do."""
    (in_tmp / "data").symlink_to(shared_data, target_is_directory=True)
    return in_tmp


def _normalize(text):
    """Printed text with what legitimately differs removed: object addresses, and the
    ``torch.``/``retrograd.`` prefix of dtypes and sizes (retrograd's dtypes are NumPy's,
    printed as ``float32``; see docs/differences.md)."""
    text = re.sub(r"object at 0x[0-9a-f]+", "object at 0x", text)
    return re.sub(r"\b(torch|retrograd)\.(?=Size|float|int|bool|uint|half|double|long)", "", text)


def _compare_printed(ours, theirs, random_lines):
    """Line by line, the same text; lines showing random numbers (which come from another
    generator than PyTorch's) only in layout: their digits are masked."""
    ours, theirs = _normalize(ours).splitlines(), _normalize(theirs).splitlines()
    assert len(ours) == len(theirs), "\n".join(ours)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if i in random_lines:
            a, b = re.sub(r"\d", "#", a), re.sub(r"\d", "#", b)
        assert a == b, f"line {i}: retrograd printed {a!r}, PyTorch {b!r}"


# ---------------------------------------------------------------- Learning PyTorch with Examples

@pytest.mark.parametrize("name", ["polynomial_autograd", "polynomial_nn", "polynomial_optim",
                                  "polynomial_module"])
def test_pytorch_with_examples(name, in_tmp):
    ns, printed = run_script(name)
    assert printed.count("\n") == 21  # 20 progress lines and the result
    assert re.search(r"^Result: y = [-\d.e]+ \+ [-\d.e]+ x \+", printed, re.M)
    assert ns["loss"].item() < 15  # the tutorial's own loss reaches about 9


def test_dynamic_net(in_tmp):
    random.seed(0)
    ns, printed = run_script("dynamic_net")
    assert "x^4 ? +" in printed
    assert ns["model"].e.grad is None or ns["model"].e.grad.shape == ()


def test_legendre_custom_function_matches_torch(in_tmp):
    ns, printed = run_script("polynomial_custom_function")
    ref, ref_printed = run_script("polynomial_custom_function", with_torch=True)
    # fixed start values: the same 2,000 steps as in PyTorch, up to float32 rounding
    np.testing.assert_allclose(ns["result"], ref["result"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ns["losses"], ref["losses"], rtol=1e-4)
    assert printed.count("\n") == ref_printed.count("\n") == 21


# ---------------------------------------------------------------- Learn the Basics

def test_tensors_tutorial_matches_torch(in_tmp):
    ns, printed = run_script("tensorqs")
    ref, ref_printed = run_script("tensorqs", with_torch=True)
    # the two "Random Tensor" prints: same layout, other numbers
    lines = _normalize(printed).splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Random Tensor")]
    _compare_printed(printed, ref_printed, {i + k for i in starts for k in (1, 2)})
    for name in ("x_data", "x_np", "x_ones", "tensor", "t1", "y1", "y2", "y3", "z1", "z2",
                 "z3", "t"):
        np.testing.assert_array_equal(ns[name].numpy(), ref[name].numpy(), err_msg=name)
        assert str(ns[name].dtype) == str(ref[name].dtype).replace("torch.", ""), name
    assert ns["agg_item"] == ref["agg_item"]
    assert ns["x_rand"].shape == tuple(ref["x_rand"].shape) and ns["x_rand"].dtype.name == "float32"


def test_autograd_tutorial_matches_torch(in_tmp):
    torch = pytest.importorskip("torch")
    ns, printed = run_script("autogradqs")
    ref, ref_printed = run_script("autogradqs", with_torch=True)
    # lines 2-7 print w.grad and b.grad, which depend on the random w and b
    _compare_printed(printed, ref_printed, set(range(2, 8)))
    # ... so check those gradients against PyTorch from retrograd's own w and b
    w = torch.tensor(ns["w"].detach().numpy(), requires_grad=True)
    b = torch.tensor(ns["b"].detach().numpy(), requires_grad=True)
    z = torch.matmul(torch.ones(5), w) + b
    torch.nn.functional.binary_cross_entropy_with_logits(z, torch.zeros(3)).backward()
    np.testing.assert_allclose(ns["w"].grad.numpy(), w.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ns["b"].grad.numpy(), b.grad.numpy(), rtol=1e-6)
    for name in ("first_call", "second_call"):
        np.testing.assert_array_equal(ns[name].numpy(), ref[name].numpy())
    np.testing.assert_array_equal(ns["inp"].grad.numpy(), ref["inp"].grad.numpy())


def test_quickstart(with_data):
    ns, printed = run_script("quickstart")
    assert "Shape of X [N, C, H, W]: Size([64, 1, 28, 28])" in _normalize(printed)
    assert "Using cpu device" in printed and "Saved PyTorch Model State to model.pth" in printed
    assert re.search(r"Accuracy: \d\d\.\d%, Avg loss: \d\.\d{6}", printed)
    assert re.search(r'Predicted: "[\w/ -]+", Actual: "Ankle boot"', printed)
    assert (with_data / "model.pth").exists()


def test_build_model(in_tmp):
    ns, printed = run_script("buildmodel")
    assert "Predicted class: tensor([" in printed
    assert printed.count("Layer: linear_relu_stack.") == 6
    assert "grad_fn=<SliceBackward0>" in printed  # param[:2], as PyTorch prints it


def test_optimization_loop(with_data):
    ns, printed = run_script("optimization")
    assert printed.count("Test Error:") == 2 and printed.rstrip().endswith("Done!")


def test_save_and_load(in_tmp):
    ns, printed = run_script("save_load")
    assert {"model_weights.pth", "model.pt"} <= {p.name for p in in_tmp.iterdir()}
    assert not (in_tmp / "model.pth").exists()  # the whole-model save was refused
    assert "torch.save(model.state_dict(), PATH)" in ns["whole_model_error"]


# ---------------------------------------------------------------- 60-minute blitz, NLP

def test_cifar10_classifier(in_tmp):
    ns, printed = run_script("cifar10_classifier")
    assert "Finished Training" in printed and printed.count("Accuracy for class:") == 10
    assert (in_tmp / "cifar_net.pth").exists()


def test_lstm_part_of_speech_tagger(in_tmp):
    ns, printed = run_script("sequence_models")
    assert "{'The': 0, 'dog': 1, 'ate': 2, 'the': 3, 'apple': 4, 'Everybody': 5" in printed
    assert ns["model"].lstm.weight_ih_l0.shape == (24, 6)
