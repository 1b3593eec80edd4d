# "Build the Neural Network" (pytorch/tutorials beginner_source/basics/
# buildmodel_tutorial.py), run unchanged except for the imports and the closing asserts.
import retrograd as torch
from retrograd import nn

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")

class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork().to(device)
print(model)

X = torch.rand(1, 28, 28, device=device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")

input_image = torch.rand(3,28,28)
print(input_image.size())

flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())

layer1 = nn.Linear(in_features=28*28, out_features=20)
hidden1 = layer1(flat_image)
print(hidden1.size())

print(f"Before ReLU: {hidden1}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1}")

seq_modules = nn.Sequential(
    flatten,
    layer1,
    nn.ReLU(),
    nn.Linear(20, 10)
)
input_image = torch.rand(3,28,28)
logits = seq_modules(input_image)

softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)

print(f"Model structure: {model}\n\n")

for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")

# --- checks (not in the tutorial)
assert y_pred.shape == (1,) and y_pred.dtype == torch.int64 and 0 <= y_pred.item() < 10
assert input_image.size() == (3, 28, 28) and flat_image.size() == (3, 784)
assert hidden1.size() == (3, 20) and (hidden1 >= 0).all()
assert pred_probab.shape == (3, 10) and torch.allclose(pred_probab.sum(1), torch.ones(3))
names = [name for name, _ in model.named_parameters()]
assert names == ["linear_relu_stack.0.weight", "linear_relu_stack.0.bias",
                 "linear_relu_stack.2.weight", "linear_relu_stack.2.bias",
                 "linear_relu_stack.4.weight", "linear_relu_stack.4.bias"]
assert str(model).startswith("NeuralNetwork(\n  (flatten): Flatten(start_dim=1, end_dim=-1)")
assert "(0): Linear(in_features=784, out_features=512, bias=True)" in str(model)
assert "grad_fn=<SliceBackward0>" in str(model.linear_relu_stack[0].weight[:2])
