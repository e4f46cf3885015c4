"""Primitive ops grouped by family; importing this package attaches their Tensor methods."""
