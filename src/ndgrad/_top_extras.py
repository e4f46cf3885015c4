"""Top-level names of torch's ATen/TorchScript corners that ndgrad re-exports from where they
live: grid_sampler*, embedding_bag and ctc_loss (ATen's signatures over nn.functional's code),
the TorchScript/IR helpers (_jit_ir), lobpcg, the sparse COO functions and torch.onnx."""

from __future__ import annotations

from ._jit_ir import *  # noqa: F403
from ._jit_ir import __all__ as _ir_names
from ._lobpcg import lobpcg
from .nn._functional.ctc import ctc_loss_aten as ctc_loss
from .nn._functional.embedding_bag import embedding_bag_aten as embedding_bag
from .nn._functional.grid import grid_sampler, grid_sampler_2d, grid_sampler_3d
from . import sparse  # noqa: F401  (torch.sparse; Tensor.to_sparse)
from .sparse._coo import sparse_coo
from .sparse._ops import __all__ as _sparse_names
from .sparse._ops import *  # noqa: F403

__all__ = ["ctc_loss", "embedding_bag", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d",
           "lobpcg", "sparse", "sparse_coo", *_ir_names, *_sparse_names]
