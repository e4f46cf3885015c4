"""Op-table entries for the breadth names: number theory and float formats, combinatorics,
integration, histograms, windows, stft, view copies and scatters, predicates, top-level aliases
of nn.functional."""

import numpy as np

from op_db import OpInfo, arr, binary_samples, register, unary_samples

F = ("float32", "float64")
C = ("complex64", "complex128")
INTS = ("int64", "int32", "uint8")


def cases(*specs, low=-2.0, high=2.0):
    """Samples from (shapes, kwargs) pairs; a scalar in shapes is passed through as is, a
    (shape, dtype) pair is an array of that dtype whatever the entry's dtype."""
    def samples(rng, dtype):
        for shapes, kw in specs:
            ins = []
            for s in shapes:
                if isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], str):
                    ins.append(np.asarray(arr(rng, s[0], s[1], low, high)))
                elif isinstance(s, tuple):
                    ins.append(np.asarray(arr(rng, s, dtype, low, high)))
                else:
                    ins.append(s)
            yield ins, kw

    return samples


def fixed(*specs):
    """Samples of given arrays (lists become arrays of the entry's dtype; arrays stay)."""
    def samples(rng, dtype):
        for ins, kw in specs:
            yield [np.asarray(x, dtype) if isinstance(x, list) else x for x in ins], kw

    return samples


def no_inputs(*kwargs):
    def samples(rng, dtype):
        for kw in kwargs:
            yield [], kw

    return samples


# --- number theory and floating-point formats ----------------------------------------------
EDGES = [0.0, -0.0, 1.5, -3.0, 1e-30, 7.25, -1e3, 0.1]
register(
    OpInfo("gcd", lambda T, a, b: T.gcd(a, b), binary_samples(-30, 30), dtypes=INTS, grad=False),
    OpInfo("lcm", lambda T, a, b: T.lcm(a, b), binary_samples(-30, 30), dtypes=INTS, grad=False),
    OpInfo("gcd_mixed", lambda T, a, b: (T.gcd(a, b), a.lcm(b), (a * 1).gcd_(b), (a * 1).lcm_(b)),
           cases(([((3, 4), "int64"), ((4,), "int32")], {}), ([((4,), "int16"), ((4,), "uint8")],
                                                            {}), low=-20, high=20),
           dtypes=("int64",), grad=False, tags=("gcd_", "lcm_")),
    OpInfo("frexp", lambda T, x: tuple(T.frexp(x)),
           fixed(([EDGES], {}), ([[[2.0, 0.5], [3, 4]]], {})),
           dtypes=F + ("float16", "bfloat16"), gradcheck=False),  # jumps at powers of two
    OpInfo("frexp_method", lambda T, x: x.frexp().mantissa * 2, unary_samples(-5, 5)),
    OpInfo("ldexp", lambda T, a, b: T.ldexp(a, b), binary_samples(-3, 3), dtypes=F),
    OpInfo("ldexp_complex", lambda T, a, b: T.ldexp(a, b), cases(([(3, 4), ((4,), "float32")], {})),
           dtypes=C, grad=False, rtol=1e-6, atol=1e-6),  # 2**other: float32's last bit
    # (torch's backward raises here: a real gradient for other)
    OpInfo("ldexp_int", lambda T, a, b: (T.ldexp(a, b), a.ldexp(b.double())),
           cases(([((3, 4), "float32"), ((4,), "int64")], {}),
                 ([((4,), "int64"), ((4,), "int64")], {}), ([((4,), "float16"), ((4,), "int32")],
                                                            {}), low=-5, high=5),
           dtypes=("float32",), grad_rtol=1e-4, tags=("ldexp_",)),
    OpInfo("ldexp_", lambda T, a, b: (a * 1).ldexp_(b),
           binary_samples(-3, 3, [((5,), ()), ((3, 4), (4,))])),
    OpInfo("nextafter", lambda T, a, b: T.nextafter(a, b),
           fixed(([[1.0, 2.0, -3.0, 0.0, 0.0, 5.0], [2.0, 1.0, 1.0, -1.0, 1.0, 5.0]], {})),
           dtypes=F + ("float16", "bfloat16"), gradcheck=False),
    OpInfo("nextafter_", lambda T, a, b: (a * 1).nextafter_(b) * 1,
           fixed(([[1.0, 2.0, -3.0, 0.0], [2.0, 1.0, 1.0, 0.0]], {})), gradcheck=False),
    OpInfo("signbit", lambda T, x: (T.signbit(x), x.signbit()), fixed(([EDGES], {})),
           dtypes=F + ("float16", "bfloat16"), grad=False),
    OpInfo("signbit_int", lambda T, x: T.signbit(x), unary_samples(-5, 5, [(5,), (2, 3)]),
           dtypes=INTS + ("bool",),
           grad=False),
    OpInfo("angle", lambda T, x: (T.angle(x), x.angle()),
           unary_samples(shapes=[(5,), (3, 4)]), dtypes=F + C + ("int64", "bool", "float16")),
)


# --- combinatorics and structured matrices ---------------------------------------------------
def _dt(T, kw):
    """kwargs with a dtype named by a string as ``T``'s dtype."""
    return {**kw, "dtype": getattr(T, kw["dtype"])} if isinstance(kw.get("dtype"), str) else kw


def _idx(*arrays):
    return [np.asarray(a, np.int64) for a in arrays]


