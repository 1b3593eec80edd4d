"""Explain mode: the classic 2-2-2 figures, a deeper network against autograd and torch."""

import numpy as np
import pytest

import retrograd
from retrograd import nn
from retrograd.diagnostics import HalfSquaredError, classic_example, explain

# The classic tutorial's published figures, as (name in Explanation.figures, value, decimals).
PUBLISHED = [
    ("out_h1", 0.593269992, 9), ("out_h2", 0.596884378, 9),
    ("out_o1", 0.75136507, 8), ("out_o2", 0.772928465, 9),
    ("E_total", 0.298371109, 9),
    ("w5_new", 0.35891648, 8), ("w6_new", 0.408666186, 9),
    ("w7_new", 0.511301270, 9), ("w8_new", 0.561370121, 9),
    ("w1_new", 0.149780716, 9), ("w2_new", 0.19956143, 8),
    ("w3_new", 0.24975114, 8), ("w4_new", 0.29950229, 8),
    # intermediate figures of the same walk-through
    ("net_h1", 0.3775, 4), ("net_o1", 1.105905967, 9),
    ("dE/dout_o1", 0.74136507, 8), ("fprime_o1", 0.186815602, 9),
    ("delta_o1", 0.138498562, 9), ("dE/dw5", 0.082167041, 9),
    ("sum_h1", 0.036350306, 9), ("fprime_h1", 0.241300709, 9),
    ("dE/dw1", 0.000438568, 9),
]


@pytest.fixture(scope="module")
def classic():
    return explain()


@pytest.mark.parametrize("name,value,decimals", PUBLISHED)
def test_classic_published_figures(classic, name, value, decimals):
    got = classic.figures[name]
    assert round(got, decimals) == pytest.approx(value, abs=1e-12), (name, got)


def test_classic_figures_appear_in_every_rendering(classic):
    text, md, html = classic.to_text(), classic.to_markdown(), classic.to_html()
    for name, _, _ in PUBLISHED:
        shown = f"{classic.figures[name]:.9g}"
        assert shown in text, name
        assert shown in md, name
        assert shown in html, name
    # the rendered figure rounds to the published one (e.g. 0.35891648 <- "0.35891648")
    assert "0.298371109" in text and "0.35891648" in text and "0.149780716" in text


def test_classic_steps_in_order_with_formulas(classic):
    text = classic.to_text()
    heads = ["Step 1. Forward pass", "Step 2. Output layer error signals",
             "Step 3. Hidden layers' error signals", "Step 4. Gradients and the update"]
    pos = [text.index(h) for h in heads]
    assert pos == sorted(pos)
    # formula beside the numbers at each step
    assert "net_h1 = w1·i1 + w2·i2 + b_h1 = 0.15×0.05 + 0.2×0.1 + 0.35 = 0.3775" in text
    assert "out_h1 = σ(net_h1) = 1/(1 + e^(-0.3775)) = 0.593269992" in text
    assert "∂E/∂out_o1 = -(0.01 - 0.75136507) = 0.74136507" in text
    assert "δ_o1 = 0.74136507 × 0.186815602 = 0.138498562" in text
    assert "∂E/∂out_h1 = w5·δ_o1 + w7·δ_o2 = 0.4×0.138498562 + 0.5×(-0.0380982365)" in text
    assert ("∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5 = 0.74136507 × 0.186815602 "
            "× 0.593269992 = 0.0821670406") in text
    assert "w5⁺ = w5 - η·∂E/∂w5 = 0.4 - 0.5 × 0.0821670406 = 0.35891648" in text
    # the bias convention is stated
    assert "keeps its biases fixed" in text


