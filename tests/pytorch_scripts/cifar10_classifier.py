# "Training a Classifier" (pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py),
# run unchanged except for: the imports, CIFAR-shaped synthetic images in place of
# torchvision's CIFAR10 (no download offline: 3x32x32 uint8 images whose class shows as
# a colour tint plus noise, so there is something to learn), 1,200 training images and
# 400 test images for 2 epochs, no matplotlib, and the closing asserts.
import numpy as np

import retrograd as torch
import retrograd.data.transforms as transforms  # torchvision.transforms


class FakeCIFAR10(torch.utils.data.Dataset):
    """(not in the tutorial) torchvision.datasets.CIFAR10's interface on synthetic images."""

    def __init__(self, root, train=True, download=False, transform=None, n=None):
        rng = np.random.default_rng(0 if train else 1)
        n = n or (50000 if train else 10000)
        self.targets = rng.integers(0, 10, n).tolist()
        tint = np.random.default_rng(2).integers(0, 256, (10, 1, 1, 3))  # one per class
        noise = rng.integers(-60, 61, (n, 32, 32, 3))
        self.data = np.clip(tint[self.targets] + noise, 0, 255).astype(np.uint8)  # N,H,W,C
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        return img, target


transform = transforms.Compose(
    [transforms.ToTensor(),
     transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

batch_size = 4

trainset = FakeCIFAR10(root='./data', train=True,
                       download=True, transform=transform, n=1200)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size,
                                          shuffle=True, num_workers=2)

testset = FakeCIFAR10(root='./data', train=False,
                      download=True, transform=transform, n=400)
testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size,
                                         shuffle=False, num_workers=2)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

# get some random training images
dataiter = iter(trainloader)
images, labels = next(dataiter)

# print labels
print(' '.join(f'{classes[labels[j]]:5s}' for j in range(batch_size)))

import retrograd.nn as nn
import retrograd.nn.functional as F


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
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()

import retrograd.optim as optim

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

epoch_losses = []  # (not in the tutorial)
for epoch in range(2):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 100 == 99:    # print every 100 mini-batches (2000 in the tutorial)
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 100:.3f}')
            epoch_losses.append(running_loss / 100)
            running_loss = 0.0

print('Finished Training')

PATH = './cifar_net.pth'
torch.save(net.state_dict(), PATH)

dataiter = iter(testloader)
images, labels = next(dataiter)

print('GroundTruth: ', ' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))

net = Net()
net.load_state_dict(torch.load(PATH, weights_only=True))

outputs = net(images)

_, predicted = torch.max(outputs, 1)

print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}'
                              for j in range(4)))

correct = 0
total = 0
# since we're not training, we don't need to calculate the gradients for our outputs
with torch.no_grad():
    for data in testloader:
        images, labels = data
        # calculate outputs by running images through the network
        outputs = net(images)
        # the class with the highest energy is what we choose as prediction
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

print(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}

# again no gradients needed
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predictions = torch.max(outputs, 1)
        # collect the correct predictions for each class
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1


# print accuracy for each class
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / total_pred[classname]
    print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')

device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')

# Assuming that we are on a CUDA machine, this should print a CUDA device:

print(device)

net.to(device)
inputs, labels = data[0].to(device), data[1].to(device)

# --- checks (not in the tutorial)
assert images.shape == (4, 3, 32, 32) and images.dtype == torch.float32
assert labels.dtype == torch.int64 and predicted.dtype == torch.int64
assert -1.0 <= images.min().item() and images.max().item() <= 1.0
assert total == 400 and sum(total_pred.values()) == 400
assert sum(correct_pred.values()) == correct
assert epoch_losses[-1] < epoch_losses[0], epoch_losses
assert correct / total > 0.3, correct / total  # chance is 0.1
assert str(device) == "cpu"