register(
    OpInfo("cartesian_prod", lambda T, *xs: T.cartesian_prod(*xs),
           cases(([(3,), (2,)], {}), ([(3,), (2,), (2,)], {}), ([(4,)], {}), ([(0,), (2,)], {})),
           dtypes=F + C + ("int64",)),
    OpInfo("combinations", lambda T, x, **k: T.combinations(x, **k),
           cases(([(4,)], {}), ([(4,)], {"r": 3}), ([(3,)], {"r": 2, "with_replacement": True}),
                 ([(3,)], {"r": 4}), ([(3,)], {"r": 0}), ([(3,)], {"r": 1})),
           dtypes=F + ("int64", "bool")),
    OpInfo("tril_indices",
           lambda T, **k: (T.tril_indices(**_dt(T, k)), T.triu_indices(**_dt(T, k))),
           no_inputs({"row": 3, "col": 3}, {"row": 3, "col": 5, "offset": 1},
                     {"row": 4, "col": 2, "offset": -1, "dtype": "int32"}, {"row": 0, "col": 3},
                     {"row": 3, "col": 3, "offset": 7}, {"row": 3, "col": 3, "offset": -9}),
           dtypes=("int64",), grad=False, tags=("triu_indices",)),
    OpInfo("unravel_index", lambda T, i, shape: T.unravel_index(i, shape),
           fixed((_idx([4, 1, 5, 0]) + [(2, 3)], {}), (_idx(4) + [(2, 3)], {}),
                 (_idx([[1, 5], [2, 3]]) + [(2, 3)], {}), (_idx([7, -1]) + [(2, 3)], {}),
                 (_idx([3]) + [5], {}), (_idx([1]) + [()], {}),
                 ([np.asarray([1, 30], np.int32), (2, 3, 5)], {})),
           dtypes=("int64",), grad=False),
    OpInfo("block_diag", lambda T, *xs: T.block_diag(*xs),
           cases(([(2, 3), (3,), ()], {}), ([(2, 2)], {}), ([(0, 3), (2, 0), (1, 1)], {}),
                 ([(2, 2), ((3,), "int64")], {}), ([(2, 3), ((), "float64")], {})),
           dtypes=F + C + ("int64",)),
    OpInfo("vander", lambda T, x, **k: T.vander(x, **k),
           cases(([(4,)], {}), ([(3,)], {"N": 5}), ([(3,)], {"N": 2, "increasing": True}),
                 ([(3,)], {"N": 0}), ([(3,)], {"N": 1}), ([(0,)], {})),
           dtypes=F + C + ("int64", "int8", "bool"), grad=False),  # torch's backward raises
    # ndgrad's vander is differentiable (torch's backward trips over its own in-place cumprod):
    # its gradients against torch's linalg.vander, the same matrix with columns reversed
    OpInfo("vander_grad", lambda T, x, **k: T.linalg.vander(x, **k).flip(-1) if T.__name__ ==
           "torch" else T.vander(x, **k), cases(([(4,)], {}), ([(3,)], {"N": 5})), dtypes=F + C),
    OpInfo("vander_zero", lambda T, x: T.linalg.vander(x, N=4).flip(-1) if T.__name__ == "torch"
           else T.vander(x, 4), fixed(([[0.0, 2.0, -1.0]], {}))),
    OpInfo("linalg.vander", lambda T, x, **k: T.linalg.vander(x, **k),
           cases(([(4,)], {}), ([(2, 3)], {"N": 5}), ([()], {"N": 3}), ([(3,)], {"N": 2})),
           dtypes=F + C + ("int64", "int32")),
    OpInfo("diagflat", lambda T, x, **k: (T.diagflat(x, **k), x.diagflat(**k)),
           cases(([(3,)], {}), ([(2, 2)], {"offset": 1}), ([(2,)], {"offset": -2}), ([()], {}),
                 ([(0,)], {})), dtypes=F + C + ("int64",)),
)


