"""Metrics: functions against hand/NumPy computations, streaming equals one-shot."""

import math

import numpy as np
import pytest

import retrograd
from retrograd.train import metrics as M


def _logits(n=30, c=4, seed=0):
    rs = np.random.RandomState(seed)
    return rs.randn(n, c).astype(np.float32), rs.randint(0, c, n)


def test_accuracy_known_answer_and_numpy():
    out = retrograd.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert M.accuracy(out, retrograd.tensor([0, 0, 0])) == pytest.approx(2 / 3)
    x, y = _logits()
    expected = float(np.mean(x.argmax(1) == y))
    assert M.accuracy(x, y) == expected
    assert M.accuracy(retrograd.from_numpy(x), retrograd.from_numpy(y)) == expected


def test_accuracy_binary_logits_and_spatial_targets():
    logits = retrograd.tensor([0.3, -2.0, 1.0, -0.1])
    target = retrograd.tensor([1.0, 0.0, 0.0, 1.0])
    assert M.accuracy(logits, target) == 0.5
    assert M.accuracy(logits.reshape(4, 1), target) == 0.5  # (N, 1) logits, (N,) labels
    rs = np.random.RandomState(1)
    seg, seg_t = rs.randn(2, 3, 4, 5), rs.randint(0, 3, (2, 4, 5))  # (N, C, H, W)
    assert M.accuracy(seg, seg_t) == float(np.mean(seg.argmax(1) == seg_t))


def test_accuracy_errors_are_clear():
    with pytest.raises(ValueError, match="regression"):
        M.accuracy(np.array([0.5, 1.5]), np.array([0.3, 2.2]))
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=np.int64))


def test_top_k_accuracy_against_numpy():
    x, y = _logits(50, 6)
    for k in (1, 2, 3, 6):
        topk = np.argsort(-x, axis=1)[:, :k]
        expected = float(np.mean((topk == y[:, None]).any(1)))
        assert M.top_k_accuracy(x, y, k=k) == expected
    assert M.top_k_accuracy(x, y, k=1) == M.accuracy(x, y)
    assert M.top_k_accuracy(x, y, k=6) == 1.0
    with pytest.raises(ValueError, match="k=7"):
        M.top_k_accuracy(x, y, k=7)


def test_confusion_matrix_known_answer():
    y_true = retrograd.tensor([0, 1, 2, 2, 1, 0])
    y_pred = retrograd.tensor([0, 2, 2, 2, 1, 1])
    cm = M.confusion_matrix(y_pred, y_true)
    assert isinstance(cm, retrograd.Tensor) and cm.dtype == retrograd.int64
    np.testing.assert_array_equal(cm.numpy(), [[1, 1, 0], [0, 1, 1], [0, 0, 2]])
    np.testing.assert_array_equal(M.confusion_matrix(y_pred, y_true, num_classes=4).numpy(),
                                  [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 2, 0], [0, 0, 0, 0]])


def test_confusion_matrix_from_logits_matches_loop_count():
    x, y = _logits(40, 5)
    cm = M.confusion_matrix(x, y).numpy()
    expected = np.zeros((5, 5), dtype=np.int64)
    for t, p in zip(y, x.argmax(1)):  # reference by explicit counting
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 40 and np.trace(cm) / 40 == M.accuracy(x, y)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        M.confusion_matrix(np.array([0, 3]), np.array([0, 1]), num_classes=3)


def test_regression_metrics_against_numpy_and_torch():
    rs = np.random.RandomState(2)
    out, tgt = rs.randn(20, 3).astype(np.float32), rs.randn(20, 3).astype(np.float32)
    d = out.astype(np.float64) - tgt
    assert M.mae(out, tgt) == pytest.approx(np.abs(d).mean(), rel=1e-12)
    assert M.mse(out, tgt) == pytest.approx((d ** 2).mean(), rel=1e-12)
    assert M.rmse(out, tgt) == pytest.approx(math.sqrt((d ** 2).mean()), rel=1e-12)
    # (N, 1) predictions against (N,) targets are compared element by element
    assert M.mae(out[:, :1], tgt[:, 0]) == pytest.approx(np.abs(d[:, 0]).mean(), rel=1e-12)
    torch = pytest.importorskip("torch")
    t_out, t_tgt = torch.from_numpy(out), torch.from_numpy(tgt)
    assert M.mae(out, tgt) == pytest.approx(torch.nn.functional.l1_loss(t_out, t_tgt).item(),
                                            rel=1e-6)
    assert M.mse(out, tgt) == pytest.approx(torch.nn.functional.mse_loss(t_out, t_tgt).item(),
                                            rel=1e-6)
    with pytest.raises(ValueError, match="does not match"):
        M.mae(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("name", ["accuracy", "top2_accuracy", "mae", "mse", "rmse"])
def test_streaming_over_uneven_batches_equals_one_shot(name):
    x, y = _logits(37, 4, seed=3)
    if name in ("mae", "mse", "rmse"):
        y = np.random.RandomState(4).randn(37, 4).astype(np.float32)
        one_shot = getattr(M, name)(x, y)
    elif name == "accuracy":
        one_shot = M.accuracy(x, y)
    else:
        one_shot = M.top_k_accuracy(x, y, k=2)
    metric = M.get_metric(name)
    assert metric.name == name
    for lo, hi in [(0, 5), (5, 6), (6, 30), (30, 37)]:
        metric.update(retrograd.from_numpy(x[lo:hi]), retrograd.from_numpy(y[lo:hi]))
    assert metric.compute() == pytest.approx(one_shot, rel=1e-12)
    metric.reset()
    assert math.isnan(metric.compute())


def test_streaming_confusion_matrix_and_function_metric():
    x, y = _logits(25, 3, seed=5)
    cm = M.ConfusionMatrix(3)
    cm.update(x[:10], y[:10])
    cm.update(x[10:], y[10:])
    np.testing.assert_array_equal(cm.compute().numpy(), M.confusion_matrix(x, y).numpy())

    fm = M.get_metric(lambda o, t: float(np.mean(np.asarray(o)[:, 0] > 0)))
    fm.update(x[:5], y[:5])
    fm.update(x[5:], y[5:])  # weighted by batch size: the overall mean
    assert fm.compute() == pytest.approx(float(np.mean(x[:, 0] > 0)))
    assert fm.name == "<lambda>"


def test_mean_and_get_metric_errors():
    m = M.Mean("loss")
    m.update(1.0, 3)
    m.update(3.0, 1)
    assert m.compute() == 1.5
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        M.get_metric("f2")
    with pytest.raises(TypeError, match="metric must be"):
        M.get_metric(3)
    acc = M.Accuracy()
    assert M.get_metric(acc) is acc
