"""ndgrad: PyTorch's core API on NumPy. ``import ndgrad as torch``.

Each module below lists its public names in ``__all__``; this file only re-exports them."""

from . import _warnings  # noqa: F401  (NumPy's floating-point warnings, silent as torch)
from ._backend import device
from ._dtype import (bfloat16, complex64, complex128, dtype, float16, float32, float64,
                     get_default_dtype, int8, int16, int32, int64, promote_types, result_type,
                     set_default_dtype, uint8)
from ._dtype import bool_ as bool  # noqa: A001  (torch.bool)
from ._storage_dtypes import *  # noqa: F403
from ._nostorage_dtypes import *  # noqa: F403  (int1..7, uint1..7, quantized, complex32: no storage)
from ._tensor import Size, Tensor
from ._print import get_printoptions, set_printoptions
from ._creation import *  # noqa: F403
from ._ops.elementwise import *  # noqa: F403
from ._ops.unary import *  # noqa: F403
from ._ops.binary import *  # noqa: F403
from ._ops.compare import *  # noqa: F403
from ._ops.pointwise import *  # noqa: F403
from ._ops.reduce import *  # noqa: F403
from ._ops.scan import *  # noqa: F403
from ._ops.stats import *  # noqa: F403
from ._ops.movement import *  # noqa: F403
from ._ops.split import *  # noqa: F403
from ._ops.joins import *  # noqa: F403
from ._ops.shape import *  # noqa: F403
from ._ops.convert import *  # noqa: F403
from ._ops.indexing import *  # noqa: F403
from ._ops.gather import *  # noqa: F403
from ._ops.sorting import *  # noqa: F403
from ._ops.linalg import *  # noqa: F403
from ._ops.numeric import *  # noqa: F403
from ._ops.combinatorics import *  # noqa: F403
from ._ops.histogram import *  # noqa: F403
from ._ops.windows import *  # noqa: F403
from ._ops.strided import *  # noqa: F403
from ._ops.copies import *  # noqa: F403
from ._ops.spectral import *  # noqa: F403
from ._ops.factories import *  # noqa: F403
from ._ops.index_reduce import *  # noqa: F403
from .random import *  # noqa: F403
from ._grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                         no_grad, set_grad_enabled)
from . import autograd, fft, linalg, nn, optim, testing  # noqa: E402
from . import utils  # noqa: E402
from . import profiler  # noqa: E402  (torch.profiler: ndgrad's own op times)
from . import distributed  # noqa: E402  (imports mpi4py only at init_process_group)
from .serialization import load, save  # noqa: E402
from ._misc import *  # noqa: F403,E402
from ._threads import *  # noqa: F403,E402
from ._typeinfo import *  # noqa: F403,E402
from ._nn_top import *  # noqa: F403,E402
from ._tensor_extras import *  # noqa: F403,E402
from ._layouts import *  # noqa: F403,E402
from ._control_flow import *  # noqa: F403,E402
from . import cuda  # noqa: E402
from . import func  # noqa: E402
from .special._top import *  # noqa: F403,E402  (torch.special; torch.i0, igamma, mvlgamma)
from ._tooling import *  # noqa: F403,E402  (amp, backends, jit, compiler, accelerator, hub)
from . import _dynamo  # noqa: E402,F401  (torch._dynamo: config, reset, exc, graph_break)
from ._top_extras import *  # noqa: F403,E402  (grid_sampler, embedding_bag, ctc_loss, IR names, sparse)
from . import distributions  # noqa: E402
from . import signal  # noqa: E402  (torch.signal.windows)
from . import _tensor_api  # noqa: E402

_tensor_api.install()  # Tensor's methods, now that every module defining them is loaded

from ._argcheck import PYTHON_IN_TORCH as _PY  # noqa: E402
from ._argcheck import check_first_argument as _check_first_argument  # noqa: E402

for _ns, _prefix, _skip in ((__import__("sys").modules[__name__], "", _PY[""]),
                            (nn.functional, "", _PY["nn.functional"]), (linalg, "linalg_", ()),
                            (fft, "fft_", ()), (special, "special_", ())):
    _check_first_argument(_ns, [n for n in dir(_ns) if not n.startswith("_")], _prefix, _skip)
del _ns, _prefix, _skip, _PY
from ._kernel_dtypes import install as _kernel_dtypes  # noqa: E402

_kernel_dtypes(__import__("sys").modules[__name__], nn.functional, linalg, special)  # dtypes

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128
__version__ = "0.1.0"
