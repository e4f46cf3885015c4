"""Benchmarks: ndgrad against torch (and other autograd libraries); see bench/run.py."""
