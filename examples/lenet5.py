"""LeNet-5, written as in PyTorch, trained on the bundled digits scaled up to 28x28.

    python examples/lenet5.py [--epochs 5]

(For the real thing on MNIST: `retrograd train --dataset mnist --model lenet`.)
"""

import argparse

import numpy as np

import retrograd as torch
import retrograd.nn.functional as F
from retrograd import nn
from retrograd.utils.data import DataLoader, TensorDataset


class LeNet5(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def digits_28x28():
    """The 8x8 digits, each pixel repeated 3x3 (24x24) and padded by 2 to 28x28, in [0, 1]."""
    X, y = torch.data.load_digits(return_tensors=False)
    big = np.kron(X.astype(np.float32) / 16.0, np.ones((3, 3), dtype=np.float32))
    big = np.pad(big, ((0, 0), (2, 2), (2, 2)))[:, None]
    return big, y.astype(np.int64)


def main(epochs=5):
    torch.manual_seed(0)
    X, y = digits_28x28()
    (xtr, ytr), (xte, yte) = torch.data.train_val_split(X, y, val_size=0.2, stratify=y, seed=0)
    train = DataLoader(TensorDataset(torch.from_numpy(xtr), torch.from_numpy(ytr)), batch_size=32,
                       shuffle=True, generator=torch.Generator().manual_seed(0))
    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for xb, yb in train:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = (model(torch.from_numpy(xte)).argmax(1) == torch.from_numpy(yte)).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {100 * acc:.2f}%")
    return acc


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=5)
    main(p.parse_args().epochs)