def test_classic_matches_hand_derivation():
    """Cross-check the engine's numbers with the textbook derivation in plain NumPy."""
    ex = explain()
    x = np.array([0.05, 0.10])
    W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
    b1, b2 = np.full(2, 0.35), np.full(2, 0.60)
    t = np.array([0.01, 0.99])
    sig = lambda z: 1 / (1 + np.exp(-z))
    h = sig(W1 @ x + b1)
    o = sig(W2 @ h + b2)
    d_o = -(t - o) * o * (1 - o)
    d_h = (W2.T @ d_o) * h * (1 - h)
    hid, out = ex.layers
    np.testing.assert_allclose(hid.out[0], h, rtol=1e-14)
    np.testing.assert_allclose(out.out[0], o, rtol=1e-14)
    np.testing.assert_allclose(out.delta[0], d_o, rtol=1e-13)
    np.testing.assert_allclose(hid.delta[0], d_h, rtol=1e-13)
    np.testing.assert_allclose(out.weight_grad, np.outer(d_o, h), rtol=1e-13)
    np.testing.assert_allclose(hid.weight_grad, np.outer(d_h, x), rtol=1e-13)
    np.testing.assert_allclose(out.bias_grad, d_o, rtol=1e-13)
    np.testing.assert_allclose(out.weight_new, W2 - 0.5 * np.outer(d_o, h), rtol=1e-14)
    np.testing.assert_allclose(out.bias_new, b2 - 0.5 * d_o, rtol=1e-14)
    assert max(ex.checks.values()) < 1e-15


def test_classic_fixed_bias_convention():
    ex = explain(update_bias=False)
    # biases unchanged, gradients still reported
    assert ex.figures["b_h1_new"] == 0.35 and ex.figures["b_o2_new"] == 0.60
    assert ex.figures["dE/db_o1"] == pytest.approx(0.138498562, abs=1e-9)
    # the tutorial's error after the step (0.291027924 there, from rounded intermediates)
    assert ex.loss_after == pytest.approx(0.291027774, abs=1e-9)
    assert ex.figures["w5_new"] == pytest.approx(0.35891648, abs=1e-8)
    assert "(fixed)" in ex.to_text()
    # with biases updated (the optimizer's convention) the error drops further
    assert explain().loss_after < ex.loss_after


def test_classic_example_returns_fresh_float64_model():
    model, x, target, loss_fn, lr = classic_example()
    assert lr == 0.5 and isinstance(loss_fn, HalfSquaredError)
    assert model[0].weight.dtype == retrograd.float64
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), [[0.15, 0.20], [0.25, 0.30]])
    np.testing.assert_array_equal(model[2].bias.detach().numpy(), [0.6, 0.6])
    assert loss_fn(model(x), target).item() == pytest.approx(0.298371109, abs=1e-9)
    # explain performs a real step on the given model
    explain(model, x, target, loss_fn, lr)
    assert model[2].weight[0, 0].item() == pytest.approx(0.35891648, abs=1e-8)


def test_lr_override_and_digits():
    ex = explain(lr=0.1, digits=4)
    assert ex.lr == 0.1
    assert ex.figures["w5_new"] == pytest.approx(0.4 - 0.1 * 0.0821670406, abs=1e-10)
    assert "0.2984" in ex.to_text()


def _three_layer():
    retrograd.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.Sigmoid(),
                          nn.Linear(3, 2))
    model = model.double()
    x = retrograd.randn(5, 3, dtype=retrograd.float64)
    t = retrograd.randn(5, 2, dtype=retrograd.float64)
    return model, x, t