# --- histograms, integration and differences ------------------------------------------------
HIST_X = [1.0, 2.0, 1.0, 2.5, 4.0, 0.0, 3.999, 2.0000001, -1.0, 7.0]
register(
    OpInfo("histogram", lambda T, x, *w, **k: tuple(T.histogram(x, weight=w[0] if w else None,
                                                                  **k)),
           cases(([(20,)], {"bins": 4}), ([(3, 5)], {"bins": 3, "range": (-1.0, 1.0)}),
                 ([(20,)], {"bins": 5, "density": True}), ([(0,)], {"bins": 2}),
                 ([(6,), (6,)], {"bins": 3}), ([(6,), (6,)], {"bins": 2, "density": True})),
           dtypes=F, grad=False),
    OpInfo("histogram_edges", lambda T, x, e, **k: tuple(x.histogram(e, **k)),
           fixed(([HIST_X, [0.0, 1.0, 3.0, 4.0]], {}), ([HIST_X, [0.0, 1.0, 3.0, 4.0]],
                                                       {"density": True}),
                 ([[3.0, 3.0], [1.0, 0.0]], {})), dtypes=F, grad=False),
    OpInfo("histogram_const", lambda T, x: tuple(T.histogram(x, 2)), fixed(([[3.0, 3.0]], {})),
           dtypes=F, grad=False),
    OpInfo("histogramdd", lambda T, x, **k: tuple(T.histogramdd(x, **k)),
           cases(([(10, 2)], {"bins": [3, 4]}), ([(2, 5, 3)], {"bins": 2}),
                 ([(8, 2)], {"bins": 2, "range": [-1.0, 1.0, 0.0, 2.0], "density": True}),
                 ([(0, 2)], {"bins": [2, 2]})), dtypes=F, grad=False),
    OpInfo("histogramdd_weight_edges",
           lambda T, x, w, e0, e1: tuple(T.histogramdd(x, [e0, e1], weight=w)),
           fixed(([[[0.0, 1], [1, 0], [2, 0], [2, 2]], [1.0, 2, 4, 8], [0.0, 1, 2],
                   [0.0, 2]], {})), dtypes=F, grad=False),
    OpInfo("trapz", lambda T, y, *x, **k: T.trapz(y, *x, **k),
           cases(([(5,)], {}), ([(3, 4)], {"dx": 0.5}), ([(3, 4), (4,)], {}),
                 ([(3, 4), (3, 4)], {"dim": 0}))),
    OpInfo("cumulative_trapezoid", lambda T, y, *x, **k: T.cumulative_trapezoid(y, *x, **k),
           cases(([(5,)], {}), ([(3, 4)], {"dx": 0.5}), ([(3, 4), (4,)], {}),
                 ([(3, 4), (3, 4)], {"dim": 0}), ([(2, 3, 4), (3, 1)], {"dim": 1}), ([(0,)], {}),
                 ([(1,)], {}))),
    OpInfo("cumulative_trapezoid_int", lambda T, y, *x, **k: T.cumulative_trapezoid(y, *x, **k),
           cases(([(5,)], {}), ([(5,), (5,)], {}), ([(5,)], {"dx": 3})), dtypes=("int64",),
           grad=False),
    OpInfo("gradient", lambda T, f, *xs, **k: T.gradient(f, **_spacing(xs, k)),
           cases(([(5,)], {}), ([(3, 4)], {"spacing": 2.0}),
                 ([(3, 4)], {"dim": 1, "edge_order": 2}),
                 ([(3, 4)], {"spacing": [0.5, 3], "edge_order": 2}),
                 ([(3, 4), (3,), (4,)], {}), ([(3, 4), (4,)], {"dim": -1, "edge_order": 2}),
                 ([(2, 3, 4)], {"dim": [0, 2]}), ([()], {}))),
    OpInfo("gradient_int", lambda T, f, **k: T.gradient(f, **k),
           cases(([(5,)], {}), ([(3, 4)], {"spacing": 2})), dtypes=("int64",), grad=False),
)


def _spacing(xs, kw):
    """Coordinate tensors (positional samples) as gradient's spacing list, kept increasing."""
    if not xs:
        return kw
    return {**kw, "spacing": [(x.abs() + 0.5).cumsum(0) for x in xs]}


# --- windows and short-time Fourier transforms -------------------------------------------------
WINDOW_KW = ({"window_length": 5}, {"window_length": 6, "periodic": False}, {"window_length": 1},
             {"window_length": 0}, {"window_length": 7, "dtype": "float64"},
             {"window_length": 4, "dtype": "float16"}, {"window_length": 8, "requires_grad": True})


def _window(name, **extra):
    return lambda T, **k: getattr(T, name)(**_dt(T, {**k, **extra}))


register(*[OpInfo(n, _window(n), no_inputs(*WINDOW_KW), dtypes=("float32",), grad=False,
                  atol=1e-3 if n == "kaiser_window" else None)
           for n in ("hann_window", "hamming_window", "blackman_window", "bartlett_window",
                     "kaiser_window")])
register(
    OpInfo("hamming_window_alpha", lambda T, **k: T.hamming_window(9, True, 0.4, 0.3, **k),
           no_inputs({}, {"dtype": None}), dtypes=("float32",), grad=False),
    OpInfo("kaiser_window_beta", lambda T, **k: T.kaiser_window(9, False, 5.0, **_dt(T, k)),
           no_inputs({}, {"dtype": "float64"}), dtypes=("float32",), grad=False),
)


def _signal(rng, dtype, shape):
    return np.asarray(arr(rng, shape, dtype))


def stft_samples(rng, dtype):
    w10 = np.hanning(12)[1:-1].astype(dtype)
    yield [_signal(rng, dtype, (40,)), w10], {"n_fft": 10}
    yield [_signal(rng, dtype, (2, 30)), w10], {"n_fft": 16, "hop_length": 3, "win_length": 10,
                                                "center": False}
    yield [_signal(rng, dtype, (2, 30)), w10], {"n_fft": 12, "hop_length": 4, "win_length": 10,
                                                "normalized": True, "onesided": False}
    yield [_signal(rng, dtype, (30,)), w10], {"n_fft": 12, "hop_length": 2, "win_length": 10,
                                              "center": False, "align_to_window": True}
    yield [_signal(rng, dtype, (30,)), w10], {"n_fft": 10, "pad_mode": "constant",
                                              "return_complex": False}


def _stft(T, x, w, **k):
    k.setdefault("return_complex", True)
    return T.stft(x, window=w, **k)


def _istft(T, x, w, *, n_fft, hop_length=None, **k):
    spec = T.stft(x, n_fft, hop_length, window=w, return_complex=True,
                  onesided=k.pop("onesided", None))
    return spec.istft(n_fft, hop_length, window=w, **k)


