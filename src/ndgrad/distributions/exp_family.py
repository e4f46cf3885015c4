from __future__ import annotations

import ndgrad
from ndgrad import Tensor

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Same as torch.distributions.ExponentialFamily."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        """Abstract method for natural parameters."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """Abstract method for log normalizer function."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """Abstract method for expected carrier measure, which is required for computing entropy."""
        raise NotImplementedError

    def entropy(self):
        """Method to compute the entropy using Bregman divergence of the log normalizer."""
        result: Tensor | float = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ndgrad.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result += lg_normal
        for np, g in zip(nparams, gradients):
            result -= (np * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
