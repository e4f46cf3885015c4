"""Same as torch.utils.tensorboard: SummaryWriter writes TensorBoard event files through the
``tensorboard`` package (``pip install 'ndgrad[tensorboard]'``)."""

try:
    import tensorboard
except ImportError as e:  # torch lets ModuleNotFoundError through; we say what to install
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above: install it "
                      "with pip install 'ndgrad[tensorboard]' (or pip install tensorboard)") from e
if tuple(int(p) for p in tensorboard.__version__.split(".")[:2]) < (1, 15):
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")
del tensorboard

from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
