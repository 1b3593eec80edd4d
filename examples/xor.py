"""Train a 2-8-1 network on XOR by backpropagation, using only tensors and autograd."""

import retrograd as rg

rg.manual_seed(0)
X = rg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = rg.tensor([[0.0], [1.0], [1.0], [0.0]])

W1 = rg.randn(2, 8).requires_grad_()
b1 = rg.zeros(8, requires_grad=True)
W2 = rg.randn(8, 1).requires_grad_()
b2 = rg.zeros(1, requires_grad=True)
params = [W1, b1, W2, b2]

lr = 1.0
for step in range(2001):
    h = rg.tanh(X @ W1 + b1)
    p = rg.sigmoid(h @ W2 + b2)
    loss = ((p - y) ** 2).mean()
    for q in params:
        q.grad = None
    loss.backward()
    with rg.no_grad():
        for q in params:
            q -= lr * q.grad
    if step % 250 == 0:
        print(f"step {step:4d}  loss {loss.item():.5f}")

print("predictions:", [round(v, 3) for v in p.detach().reshape(-1).tolist()])
