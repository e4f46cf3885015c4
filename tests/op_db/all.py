"""Import every family so its entries register."""

import importlib
import pkgutil

import op_db

for _m in pkgutil.iter_modules(op_db.__path__):
    if _m.name != "all":
        importlib.import_module(f"op_db.{_m.name}")
