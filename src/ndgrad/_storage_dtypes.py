"""torch's storage-only dtypes (uint16/32/64 and the float8 formats NumPy's ml_dtypes has),
defined in _dtype; re-exported here so that ndgrad/__init__ gets them in one line."""

from ._dtype import (float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz,  # noqa: F401
                     float8_e8m0fnu, uint16, uint32, uint64)

__all__ = ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
           "uint16", "uint32", "uint64"]
