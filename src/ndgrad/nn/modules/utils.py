"""torch.nn.modules.utils: the tuple-expanding helpers layers use for sizes."""

from .._functional._utils import ntuple

_ntuple = ntuple
_single = ntuple(1, "_single")
_pair = ntuple(2, "_pair")
_triple = ntuple(3, "_triple")
_quadruple = ntuple(4, "_quadruple")