def test_three_layer_batch_against_hand_derivation():
    model, x, t = _three_layer()
    W = [model[i].weight.detach().numpy().copy() for i in (0, 2, 4)]
    b = [model[i].bias.detach().numpy().copy() for i in (0, 2, 4)]
    ex = explain(model, x, t, nn.MSELoss(), 0.3)
    X = x.numpy()
    T = t.numpy()
    n1 = X @ W[0].T + b[0]
    a1 = np.tanh(n1)
    n2 = a1 @ W[1].T + b[1]
    a2 = 1 / (1 + np.exp(-n2))
    n3 = a2 @ W[2].T + b[2]
    E = np.mean((T - n3) ** 2)
    d3 = 2 * (n3 - T) / T.size
    d2 = (d3 @ W[2]) * a2 * (1 - a2)
    d1 = (d2 @ W[1]) * (1 - a1 ** 2)
    l1, l2, l3 = ex.layers
    assert [lay.kind for lay in ex.layers] == ["hidden", "hidden", "output"]
    assert l1.unit_labels[:2] == ["h1_1", "h1_2"] and l3.unit_labels == ["o1", "o2"]
    assert ex.loss == pytest.approx(E, rel=1e-13)
    for lay, net, out, d in ((l1, n1, a1, d1), (l2, n2, a2, d2), (l3, n3, n3, d3)):
        np.testing.assert_allclose(lay.net, net, rtol=1e-12)
        np.testing.assert_allclose(lay.out, out, rtol=1e-12)
        np.testing.assert_allclose(lay.delta, d, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(l2.backprop_sum, d3 @ W[2], rtol=1e-12)
    np.testing.assert_allclose(l1.weight_grad, d1.T @ X, rtol=1e-10)
    np.testing.assert_allclose(l3.bias_grad, d3.sum(0), rtol=1e-10)
    np.testing.assert_allclose(l1.weight_new, W[0] - 0.3 * (d1.T @ X), rtol=1e-12)
    # per-sample figure names carry the sample index
    assert ex.figures["delta_h2_3[4]"] == pytest.approx(d2[4, 2], rel=1e-10)
    assert ex.figures["w1"] == W[0][0, 0]
    # weights are numbered row-major across layers: w13 is layer 2's first weight
    assert ex.figures["dE/dw13"] == pytest.approx((d2.T @ a1)[0, 0], rel=1e-10)
    assert max(ex.checks.values()) < 1e-12
    text = ex.to_text()
    assert "Hidden layer 2" in text and "Σ_n δ_o1·out_h2_1" in text


def test_three_layer_against_torch():
    torch = pytest.importorskip("torch")
    model, x, t = _three_layer()
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3),
                             torch.nn.Sigmoid(), torch.nn.Linear(3, 2)).double()
    with torch.no_grad():
        for i in (0, 2, 4):
            tm[i].weight.copy_(torch.from_numpy(model[i].weight.detach().numpy().copy()))
            tm[i].bias.copy_(torch.from_numpy(model[i].bias.detach().numpy().copy()))
    tx = torch.from_numpy(x.numpy().copy())
    tt = torch.from_numpy(t.numpy().copy())
    nets = []

    def keep(module, args, out):
        out.retain_grad()
        nets.append(out)

    for i in (0, 2, 4):
        tm[i].register_forward_hook(keep)
    loss = torch.nn.functional.mse_loss(tm(tx), tt)
    loss.backward()
    opt = torch.optim.SGD(tm.parameters(), lr=0.3)
    grads = [tm[i].weight.grad.numpy().copy() for i in (0, 2, 4)]
    opt.step()
    ex = explain(model, x, t, nn.MSELoss(), 0.3)
    assert ex.loss == pytest.approx(loss.item(), rel=1e-12)
    for lay, net, g, i in zip(ex.layers, nets, grads, (0, 2, 4)):
        np.testing.assert_allclose(lay.delta, net.grad.numpy(), rtol=1e-10, atol=1e-16)
        np.testing.assert_allclose(lay.weight_grad, g, rtol=1e-10, atol=1e-16)
        np.testing.assert_allclose(lay.weight_new, tm[i].weight.detach().numpy(), rtol=1e-12)


def test_cross_entropy_logits_output_layer():
    torch = pytest.importorskip("torch")
    retrograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3))
    x = retrograd.tensor([[0.5, -1.0], [1.5, 0.25]])
    y = retrograd.tensor([2, 0])
    logits = torch.from_numpy(model(x).detach().numpy().copy()).requires_grad_()
    torch.nn.functional.cross_entropy(logits, torch.tensor([2, 0])).backward()
    ex = explain(model, x, y, nn.CrossEntropyLoss(), 0.1)
    np.testing.assert_allclose(ex.layers[-1].delta, logits.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert ex.digits == 6  # float32 model
    text = ex.to_text()
    assert "softmax(out) - onehot(class)" in text
    assert "Targets (class index per sample): 2, 0." in text
    assert "onehot(class)" in text.split("Step 2.")[1]


def test_softmax_activation_is_not_elementwise():
    model = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)).double()
    x = retrograd.tensor([[0.3, -0.2]], dtype=retrograd.float64)
    t = retrograd.tensor([[0.0, 1.0, 0.0]], dtype=retrograd.float64)
    ex = explain(model, x, t, HalfSquaredError(), 0.5)
    lay = ex.layers[0]
    assert lay.fprime is None  # no diagonal f'(net): δ is the Jacobian-vector product
    s = lay.out[0]
    g = lay.dE_dout[0]
    np.testing.assert_allclose(lay.delta[0], s * (g - s @ g), rtol=1e-12)
    assert "not elementwise" in ex.to_text()


