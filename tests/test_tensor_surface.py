"""Tensor's surface is declared in two places only: the class in _tensor.py and the table in
_tensor_api.py; no other module sets attributes on Tensor."""

import ast
import inspect
import pathlib

import ndgrad
from ndgrad import _tensor_api as table

SRC = pathlib.Path(ndgrad.__file__).parent
LIST = pathlib.Path(__file__).with_name("tensor_surface.txt")


def _kind(value) -> str:
    if isinstance(value, property):
        return "property"
    if type(value).__name__ in ("member_descriptor", "getset_descriptor"):
        return "slot"
    return "method" if callable(value) else "value"


def _listed() -> dict:
    kinds, kind = {}, None
    for line in LIST.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            kind = line.strip("[]")
            continue
        kinds.update(dict.fromkeys(line.split(), kind))
    return kinds


def test_surface_is_the_listed_one():
    """The names and kinds of every attribute (a method stays a method, a property a property)."""
    have = {n: _kind(inspect.getattr_static(ndgrad.Tensor, n)) for n in dir(ndgrad.Tensor)}
    want = _listed()
    assert sorted(set(have) - set(want)) == [], "new on Tensor: add it to tensor_surface.txt"
    assert sorted(set(want) - set(have)) == [], "gone from Tensor"
    assert {n: k for n, k in have.items() if want[n] != k} == {}


def _class_body_names() -> set:
    tree = ast.parse((SRC / "_tensor.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    names = set()
    for st in cls.body:
        if isinstance(st, ast.FunctionDef):
            names.add(st.name)
        elif isinstance(st, (ast.Assign, ast.AnnAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_every_attribute_comes_from_the_class_or_the_table():
    body = _class_body_names() | set(ndgrad.Tensor.__slots__)
    entries = {**table.METHODS, **table.OPERATORS, **table.PROPERTIES}
    for name, value in vars(ndgrad.Tensor).items():
        if name in entries:
            got = value.fget if name in table.PROPERTIES else value
            assert got is entries[name], f"Tensor.{name} was replaced after the table set it"
        else:
            assert name in body or name in ("__module__", "__dict__", "__doc__", "__qualname__",
                                            "__firstlineno__", "__static_attributes__"), name
    assert not body & entries.keys(), "declared in both _tensor.py and the table"


def test_no_module_attaches_methods_to_tensor():
    """Static check: outside the table, no `Tensor.x = ...` (or through an alias of Tensor),
    no `setattr(Tensor, ...)`, no `@tensor_method`."""
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "_tensor_api.py":
            continue
        tree = ast.parse(path.read_text())
        aliases = {"Tensor"} | {
            t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Name) and n.value.id == "Tensor"
            for t in n.targets if isinstance(t, ast.Name)}
        for n in ast.walk(tree):
            targets = n.targets if isinstance(n, ast.Assign) else (
                [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign)) else [])
            for t in targets:
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id in aliases):
                    found.append(f"{path.relative_to(SRC)}:{n.lineno}")
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id == "setattr" and n.args and isinstance(n.args[0], ast.Name)
                    and n.args[0].id in aliases):
                found.append(f"{path.relative_to(SRC)}:{n.lineno}")
            if isinstance(n, ast.Name) and n.id == "tensor_method":
                found.append(f"{path.relative_to(SRC)}:{n.lineno}")
    assert found == []
