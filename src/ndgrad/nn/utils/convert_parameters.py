"""parameters_to_vector / vector_to_parameters."""

from __future__ import annotations

from ..._tensor import Tensor


def _check_param_device(param, old):
    if old is None:
        return param.device
    if param.device != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old


def parameters_to_vector(parameters) -> Tensor:
    from ... import cat

    dev, vec = None, []
    for p in parameters:
        dev = _check_param_device(p, dev)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    dev, pointer = None, 0
    for p in parameters:
        dev = _check_param_device(p, dev)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
