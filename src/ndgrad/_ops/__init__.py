"""Primitive ops grouped by family (Tensor's methods over them: ``_tensor_api.py``)."""
