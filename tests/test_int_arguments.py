"""Where torch takes an int it takes what has __index__ (a one-element integer tensor or NumPy
array, a NumPy integer) and refuses floats, bools and longer tensors with a TypeError: sizes,
dims of reductions, eye/linspace/randperm/randint counts."""

import numpy as np
import pytest
import torch

import ndgrad

CALLS = {
    "zeros 0-d tensor": lambda L: L.zeros(L.tensor(2)),
    "zeros 1-element tensor": lambda L: L.zeros(L.tensor([2])),
    "zeros 2-element tensor": lambda L: L.zeros(L.tensor([2, 3])),
    "zeros float tensor": lambda L: L.zeros(L.tensor(2.0)),
    "zeros np 0-d": lambda L: L.zeros(np.array(2)),
    "zeros np 1-d": lambda L: L.zeros(np.array([2, 3])),
    "zeros np.int64": lambda L: L.zeros(np.int64(2), 3),
    "zeros bool": lambda L: L.zeros(True),
    "zeros float": lambda L: L.zeros(2.0),
    "randn 1-d tensor": lambda L: L.randn(L.tensor([2, 3])),
    "ones tuple with tensor": lambda L: L.ones((L.tensor(2), 3)),
    "eye tensor": lambda L: L.eye(L.tensor(2)),
    "eye float": lambda L: L.eye(2.0),
    "linspace tensor steps": lambda L: L.linspace(0, 1, L.tensor(3)),
    "randperm tensor": lambda L: L.randperm(L.tensor(3)),
    "randperm float": lambda L: L.randperm(3.0),
    "randperm bool": lambda L: L.randperm(True),
    "randint float high": lambda L: L.randint(0, 3.0, (2,)),
    "randint float high only": lambda L: L.randint(3.0, (2,)),
    "randint float low": lambda L: L.randint(0.5, 3, (2,)),
    "randint tensor high": lambda L: L.randint(0, L.tensor(3), (2,)),
    "sum 0-d tensor dim": lambda L: L.ones(4, 2).sum(L.tensor(0)),
    "sum 1-d tensor dim": lambda L: L.ones(4, 2).sum(L.tensor([0, 1])),
    "sum float tensor dim": lambda L: L.ones(4, 2).sum(L.tensor(0.0)),
    "mean 0-d tensor dim": lambda L: L.ones(4, 2).mean(L.tensor(1), keepdim=True),
    "squeeze 0-d tensor": lambda L: L.ones(4, 1).squeeze(L.tensor(1)),
    "movedim 0-d tensor": lambda L: L.ones(4, 2).movedim(L.tensor(0), 1),
}


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the error's type is the outcome compared
        return type(e).__name__
    return tuple(out.shape), str(out.dtype).rpartition(".")[2]


@pytest.mark.parametrize("name", CALLS)
def test_int_argument_as_torch(name):
    torch.manual_seed(0)
    ndgrad.manual_seed(0)
    assert _outcome(lambda: CALLS[name](ndgrad)) == _outcome(lambda: CALLS[name](torch))


def test_messages_name_the_type_as_torch():
    for call in (lambda L: L.zeros(np.array([2, 3])), lambda L: L.randperm(3.0),
                 lambda L: L.randint(3.0, (2,)), lambda L: L.eye(np.float64(2))):
        msgs = []
        for lib in (torch, ndgrad):
            with pytest.raises(TypeError) as e:
                call(lib)
            msgs.append(str(e.value).split(", but expected")[0])
        assert msgs[1] == msgs[0]
