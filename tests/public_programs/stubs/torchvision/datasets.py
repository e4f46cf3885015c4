"""Seeded random stand-ins for torchvision datasets: same shapes and dtypes, a few hundred items."""

import numpy as np

# items per split, small so that a program's epoch takes a few batches
SIZES = {True: 256, False: 128}


class _Images:
    """uint8 images (H, W) or (H, W, C) and integer labels, made from a fixed NumPy seed."""

    def __init__(self, shape, num_classes, n, seed, transform=None, target_transform=None):
        rng = np.random.RandomState(seed)
        self.data = rng.randint(0, 256, size=(n, *shape)).astype(np.uint8)
        self.targets = [int(t) for t in rng.randint(0, num_classes, size=n)]
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img, target = self.data[i], self.targets[i]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class MNIST(_Images):
    """As torchvision's: ``data`` a uint8 tensor (N, 28, 28), ``targets`` an int64 tensor."""

    classes = [f"{i} - {w}" for i, w in enumerate(
        "zero one two three four five six seven eight nine".split())]

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        import torch

        super().__init__((28, 28), 10, SIZES[bool(train)], 1 if train else 2, transform,
                         target_transform)
        self.data = torch.from_numpy(self.data)
        self.targets = torch.tensor(self.targets, dtype=torch.int64)

    def __getitem__(self, i):
        img, target = self.data[i].numpy(), int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class FashionMNIST(MNIST):
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(_Images):
    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__((32, 32, 3), 10, SIZES[bool(train)], 3 if train else 4, transform,
                         target_transform)


class FakeData(_Images):
    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        c, h, w = image_size
        super().__init__((h, w, c), num_classes, min(size, SIZES[True]), 5 + random_offset,
                         transform, target_transform)
