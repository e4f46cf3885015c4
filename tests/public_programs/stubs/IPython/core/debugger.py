"""IPython.core.debugger stand-in."""


def set_trace(*args, **kwargs):
    pass