register(
    OpInfo("stft", _stft, stft_samples, rtol=1e-4, atol=1e-4),
    OpInfo("stft_complex", lambda T, x, w, **k: T.stft(x, 8, window=w, return_complex=True, **k),
           cases(([(20,), (8,)], {}), ([(2, 20), (8,)], {"normalized": True})), dtypes=C,
           rtol=1e-4, atol=1e-4),
    OpInfo("istft", _istft,
           fixed(([np.sin(np.arange(40.0) / 3), np.hanning(12)[1:-1]], {"n_fft": 10}),
                 ([np.cos(np.arange(80.0) / 5).reshape(2, 40), np.hanning(12)[1:-1]],
                  {"n_fft": 10, "hop_length": 3, "length": 45}),
                 ([np.cos(np.arange(40.0) / 2), np.hanning(12)[1:-1]],
                  {"n_fft": 10, "onesided": False, "normalized": True}),
                 ([np.cos(np.arange(40.0) / 2), np.hanning(12)[1:-1]],
                  {"n_fft": 10, "center": False})), rtol=1e-4, atol=1e-4),
)


# --- views of the storage, their scatters, copies ----------------------------------------------
def _strided_put(T, x, s, size, stride, storage_offset=0):
    pos = T.as_strided(T.arange(x.numel()), size, stride, storage_offset).reshape(-1)
    return x.reshape(-1).index_put((pos,), s.reshape(-1)).reshape(x.shape)


