from __future__ import annotations

import math
from math import inf, nan
from numbers import Number, Real

import ndgrad

from . import Distribution, constraints
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Same as torch.distributions.GeneralizedPareto."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if (
            isinstance(loc, Number)
            and isinstance(scale, Number)
            and isinstance(concentration, Number)
        ):
            batch_shape = ndgrad.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = ndgrad.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=ndgrad.Size()):
        shape = self._extended_shape(sample_shape)
        u = ndgrad.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero = ndgrad.isclose(self.concentration, ndgrad.tensor(0.0))
        safe_conc = ndgrad.where(eq_zero, ndgrad.ones_like(self.concentration), self.concentration)
        y = 1 / safe_conc + ndgrad.ones_like(z)
        where_nonzero = ndgrad.where(y == 0, y, y * ndgrad.log1p(safe_conc * z))
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -log_scale - ndgrad.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero = ndgrad.isclose(self.concentration, ndgrad.tensor(0.0))
        safe_conc = ndgrad.where(eq_zero, ndgrad.ones_like(self.concentration), self.concentration)
        where_nonzero = -ndgrad.log1p(safe_conc * z) / safe_conc
        return ndgrad.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return ndgrad.log1p(-ndgrad.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ndgrad.exp(self.log_cdf(value))

    def icdf(self, value):
        loc = self.loc
        scale = self.scale
        concentration = self.concentration
        eq_zero = ndgrad.isclose(concentration, ndgrad.zeros_like(concentration))
        safe_conc = ndgrad.where(eq_zero, ndgrad.ones_like(concentration), concentration)
        logu = ndgrad.log1p(-value)
        where_nonzero = loc + scale / safe_conc * ndgrad.expm1(-safe_conc * logu)
        where_zero = loc - scale * logu
        return ndgrad.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        concentration = self.concentration
        valid = concentration < 1
        safe_conc = ndgrad.where(valid, concentration, 0.5)
        result = self.loc + self.scale / (1 - safe_conc)
        return ndgrad.where(valid, result, nan)

    @property
    def variance(self):
        concentration = self.concentration
        valid = concentration < 0.5
        safe_conc = ndgrad.where(valid, concentration, 0.25)
        result = self.scale**2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ndgrad.where(valid, result, nan)

    def entropy(self):
        ans = ndgrad.log(self.scale) + self.concentration + 1
        return ndgrad.broadcast_to(ans, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ndgrad.where(self.concentration < 0, lower - self.scale / self.concentration, inf)
        return constraints.interval(lower, upper)
