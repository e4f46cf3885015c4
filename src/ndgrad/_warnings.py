"""Torch computes ``log(0)``, ``x / 0`` and ``sqrt(-1)`` silently (IEEE: inf, nan); NumPy warns.

One warnings filter, for the floating-point RuntimeWarnings that NumPy attributes to ndgrad's own
frames, silences them at no per-op cost. It changes neither NumPy's error state (``np.seterr``)
nor warnings raised from the user's code: ``np.log(0)`` in a user's script still warns, and a
user's own ``warnings.simplefilter("error")`` set later still takes precedence."""

import warnings

warnings.filterwarnings(
    "ignore", r"(divide by zero|invalid value|overflow|underflow) encountered", RuntimeWarning,
    r"ndgrad(\.|$)")
