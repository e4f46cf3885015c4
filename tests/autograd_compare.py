"""Run one snippet with torch and with ndgrad and require the same outcome.

``same(fn)`` calls ``fn(lib)`` for both libraries. Results are compared recursively: tensors by
values, dtype, shape, requires_grad and grad_fn name; exceptions by type and message (with
``ndgrad`` read as ``torch``); warnings raised by the call by their messages."""

from __future__ import annotations

import re
import warnings

import numpy as np
import torch

import ndgrad


def _norm(text: str) -> str:
    text = text.replace("ndgrad", "torch")
    return re.sub(r" \(Triggered internally at .*\)$", "", text, flags=re.DOTALL)


def outcome(lib, fn):
    """(result or exception, warning messages) of ``fn(lib)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fn(lib)
        except Exception as e:  # compared with torch's, never swallowed
            res = e
    # torch.func's first use warns about torch.jit internally; not part of the behaviour compared
    return res, [_norm(str(w.message)) for w in caught if "torch.jit" not in str(w.message)]


def compare(got, want, rtol: float, atol: float, where: str = "result") -> None:
    if isinstance(want, torch.Tensor):
        assert isinstance(got, ndgrad.Tensor), f"{where}: {type(got)} is not a Tensor"
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], \
            f"{where}: dtype {got.dtype} != {want.dtype}"
        assert tuple(got.shape) == tuple(want.shape), f"{where}: shape {got.shape} != {want.shape}"
        assert got.requires_grad == want.requires_grad, f"{where}: requires_grad differs"
        gname = None if got.grad_fn is None else got.grad_fn.name()
        tname = None if want.grad_fn is None else want.grad_fn.name()
        assert gname == tname, f"{where}: grad_fn {gname} != {tname}"
        w = want.detach().cpu()
        w = w.float() if w.dtype == torch.bfloat16 else w
        np.testing.assert_allclose(np.asarray(got.detach(), dtype=w.numpy().dtype), w.numpy(),
                                   rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), \
            f"{where}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            compare(g, w, rtol, atol, f"{where}[{i}]")
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{where}: keys differ"
        for k in want:
            compare(got[k], want[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(want, float):
        assert got == want or abs(got - want) <= atol + rtol * abs(want), \
            f"{where}: {got} != {want}"
    elif isinstance(want, torch.dtype):
        assert str(got).split(".")[-1] == str(want).split(".")[-1], f"{where}: {got} != {want}"
    elif isinstance(want, torch.Size):
        assert tuple(got) == tuple(want), f"{where}: {got} != {want}"
    elif isinstance(want, str):
        assert _norm(got) == _norm(want), f"{where}: {got!r} != {want!r}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def same(fn, *, rtol: float = 1e-6, atol: float = 1e-6, message: bool | str = True,
         check_warnings: bool = True):
    """Assert ``fn(ndgrad)`` behaves as ``fn(torch)``; return ndgrad's result.

    ``message=False`` compares only the exception type; a string requires that ndgrad's message
    contains it (for documented wording differences)."""
    want, want_w = outcome(torch, fn)
    got, got_w = outcome(ndgrad, fn)
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"torch raised {want!r}, ndgrad returned {got!r}"
        assert type(got).__name__ == type(want).__name__, f"{got!r} is not a {type(want)}"
        if message is True:
            assert _norm(str(got)) == _norm(str(want)), f"\nndgrad: {got}\ntorch:  {want}"
        elif message:
            assert message in str(got), f"{message!r} not in {str(got)!r}"
    else:
        if isinstance(got, Exception):
            raise AssertionError(f"torch returned {want!r} but ndgrad raised") from got
        compare(got, want, rtol, atol)
    if check_warnings:
        assert got_w == want_w, f"warnings differ:\nndgrad: {got_w}\ntorch:  {want_w}"
    return got
