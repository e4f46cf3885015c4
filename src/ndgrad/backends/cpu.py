"""Same as torch.backends.cpu."""


def get_cpu_capability() -> str:
    """torch's name for the vector ISA its kernels use; ndgrad's vector code is NumPy's own."""
    return "DEFAULT"
