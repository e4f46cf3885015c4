"""DataParallel on one device: the wrapped module runs as is (torch's behaviour without CUDA);
with one CUDA device id the module moves there first, as torch's single-device case."""

from __future__ import annotations

from ..modules.module import Module


class DataParallel(Module):
    """Same as torch.nn.DataParallel for one device: no scatter, replicas or gather."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        from ... import cuda

        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        ids = list(range(cuda.device_count())) if device_ids is None else [
            getattr(d, "index", d) or 0 for d in device_ids]
        self.dim, self.module = dim, module
        self.device_ids = ids[:1]  # one device: what the array backend drives
        self.output_device = ids[0] if output_device is None else getattr(
            output_device, "index", output_device)
        self.module.to(f"cuda:{ids[0]}")

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        dev = f"cuda:{self.device_ids[0]}"
        inputs = tuple(x.to(dev) if hasattr(x, "to") and hasattr(x, "device") else x
                       for x in inputs)
        return self.module(*inputs, **kwargs)
