"""Configuration files: TOML loading and pydantic helpers with checked units.

* :func:`load_toml` reads a TOML file and turns every way it can be unreadable (missing,
  empty, binary, syntax error) into a one-line :class:`ConfigError`.
* :class:`StrictModel` is the base of every input schema: frozen, unknown keys rejected
  with close-match suggestions.
* :func:`quantity` makes a pydantic validator that parses a pint string into an SI float
  and checks its range; use it as ``Annotated[float, quantity("m", gt=0)]``.
* :func:`config_error` turns a pydantic ``ValidationError`` into a :class:`ConfigError`
  whose field is the dotted path of the first problem.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ionto.core.errors import ConfigError
from ionto.core.units import DIMENSIONLESS, format_si, parse_quantity

_ERROR_TYPE = "ionto_config"
_UNKNOWN_KEY = "ionto_unknown_key"


# --------------------------------------------------------------------------- TOML files


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file into a dict; ConfigError (field = file name) if it cannot be read."""
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(name, message="file not found") from None
    except IsADirectoryError:
        raise ConfigError(name, message="is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(name, message=f"cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise ConfigError(name, message="file is empty (expected a TOML scenario)")
    if b"\x00" in raw:
        raise ConfigError(name, message="is a binary file, not TOML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            name, message=f"is not UTF-8 text (bad byte at offset {exc.start}); not a TOML file"
        ) from None
    return parse_toml(text, name)


def parse_toml(text: str, name: str = "<string>") -> dict[str, Any]:
    """Parse TOML text; syntax errors become ConfigError naming the line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        if where:
            line, column = where.groups()
            snippet = _line(text, int(line))
            detail = f"TOML syntax error at line {line}, column {column}: {what}"
            if snippet:
                detail += f" in {snippet!r}"
        else:
            detail = f"TOML syntax error at the end of the file: {what}"
        raise ConfigError(name, message=detail) from None
    if not data:
        raise ConfigError(name, message="file is empty (only comments or whitespace)")
    return data


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1].strip()[:60] if 0 < number <= len(lines) else ""


# --------------------------------------------------------------------------- models


def suggest(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'thickness'?)"`` or ``""`` when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


class StrictModel(BaseModel):
    """Base of input schemas: immutable; an unknown key is an error with suggestions."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(cls.model_fields)
            known |= {f.alias for f in cls.model_fields.values() if f.alias}
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        _UNKNOWN_KEY,
                        "unknown key {key}",
                        {"key": str(key), "hint": suggest(str(key), known), "known": sorted(known)},
                    )
        return data


def _bounds_text(
    gt: float | None, ge: float | None, lt: float | None, le: float | None, unit: str
) -> str:
    parts = []
    for op, bound in ((">", gt), (">=", ge), ("<", lt), ("<=", le)):
        if bound is not None:
            parts.append(f"{op} {format_si(bound, DIMENSIONLESS)}")
    return " and ".join(parts) if parts else "any finite value"


