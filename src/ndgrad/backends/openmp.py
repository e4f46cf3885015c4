"""Same as torch.backends.openmp: ndgrad's threads are NumPy's BLAS threads, not OpenMP's."""


def is_available() -> bool:
    return False
