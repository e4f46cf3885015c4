"""Same as torch.backends.mkldnn: ndgrad does not use oneDNN (its flag is recorded only)."""

enabled = True


def is_available() -> bool:
    return False
