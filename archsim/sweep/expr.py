"""A tiny, safe expression language for sweep constraints and `archsim results --where`.

Expressions are parsed with `ast` and walked over a whitelist of node types; nothing is ever passed
to `eval`. Supported: numbers, strings, True/False/None, names (dotted names such as
`units.sa.rows` are one name), `+ - * / // % **`, unary `- + not`, comparisons (chained too),
`and`/`or`, `in`/`not in` over literal lists, and parentheses. Anything else is an error at parse time.
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Mapping

from archsim.errors import ConfigError

_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_MAX_POW = 64  # keeps `2 ** 10**9` from hanging a sweep


class ExprError(ConfigError):
    """The expression is malformed, uses something outside the language, or names an unknown value."""


def _dotted(node: ast.AST) -> str | None:
    """`units.sa.rows` parses as nested Attribute nodes; fold them back into one name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class Expr:
    """A parsed expression; `names` lists the (dotted) names it reads, `evaluate(env)` computes it."""

    def __init__(self, text: str):
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExprError(f"expression {text!r} is not valid: {exc.msg}") from None
        self._root = tree.body
        self.names: set[str] = set()
        self._check(self._root)

    def _check(self, node: ast.AST) -> None:
        name = _dotted(node)
        if name is not None:
            self.names.add(name)
            return
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool, type(None))):
                raise ExprError(f"expression {self.text!r}: constant {node.value!r} is not allowed")
            return
        kids: list[ast.AST]
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            kids = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            kids = [node.operand]
        elif isinstance(node, ast.BoolOp):
            kids = list(node.values)
        elif isinstance(node, ast.Compare) and all(type(o) in _CMP for o in node.ops):
            kids = [node.left, *node.comparators]
        elif isinstance(node, (ast.List, ast.Tuple)):
            kids = list(node.elts)
        else:
            raise ExprError(f"expression {self.text!r}: {ast.unparse(node)!r} is not allowed "
                            f"(only names, numbers, + - * / // % **, comparisons, and/or/not, in [...])")
        for k in kids:
            self._check(k)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate with names looked up in `env` (a mapping of dotted names to values)."""
        return self._eval(self._root, env)

    def _eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        name = _dotted(node)
        if name is not None:
            if name in env:
                return env[name]
            if name in ("true", "false"):
                return name == "true"
            known = ", ".join(sorted(env)[:30])
            raise ExprError(f"expression {self.text!r}: unknown name {name!r}; known names: {known}")
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            a, b = self._eval(node.left, env), self._eval(node.right, env)
            if isinstance(node.op, ast.Pow) and isinstance(b, (int, float)) and abs(b) > _MAX_POW:
                raise ExprError(f"expression {self.text!r}: exponent {b} is too large")
            try:
                return _BIN[type(node.op)](a, b)
            except (TypeError, ZeroDivisionError) as exc:
                raise ExprError(f"expression {self.text!r}: {exc}") from None
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not):
                return not v
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            result: Any = is_and
            for v in node.values:
                result = self._eval(v, env)
                if bool(result) != is_and:
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, env)
                if (left is None or right is None) and type(op) in _ORDER:
                    return False  # a missing metric (failed point) satisfies no ordering
                try:
                    ok = _CMP[type(op)](left, right)
                except TypeError as exc:
                    raise ExprError(f"expression {self.text!r}: {exc}") from None
                if not ok:
                    return False
                left = right
            return True
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._eval(e, env) for e in node.elts]
        raise ExprError(f"expression {self.text!r}: cannot evaluate {ast.unparse(node)!r}")  # pragma: no cover

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; the environment constraints and `--where` see."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
