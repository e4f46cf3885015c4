"""Same as torch.backends.mkl: ndgrad links no MKL of its own (NumPy's BLAS does the work)."""


def is_available() -> bool:
    return False
