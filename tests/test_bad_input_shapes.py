"""Wrong shapes and ranks get torch's exception type and message, not NumPy's ValueError or a
silent result: each case is one a sweep over the op table's samples (a dim grown, inputs of one
rank more or less) found differing from torch."""

from __future__ import annotations

import pytest
import torch

import ndgrad


def F(T):
    return T.nn.functional


CASES = {
    "conv1d bias size": lambda T: F(T).conv1d(T.ones(2, 3, 5), T.ones(4, 3, 3), T.ones(5)),
    "conv2d bias rank": lambda T: F(T).conv2d(T.ones(1, 3, 5, 5), T.ones(4, 3, 3, 3),
                                              T.ones(1, 4)),
    "conv_transpose2d bias": lambda T: F(T).conv_transpose2d(T.ones(1, 3, 4, 4),
                                                             T.ones(3, 2, 3, 3), T.ones(3)),
    "convolution unbatched": lambda T: T.convolution(T.ones(4, 6), T.ones(3, 4, 3), None, [1],
                                                     [0], [1], False, [0], 1),
    "layer_norm weight": lambda T: F(T).layer_norm(T.ones(2, 4, 3), (3,), T.ones(4)),
    "layer_norm bias rank": lambda T: F(T).layer_norm(T.ones(2, 4, 3), (3,), None,
                                                      T.ones(1, 3)),
    "group_norm weight": lambda T: F(T).group_norm(T.ones(2, 4, 3), 2, T.ones(5)),
    "group_norm weight rank": lambda T: F(T).group_norm(T.ones(2, 4, 3), 2, T.ones(1, 4)),
    "addmm input rank": lambda T: T.addmm(T.ones(1, 1, 3, 5), T.ones(3, 2), T.ones(2, 5)),
    "baddbmm input rank": lambda T: T.baddbmm(T.ones(1, 2, 3, 5), T.ones(2, 3, 4),
                                              T.ones(2, 4, 5)),
    "complex sizes": lambda T: T.complex(T.ones(4), T.ones(3)),
    "polar sizes": lambda T: T.polar(T.ones(5), T.ones(4)),
    "tensordot dims": lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 2), 3),
    "embedding 1-d weight": lambda T: F(T).embedding(T.tensor([0]), T.ones(3)),
    "embedding 3-d weight": lambda T: F(T).embedding(T.tensor([0]), T.ones(3, 2, 2)),
    "ctc_loss rank": lambda T: F(T).ctc_loss(T.ones(1, 5, 2, 3), T.tensor([[1, 2]]), [5], [2]),
    "linear bias rank": lambda T: F(T).linear(T.ones(5, 4), T.ones(4, 4), T.ones(1, 1, 1, 4)),
    "lstm_cell input rank": lambda T: T.lstm_cell(T.ones(1, 1, 2, 3), (T.ones(2, 4),) * 2,
                                                  T.ones(16, 3), T.ones(16, 4)),
    "lstm_cell one hidden": lambda T: T.lstm_cell(T.ones(2, 3), (T.ones(2, 4),),
                                                  T.ones(16, 3), T.ones(16, 4)),
    "gru_cell hidden batch": lambda T: T.gru_cell(T.ones(2, 3), T.ones(3, 4), T.ones(12, 3),
                                                  T.ones(12, 4)),
    "rnn_tanh_cell hidden size": lambda T: T.rnn_tanh_cell(T.ones(2, 3), T.ones(2, 5),
                                                           T.ones(4, 3), T.ones(4, 4)),
    "fftn s longer than ndim": lambda T: T.fft.fftn(T.ones(3), s=(2, 2)),
    "rfftn s longer than ndim": lambda T: T.fft.rfftn(T.ones(()), s=(2,)),
    "diff prepend rank": lambda T: T.diff(T.ones(3, 4), prepend=T.ones(4)),
    "hstack first 1-d": lambda T: T.hstack([T.ones(3), T.ones(1, 1, 1, 3)]),
    "bce_with_logits pos_weight": lambda T: F(T).binary_cross_entropy_with_logits(
        T.ones(3, 4), T.ones(3, 4), pos_weight=T.ones(5)),
    "bce_with_logits weight": lambda T: F(T).binary_cross_entropy_with_logits(
        T.ones(3, 4), T.ones(3, 4), weight=T.ones(5)),
    "bce_with_logits pos_weight rank": lambda T: F(T).binary_cross_entropy_with_logits(
        T.ones(3, 4), T.ones(3, 4), pos_weight=T.ones(2, 3, 4)),
    "rnn_relu_cell 1-d input": lambda T: T.rnn_relu_cell(T.ones(3), T.ones(2, 4), T.ones(4, 3),
                                                         T.ones(4, 4)),
}


EMPTY_BATCHES = {  # torch computes these; ndgrad's reshape(-1) could not infer a size
    "grid_sample": lambda T: F(T).grid_sample(T.ones(0, 1, 4, 4, requires_grad=True),
                                              T.ones(0, 2, 2, 2), align_corners=False),
    "grid_sample 3-d": lambda T: F(T).grid_sample(T.ones(0, 1, 2, 4, 4, requires_grad=True),
                                                  T.ones(0, 2, 2, 2, 3), align_corners=False),
    "max_unpool2d": lambda T: F(T).max_unpool2d(
        T.ones(0, 2, 2, 2, requires_grad=True),
        F(T).max_pool2d(T.ones(0, 2, 4, 4), 2, return_indices=True)[1], 2),
    "max_unpool1d": lambda T: F(T).max_unpool1d(
        *F(T).max_pool1d(T.ones(0, 2, 4), 2, return_indices=True), 2),
}


@pytest.mark.parametrize("name", list(EMPTY_BATCHES))
def test_empty_batches_give_torchs_empty_results(name):
    shapes = []
    for lib in (torch, ndgrad):
        out = EMPTY_BATCHES[name](lib)
        if out.requires_grad:
            out.sum().backward()
        shapes.append(tuple(out.shape))
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_shapes_raise_torchs_error(name):
    errors = []
    for lib in (torch, ndgrad):
        with pytest.raises(Exception) as e:
            CASES[name](lib)
        errors.append(e.value)
    want, got = errors
    assert type(got) is type(want), f"torch {want!r}, ndgrad {got!r}"
    assert str(got).replace("ndgrad", "torch") == str(want), f"torch {want}, ndgrad {got}"
