"""Same as torch.backends.cuda: ``matmul`` (TF32 and reduced-precision switches) and the
scaled-dot-product-attention backend switches. ndgrad computes float32 matmuls in float32 either
way; ``matmul.allow_tf32`` is the other face of torch.set_float32_matmul_precision, as in torch."""

from __future__ import annotations

import contextlib
import importlib.util


def is_built() -> bool:
    """Whether ndgrad can run on CUDA here (CuPy is installed)."""
    return importlib.util.find_spec("cupy") is not None


class cuBLASModule:
    """torch.backends.cuda.matmul."""

    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        from .._misc import get_float32_matmul_precision

        return get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        from .._misc import set_float32_matmul_precision

        set_float32_matmul_precision("high" if value else "highest")


matmul = cuBLASModule()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _SDP["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _SDP["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _SDP["math"]


def cudnn_sdp_enabled() -> bool:
    return _SDP["cudnn"]


def enable_flash_sdp(enabled: bool) -> None:
    _SDP["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _SDP["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    _SDP["math"] = bool(enabled)


def enable_cudnn_sdp(enabled: bool) -> None:
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Same as torch.backends.cuda.sdp_kernel (deprecated there): switches for a block. ndgrad
    has one attention kernel, the math one."""
    old = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(old)
