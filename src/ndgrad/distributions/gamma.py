from __future__ import annotations

import ndgrad
from ndgrad import Tensor

from . import _samplers, constraints
from .exp_family import ExponentialFamily
from .utils import _Number, _size, broadcast_all

__all__ = ["Gamma"]


def _standard_gamma(concentration):
    return _samplers.standard_gamma(concentration)


class Gamma(ExponentialFamily):
    """Same as torch.distributions.Gamma."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def __init__(
        self, concentration: Tensor | float, rate: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, _Number) and isinstance(rate, _Number):
            batch_shape = ndgrad.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = ndgrad.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: _size = ndgrad.Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=ndgrad.finfo(value.dtype).tiny)  # do not record in autograd graph
        return value

    def log_prob(self, value):
        value = ndgrad.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (
            ndgrad.xlogy(self.concentration, self.rate)
            + ndgrad.xlogy(self.concentration - 1, value)
            - self.rate * value
            - ndgrad.lgamma(self.concentration)
        )

    def entropy(self):
        return (
            self.concentration
            - ndgrad.log(self.rate)
            + ndgrad.lgamma(self.concentration)
            + (1.0 - self.concentration) * ndgrad.digamma(self.concentration)
        )

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ndgrad.lgamma(x + 1) + (x + 1) * ndgrad.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ndgrad.special.gammainc(self.concentration, self.rate * value)
