"""tiktoken stand-in: nanoGPT's sample.py imports it and uses it only without a meta.pkl (the
runner's char dataset has one)."""


def get_encoding(name):
    raise RuntimeError(f"tiktoken stand-in: no {name!r} encoding offline")
