"""A family module's public functions: ``export`` adds a function and its in-place twin to the
module's namespace and ``__all__`` (what ``ndgrad`` re-exports)."""

from __future__ import annotations

from ._inplace import inplace


def _inplace_fn(f, name):
    def fn(input, *args, **kwargs):
        return inplace(input, f, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place {name[:-1]}."
    return fn


def export(ns: dict, name: str, f, *, inplace_too: bool = True) -> None:
    """Module-level function (and its in-place twin ``name_``) added to the namespace ``ns``;
    ``__all__`` (ndgrad's namespace) gets the names torch has at top level."""
    ns[name] = f
    if not name.endswith("_") or name in _TOP_LEVEL_INPLACE:
        ns["__all__"].append(name)
    if inplace_too:
        fi = _inplace_fn(f, name + "_")
        ns[name + "_"] = fi
        if name + "_" in _TOP_LEVEL_INPLACE:
            ns["__all__"].append(name + "_")


# torch has these in-place functions at top level (torch.sin_); the others are Tensor methods only
_TOP_LEVEL_INPLACE = frozenset(
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_ exp2_ exp_ "
    "expm1_ fix_ floor_ frac_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ "
    "reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ "
    "xlogy_".split())
