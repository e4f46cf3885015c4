"""Graph breaks as torch's: a step whose capture stopped inside one statement of its own body is
cut there. The statements before it and the statements after it become functions of their own,
each compiled (captured and replayed, and cut again if it breaks in turn); the statement itself
runs eagerly at every call (the eager island). Local variables flow between the pieces by name.

Only a plain function's top-level statements are cut: a break inside a loop or an ``if`` makes
that whole statement the island, and a function whose source cannot be read, or that uses
``global``/``nonlocal``/``yield``/``await`` or reads its own frame (``super()``, ``locals()``),
stays eager as a whole."""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import types

_UNBOUND = type("Unbound", (), {"__repr__": lambda self: "<unbound local>"})()
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)
_REFUSED = (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await)
_FRAME_NAMES = {"super", "locals", "vars", "eval", "exec"}  # they read the function's own frame


class Body:
    """A function's top-level statements (line numbers as in its file) and what they run with."""

    def __init__(self, stmts, filename, globals_, sig: inspect.Signature, free: dict,
                 outs=None) -> None:
        self.stmts, self.filename, self.globals, self.sig, self.free = \
            stmts, filename, globals_, sig, free
        self.outs = outs  # a piece's: the variables it hands on (None: the function returns)


def body_of(fn) -> Body | None:
    """``fn``'s statements, parsed from its source, or None where it cannot be cut."""
    got = getattr(fn, "_ndgrad_body", None)
    if got is not None or type(fn) is not types.FunctionType or fn.__name__ == "<lambda>":
        return got
    code = fn.__code__
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or type(tree.body[0]) is not ast.FunctionDef:
        return None
    ast.increment_lineno(tree, code.co_firstlineno - 1)  # (the source starts at that line)
    stmts = tree.body[0].body
    if any(isinstance(n, _REFUSED) for n in _own_nodes(stmts)) or _names(stmts) & _FRAME_NAMES:
        return None
    free = dict(zip(code.co_freevars, fn.__closure__ or ()))  # name -> cell, read at each call
    return Body(stmts, code.co_filename, fn.__globals__, inspect.signature(fn), free)


class Split:
    """A function cut around the statement where its capture stopped: ``pieces`` run in turn,
    each a compiled function (or the eager island) of the variables it reads."""

    def __init__(self, body: Body, pieces, reason: str, top: bool) -> None:
        self.body, self.pieces, self.reason = body, pieces, reason
        self.top = top  # the user's function (else a piece, returning (returned, value))
        params = body.sig.parameters.values()
        simple = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
        self.positional = [p.name for p in params] if simple else ()

    def __call__(self, args, kwargs):
        if not kwargs and len(args) == len(self.positional):  # (the common call: fast)
            env = dict(zip(self.positional, args))
        else:
            bound = self.body.sig.bind(*args, **kwargs)
            bound.apply_defaults()
            env = dict(bound.arguments)
        for params, call in self.pieces:
            returned, value = call(*[env.get(n, _UNBOUND) for n in params])
            if returned:
                return value if self.top else (True, value)
            env.update(value)
        return False, {n: env[n] for n in self.body.outs if n in env}  # (a piece's own pieces)


def split(fn, frames, reason: str, compiled):
    """``fn`` cut around the top-level statement running in ``fn``'s frame when the capture
    stopped (``frames``: (code, line) pairs, outermost first), or None. ``compiled(piece)``
    makes the compiled form of a piece."""
    body = body_of(fn)
    code = getattr(fn, "__code__", None)
    line = next((ln for c, ln in frames if c is code), None)
    if body is None or line is None:
        return None
    k = next((i for i, s in enumerate(body.stmts) if s.lineno <= line <= s.end_lineno), None)
    if k is None or len(body.stmts) == 1:
        return None
    parts = [(body.stmts[:k], True), (body.stmts[k:k + 1], False), (body.stmts[k + 1:], True)]
    parts = [(s, c) for s, c in parts if s]
    local = set(body.sig.parameters) | _stored(body.stmts)  # the function's local variables
    bound = set(body.sig.parameters)  # those bound before each part
    pieces = []
    for i, (stmts, compile_it) in enumerate(parts):
        mine = _names(stmts) & local
        params = sorted(mine & bound)
        if i == len(parts) - 1:
            outs = body.outs
        else:
            later = set().union(*(_names(s) for s, _ in parts[i + 1:]), body.outs or ())
            outs = sorted(mine & later)
        fn_i = _piece(body, stmts, params, outs)
        pieces.append((params, compiled(fn_i) if compile_it else fn_i))
        bound |= mine
    return Split(body, pieces, reason, not hasattr(fn, "_ndgrad_body"))


