"""Runnable examples: the course notebook and the exercises, on ndgrad."""
