"""Op-table entries for torch.fft: transforms of real and complex inputs with padding,
trimming, every normalisation, and several dims."""

import numpy as np

from op_db import OpInfo, arr, register

F = ("float32", "float64")
C = ("complex64", "complex128")
NORMS = (None, "backward", "forward", "ortho")


def cases(*specs):
    def samples(rng, dtype):
        for shape, kw in specs:
            yield [np.asarray(arr(rng, shape, dtype))], kw

    return samples


ONE_D = cases(*[((5,), {"norm": n}) for n in NORMS], ((3, 6), {"n": 8}), ((3, 6), {"n": 4}),
              ((3, 6), {"dim": 0}), ((2, 3, 4), {"dim": -2, "n": 5, "norm": "ortho"}),
              ((1,), {}))
N_D = cases(((3, 4), {}), ((2, 3, 4), {"norm": "ortho"}), ((3, 4), {"s": (5, 2)}),
            ((2, 3, 4), {"dim": (0, 2), "norm": "forward"}), ((2, 3, 4), {"s": (2, 6)}))

register(
    OpInfo("fft", lambda T, x, **k: T.fft.fft(x, **k), ONE_D, dtypes=F + C),
    OpInfo("ifft", lambda T, x, **k: T.fft.ifft(x, **k), ONE_D, dtypes=F + C),
    OpInfo("rfft", lambda T, x, **k: T.fft.rfft(x, **k), ONE_D, dtypes=F),
    OpInfo("irfft", lambda T, x, **k: T.fft.irfft(x, **k),
           cases(*[((5,), {"norm": n}) for n in NORMS], ((3, 6), {"n": 7}), ((3, 6), {"n": 4}),
                 ((3, 4), {"dim": 0}), ((2, 3, 4), {"dim": 1, "n": 6})), dtypes=F + C),
    OpInfo("fft2", lambda T, x, **k: T.fft.fft2(x, **k), cases(((3, 4), {}),
                                                             ((2, 3, 4), {"norm": "ortho"}),
                                                             ((3, 4), {"s": (5, 2)})),
           dtypes=F + C),
    OpInfo("ifft2", lambda T, x, **k: T.fft.ifft2(x, **k), cases(((3, 4), {}),
                                                               ((3, 4), {"s": (2, 6)})),
           dtypes=F + C),
    OpInfo("fftn", lambda T, x, **k: T.fft.fftn(x, **k), N_D, dtypes=F + C),
    OpInfo("ifftn", lambda T, x, **k: T.fft.ifftn(x, **k), N_D, dtypes=F + C),
    OpInfo("fft_int", lambda T, x: T.fft.fft(x), cases(((4,), {})), dtypes=("int64", "bool"),
           grad=False),
    OpInfo("fft_roundtrip", lambda T, x: T.fft.irfft(T.fft.rfft(x), n=x.shape[-1]),
           cases(((5,), {}), ((3, 6), {}))),
)


def _no_inputs(*kwargs):
    def samples(rng, dtype):
        for kw in kwargs:
            yield [], kw

    return samples


# (added for tests/test_op_coverage.py) sample frequencies: factories, no tensor inputs
register(
    OpInfo("fft.fftfreq", lambda T, **k: T.fft.fftfreq(**k),
           _no_inputs({"n": 5}, {"n": 6, "d": 0.5}, {"n": 1}, {"n": 4, "dtype": None}),
           dtypes=("float32",), grad=False),
    OpInfo("fft.rfftfreq", lambda T, **k: T.fft.rfftfreq(**k),
           _no_inputs({"n": 5}, {"n": 6, "d": 0.25}, {"n": 1}), dtypes=("float32",), grad=False),
    OpInfo("fft.fftfreq_float64", lambda T, n: (T.fft.fftfreq(n, dtype=T.float64),
                                                T.fft.rfftfreq(n, 2.0, dtype=T.float64)),
           _no_inputs({"n": 7}), dtypes=("float64",), grad=False),
)


# (added for tests/test_op_coverage.py) the real-input n-d transforms, the Hermitian ones, shifts
RN = cases(((3, 4), {}), ((2, 3, 4), {"norm": "ortho"}), ((3, 5), {"s": (4, 6)}),
           ((2, 3, 4), {"dim": (0, 2), "norm": "forward"}), ((3, 4), {"s": (2, 3)}))
HALF_SPEC = cases(((3, 4), {}), ((2, 3, 4), {"norm": "ortho"}), ((3, 4), {"s": (4, 6)}),
                  ((2, 3, 4), {"dim": (0, 1), "norm": "forward"}))
register(
    OpInfo("fft.rfft2", lambda T, x, **k: T.fft.rfft2(x, **k),
           cases(((3, 4), {}), ((2, 3, 5), {"norm": "ortho"}), ((3, 4), {"s": (4, 6)})), dtypes=F),
    OpInfo("fft.rfftn", lambda T, x, **k: T.fft.rfftn(x, **k), RN, dtypes=F),
    OpInfo("fft.irfft2", lambda T, x, **k: T.fft.irfft2(x, **k),
           cases(((3, 4), {}), ((2, 3, 4), {"norm": "ortho"}), ((3, 4), {"s": (4, 6)})),
           dtypes=F + C),
    OpInfo("fft.irfftn", lambda T, x, **k: T.fft.irfftn(x, **k), HALF_SPEC, dtypes=F + C),
    OpInfo("fft.hfft", lambda T, x, **k: T.fft.hfft(x, **k),
           cases(*[((5,), {"norm": n}) for n in NORMS], ((3, 6), {"n": 8}), ((3, 4), {"dim": 0})),
           dtypes=F + C),
    OpInfo("fft.hfft2", lambda T, x, **k: T.fft.hfft2(x, **k),
           cases(((3, 4), {}), ((2, 3, 4), {"norm": "ortho"}), ((3, 4), {"s": (4, 6)})),
           dtypes=F + C),
    OpInfo("fft.hfftn", lambda T, x, **k: T.fft.hfftn(x, **k), HALF_SPEC, dtypes=F + C),
    OpInfo("fft.ihfft", lambda T, x, **k: T.fft.ihfft(x, **k),
           cases(*[((5,), {"norm": n}) for n in NORMS], ((3, 6), {"n": 8}), ((3, 4), {"dim": 0})),
           dtypes=F),
    OpInfo("fft.ihfft2", lambda T, x, **k: T.fft.ihfft2(x, **k),
           cases(((3, 4), {}), ((2, 3, 5), {"norm": "ortho"}), ((3, 4), {"s": (4, 6)})), dtypes=F),
    OpInfo("fft.ihfftn", lambda T, x, **k: T.fft.ihfftn(x, **k), RN, dtypes=F),
    OpInfo("fft.fftshift", lambda T, x, **k: T.fft.fftshift(x, **k),
           cases(((5,), {}), ((4, 5), {}), ((2, 3, 4), {"dim": 1}), ((2, 3, 4), {"dim": (0, 2)})),
           dtypes=F + C + ("int64",)),
    OpInfo("fft.ifftshift", lambda T, x, **k: T.fft.ifftshift(x, **k),
           cases(((5,), {}), ((4, 5), {}), ((2, 3, 4), {"dim": -1}), ((2, 3, 4), {"dim": (0, 2)})),
           dtypes=F + C + ("int64",)),
)
