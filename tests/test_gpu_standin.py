"""device="cuda" on the CuPy stand-in (tests/fakecupy), under CuPy 14 and CuPy 13 rules: scripted
workloads against the CPU, half the op table per version against torch, and budgets for hidden
device->host reads per training step. Each version runs once, in a subprocess whose sys.path
starts with tests/fakecupy (so no other test sees a ``cupy``); see tests/gpu_standin.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import gpu_standin

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = ("14", "13")
_RESULTS: dict = {}

# Gaps left on purpose, by CuPy version (None: both); xfail(strict), so a fix must remove its line
KNOWN: dict = {}


def results(version: str) -> dict:
    if version not in _RESULTS:
        out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ndgrad-standin-{os.getpid()}-"
                           f"{version}.json")
        env = dict(os.environ, FAKECUPY_VERSION=version, PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join([os.path.join(HERE, "fakecupy"), HERE,
                                               os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, os.path.join(HERE, "gpu_standin.py"), out],
                              env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        with open(out) as f:
            _RESULTS[version] = json.load(f)
        os.remove(out)
    return _RESULTS[version]


def _known(version, name):
    """xfail a known gap; fail once it passes (so its KNOWN line goes)."""
    reason = KNOWN.get((version, name)) or KNOWN.get((None, name))
    if reason:
        if results(version)["workloads"][name] is None:
            pytest.fail(f"{name} passes under CuPy {version} now: remove it from KNOWN")
        pytest.xfail(reason)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(gpu_standin.WORKLOADS))
def test_workload(version, name):
    _known(version, name)
    err = results(version)["workloads"][name]
    assert err is None, err


@pytest.mark.parametrize("version", VERSIONS)
def test_op_table(version):
    """Half the op table per version (tests/gpu_standin.select_cases); cases that fail on the CPU
    too are not device failures; dtypes CuPy lacks (float8, bfloat16 under CuPy 13) must be
    refused with a clear TypeError."""
    ops = results(version)["ops"]
    assert ops["ran"] > 1000
    assert not ops["failed"], f"{len(ops['failed'])} of {ops['ran']} failed on CUDA only:\n" + \
        "\n".join(f"{k}: {v}" for k, v in sorted(ops["failed"].items()))
    bf16 = [k for k, v in ops["refused"].items() if "no bfloat16" in v]
    assert bool(bf16) == (version == "13"), bf16[:5]


# Hidden device->host reads per training step (each stalls the GPU's queue). The one left:
# multi_head_attention_forward's check for fully masked rows (nn/_functional/attention.py)
SYNC_BUDGET = {"mlp_adam": 0, "cnn_sgd": 0, "lstm_adamw": 0, "transformer_adam": 1}


@pytest.mark.parametrize("step", list(SYNC_BUDGET))
def test_step_host_reads(step):
    res = results("14")["steps"][step]
    assert "error" not in res, res.get("error")
    assert res["syncs"] <= SYNC_BUDGET[step], res["where"]
