"""In-place ops: results and gradients match torch, the version counter catches in-place
changes to tensors a backward needs, and leaves that require grad are protected."""

import pytest

torch = pytest.importorskip("torch")
from _compare import check, randn  # noqa: E402

import retrograd as rg  # noqa: E402


def _chain(op):
    """y = op applied in place to a non-leaf; z = a function of the result and of x."""
    def f(x, w):
        y = x * 1.5 + 0.25
        op(y, w)
        return y * x
    return f


INPLACE = {
    "iadd": lambda y, w: y.__iadd__(w),
    "isub": lambda y, w: y.__isub__(w),
    "imul": lambda y, w: y.__imul__(w),
    "itruediv": lambda y, w: y.__itruediv__(w + 3.0),
    "add_": lambda y, w: y.add_(w),
    "add_alpha": lambda y, w: y.add_(w, alpha=-2.0),
    "sub_": lambda y, w: y.sub_(w, alpha=0.5),
    "mul_": lambda y, w: y.mul_(w),
    "mul_scalar": lambda y, w: y.mul_(3.0),
    "div_": lambda y, w: y.div_(w + 3.0),
    "pow_": lambda y, w: y.abs_().add_(0.5).pow_(2.0),
    "exp_": lambda y, w: y.exp_(),
    "tanh_": lambda y, w: y.tanh_(),
    "sigmoid_": lambda y, w: y.sigmoid_(),
    "relu_": lambda y, w: y.relu_(),
    "clamp_": lambda y, w: y.clamp_(-0.5, 0.5),
    "clamp_min_": lambda y, w: y.clamp_min_(0.1),
    "neg_": lambda y, w: y.neg_(),
    "sqrt_": lambda y, w: y.abs_().add_(0.1).sqrt_(),
    "masked_fill_": lambda y, w: y.masked_fill_(w > 0, 2.0),
    "addcmul_": lambda y, w: y.addcmul_(w, w, value=0.5),
    "addcdiv_": lambda y, w: y.addcdiv_(w, w * w + 1.0, value=2.0),
    "copy_": lambda y, w: y.copy_(w * 2),
    "setitem_slice": lambda y, w: y.__setitem__((slice(None), 0), w[:, 1] * 3),
    "setitem_mask": lambda y, w: y.__setitem__(w > 0.5, 0.0),
    "setitem_scalar": lambda y, w: y.__setitem__(0, 1.0),
    "iadd_view_setitem": lambda y, w: y.__setitem__(1, y[1].__iadd__(w[1])),
    "lerp_": lambda y, w: y.lerp_(w, 0.3),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_parity(name):
    op = INPLACE[name]
    for seed in range(3):
        x = randn((3, 4), seed)
        w = randn((3, 4), seed + 10)
        check(_chain(op), _chain(op), x, w, seed=seed)


@pytest.mark.parametrize("name", ["add_", "mul_", "div_", "sub_"])
def test_inplace_broadcast_operand(name):
    def f(x, w):
        y = x * 1.0
        getattr(y, name)(w + 2.0)
        return y

    check(f, f, randn((2, 3), 0), randn((3,), 1))


VIEW_INPLACE = {
    "row_mul_": lambda y, w: y[0].mul_(2.0),
    "col_add_tensor": lambda y, w: y[:, 1].add_(w[:, 0]),
    "view_mul_": lambda y, w: y.view(-1).mul_(3.0),
    "transpose_slice": lambda y, w: y.t()[1:].mul_(w.t()[1:]),
    "view_of_view": lambda y, w: y[1:][0].clamp_(-0.2, 0.2),
    "view_zero_": lambda y, w: y[1].zero_(),
    "view_copy_": lambda y, w: y[2].copy_(w[0] * 2),
    "view_setitem": lambda y, w: y[1].__setitem__(slice(0, 2), w[0, :2]),
    "reshape_view": lambda y, w: y.reshape(2, 6)[1].exp_(),
}


@pytest.mark.parametrize("name", list(VIEW_INPLACE))
def test_inplace_through_a_view_updates_the_base(name):
    """y[0].mul_(2) changes y: y's gradient must see it (torch rebases the view's base)."""
    op = VIEW_INPLACE[name]
    for seed in range(2):
        check(_chain(op), _chain(op), randn((3, 4), seed), randn((3, 4), seed + 5), seed=seed)


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    x = rg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.t()[1].zero_()
    with rg.no_grad():
        x[0].mul_(2)
    assert x.sum().item() == 9.0


def test_inplace_into_view_of_plain_buffer_joins_graph():
    w = rg.tensor([2.0, 3.0], requires_grad=True)
    buf = rg.zeros(3)
    buf[1:].add_(w)
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * buf).sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_inplace_returns_self_and_bumps_version():
    x = rg.zeros(3)
    v = x._version[0]
    assert x.add_(1) is x and x.mul_(2) is x and x.zero_() is x and x.fill_(4.0) is x
    assert x._version[0] == v + 4
    assert x.tolist() == [4.0, 4.0, 4.0]
    y = rg.ones(2, 3)
    y.copy_(rg.tensor([1.0, 2.0, 3.0]))  # copy_ broadcasts the source
    assert y.tolist() == [[1, 2, 3], [1, 2, 3]]
    i = rg.tensor([1, 2])
    i += 1
    assert i.dtype == rg.int64 and i.tolist() == [2, 3]


