# "Automatic Differentiation with torch.autograd" (pytorch/tutorials
# beginner_source/basics/autogradqs_tutorial.py), run unchanged except for the import
# line and the closing asserts. The test runs it with PyTorch too and compares.
import retrograd as torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)

z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
first_call = inp.grad.clone()  # (not in the tutorial)
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
second_call = inp.grad.clone()  # (not in the tutorial)
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# --- checks (not in the tutorial)
z = torch.matmul(x, w)+b
assert z.requires_grad and not z_det.requires_grad and z.grad_fn is not None
assert "AddBackward0" in str(z.grad_fn)
assert "BinaryCrossEntropyWithLogitsBackward0" in str(loss.grad_fn)
assert w.grad.shape == (5, 3) and b.grad.shape == (3,)
# d loss / dw[i, j] = sigmoid(z_j) / 3 for every input row i (x is all ones)
expected = torch.sigmoid(z.detach()) / 3
assert torch.allclose(b.grad, expected) and torch.allclose(w.grad, expected.expand(5, 3))
assert out.shape == (5, 4) and torch.equal(second_call, 2 * first_call)
assert torch.equal(inp.grad, first_call)
