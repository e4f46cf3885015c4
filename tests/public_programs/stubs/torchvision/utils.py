"""save_image/make_grid stand-ins: make_grid tiles as torchvision's; save_image checks the
argument and writes nothing (no PIL output needed)."""


def make_grid(tensor, nrow=8, padding=2, normalize=False, pad_value=0.0, **kwargs):
    """torchvision's make_grid without normalize: a (B, C, H, W) batch tiled nrow a row, one
    channel repeated to three, ``padding`` pixels of ``pad_value`` between them."""
    import math

    if tensor.dim() == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.size(1) == 1:
        tensor = tensor.repeat(1, 3, 1, 1)
    n = tensor.size(0)
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(float(n) / xmaps))
    height, width = tensor.size(2) + padding, tensor.size(3) + padding
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding),
                           pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= n:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(tensor[k])
            k += 1
    return grid


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, **kwargs):
    if tensor.dim() not in (2, 3, 4):
        raise ValueError(f"save_image: a 2-, 3- or 4-d tensor, got {tensor.dim()}-d")
