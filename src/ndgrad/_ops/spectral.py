"""torch.stft and torch.istft, composed as ATen does: frames (unfold), window, an FFT along the
frame; the inverse overlap-adds the windowed inverse FFTs and divides by the window envelope."""

from __future__ import annotations

import warnings

from .._tensor import Tensor

__all__ = ["istft", "stft"]

_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is known to "
              "cause spectral leakage. Other windows such as torch.hann_window or "
              "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
              "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
              "device=<device>)`.")
_NO_WINDOW_INV = ("A window was not provided. A rectangular window will be applied.Please provide "
                  "the same window used by stft to make the inversion lossless.To suppress this "
                  "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
                  "device=<device>)`.")
_REAL_OUT = ("stft with return_complex=False is deprecated. In a future pytorch release, stft "
             "will return complex tensors for all inputs, and return_complex=False will raise an "
             "error.\nNote: you can still call torch.view_as_real on the complex output to recover "
             "the old return format.")


def _warn_once(msg: str, _seen=set()) -> None:  # noqa: B006  (TORCH_WARN_ONCE)
    if msg not in _seen:
        _seen.add(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)


def _centered(window, n_fft: int, win_length: int, like: Tensor) -> Tensor:
    """The window (ones when None) zero-padded on both sides to n_fft, as ATen centers it."""
    from .._creation import ones
    from ..nn import functional as F

    w = ones(win_length, dtype=like.dtype.to_real() if like.is_complex() else like.dtype,
             device=like.device) if window is None else window
    left = (n_fft - win_length) // 2
    return F.pad(w, [left, n_fft - win_length - left]) if win_length < n_fft else w


def stft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
         center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided=None, return_complex=None, align_to_window=None) -> Tensor:
    """Same as torch.stft."""
    from .. import fft
    from ..nn import functional as F
    from .strided import view_as_real

    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        dims = input.ndim
        pad = n_fft // 2
        input = F.pad(input.view([1] * (3 - dims) + list(input.shape)), [pad, pad], pad_mode)
        input = input.view(input.shape[-dims:])
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    cplx = return_complex if return_complex is not None else (
        input.is_complex() or window is not None and window.is_complex())

    def fail(what):
        w = "None" if window is None else f"{window.type()}{{{list(window.shape)}}}"
        raise RuntimeError(f"stft({input.type()}{list(input.shape)}, n_fft={n_fft}, hop_length="
                           f"{hop}, win_length={win}, window={w}, normalized={int(normalized)}, "
                           f"onesided={_opt(onesided)}, return_complex={_opt(return_complex)}, "
                           f"align_to_window={_opt(align_to_window)}) : {what}")

    if not cplx:
        if return_complex is None:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in a "
                               "future PyTorch release.")
        _warn_once(_REAL_OUT)
    if window is None:
        _warn_once(_NO_WINDOW)
    if not (input.is_floating_point() or input.is_complex()):
        fail("expected a tensor of floating point or complex values")
    if input.ndim not in (1, 2):
        fail("expected a 1D or 2D tensor")
    x = input.unsqueeze(0) if input.ndim == 1 else input
    n = x.shape[1]
    if n_fft <= 0 or n_fft > n:
        fail(f"expected 0 < n_fft < {n}, but got n_fft={win}")
    if hop <= 0:
        fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        fail(f"expected a 1D window tensor of size equal to win_length={win}, but got window with "
             f"size {list(window.shape)}")
    if align_to_window:  # frames follow the (shorter) window, then are padded to n_fft
        left = (n_fft - win) // 2
        frames = x.unfold(1, win, hop)
        if window is not None:
            frames = frames * window
        frames = F.pad(frames, [left, n_fft - win - left])
    else:
        frames = x.unfold(1, n_fft, hop)
        if window is not None or win < n_fft:
            frames = frames * _centered(window, n_fft, win, x)
    complex_fft = frames.is_complex()
    one = (not complex_fft) if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    if complex_fft:
        if one:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = fft.fft(frames, dim=-1, norm=norm)
    else:
        out = fft.rfft(frames, dim=-1, norm=norm) if one else \
            fft.fft(frames, dim=-1, norm=norm)
    out = out.transpose(1, 2)
    if input.ndim == 1:
        out = out.squeeze(0)
    return out if cplx else view_as_real(out)


def _opt(v) -> str:
    return "None" if v is None else str(int(v))


def istft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
          center: bool = True, normalized: bool = False, onesided=None, length=None,
          return_complex: bool = False) -> Tensor:
    """Same as torch.istft."""
    from .. import fft
    from ..nn import functional as F
    from .split import UnfoldBackward

    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is None:
        _warn_once(_NO_WINDOW_INV)
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from "
                           "stft with return_complex=True.")
    dims = input.ndim + 1

    def fail(what, sep=" : "):
        kind = "CPUComplexDoubleType" if input.dtype.itemsize == 16 else "CPUComplexFloatType"
        w = "None" if window is None else f"{window.type()}{{{list(window.shape)}}}"
        raise RuntimeError(f"istft({kind}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
                           f"win_length={win}, window={w}, center={int(center)}, normalized="
                           f"{int(normalized)}, onesided={_opt(onesided)}, length="
                           f"{'None' if length is None else length}, return_complex="
                           f"{int(return_complex)}){sep}{what}")

    if input.numel() == 0:
        fail("istft input tensor cannot be empty.")
    if dims not in (3, 4):
        fail(f"expected a tensor with 3 or 4 dimensions of complex dtype, but got {dims}")
    n_frames, fft_size = input.shape[-1], input.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    one = fft_size != n_fft if onesided is None else onesided
    if one and n_fft // 2 + 1 != fft_size:
        fail("expected the frequency dimension (3rd to the last) of the input tensor to match "
             f"n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not one and n_fft != fft_size:
        fail("expected the frequency dimension (3rd to the last) of the input tensor to match "
             f"n_fft when onesided=False, but got {fft_size}")
    if not 0 < hop <= win:
        fail("expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        fail("expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        fail(f"expected a 1D window tensor of size equal to win_length={win}, but got window with "
             f"size {list(window.shape)}")
    w = _centered(window, n_fft, win, input)
    x = input.unsqueeze(0) if dims == 3 else input
    x = x.transpose(1, 2)  # (channel, n_frames, fft_size)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if one:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        x = fft.ifft(x, dim=-1, norm=norm)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not one:
            x = x.narrow(-1, 0, n_fft // 2 + 1)
        x = fft.irfft(x, n=n_fft, dim=-1, norm=norm)
    y = UnfoldBackward.apply(x * w.view(1, 1, n_fft), (x.shape[0], total), 1, n_fft, hop)
    env = UnfoldBackward.apply((w * w).expand(1, n_frames, n_fft), (1, total), 1, n_fft, hop)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else -(n_fft // 2) if center else total
    y = y[:, start:end]
    env = env[:, start:end]
    if bool((env.abs().min() < 1e-11).item()) if env.numel() else False:
        fail("window overlap add min: 1\n[ CPUBoolType{} ]", " ")
    y = y / env
    if dims == 3:
        y = y.squeeze(0)
    if end > total:
        _warn_once("The length of signal is shorter than the length parameter. Result is being "
                   "padded with zeros in the tail. Please check your center and hop_length "
                   "settings.")
        y = F.pad(y, [0, end - total])
    return y