register(
    OpInfo("view_as_real", lambda T, z: T.view_as_real(z) * 1,
           cases(([(5,)], {}), ([(3, 4)], {}), ([()], {})), dtypes=C),
    OpInfo("view_as_complex", lambda T, x: T.view_as_complex(x) * 1,
           cases(([(3, 2)], {}), ([(2, 3, 2)], {}), ([(2,)], {}))),
    OpInfo("view_as_complex_strided", lambda T, x: T.view_as_complex(x[:, 1:]) * 1,
           cases(([(3, 3, 2)], {}))),
    OpInfo("view_as_real_copy", lambda T, z: T.view_as_real_copy(z), cases(([(3, 4)], {})),
           dtypes=C),
    OpInfo("view_as_complex_copy", lambda T, x: T.view_as_complex_copy(x),
           cases(([(3, 2)], {})), grad=False),
    OpInfo("as_strided", lambda T, x, **k: T.as_strided(x, **k) * 1,
           cases(([(3, 4)], {"size": (2, 2), "stride": (1, 2)}),
                 ([(3, 4)], {"size": (3, 3), "stride": (1, 1)}),  # overlapping windows
                 ([(3, 4)], {"size": (2,), "stride": (3,), "storage_offset": 5}),
                 ([(12,)], {"size": (4, 3), "stride": (3, 1)}),
                 ([(5,)], {"size": (2, 3), "stride": (0, 1)}))),
    OpInfo("as_strided_expanded", lambda T, x: T.as_strided(x.expand(3, 4), (2, 2), (1, 2)) * 1,
           cases(([(4,)], {}))),
    OpInfo("as_strided_method", lambda T, x: (x * 1).as_strided((2, 3), (3, 1), 1) ** 2,
           cases(([(3, 4)], {})), tags=("as_strided_",)),
    OpInfo("as_strided_inplace", lambda T, x: (x * 1).as_strided_((2, 3), (3, 1), 1) ** 2,
           cases(([(3, 4)], {}))),
    OpInfo("as_strided_copy", lambda T, x: T.as_strided_copy(x, (2, 2), (1, 2), 1),
           cases(([(3, 4)], {}))),
    OpInfo("select_scatter", lambda T, x, s, **k: T.select_scatter(x, s, **k),
           cases(([(3, 4), (4,)], {"dim": 0, "index": 1}),
                 ([(3, 4), (3,)], {"dim": 1, "index": -1}),
                 ([(2, 3, 4), (2, 4)], {"dim": 1, "index": 2}),
                 ([(3, 4), ((4,), "float64")], {"dim": 0, "index": 0}),
                 ([(3,), ()], {"dim": 0, "index": -1}))),
    OpInfo("select_scatter_complex", lambda T, x, s: (T.select_scatter(x, s, 0, 1),
                                                      T.diagonal_scatter(x, s[:3])),
           cases(([(3, 4), (4,)], {})), dtypes=C, grad=False),
    OpInfo("slice_scatter", lambda T, x, s, **k: x.slice_scatter(s, **k),
           cases(([(3, 4), (3, 2)], {"dim": 1, "start": 0, "end": 4, "step": 2}),
                 ([(3, 4), (3, 4)], {}), ([(3, 4), (2, 4)], {"start": 1}),
                 ([(3, 4), (3, 2)], {"dim": 1, "start": -2}), ([(3, 4), (0, 4)], {"start": 5}))),
    OpInfo("diagonal_scatter", lambda T, x, s, **k: T.diagonal_scatter(x, s, **k),
           cases(([(3, 4), (3,)], {}), ([(3, 4), (3,)], {"offset": 1}),
                 ([(3, 4), (2,)], {"offset": -1}), ([(2, 3, 4), (2, 3)], {"dim1": 1, "dim2": 2}),
                 ([(2, 3, 4), (4, 2)], {"dim1": 0, "dim2": 1, "offset": 0}))),
    # torch's gradient to the input is wrong (see ndgrad's docstring): against an index_put
    OpInfo("as_strided_scatter", lambda T, x, s, **k: T.as_strided_scatter(x, s, **k)
           if T.__name__ == "ndgrad" else _strided_put(T, x, s, **k),
           cases(([(3, 4), (2, 2)], {"size": (2, 2), "stride": (1, 2)}),
                 ([(3, 4), (2, 2)], {"size": (2, 2), "stride": (4, 1), "storage_offset": 3}))),
    OpInfo("copies", lambda T, x: (T.alias_copy(x), T.diagonal_copy(x, 1),
                                   T.expand_copy(x[:1], (2, 4)),
                                   T.narrow_copy(x, 1, 1, 2), x.narrow_copy(0, 0, 2),
                                   T.permute_copy(x, (1, 0)), T.select_copy(x, 1, 2),
                                   T.slice_copy(x, 1, 1, 3), T.slice_copy(x),
                                   T.split_copy(x, 2), T.split_with_sizes_copy(x, [1, 2]),
                                   T.squeeze_copy(x.reshape(3, 1, 4)),
                                   T.squeeze_copy(x.reshape(3, 1, 4), 1), T.t_copy(x),
                                   T.transpose_copy(x, 0, 1), T.unbind_copy(x, 1),
                                   T.unfold_copy(x, 1, 2, 1), T.unsqueeze_copy(x, 1),
                                   T.view_copy(x, (12,)), T.view_copy(x.t(), (12,))),
           cases(([(3, 4)], {})),
           tags=("alias_copy", "diagonal_copy", "expand_copy", "narrow_copy", "permute_copy",
                 "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy",
                 "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
                 "unsqueeze_copy", "view_copy")),
    OpInfo("view_copy_dtype", lambda T, x: T.view_copy(x, T.int32), cases(([(3, 4)], {})),
           dtypes=("float32",), grad=False),
    OpInfo("detach_copy", lambda T, x: T.detach_copy(x), cases(([(3, 4)], {})), grad=False),
    OpInfo("unsafe_splits", lambda T, x: (T.unsafe_chunk(x, 2, 1), T.unsafe_split(x, 2),
                                          x.unsafe_split_with_sizes([1, 2]),
                                          T.split_with_sizes(x, [2, 1]),
                                          T.unsafe_split_with_sizes(x, [1, 2])),
           cases(([(3, 4)], {})),
           tags=("unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "split_with_sizes")),
    OpInfo("nonzero_static", lambda T, x, **k: (T.nonzero_static(x, **k), x.nonzero_static(**k)),
           fixed(([np.asarray([0, 1, 0, 2])], {"size": 3}),
                 ([np.asarray([[0, 1], [1, 1]])], {"size": 5, "fill_value": 7}),
                 ([np.asarray([0, 1, 0, 2])], {"size": 1}), ([np.asarray(3)], {"size": 2}),
                 ([np.asarray([0, 1])], {"size": 0})), dtypes=("int64",), grad=False),
    OpInfo("constant_pad_nd", lambda T, x, **k: T.constant_pad_nd(x, **k),
           cases(([(3, 4)], {"pad": (1, 2)}), ([(2, 3, 4)], {"pad": (1, 1, 0, 2), "value": 2.5}),
                 ([(3, 4)], {"pad": (-1, 1)}))),
)


def _message(fn, *args):
    """The message a removed function raises (the same text in both libraries)."""
    try:
        fn(*args)
    except RuntimeError as e:
        return str(e).replace("ndgrad.", "torch.")
    return None


register(
    OpInfo("removed_functions", lambda T, x: (_message(T.eig, x), _message(T.lstsq, x, x),
                                              _message(T.solve, x, x), _message(T.symeig, x),
                                              _message(T.matrix_rank, x), _message(x.symeig)),
           cases(([(2, 2)], {})), dtypes=("float32",), grad=False,
           tags=("eig", "lstsq", "solve", "symeig", "matrix_rank")),
)


# --- top-level spellings of nn.functional (aten's signatures) ---------------------------------
def _seeded(fn):
    """Run fn after seeding T's generator (ndgrad's and torch's streams agree)."""
    def run(T, *a, **k):
        T.manual_seed(0)
        return fn(T, *a, **k)

    return run


IMG = [(2, 4, 5, 5)]
SEQ = [(2, 4, 6)]
register(
    OpInfo("celu", lambda T, x, **k: T.celu(x, **k),
           cases(([(3, 4)], {}), ([(5,)], {"alpha": 2.0}))),
    OpInfo("celu_", lambda T, x: T.celu_(x * 1, 0.5), cases(([(3, 4)], {}))),
    OpInfo("selu", lambda T, x: (T.selu(x), T.selu_(x * 1)), cases(([(3, 4)], {})),
           tags=("selu_",)),
    OpInfo("prelu", lambda T, x, w: (T.prelu(x, w), x.prelu(w)), cases(([(2, 3, 4), (3,)], {}))),
    OpInfo("threshold_", lambda T, x: T.threshold_(x * 1, 0.1, -2.0), cases(([(3, 4)], {}))),
    OpInfo("hardshrink", lambda T, x, **k: (T.hardshrink(x, **k), x.hardshrink(**k)),
           cases(([(3, 4)], {}), ([(10,)], {"lambd": 1.0}))),
    OpInfo("rrelu", _seeded(lambda T, x: (T.rrelu(x), T.rrelu(x, 0.1, 0.3, True),
                                          T.rrelu_(x * 1, 0.2, 0.4, True))),
           cases(([(3, 4)], {})), gradcheck=False, tags=("rrelu_",)),
    OpInfo("hardshrink_edges", lambda T, x: T.hardshrink(x), fixed(([[0.5, -0.5, 0.6, 0.0,
                                                                        -0.7]], {})),
           gradcheck=False),  # kinks at +-lambd
    OpInfo("dropout_", lambda T, x: (T.dropout_(x * 1, 0.0, True), T.dropout_(x * 1, 0.5, False)),
           cases(([(3, 4)], {}))),
    OpInfo("alpha_dropout", _seeded(lambda T, x: (T.alpha_dropout(x, 0.3, True),
                                                  T.alpha_dropout_(x * 1, 0.3, True),
                                                  T.alpha_dropout(x, 0.3, False))),
           cases(([(3, 4)], {})), tags=("alpha_dropout_",)),
    OpInfo("feature_dropout", _seeded(lambda T, x: (T.feature_dropout(x, 0.4, True),
                                                    T.feature_dropout_(x * 1, 0.4, True),
                                                    T.feature_dropout(x, 1.0, True),
                                                    T.feature_dropout(x, 0.4, False))),
           cases(([(3, 4, 5)], {}), ([(2, 3)], {})), tags=("feature_dropout_",)),
    OpInfo("feature_alpha_dropout", _seeded(lambda T, x: (T.feature_alpha_dropout(x, 0.4, True),
                                                          T.feature_alpha_dropout_(x * 1, 0.2,
                                                                                   True))),
           cases(([(3, 4, 5)], {})), tags=("feature_alpha_dropout_",)),
    OpInfo("conv_transpose1d", lambda T, x, w, b, **k: T.conv_transpose1d(x, w, b, **k),
           cases(([(2, 4, 6), (4, 3, 3), (3,)], {}), ([(2, 4, 6), (4, 2, 3), (4,)],
                                                      {"stride": 2, "groups": 2}))),
    OpInfo("conv_transpose2d", lambda T, x, w: T.conv_transpose2d(x, w, None, 2, 1, 1),
           cases(([(2, 4, 5, 5), (4, 3, 3, 3)], {}))),
    OpInfo("convolution", lambda T, x, w, b, **k: T.convolution(x, w, b, **k),
           cases(([(2, 4, 6), (3, 4, 3), (3,)], {"stride": [1], "padding": [1], "dilation": [1],
                                                 "transposed": False, "output_padding": [0],
                                                 "groups": 1}),
                 ([(2, 4, 5, 5), (4, 3, 3, 3), (3,)],
                  {"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "transposed": True,
                   "output_padding": [1, 1], "groups": 1}))),
    OpInfo("conv3d", lambda T, x, w, b: (T.conv3d(x, w, b, 1, 1), T.conv_transpose3d(x, w.mT, b,
                                                                                   2, 1, 1),
                                         T.convolution(x, w, b, [1, 1, 1], [0, 0, 0], [1, 1, 1],
                                                       False, [0, 0, 0], 1)),
           cases(([(2, 3, 4, 4, 3), (3, 3, 2, 2, 2), (3,)], {})), tags=("conv_transpose3d",)),
    OpInfo("max_pool3d", lambda T, x: (T.max_pool3d(x, 2),
                                       T.max_pool3d(x, [2, 3, 2], [1], [1, 1, 0])),
           cases(([(2, 3, 4, 4, 4)], {}))),
    OpInfo("adaptive_max_pool1d", lambda T, x: T.adaptive_max_pool1d(x, 3), cases((SEQ, {}))),
    OpInfo("max_pool1d", lambda T, x, **k: T.max_pool1d(x, **k),
           cases((SEQ, {"kernel_size": 2}), (SEQ, {"kernel_size": 3, "stride": 1, "padding": 1}))),
    OpInfo("max_pool1d_with_indices", lambda T, x: T.max_pool1d_with_indices(x, 2, [2], 1),
           cases((SEQ, {}))),
    OpInfo("max_pool2d", lambda T, x, **k: T.max_pool2d(x, **k),
           cases((IMG, {"kernel_size": 2}), (IMG, {"kernel_size": 3, "stride": [2, 1]}))),
    OpInfo("avg_pool1d", lambda T, x, **k: T.avg_pool1d(x, **k),
           cases((SEQ, {"kernel_size": 2}), (SEQ, {"kernel_size": 3, "padding": 1,
                                                  "count_include_pad": False}))),
    OpInfo("adaptive_avg_pool1d", lambda T, x: T.adaptive_avg_pool1d(x, 4), cases((SEQ, {}))),
    OpInfo("pixel_shuffle", lambda T, x: (T.pixel_shuffle(x, 2), T.pixel_unshuffle(x, 1)),
           cases(([(2, 8, 3, 3)], {})), tags=("pixel_unshuffle",)),
    OpInfo("channel_shuffle", lambda T, x, **k: T.channel_shuffle(x, **k),
           cases(([(2, 6, 3)], {"groups": 2}), ([(2, 6, 3, 2)], {"groups": 3}),
                 ([(1, 4, 1)], {"groups": 4})), dtypes=F + ("int64",)),
    OpInfo("bilinear", lambda T, a, b, w, c: T.bilinear(a, b, w, c),
           cases(([(3, 4), (3, 5), (2, 4, 5), (2,)], {}))),
    OpInfo("group_norm", lambda T, x, w, b: T.group_norm(x, 2, w, b, 1e-5, True),
           cases(([(2, 4, 3), (4,), (4,)], {}))),
    OpInfo("instance_norm", lambda T, x, w, b: T.instance_norm(x, w, b, None, None, True, 0.1,
                                                               1e-5, False),
           cases(([(2, 4, 3, 3), (4,), (4,)], {}))),
    OpInfo("rms_norm", lambda T, x, *w, normalized_shape, **k: T.rms_norm(x, normalized_shape, *w,
                                                                             **k),
           cases(([(3, 4)], {"normalized_shape": [4]}), ([(2, 3, 4), (3, 4)],
                                                         {"normalized_shape": (3, 4)}),
                 ([(2, 4)], {"normalized_shape": [4], "eps": 1e-2})), dtypes=F + ("float16",)),
    OpInfo("norm_except_dim", lambda T, v, **k: T.norm_except_dim(v, **k),
           cases(([(3, 4, 5)], {}), ([(3, 4, 5)], {"dim": 2}), ([(3, 4, 5)], {"dim": 1, "pow": 3}),
                 ([(3, 4)], {"dim": -1}))),
    OpInfo("binary_cross_entropy_with_logits",
           lambda T, x, t, w: (T.binary_cross_entropy_with_logits(x, t.sigmoid(), w.detach(), None,
                                                                  1),
                               T.binary_cross_entropy_with_logits(x, t.sigmoid())),
           cases(([(3, 4), (3, 4), (4,)], {})), gradcheck=False),  # (w is detached: torch's rule)
    OpInfo("bce_logits_pos_weight",
           lambda T, x, t, p: T.binary_cross_entropy_with_logits(x, t.sigmoid(),
                                                                 pos_weight=p.abs().detach()),
           cases(([(3, 4), (3, 4), (4,)], {})), gradcheck=False),
    OpInfo("kl_div", lambda T, x, t, **k: T.kl_div(x, t.abs() + 0.1, **k),
           cases(([(3, 4), (3, 4)], {}), ([(3, 4), (3, 4)], {"reduction": 1}),
                 ([(3, 4), (3, 4)], {"reduction": 2, "log_target": True}))),
    OpInfo("cosine_embedding_loss",
           lambda T, a, b, y: (T.cosine_embedding_loss(a, b, y.sign(), 0.1, 2),
                               T.cosine_embedding_loss(a, b, y.sign())),
           cases(([(3, 4), (3, 4), (3,)], {}))),
    OpInfo("hinge_embedding_loss", lambda T, x, y: (T.hinge_embedding_loss(x, y.sign(), 0.5, 2),
                                                    T.hinge_embedding_loss(x, y.sign())),
           cases(([(3, 4), (3, 4)], {}))),
    OpInfo("margin_ranking_loss", lambda T, a, b, y: (T.margin_ranking_loss(a, b, y.sign()),
                                                      T.margin_ranking_loss(a, b, y.sign(), 0.2,
                                                                            1)),
           cases(([(5,), (5,), (5,)], {}))),
    OpInfo("poisson_nll_loss", lambda T, x, t: T.poisson_nll_loss(x, t.abs(), True, True, 1e-8,
                                                                   1),
           cases(([(3, 4), (3, 4)], {}))),
    OpInfo("triplet_margin_loss", lambda T, a, p, n: T.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6,
                                                                          True, 2),
           cases(([(3, 4), (3, 4), (3, 4)], {}))),
)


# --- factories, spellings of Tensor methods, control flow ---------------------------------------
def _stride_of(t):
    return t, t.stride()


def _grad_after_hooks(T, x):
    calls = []
    h = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad * 1))
    T.autograd.backward((x * 3).sum())
    T.autograd.backward((x * x).sum())
    h.remove()
    T.autograd.backward(x.sum())
    return tuple(calls) + (len(calls),)


