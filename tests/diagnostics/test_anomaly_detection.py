"""detect_anomaly: a NaN/Inf gradient names the forward op and the user's line that made it."""

import os
import warnings

import pytest

import retrograd
from retrograd import nn
from retrograd.autograd import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from retrograd.autograd.anomaly import AnomalyError


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's divide-by-zero and the "enabled" notice
        yield


def _line_of(marker):
    """The 1-based line number of this file's line that carries ``marker``."""
    with open(__file__, encoding="utf-8") as fh:
        return next(i for i, line in enumerate(fh, 1) if marker in line and "_line_of" not in line)


def test_inf_gradient_names_op_and_user_line():
    x = retrograd.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # MARK-sqrt
        z = (y * 3).sum()
        with pytest.raises(RuntimeError) as e:
            z.backward()
    err = e.value
    assert isinstance(err, AnomalyError)
    msg = str(err)
    assert msg.startswith("Function 'SqrtBackward0' returned inf values in its 0th output.")
    assert "forward op 'sqrt'" in msg and "1 Inf of 2 entries" in msg
    assert "a leaf tensor (requires_grad=True) of shape (2,)" in msg
    assert f"{os.path.basename(__file__)}:{_line_of('MARK-sqrt')}" in msg
    assert "y = x.sqrt()  # MARK-sqrt" in msg
    assert err.op == "sqrt" and err.input_index == 0
    assert err.frame.lineno == _line_of("MARK-sqrt") and err.frame.filename == __file__
    assert "/retrograd/" not in "".join(  # library frames are left out of the trace
        line for line in msg.splitlines() if line.strip().startswith("File"))


def test_nan_gradient_from_log_inside_a_model():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            h = self.lin(x)
            return retrograd.log(h * 0.0)  # MARK-log

    net = Net()
    with detect_anomaly():
        out = net(retrograd.ones(1, 2)) * 0.0
        with pytest.raises(AnomalyError) as e:
            out.sum().backward()
    msg = str(e.value)
    assert "Function 'LogBackward0' returned nan values" in msg
    assert "forward op 'log'" in msg
    assert f":{_line_of('MARK-log')}" in msg and "retrograd.log(h * 0.0)" in msg
    assert "the result of MulBackward0" in msg  # what the op was applied to
    assert "log(x + eps)" in msg  # a hint for the op


def test_division_by_zero_points_at_div():
    a = retrograd.tensor([1.0, 2.0], requires_grad=True)
    b = retrograd.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        q = a / b  # MARK-div
        with pytest.raises(AnomalyError) as e:
            q.sum().backward()
    assert e.value.node.name() == "DivBackward0"
    assert e.value.frame.lineno == _line_of("MARK-div")


def test_op_recorded_before_enabling_has_no_trace():
    x = retrograd.tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with set_detect_anomaly(True):
        with pytest.raises(AnomalyError, match="recorded before anomaly detection was enabled"):
            y.backward()
    assert not is_anomaly_enabled()


def test_finite_gradients_pass_and_mode_restores():
    x = retrograd.tensor([1.0, 4.0], requires_grad=True)
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        x.sqrt().sum().backward()
    assert not is_anomaly_enabled()
    assert x.grad.tolist() == pytest.approx([0.5, 0.25])


def test_check_nan_false_records_without_raising():
    x = retrograd.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = x.sqrt()
        assert y.grad_fn.trace  # the forward trace is still kept
        y.backward()
    assert x.grad.tolist() == [float("inf")]


def test_without_anomaly_mode_no_error():
    x = retrograd.tensor([0.0], requires_grad=True)
    x.sqrt().backward()
    assert x.grad.tolist() == [float("inf")]


def test_detect_anomaly_as_decorator():
    @detect_anomaly()
    def step(x):
        return x.sqrt().sum().backward()

    with pytest.raises(AnomalyError, match="SqrtBackward0"):
        step(retrograd.tensor([0.0], requires_grad=True))
    assert not is_anomaly_enabled()