def _piece(body: Body, stmts, params, outs):
    """A function running ``stmts`` on ``params``: it returns (True, value) where they return,
    else (False, {name: value} of ``outs``), or (True, None) if ``outs`` is None. The function's
    closure variables stay closure variables (its cells), read when the piece runs."""
    code = [_Returns().visit(copy.deepcopy(s)) for s in stmts]
    tail = "return True, None" if outs is None else (
        f"_ndgrad_l = locals()\n"
        f"return False, {{n: _ndgrad_l[n] for n in {tuple(outs)!r} if n in _ndgrad_l}}")
    free = sorted(body.free)
    tree = ast.parse("def _factory():\n    {} = None\n    def _piece({}):\n        pass".format(
        " = ".join(free or ["_ndgrad_none"]), ", ".join(params)))
    fdef = tree.body[0].body[1]
    fdef.body = code + ast.parse(tail).body
    _relocate(tree, code)
    factory = {}
    exec(compile(tree, body.filename, "exec"), body.globals, factory)
    inner = next(c for c in factory["_factory"].__code__.co_consts
                 if isinstance(c, types.CodeType))
    cells = {n: body.free[n] for n in inner.co_freevars}
    fn = types.FunctionType(inner, body.globals, "_piece", (_UNBOUND,) * len(params),
                            tuple(cells.values()))
    fn._ndgrad_body = Body(stmts, body.filename, body.globals, inspect.signature(fn), cells,
                           outs)
    return fn


def hands_on_containers(out) -> bool:
    """Whether a piece's result hands a list, dict or set to the next piece: a replay would hand
    on the one made at capture, where eager makes a new one each call."""
    return type(out) is tuple and len(out) == 2 and type(out[1]) is dict and any(
        isinstance(v, (list, dict, set)) for v in out[1].values())


class _Returns(ast.NodeTransformer):
    """``return x`` -> ``return True, x`` in the piece's own scope."""

    def visit_Return(self, node):
        value = node.value or ast.Constant(None)
        return ast.copy_location(ast.Return(ast.Tuple([ast.Constant(True), value], ast.Load())),
                                 node)

    def _skip(self, node):
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _skip


def _relocate(tree, stmts) -> None:
    """Line numbers of the generated lines: the first statement's (a traceback shows the user's
    own lines)."""
    first = stmts[0]
    own = set()
    for s in stmts:
        own.update(id(n) for n in ast.walk(s))
    for node in ast.walk(tree):
        if id(node) not in own and "lineno" in node._attributes:
            node.lineno = node.end_lineno = first.lineno
            node.col_offset = node.end_col_offset = 0
    ast.fix_missing_locations(tree)  # (the tuples ``_Returns`` made)


def _own_nodes(stmts):
    """The nodes of ``stmts`` in the function's own scope (not inside nested functions)."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def _stored(stmts) -> set:
    """The names ``stmts`` bind in the function's own scope: its local variables."""
    return {n for node in _own_nodes(stmts) for n in _binds(node, stores_only=True)}


def _names(stmts) -> set:
    """Every name ``stmts`` mention (read, bound or deleted), nested scopes included: a superset
    of the variables they share with other statements."""
    return {n for s in stmts for node in ast.walk(s) for n in _binds(node, stores_only=False)}


def _binds(node, stores_only: bool) -> tuple:
    if isinstance(node, ast.Name):
        return () if stores_only and isinstance(node.ctx, ast.Load) else (node.id,)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, ast.alias):
        return ((node.asname or node.name).partition(".")[0],)
    if isinstance(node, ast.ExceptHandler) and node.name:
        return (node.name,)
    return ()
