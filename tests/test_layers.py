"""The layers stay ordered: no import cycle among _tensor, _creation, _ops and autograd (imports
at module level and inside functions both count), and _tensor imports nothing above it."""

import ast
import pathlib

import ndgrad

SRC = pathlib.Path(ndgrad.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _imports(name: str) -> set:
    """The ndgrad modules ``name`` imports, wherever the import statement stands."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
                break
    return found


def _in_scope(name: str) -> bool:
    return (name in ("ndgrad._tensor", "ndgrad._creation")
            or name.startswith(("ndgrad._ops.", "ndgrad.autograd."))
            or name in ("ndgrad._ops", "ndgrad.autograd"))


def test_no_import_cycle_among_tensor_ops_autograd():
    graph = {m: {t for t in _imports(m) if _in_scope(t)} for m in MODULES if _in_scope(m)}
    state: dict = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_tensor_imports_nothing_above_it():
    """Only the vocabulary and the backend, directly or through them: no op, no autograd node,
    no creation function (Tensor's methods over those are set by _tensor_api)."""
    seen, todo = set(), ["ndgrad._tensor"]
    while todo:
        for t in _imports(todo.pop()) - seen:
            seen.add(t)
            todo.append(t)
    above = {m for m in seen if m in ("ndgrad", "ndgrad._creation", "ndgrad._tensor_api")
             or m.startswith(("ndgrad._ops", "ndgrad.autograd", "ndgrad.nn"))}
    assert above == set()
