"""sorting primitives (being filled in)."""

__all__: list[str] = []
