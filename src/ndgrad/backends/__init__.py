"""Same as torch.backends: the backend flags torch programs set or query. ndgrad runs on NumPy
(and CuPy), not on cuDNN, MKL-DNN, MPS or OpenMP: those report unavailable, and their switches are
recorded without changing any result (torch's do not change results on CPU either)."""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