def test_one_dimensional_input_and_no_bias():
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Sigmoid()).double()
    with retrograd.no_grad():
        model[0].weight.copy_(retrograd.tensor([[0.1, 0.2], [0.3, 0.4]],
                                               dtype=retrograd.float64))
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64)
    t = retrograd.tensor([0.0, 1.0], dtype=retrograd.float64)
    ex = explain(model, x, t, HalfSquaredError(), 1.0)
    o = 1 / (1 + np.exp(-np.array([0.5, 1.1])))
    np.testing.assert_allclose(ex.layers[0].out[0], o, rtol=1e-14)
    assert ex.layers[0].bias is None and "b_o1" not in ex.figures
    assert "no hidden layer" in ex.to_text()


def test_renderings_are_well_formed(classic):
    md = classic.to_markdown()
    assert md.startswith("# Backpropagation, step by step")
    assert "| parameter | connection |" in md and "|:---|:---|" in md
    html = classic.to_html()
    assert html.startswith("<!DOCTYPE html>") and html.count("<table>") == html.count("</table>")
    assert "<th>unit</th>" in html and "&lt;" not in classic.to_html(standalone=False)[:10]
    assert classic._repr_markdown_() == md
    assert repr(classic).startswith("<Explanation 2-2-2 network")
    with pytest.raises(ValueError, match="unknown format"):
        classic.render("pdf")


def test_save_picks_format_from_suffix(classic, tmp_path):
    p = classic.save(tmp_path / "r.md")
    assert open(p, encoding="utf-8").read() == classic.to_markdown()
    p = classic.save(tmp_path / "r.html")
    assert open(p, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    p = classic.save(tmp_path / "r.txt")
    assert open(p, encoding="utf-8").read() == classic.to_text()


def test_hooks_are_removed_after_explain():
    model, x, target, loss_fn, lr = classic_example()
    explain(model, x, target, loss_fn, lr)
    for m in model.modules():
        assert not m._forward_hooks


# ------------------------------------------------------------------ errors

class _Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 1)

    def forward(self, x):
        return self.b(retrograd.sigmoid(self.a(x)))


def test_functional_activation_is_rejected_with_explanation():
    with pytest.raises(ValueError, match="activations must be modules"):
        explain(_Functional(), retrograd.randn(1, 2), retrograd.randn(1, 1), nn.MSELoss(), 0.1)


def test_bad_arguments():
    model = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(ValueError, match="missing lr"):
        explain(model, retrograd.randn(1, 2), retrograd.randn(1, 1), nn.MSELoss())
    with pytest.raises(ValueError, match="pass none of them"):
        explain(x=retrograd.randn(1, 2))
    with pytest.raises(TypeError, match="nn.Module"):
        explain(lambda x: x, retrograd.randn(1, 2), retrograd.randn(1, 1), nn.MSELoss(), 0.1)
    with pytest.raises(ValueError, match="lr must be"):
        explain(lr=-1)
    with pytest.raises(ValueError, match="no nn.Linear"):
        explain(nn.Sequential(nn.Sigmoid()), retrograd.randn(1, 2), retrograd.randn(1, 2),
                nn.MSELoss(), 0.1)
    with pytest.raises(ValueError, match="scalar"):
        explain(model, retrograd.randn(3, 2), retrograd.randn(3, 1),
                nn.MSELoss(reduction="none"), 0.1)


def test_tutorial_shows_the_real_output():
    """docs/explain.md quotes explain()'s output: every quoted block must still be current."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "explain.md").read_text("utf-8")
    blocks = re.findall(r"```text\n(.*?)\n```", doc, re.S)
    assert len(blocks) == 7
    text = explain().to_text()
    for block in blocks:
        assert block in text, block[:200]
