"""IPython stand-in: nn_tutorial imports set_trace (and leaves it commented out)."""