def test_modified_saved_input_raises_at_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a.sin()  # sin's backward needs a
    a.mul_(3)
    with pytest.raises(RuntimeError, match=r"modified by an inplace.*SinBackward0.*version 1"):
        b.sum().backward()


def test_modified_saved_output_raises_at_backward():
    # exp's backward reads its own result: changing that result in place must be caught
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx.exp()
    ty.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        ty.sum().backward()


def test_modified_view_of_saved_tensor_raises():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x * 1
    b = a.sin()  # sin's backward reads a (tanh's would read only its own output)
    with rg.no_grad():
        a[0].add_(1.0)  # writes through a view: shares a's version counter
    with pytest.raises(RuntimeError, match="inplace"):
        b.sum().backward()


def test_inplace_on_input_not_needed_by_backward_is_fine():
    # like torch: x * 2 keeps no copy of x, so changing x in place afterwards is allowed
    for lib in (rg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a * 2
        z = a + 1
        a.mul_(5)
        (y.sum() + z.sum()).backward()
        assert x.grad.tolist() == [3.0, 3.0]  # y and z saw a before the change
        w = lib.tensor([3.0], requires_grad=True)
        u = w * 1
        v = u / 2.0
        u.add_(1)
        v.backward()
        assert w.grad.tolist() == [0.5]


def test_inplace_on_leaf_requiring_grad_raises():
    x = rg.ones(3, requires_grad=True)
    for call in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.__iadd__(1), lambda: x.exp_(),
                 lambda: x.__setitem__(0, 2.0), lambda: x.zero_(), lambda: x.fill_(1.0),
                 lambda: x.copy_(rg.zeros(3)), lambda: x.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            call()
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_inplace_on_leaf_inside_no_grad_is_allowed():
    x = rg.ones(3, requires_grad=True)
    v = x._version[0]
    with rg.no_grad():
        x.mul_(2).add_(1)
        x[0] = 7.0
        x -= 1
    assert x.tolist() == [6.0, 2.0, 2.0]
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert x._version[0] > v
    (x * x).sum().backward()
    assert x.grad.tolist() == [12.0, 4.0, 4.0]


@pytest.mark.parametrize("op", ["zero_", "fill_"])
def test_fill_on_non_leaf_cuts_gradient_like_torch(op):
    def f(x):
        y = x * 2
        getattr(y, op)(*(() if op == "zero_" else (3.0,)))
        return y * x

    check(f, f, randn((2, 3), 0))


def test_inplace_makes_non_leaf_from_grad_input():
    # an in-place op on a plain tensor with a grad-requiring operand joins the graph
    w = rg.tensor([2.0, 3.0], requires_grad=True)
    buf = rg.zeros(2)
    buf.add_(w)
    buf.mul_(w)
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_inplace_type_errors_are_clear():
    i = rg.tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"div_.*int64"):
        i.div_(2)
    with pytest.raises(RuntimeError, match=r"mul_.*int64"):
        i.mul_(1.5)
    with pytest.raises(RuntimeError, match=r"add_.*\(3,\).*\(2, 3\)"):
        rg.zeros(3).add_(rg.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        (rg.zeros(2, 3, requires_grad=True) * 1).add_(rg.zeros(4))


def test_data_attribute_bypasses_autograd():
    x = rg.ones(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d.mul_(3)  # legacy .data: shares memory, not tracked
    assert x.tolist() == [3.0, 3.0, 3.0] and x.requires_grad
    x.data = rg.zeros(3)
    assert x.tolist() == [0.0, 0.0, 0.0] and x.is_leaf and x.requires_grad
    (x + 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
