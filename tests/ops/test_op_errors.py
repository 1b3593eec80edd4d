"""Bad input gets a clear exception naming the op and the offending shapes or values (never a
raw NumPy message), raised where the mistake is made."""

import numpy as np
import pytest

import retrograd as rg

BROADCAST = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": rg.maximum,
    "minimum": rg.minimum, "add_fn": rg.add, "mul_fn": rg.mul,
}


@pytest.mark.parametrize("name", list(BROADCAST))
@pytest.mark.parametrize("grad", [False, True])
def test_broadcast_failure_names_op_and_both_shapes(name, grad):
    f = BROADCAST[name]
    a = rg.ones(2, 3, requires_grad=grad)
    b = rg.ones(4)
    op = name.replace("_fn", "")
    with pytest.raises(RuntimeError, match=rf"{op}.*\(2, 3\) and \(4,\).*broadcast") as info:
        f(a, b)
    assert "operands could not be broadcast" not in str(info.value)


def test_broadcast_failure_with_numpy_operand_and_where():
    with pytest.raises(RuntimeError, match=r"add.*\(4,\) and \(2, 3\)"):
        np.ones(4) + rg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"where.*\(2, 3\).*\(4,\)"):
        rg.where(rg.ones(2, 3) > 0, rg.ones(4), 0.0)


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: rg.ones(2, 3) @ rg.ones(4, 5), RuntimeError, r"matmul.*\(2, 3\).*\(4, 5\)"),
    (lambda: rg.cat([rg.ones(2, 3), rg.ones(2, 4)]), RuntimeError, r"cat.*\(2, 4\)"),
    (lambda: rg.ones(2, 3).reshape(4, 2), RuntimeError, r"reshape.*\[4, 2\].*6"),
    (lambda: rg.ones(2, 3).view(5), RuntimeError, r"view.*\[5\].*6"),
    (lambda: rg.ones(2, 3)[2], IndexError, r"2.*\(2, 3\)"),
    (lambda: rg.ones(2, 3)[:, 3], IndexError, r"3.*\(2, 3\)"),
    (lambda: rg.ones(2, 3).sum(2), IndexError, r"sum.*range.*2"),
    (lambda: rg.ones(2, 3).softmax(-3), IndexError, r"softmax.*-3"),
    (lambda: rg.ones(2).item(), RuntimeError, r"2 elements.*\(2,\)"),
    (lambda: float(rg.ones(3)), RuntimeError, r"3 elements"),
    (lambda: bool(rg.ones(2)), RuntimeError, r"ambiguous.*\(2,\)"),
    (lambda: rg.tensor([1, 2], requires_grad=True), RuntimeError, r"floating point.*int64"),
    (lambda: rg.tensor([1, 2]).requires_grad_(), RuntimeError, r"floating point.*int64"),
    (lambda: rg.zeros(2, dtype=rg.int64, requires_grad=True), RuntimeError, r"int64"),
    (lambda: rg.arange(3, requires_grad=True), RuntimeError, r"int64"),
    (lambda: rg.ones(2, 3).permute(1, 0, 2), RuntimeError, r"permute"),
    (lambda: rg.zeros(-1), RuntimeError, r"zeros.*negative.*-1"),
    (lambda: rg.tensor([1, 2]).mean(), RuntimeError, r"mean.*int64"),
    (lambda: rg.randint(5, 2, (3,)), RuntimeError, r"randint.*low=5.*high=2"),
    (lambda: rg.tensor("abc"), TypeError, r"tensor"),
    (lambda: rg.ones(2).to("float128x"), TypeError, r"dtype"),
])
def test_bad_input_messages(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_backward_errors():
    x = rg.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2,\).*gradient="):
        y.backward()
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\(3,\).*\(2,\)"):
        y.backward(rg.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        with rg.no_grad():
            loss = (x * 2).sum()
        loss.backward()


def test_numpy_on_tensor_requiring_grad_is_refused():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
