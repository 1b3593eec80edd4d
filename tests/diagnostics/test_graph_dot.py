"""Graphviz DOT export of the computational graph, and rendering with `dot`."""

import re
import shutil

import numpy as np
import pytest

import retrograd
from retrograd import nn
from retrograd.diagnostics import GraphvizNotFoundError, render_graph, to_dot


def _mlp_loss():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = retrograd.randn(4, 2)
    y = retrograd.randn(4, 1)
    return model, nn.MSELoss()(model(x), y)


def _nodes(dot):
    """{node id: label} of the DOT text."""
    return dict(re.findall(r'^\s+(\w+) \[label="([^"]*)"', dot, re.M))


def _edges(dot):
    return re.findall(r"^\s+(\w+) -> (\w+)", dot, re.M)


def test_dot_structure_of_an_mlp_loss():
    model, loss = _mlp_loss()
    dot = to_dot(loss, model=model)
    assert dot.startswith("digraph retrograd {") and dot.rstrip().endswith("}")
    nodes = _nodes(dot)
    labels = list(nodes.values())
    ops = [lab.split("\\n")[0] for lab in labels]
    assert ops.count("LinearBackward0") == 2
    assert "TanhBackward0" in ops and "MeanBackward0" in ops
    # parameters named and shaped, marked as requiring grad
    assert "0.weight\\n(3, 2)\\nrequires_grad=True" in labels
    assert "2.bias\\n(1)\\nrequires_grad=True" in labels
    # the input batch and the target are constants
    assert sum(lab.startswith("constant") for lab in labels) == 2
    assert "constant (4, 2)\\nrequires_grad=False" in labels
    # edges run forward: each parameter feeds a LinearBackward0 node; the root feeds 'out'
    ids = {lab.split("\\n")[0]: k for k, lab in nodes.items()}
    edges = _edges(dot)
    linear = {k for k, v in nodes.items() if v == "LinearBackward0"}
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        targets = [dst for src, dst in edges if src == ids[name]]
        assert len(targets) == 1 and targets[0] in linear
    assert [d for s_, d in edges if s_ == ids["TanhBackward0"]] == [
        d for s_, d in edges if s_ == ids["2.weight"]]  # tanh feeds the second Linear
    assert (ids["MeanBackward0"], "out") in edges
    assert len(edges) == 11  # 4 params + 2 constants + 4 op-to-op + root-to-out
    # edge labels carry the shapes flowing along them
    assert '[label="(4, 3)"]' in dot


def test_params_dict_and_unnamed_leaves():
    w = retrograd.randn(3, requires_grad=True)
    b = retrograd.randn(3, requires_grad=True)
    out = (w * b).sum()
    dot = to_dot(out, params={"w": w})
    labels = list(_nodes(dot).values())
    assert "w\\n(3)\\nrequires_grad=True" in labels
    assert "leaf tensor\\n(3)\\nrequires_grad=True" in labels
    assert "MulBackward0" in labels and "SumBackward0" in labels


def test_grad_norms_before_backward_have_no_side_effects():
    model, loss = _mlp_loss()
    hits = []
    model[0].weight.register_hook(lambda g: hits.append(1))
    dot = to_dot(loss, model=model, show_grad_norms=True)
    assert hits == [] and all(p.grad is None for p in model.parameters())
    loss.backward()  # the graph is intact and the real backward unaffected
    assert hits == [1]
    labels = list(_nodes(dot).values())
    w = next(lab for lab in labels if lab.startswith("0.weight"))
    shown = float(w.split("‖grad‖ = ")[1])
    assert shown == pytest.approx(float(np.linalg.norm(model[0].weight.grad.numpy())), rel=1e-2)
    mean = next(lab for lab in labels if lab.startswith("MeanBackward0"))
    assert mean.endswith("‖grad‖ = 1")  # d loss / d loss


def test_grad_norms_after_backward_use_leaf_grads():
    model, loss = _mlp_loss()
    loss.backward()
    dot = to_dot(loss, model=model, show_grad_norms=True)
    labels = list(_nodes(dot).values())
    for name, p in model.named_parameters():
        lab = next(lab for lab in labels if lab.startswith(name + "\\n"))
        assert float(lab.split("‖grad‖ = ")[1]) == pytest.approx(
            float(np.linalg.norm(p.grad.numpy())), rel=1e-2)
    assert not any("‖grad‖" in lab for lab in labels if "Backward0" in lab)
    assert "need the graph" in dot  # intermediate norms are gone with the freed graph


def test_leaf_and_constant_roots():
    w = retrograd.randn(2, 2, requires_grad=True)
    assert "requires_grad=True" in to_dot(w)
    assert "constant (2)" in to_dot(retrograd.ones(2))
    with pytest.raises(TypeError, match="expected a Tensor"):
        to_dot(np.ones(2))


def test_render_without_dot_explains_and_writes_dot_file(tmp_path, monkeypatch):
    _, loss = _mlp_loss()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match="apt install graphviz") as e:
        render_graph(loss, tmp_path / "g.svg")
    assert "g.dot" in str(e.value)
    assert (tmp_path / "g.dot").read_text().startswith("digraph retrograd")
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_svg_and_png(tmp_path):
    model, loss = _mlp_loss()
    svg = render_graph(loss, tmp_path / "g.svg", model=model)
    assert "<svg" in open(svg).read()
    png = render_graph(to_dot(loss), tmp_path / "g.png")
    assert open(png, "rb").read(4) == b"\x89PNG"