def check_range(
    x: float,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> bool:
    """True if ``x`` satisfies every given bound."""
    return not (
        (gt is not None and not x > gt)
        or (ge is not None and not x >= ge)
        or (lt is not None and not x < lt)
        or (le is not None and not x <= le)
    )


def quantity(
    unit: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> BeforeValidator:
    """A pydantic validator: pint text -> float in SI ``unit``, bounds checked in SI.

    Use ``Annotated[float, quantity("m", gt=0)]``. ``unit="dimensionless"`` accepts plain
    numbers. Errors carry value, unit and allowed range for :func:`config_error`.
    """

    def validate(value: object) -> float:
        try:
            x = parse_quantity(value, unit, field="")
        except ConfigError as exc:
            raise pydantic_error(exc) from None
        if not check_range(x, gt=gt, ge=ge, lt=lt, le=le):
            raise pydantic_error(
                ConfigError("", value, unit, _bounds_text(gt, ge, lt, le, unit))
            ) from None
        return x

    return BeforeValidator(validate)


def integer(*, ge: int | None = None) -> BeforeValidator:
    """A pydantic validator for a whole number (``2`` or ``2.0``; not ``2.5``, ``"2"``, true)."""

    def validate(value: object) -> int:
        allowed = "an integer" if ge is None else f"an integer >= {ge}"
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            ok = True
        if not ok:
            raise pydantic_error(
                ConfigError("", value, None, allowed, f"{value!r} is not an integer")
            ) from None
        n = int(value)  # type: ignore[call-overload]
        if ge is not None and n < ge:
            raise pydantic_error(ConfigError("", value, None, allowed))
        return n

    return BeforeValidator(validate)


def pydantic_error(exc: ConfigError) -> PydanticCustomError:
    """Wrap a ConfigError (without field) so pydantic reports it at the field's location."""

    return PydanticCustomError(
        _ERROR_TYPE,
        "{message}",
        {
            "message": exc.message,
            "value": exc.value,
            "unit": exc.unit,
            "allowed": exc.allowed,
        },
    )


# --------------------------------------------------------------------------- errors


def field_path(loc: Iterable[int | str], prefix: str = "") -> str:
    """``("layers", 1, "thickness")`` -> ``"layers[1].thickness"``.

    Snake-case parts are shown as attributes, anything else (species names, which are
    dictionary keys) in brackets: ``layers[0].initial["Na+"]``.
    """
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[a-z_][a-z0-9_]*", part):  # schema keys are snake_case
            out += f".{part}" if out else part
        else:
            out = key_path(out, part)
    return out


def key_path(prefix: str, key: str) -> str:
    """``key_path("layers[0].initial", "Na+")`` -> ``'layers[0].initial["Na+"]'``."""
    return prefix + '["' + key.replace('"', '\\"') + '"]'


def config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first problem of a pydantic ValidationError as a ConfigError.

    When there are more problems the message ends with ``(+N more)``; every problem is
    kept in the ``others`` attribute of the returned error.
    """
    errors = exc.errors(include_url=False)
    converted = [_convert(err, prefix) for err in errors]
    first = converted[0]
    if len(converted) > 1:
        first = ConfigError(
            first.field,
            first.value,
            first.unit,
            first.allowed,
            first.message + f" [+{len(converted) - 1} more problem(s)]",
        )
    first.others = converted
    return first


def _convert(err: Mapping[str, Any], prefix: str) -> ConfigError:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]  # drop union tags
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == _UNKNOWN_KEY:
        key = ctx["key"]
        path = field_path([*loc, key], prefix)
        known = ", ".join(ctx["known"])
        return ConfigError(path, message=f"unknown key{ctx['hint']} (known keys: {known})")
    path = field_path(loc, prefix) or "<top level>"
    if kind == _ERROR_TYPE:
        return ConfigError(path, ctx["value"], ctx["unit"], ctx["allowed"], ctx["message"])
    if kind == "missing":
        return ConfigError(path, message="is required but missing")
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        hint = suggest(str(value), choices) if isinstance(value, str) else ""
        allowed = "one of: " + (", ".join(choices) if choices else expected)
        return ConfigError(path, value, None, allowed, f"{value!r} is not allowed{hint}")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return ConfigError(path, value, None, "a table {...}", f"{value!r} is not a table")
    if kind in ("list_type", "tuple_type"):
        hint = f" (write [[{path}]] for each entry)" if isinstance(value, Mapping) else ""
        return ConfigError(path, value, None, "an array [...]", f"{value!r} is not an array{hint}")
    if kind == "too_short":
        return ConfigError(path, message="must have at least one entry")
    if kind in ("string_type",):
        return ConfigError(path, value, None, "a string", f"{value!r} is not a string")
    return ConfigError(path, value, message=f"{value!r}: {err['msg']}")
