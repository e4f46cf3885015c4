"""Summary protocol buffers as torch.utils.tensorboard.summary builds them, from ndgrad tensors
or NumPy arrays."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ..._tensor import Tensor


def make_np(x) -> np.ndarray:
    """An ndgrad tensor, NumPy array or Python number as a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")


def scalar(name: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    value = make_np(value).squeeze()
    if value.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: "
                             f"{value.size} and {value.ndim} dimensions.")
    x = float(value)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=x)])
    proto = (TensorProto(double_val=[x], dtype="DT_DOUBLE") if double_precision else
             TensorProto(float_val=[x], dtype="DT_FLOAT"))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=meta)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name: str, values, bins, max_bins: int | None = None) -> Summary:
    values = make_np(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:  # merge neighbouring bins
        sub = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % sub)).reshape(-1, sub).sum(axis=-1)
        limits = np.append(limits[:-1:sub], limits[-1])
    # keep the bins from the first to the last non-empty one, plus an empty one before (as TF)
    nonzero = np.flatnonzero(counts)
    if not nonzero.size:
        raise ValueError("The histogram is empty, please file a bug report.")
    start, end = nonzero[0], nonzero[-1] + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return histogram_raw(name, values.min(), values.max(), len(values), values.sum(),
                         values.dot(values), limits.tolist(), counts.tolist())


def image(tag: str, tensor, dataformats: str = "NCHW") -> Summary:
    img = convert_to_HWC(make_np(tensor), dataformats)
    scale = 1 if img.dtype == np.uint8 else 255  # floats are in [0, 1]
    img = (img.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    h, w, c = img.shape
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=_png(img)))])


def _png(img: np.ndarray) -> bytes:
    """PNG bytes of an HxWxC uint8 image (C: 1 grey, 3 RGB, 4 RGBA); no Pillow needed."""
    h, w, c = img.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * c)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    head = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
            + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """N images (N1HW or N3HW) tiled into one 3HW canvas, ``ncols`` a row."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = images[i]
    return canvas


def convert_to_HWC(tensor: np.ndarray, input_format: str) -> np.ndarray:  # noqa: N802 (torch's)
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f"You can not use the same dimension shorthand twice. "
                             f"input_format: {input_format}")
    if tensor.ndim != len(input_format):
        raise AssertionError(f"size of input tensor and input format are different. tensor "
                             f"shape: {tensor.shape}, input_format: {input_format}")
    fmt = input_format.upper()
    if len(fmt) == 4:
        return make_grid(tensor.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = tensor.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    return np.stack([tensor.transpose([fmt.find(c) for c in "HW"])] * 3, 2)


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """A matplotlib figure (CHW) or a list of them (NCHW) as RGB arrays."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def rgb(fig) -> np.ndarray:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        w, h = fig.canvas.get_width_height()
        chw = np.moveaxis(np.asarray(canvas.buffer_rgba()).reshape(h, w, 4)[:, :, :3], 2, 0)
        if close:
            plt.close(fig)
        return chw

    return np.stack([rgb(f) for f in figures]) if isinstance(figures, list) else rgb(figures)


def text(tag: str, text: str) -> Summary:
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=proto)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None) -> tuple:
    """The hparams plugin's three summaries: experiment, session start (the values), end."""
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.api_pb2 import (DataType, Experiment, HParamInfo, MetricInfo,
                                                     MetricName, Status)
    from tensorboard.plugins.hparams.plugin_data_pb2 import (HParamsPluginData, SessionEndInfo,
                                                             SessionStartInfo)

    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if (k not in hparam_dict or not isinstance(v, list)
                or not all(isinstance(d, type(hparam_dict[k])) for d in v)):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type "
                            f"as hparam_dict[{k}].")
    infos, ssi = [], SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, Tensor):
            v = float(make_np(v).reshape(-1)[0])
        # torch's order: bools are ints, so they are logged as numbers too
        kind, field = ((("FLOAT64", "number_value") if isinstance(v, (int, float)) else
                        ("STRING", "string_value") if isinstance(v, str) else
                        ("BOOL", "bool_value") if isinstance(v, bool) else (None, None)))
        if kind is None:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(ssi.hparams[k], field, v)
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
                  if k in domains else None)
        infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_" + kind),
                                domain_discrete=domain))

    def summary(tag: str, **content) -> Summary:
        data = HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString()))
        return Summary(value=[Summary.Value(tag=tag, metadata=meta)])

    exp = Experiment(hparam_infos=infos,
                     metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (summary(metadata.EXPERIMENT_TAG, experiment=exp),
            summary(metadata.SESSION_START_INFO_TAG, session_start_info=ssi),
            summary(metadata.SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(
                status=Status.Value("STATUS_SUCCESS"))))
