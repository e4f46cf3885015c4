"""type(x) of a tensor, its shape, dtype and device print as torch's (tutorials print them:
d2l's ndarray chapter, type(X) -> <class 'torch.Tensor'>); pickling still finds the classes."""

import pickle

import torch

import ndgrad


def test_class_names_as_torch():
    for make in (lambda L: L.ones(2), lambda L: L.ones(2).shape, lambda L: L.float32,
                 lambda L: L.device("cpu")):
        assert repr(type(make(ndgrad))).replace("ndgrad", "torch") == repr(type(make(torch)))


def test_pickle_round_trip_after_renaming():
    x = ndgrad.arange(3.0).requires_grad_()
    y, s, d, dev = pickle.loads(pickle.dumps((x, x.shape, x.dtype, x.device)))
    assert y.tolist() == [0.0, 1.0, 2.0] and y.requires_grad
    assert s == (3,) and d is ndgrad.float32 and dev == ndgrad.device("cpu")
