"""The transforms the programs use, on NumPy uint8 images (H, W[, C]) and tensors."""

import numpy as np


def _torch():
    import torch  # whichever library the runner put in sys.modules

    return torch


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    def __call__(self, img):
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
        torch = _torch()  # torchvision converts to the default dtype
        return torch.from_numpy(arr).to(torch.get_default_dtype()).div(255)


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = mean, std

    def __call__(self, t):
        torch = _torch()
        mean = torch.as_tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
        return (t - mean) / std


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


class Resize:
    """torchvision's Resize of an image (the smaller edge to an int size, else (h, w)) through
    PIL's bilinear filter, as torchvision does for PIL images; identity at the same size."""

    def __init__(self, size, *args, **kwargs):
        self.size = size

    def __call__(self, img):
        arr = np.asarray(img)
        h, w = arr.shape[:2]
        if isinstance(self.size, int):
            short = min(h, w)
            size = (self.size, self.size * w // h) if h == short else (self.size * h // w,
                                                                        self.size)
        else:
            size = tuple(self.size)
        if (h, w) == size:
            return img
        from PIL import Image

        return np.asarray(Image.fromarray(arr).resize((size[1], size[0]), Image.BILINEAR))


class CenterCrop:
    """torchvision's CenterCrop (no padding): the middle (h, w) of an image."""

    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def __call__(self, img):
        arr = np.asarray(img)
        h, w = arr.shape[:2]
        th, tw = self.size
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return arr[top:top + th, left:left + tw]
