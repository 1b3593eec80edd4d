# Saving and loading models: "Save and Load the Model" (pytorch/tutorials
# beginner_source/basics/saveloadrun_tutorial.py, with a small model in place of
# torchvision's vgg16) and the recipe "Saving and loading a general checkpoint"
# (recipes_source/recipes/saving_and_loading_a_general_checkpoint.py), run unchanged
# except for the imports, the whole-model save (retrograd refuses to pickle: the script
# checks the error says what to do instead) and the closing asserts.
import retrograd as torch
import retrograd.nn as nn
import retrograd.nn.functional as F
import retrograd.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

# ---- saveloadrun_tutorial: Saving and Loading Model Weights
model = Net()
torch.save(model.state_dict(), 'model_weights.pth')

model = Net() # we do not specify ``weights``, i.e. create untrained model
model.load_state_dict(torch.load('model_weights.pth', weights_only=True))
model.eval()
weights_reloaded = model  # (not in the tutorial)

# ---- Saving and Loading Models with Shapes: PyTorch pickles the whole model here;
# retrograd refuses, and says to save the state_dict instead.
try:
    torch.save(model, 'model.pth')
except TypeError as e:
    whole_model_error = str(e)
else:
    raise AssertionError("torch.save(model, ...) should refuse to pickle")

# ---- saving_and_loading_a_general_checkpoint
net = Net()
print(net)

optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# one training step, so that the optimizer has momentum buffers to save (not in the recipe)
inputs, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
nn.CrossEntropyLoss()(net(inputs), labels).backward()
optimizer.step()

# Additional information
EPOCH = 5
PATH = "model.pt"
LOSS = 0.4

torch.save({
            'epoch': EPOCH,
            'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': LOSS,
            }, PATH)

model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']

model.eval()
# - or -
model.train()

# --- checks (not in the tutorial)
assert "state_dict()" in whole_model_error and "pickle" in whole_model_error
assert not weights_reloaded.training and model.training
assert epoch == 5 and loss == 0.4 and isinstance(epoch, int)
for (k1, v1), (k2, v2) in zip(net.state_dict().items(), model.state_dict().items()):
    assert k1 == k2 and torch.equal(v1, v2)
state = optimizer.state_dict()
assert state["param_groups"][0]["lr"] == 0.001 and state["param_groups"][0]["momentum"] == 0.9
assert len(state["state"]) == 10 and "momentum_buffer" in state["state"][0]
# the restored optimizer continues exactly as the original would
x = torch.randn(2, 3, 32, 32)
for m, opt in ((net, None), (model, optimizer)):
    if opt is None:
        opt = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        opt.load_state_dict(checkpoint['optimizer_state_dict'])
    opt.zero_grad()
    m(x).sum().backward()
    opt.step()
assert all(torch.equal(a, b) for a, b in zip(net.parameters(), model.parameters()))
