"""torch.nn.utils.rnn: pad_sequence (packed sequences are not supported)."""

from __future__ import annotations

from ..._tensor import Tensor


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    from ... import stack
    from .. import functional as F

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
