"""torch.nn.utils.rnn: PackedSequence and the (un)packing/(un)padding helpers. Packing concatenates
each time step's active rows (time-major, longest sequences first), as torch's
_pack_padded_sequence; padding gathers them back (one index into the rows plus a padding row)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ..._backend import to_numpy
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """Same as torch.nn.utils.rnn.PackedSequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_init_args(data, batch_sizes, sorted_indices,
                                                unsorted_indices))

    def pin_memory(self):
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          _bind(self.sorted_indices, lambda t: t.pin_memory()),
                          _bind(self.unsorted_indices, lambda t: t.pin_memory()))

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return t.to(data.device)

        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, *args, **kwargs):
        return self.to(*(args or ("cuda",)), **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        from ... import float64

        return self.to(dtype=float64)

    def float(self):
        from ... import float32

        return self.to(dtype=float32)

    def half(self):
        from ... import float16

        return self.to(dtype=float16)

    def long(self):
        from ... import int64

        return self.to(dtype=int64)

    def int(self):
        from ... import int32

        return self.to(dtype=int32)

    def short(self):
        from ... import int16

        return self.to(dtype=int16)

    def char(self):
        from ... import int8

        return self.to(dtype=int8)

    def byte(self):
        from ... import uint8

        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return self.data.is_pinned()


def _init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence "
                             "should never be created manually. They should be instantiated by "
                             "functions like pack_sequence and pack_padded_sequences in "
                             "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils."
                             "rnn.pack_sequence")
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    if permutation is None:
        return None
    from ... import arange, empty_like

    out = empty_like(permutation)
    return out.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))


def _pack(input: Tensor, lengths: np.ndarray, batch_first: bool):
    """torch's _pack_padded_sequence: (data, batch_sizes)."""
    from ... import cat, tensor
    from .._functional._utils import named

    if batch_first:
        input = input.transpose(0, 1)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch = input.shape[1]
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.shape[0]} (batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if (np.diff(lengths) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    steps, prev = [], 0
    for i in range(batch - 1, -1, -1):  # one block per distinct length, shortest first
        n = int(lengths[i])
        if n > prev:
            block = input[prev:n, :i + 1]
            steps.append(block.reshape((-1,) + tuple(input.shape[2:])))
            prev = n
    data = named(cat(steps), "PackPaddedSequenceBackward0")
    sizes = (np.arange(int(lengths[0]))[:, None] < lengths[None, :]).sum(1)
    return data, tensor(sizes.tolist(), dtype=_long())


def _long():
    from ... import int64

    return int64


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    from ... import as_tensor, sort

    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=_long(), device="cpu")
    else:
        lengths = lengths.to(dtype=_long())
    sorted_indices = None
    if not enforce_sorted:
        lengths, sorted_indices = sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, to_numpy(lengths._data).reshape(-1), batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    from ... import cat, full, tensor

    sizes = np.asarray(sequence.batch_sizes._data).astype(np.int64)
    max_len = sizes.shape[0]
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             "sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {max_len}")
        max_len = total_length
    data = sequence.data
    batch = int(sizes[0]) if sizes.size else 0
    # row of data at (t, b): the rows before step t plus b; past the end, the padding row
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.full((max_len, batch), data.shape[0], np.int64)
    t, b = np.nonzero(np.arange(batch)[None, :] < sizes[:, None])
    rows[t, b] = starts[t] + b
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
               device=data.device)
    xp = data._device.xp
    index = Tensor._make(xp.asarray(rows.T if batch_first else rows), data._device)
    padded = cat([data, pad])[index]
    lengths = tensor((np.arange(batch)[None, :] < sizes[:, None]).sum(0).tolist(),
                     dtype=_long())
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        return padded.index_select(0 if batch_first else 1, unsorted), lengths[unsorted.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    from ... import stack
    from .. import functional as F

    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    n = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = n - s.shape[0]
        pad = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(F.pad(s, pad, value=padding_value))
    out = stack(padded)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    from ... import arange

    if not batch_first:
        padded_sequences.transpose_(0, 1)  # in place, as torch's (the caller's tensor too)
    idx = arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths, strict=True)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    from ... import as_tensor

    lengths = as_tensor([v.shape[0] for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

