"""The ``predicted`` expression of a validation table, evaluated with units.

A small arithmetic language over the run's reports: names are report names (the value of
the run without a sweep, or of the current sweep entry) or ``[validation.constants]``;
``name["label"]`` is report ``name`` of the sweep entry ``label``; ``+ - * / **``,
parentheses, numbers, and the functions ``max``, ``min``, ``abs`` and ``log10`` (of a
plain number). Every name carries its
unit (reports in their SI unit, constants as written), so ``J / c`` of a flux in
mol/(m^2 s) and a concentration in mM is a velocity that converts to uL/(h cm^2).

Python's ``ast`` parses the text; only the node types above are evaluated (no attribute
access, no calls other than the four functions), so a scenario file cannot run code.
pint does the unit arithmetic: a hand-written evaluator is needed only because no
maintained library evaluates such expressions on pint quantities safely.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from ionto.core.errors import ConfigError

Lookup = Callable[[str, str | None], Any]
"""(report name, sweep label or None) -> pint Quantity; raises KeyError if unknown."""


def _log10(value: Any) -> Any:
    """log10 of a dimensionless Quantity (a plain number)."""
    import math

    if not value.dimensionless:
        raise ValueError(f"log10 needs a plain number, not {value.units}")
    x = float(value.to("").magnitude)
    if x <= 0:
        raise ValueError(f"log10 of {x:g} is undefined")
    return _ureg().Quantity(math.log10(x), "")


_FUNCTIONS: dict[str, Callable[..., Any]] = {"max": max, "min": min, "abs": abs, "log10": _log10}


def names_in(text: str, field: str) -> list[tuple[str, str | None]]:
    """The (name, label) pairs an expression refers to, in order; ConfigError if the
    expression is not valid."""
    tree = _parse(text, field)
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            out.append((node.value.id, _label(node, field)))
        elif isinstance(node, ast.Name) and node.id not in _FUNCTIONS:
            out.append((node.id, None))
    subscripted = {n for n, label in out if label is not None}
    return [(n, label) for n, label in out if label is not None or n not in subscripted]


def evaluate(text: str, lookup: Lookup, field: str) -> Any:
    """Value (a pint Quantity) of the expression ``text``; names are resolved by
    ``lookup``. ConfigError naming ``field`` for syntax errors, unknown names and
    unit mismatches."""
    tree = _parse(text, field)

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            if isinstance(node.value, bool):
                raise _bad(field, text, "true/false is not a number")
            return _ureg().Quantity(float(node.value), "")
        if isinstance(node, ast.Name):
            return _get(lookup, node.id, None, field, text)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            return _get(lookup, node.value.id, _label(node, field), field, text)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return _binary(node.op, ev(node.left), ev(node.right), field, text)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
            and node.args
        ):
            args = [ev(a) for a in node.args]
            name = node.func.id
            if name in ("abs", "log10") and len(args) != 1:
                raise _bad(field, text, f"{name}() takes one argument")
            try:
                if name in ("max", "min") and len(args) == 1:
                    return args[0]
                return _FUNCTIONS[name](*args)
            except Exception as exc:  # pint: different dimensions; log10 of a non-number
                raise _bad(field, text, f"{name}(): {exc}") from None
        raise _bad(field, text, f"{ast.unparse(node)!r} is not allowed in an expression")

    return ev(tree)


def _binary(op: ast.operator, a: Any, b: Any, field: str, text: str) -> Any:
    try:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.Pow):
            if not b.dimensionless:
                raise ValueError("an exponent must be a plain number")
            return a ** float(b.to("").magnitude)
    except ZeroDivisionError:
        raise _bad(field, text, "division by zero") from None
    except Exception as exc:  # pint DimensionalityError and friends
        raise _bad(field, text, f"the units do not match ({exc})") from None
    raise _bad(field, text, f"operator {type(op).__name__} is not allowed")


def _parse(text: str, field: str) -> ast.Expression:
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _bad(field, text, f"not a valid expression ({exc.msg})") from None


def _label(node: ast.Subscript, field: str) -> str:
    if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    raise _bad(field, ast.unparse(node), 'a sweep entry is named by its label: name["label"]')


def _get(lookup: Lookup, name: str, label: str | None, field: str, text: str) -> Any:
    try:
        return lookup(name, label)
    except KeyError as exc:
        raise _bad(
            field, text, str(exc.args[0]) if exc.args else f"unknown name {name!r}"
        ) from None


def _bad(field: str, text: str, why: str) -> ConfigError:
    return ConfigError(field, text, None, "an expression of report names and constants", why)


def _ureg() -> Any:
    from ionto.core.units import get_registry

    return get_registry()


def quantity_of(value: float | str, unit: str | None = None) -> Any:
    """A pint Quantity from a report value and its unit text ("-" = dimensionless), or
    from a quantity string such as "0.6 mM" / a plain number (``unit`` None)."""
    ureg = _ureg()
    if unit is not None:
        return ureg.Quantity(float(value), "" if unit in ("-", "1") else unit)
    if isinstance(value, str):
        return ureg.Quantity(value)
    return ureg.Quantity(float(value), "")


def to_unit(value: Any, unit: str, field: str) -> float:
    """Magnitude of a Quantity in ``unit`` ("" = dimensionless); ConfigError naming
    ``field`` if the dimensions differ."""
    try:
        return float(value.to(unit or "").magnitude)
    except Exception as exc:
        raise ConfigError(
            field,
            f"{value:~P}",
            unit or "dimensionless",
            f"a value convertible to {unit or 'a plain number'}",
            f"the prediction cannot be expressed in {unit or 'a plain number'!r} ({exc})",
        ) from None


def mapping_lookup(values: Mapping[str, Any]) -> Lookup:
    """A lookup over a flat dict of Quantities (no sweep labels)."""

    def lookup(name: str, label: str | None) -> Any:
        if label is not None or name not in values:
            raise KeyError(f"unknown name {name!r}")
        return values[name]

    return lookup
