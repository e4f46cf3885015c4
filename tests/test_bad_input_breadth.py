"""Bad inputs a tutorial meets, each raising torch's error (type and message): torch.softmax
without its required dim, torch.save into a folder that does not exist."""

import pytest
import torch

import ndgrad


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return type(e).__name__, str(e).split(" (Triggered")[0]
    return "ok", str(out.dtype).rpartition(".")[2], [round(v, 6) for v in out.reshape(-1).tolist()]


@pytest.mark.parametrize("call", [
    lambda L: L.softmax(L.ones(2, 2)), lambda L: L.log_softmax(L.ones(2, 2)),
    lambda L: L.softmax(L.ones(2, 2), None), lambda L: L.softmax(L.ones(2, 2), dim=None),
    lambda L: L.softmax(L.ones(2, 3), 1), lambda L: L.softmax(L.ones(2, 3), axis=0),
    lambda L: L.softmax(input=L.ones(2, 2), dim=1),
    lambda L: L.softmax(L.ones(2, 2), 0, L.float64),  # (input, dim, dtype): not F's _stacklevel
    lambda L: L.log_softmax(L.ones(2, 2), 0, L.float64),
])
def test_torch_softmax_needs_its_dim(call):
    assert _outcome(lambda: call(ndgrad)) == _outcome(lambda: call(torch))


@pytest.mark.parametrize("where", ["nodir/x.pt", "nodir2/sub/x.pt", ".", ""])
def test_save_where_torch_cannot_open(where, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError) as want:
        torch.save(torch.ones(1), where)
    with pytest.raises(RuntimeError) as got:
        ndgrad.save(ndgrad.ones(1), where)
    if "Parent directory" in str(want.value):
        assert str(got.value) == str(want.value)


def test_pad_sequence_of_nothing():
    for lib in (torch, ndgrad):
        with pytest.raises(RuntimeError, match="received an empty list of sequences"):
            lib.nn.utils.rnn.pad_sequence([])
