"""Same as torch.utils.data's default_collate / default_convert (same type rules and errors)."""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Callable

import numpy as np

from ..._tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_np_str_obj = re.compile(r"[SaUO]")
_err = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def default_convert(data):
    """Same as torch.utils.data.default_convert: NumPy arrays and scalars become tensors."""
    from ..._creation import as_tensor

    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "string_"):
        if t.__name__ == "ndarray" and _np_str_obj.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values: dict):
    """A mapping of ``like``'s type holding ``values`` (a plain dict if that type can't)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values: list):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map: dict | None = None):
    """Same as torch.utils.data._utils.collate.collate: dispatch on the first element's type."""
    elem = batch[0]
    t = type(elem)
    if collate_fn_map is not None:
        if t in collate_fn_map:
            return collate_fn_map[t](batch, collate_fn_map=collate_fn_map)
        for ty in collate_fn_map:
            if isinstance(elem, ty):
                return collate_fn_map[ty](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: collate([d[k] for d in batch],
                                                  collate_fn_map=collate_fn_map) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return t(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_err.format(t))


def _tensors(batch, *, collate_fn_map=None):
    from ..._ops.movement import stack

    return stack(batch, 0)


def _numpy_arrays(batch, *, collate_fn_map=None):
    from ..._creation import as_tensor

    if _np_str_obj.search(batch[0].dtype.str) is not None:
        raise TypeError(_err.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _numpy_scalars(batch, *, collate_fn_map=None):
    from ..._creation import as_tensor

    return as_tensor(batch)


def _floats(batch, *, collate_fn_map=None):
    from ..._creation import tensor
    from ..._dtype import float64

    return tensor(batch, dtype=float64)


def _ints(batch, *, collate_fn_map=None):
    from ..._creation import tensor

    return tensor(batch)


def _strings(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: _tensors, np.ndarray: _numpy_arrays, (np.bool_, np.number, np.object_): _numpy_scalars,
    float: _floats, int: _ints, str: _strings, bytes: _strings}


def default_collate(batch):
    """Same as torch.utils.data.default_collate: stack samples into batched tensors."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