register(
    OpInfo("range", lambda T, **k: T.range(**_dt(T, k)),
           no_inputs({"start": 1, "end": 4}, {"start": 0, "end": 1, "step": 0.3},
                     {"start": 1, "end": 4, "dtype": "int64"}, {"start": 4, "end": 1, "step": -1},
                     {"start": 0.5, "end": 2}), dtypes=("float32",), grad=False),
    OpInfo("scalar_tensor", lambda T, **k: T.scalar_tensor(**_dt(T, k)),
           no_inputs({"s": 3}, {"s": True}, {"s": 2.5, "dtype": "int64"}, {"s": 1.5,
                                                                             "dtype": "float64"},
                     {"s": 2, "requires_grad": True}), dtypes=("float32",), grad=False),
    OpInfo("empty_strided", lambda T, **k: T.empty_strided(**_dt(T, k)).fill_(1).stride(),
           no_inputs({"size": (2, 3), "stride": (1, 2)}, {"size": (2, 3), "stride": (3, 1),
                                                           "dtype": "int64"},
                     {"size": (0, 3), "stride": (3, 1)}), dtypes=("float32",), grad=False),
    OpInfo("new_empty_strided", lambda T, x: (x.new_empty_strided((2, 2), (1, 2)).stride(),
                                              str(x.new_empty_strided((3,), (2,)).dtype)[-7:]),
           cases(([(3,)], {})), grad=False),
    OpInfo("empty_permuted", lambda T, **k: T.empty_permuted(**k).fill_(2).stride(),
           no_inputs({"size": (2, 3, 4), "physical_layout": (2, 0, 1)},
                     {"size": (2, 3), "physical_layout": (0, 1)}), dtypes=("float32",),
           grad=False),
    OpInfo("frombuffer", lambda T, **k: T.frombuffer(bytearray(bytes(range(16))), **_dt(T, k)),
           no_inputs({"dtype": "int32"}, {"dtype": "uint8", "count": 5, "offset": 3},
                     {"dtype": "float32", "offset": 4}), dtypes=("float32",), grad=False),
    OpInfo("fill", lambda T, x, v: (T.fill(x, 2.0), T.fill(x, v.sum())),
           cases(([(3, 4), (2,)], {}))),
    OpInfo("fill_zero_", lambda T, x: (T.fill_(x * 1, 3), T.zero_(x * 1)), cases(([(3, 4)], {})),
           tags=("fill_", "zero_")),
    OpInfo("detach", lambda T, x: (T.detach(x), T.detach_(x * 1)), cases(([(3,)], {})),
           gradcheck=False, tags=("detach_",)),
    OpInfo("index_put_", lambda T, x, v: T.index_put_(x * 1, (T.tensor([0, 2]),), v),
           cases(([(3, 4), (4,)], {}))),
    OpInfo("addmv_", lambda T, c, m, v: T.addmv_(c * 1, m, v, beta=0.5),
           cases(([(3,), (3, 4), (4,)], {}))),
    OpInfo("resize_as_", lambda T, x: T.resize_as_(x.detach().clone(), T.ones(2, 6)).shape,
           cases(([(3, 4)], {})), grad=False),
    OpInfo("conj_physical", lambda T, z: (T.conj_physical(z), z.conj_physical(),
                                          T.conj_physical_(z * 1), (z * 1).conj_physical_()),
           cases(([(3, 4)], {})), dtypes=F + C, tags=("conj_physical_",)),
    OpInfo("tensor_predicates", lambda T, x: (T.is_inference(x), x.is_inference(),
                                              x[0, 0].is_nonzero(), x.get_device(), x.dim_order(),
                                              x.t().dim_order(), x.is_distributed(),
                                              x.is_set_to(x), x.to_dense() * 1, T.is_storage(x),
                                              x.const_data_ptr() == x.data_ptr(), x.name),
           cases(([(1, 2)], {}), ([(2, 3)], {})), gradcheck=False,
           tags=("is_inference", "is_storage")),
    OpInfo("resize_methods", lambda T, x: (x.resize(4, 3), x.resize_as(T.ones(12))),
           cases(([(3, 4)], {}))),
    OpInfo("index_reduce", lambda T, x, s, **k: T.index_reduce(x, 0, T.tensor([0, 2, 0]), s,
                                                               **k),
           cases(*[([(4, 3), (3, 3)], {"reduce": r, "include_self": inc})
                   for r in ("prod", "mean", "amax", "amin") for inc in (True, False)]),
           dtypes=F),
    OpInfo("index_reduce_int", lambda T, x, s: x.index_reduce(1, T.tensor([1, 1]), s, "mean"),
           cases(([(3, 4), (3, 2)], {})), dtypes=("int64",), grad=False),
    OpInfo("index_reduce_", lambda T, x, s: (x * 1).index_reduce_(0, T.tensor([3, 1]), s, "amax"),
           cases(([(4, 3), (2, 3)], {}))),
    OpInfo("post_accumulate_grad_hook", _grad_after_hooks, cases(([(3,)], {})),
           gradcheck=False, tags=("register_post_accumulate_grad_hook",)),
    OpInfo("cond", lambda T, p, x: (T.cond(p.sum() > 0, lambda a: a * 2, lambda a: a - 1, (x,)),
                                    T.cond(False, lambda a: a * 2, lambda a: a - 1, [x])),
           cases(([(2,), (3,)], {}))),
    OpInfo("while_loop", lambda T, x: T.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x),
                                                   (T.tensor(0), x)),
           cases(([(3,)], {}))),
    OpInfo("fork_wait", lambda T, x: (T.wait(T.fork(lambda a, b: a * b, x, 2.0)),
                                      T.fork(T.sin, x).wait(), T.fork(T.cos, x).done()),
           cases(([(3,)], {})), tags=("fork", "wait")),
    OpInfo("vmap", lambda T, x, y: T.vmap(lambda a, b: (a * b).sum())(x, y),
           cases(([(4, 3), (4, 3)], {}))),
    OpInfo("hash_tensor", lambda T, x, **k: (T.hash_tensor(x, **k).tolist(),
                                             x.hash_tensor(**k).tolist()),
           cases(([(2, 3)], {}), ([(2, 3)], {"dim": 1}), ([(2, 3)], {"dim": 0, "keepdim": True}),
                 ([()], {}), ([(0, 3)], {"dim": 1})), dtypes=F + ("int64", "bool", "bfloat16"),
           grad=False),
    OpInfo("poisson_binomial", lambda T, r, c: (T.poisson(r * 0), T.binomial(c, c * 0),
                                                T.binomial(c, c * 0 + 1), T.poisson(r).shape,
                                                str(T.poisson(r).dtype)[-7:]),
           fixed(([[1.0, 2.0, 3.0], [2.0, 5.0, 1.0]], {})), grad=False,
           tags=("poisson", "binomial")),
    OpInfo("storage_dtypes", lambda T, x: (x.to(T.uint16).long(), x.to(T.uint32).to(T.float32),
                                           T.ones(2, dtype=T.uint64).long(),
                                           x.float().to(T.float8_e4m3fn).float(),
                                           x.float().to(T.float8_e5m2).double(),
                                           T.tensor([0.5, 4.0, 3.0]).to(T.float8_e8m0fnu).float(),
                                           x.to(T.float8_e4m3fnuz).float(),
                                           x.to(T.float8_e5m2fnuz).float(),
                                           str(T.uint16)[-6:], T.float8_e8m0fnu.is_signed,
                                           T.uint32.itemsize, T.float8_e5m2.is_floating_point),
           fixed(([np.asarray([1, 2, 300])], {})), dtypes=("int64",), grad=False),
)
