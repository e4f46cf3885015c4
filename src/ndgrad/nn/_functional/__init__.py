"""Families of torch.nn.functional, re-exported by nn/functional.py."""
