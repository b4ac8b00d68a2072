"""Sourced values: every number in a library or rules file carries its unit, source and
confidence.

A value is written in TOML as an inline table::

    current_max = { value = "4 mA", source = "activadose-ifu", confidence = "C",
                    note = "...", options = { iontodc = { value = "2 mA", ... } } }

``value`` is pint text (checked against the field's unit when the file is loaded),
``source`` one key or a list of keys of ``sources.toml``, ``confidence`` one of
C (confirmed), D (disputed), I (inferred), U (unconfirmed). ``options`` holds
alternative values (disputed ratings, device variants) that a plan may select by name.
The default value is named ``"default"``. :meth:`Quantity.pick` returns the chosen
alternative as a :class:`Picked` with its SI float.

Units of the subclasses (SI): Current A, Dose C, Area m^2, Duration s, Volume m^3,
CurrentDensity A/m^2, MolarMass kg/mol, Concentration kg/m^3 ("%" means w/v, g per
100 mL), Frequency Hz, Voltage V, Resistance ohm, Energy J, Count and Number
dimensionless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, model_validator

from ionto.core.config import StrictModel, check_range, pydantic_error, suggest
from ionto.core.errors import ConfigError
from ionto.core.units import parse_quantity

Confidence = Literal["C", "D", "I", "U"]
CONFIDENCE_WORDS: dict[str, str] = {
    "C": "confirmed",
    "D": "disputed",
    "I": "inferred",
    "U": "unconfirmed",
}
DEFAULT = "default"
_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _keys(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, (list, tuple))
        or not items
        or not all(isinstance(v, str) and v.strip() for v in items)
    ):
        raise pydantic_error(
            ConfigError("", value, None, "a source key or a list of source keys", None)
        )
    return tuple(items)


SourceKeys = Annotated[tuple[str, ...], BeforeValidator(_keys)]


class Cited(StrictModel):
    """Where a fact comes from: ``source`` key(s), ``confidence`` and a ``note``."""

    source: SourceKeys
    confidence: Confidence
    note: str = ""

    @property
    def uncertain(self) -> bool:
        """True for disputed (D) or unconfirmed (U) facts: defaults, never hard rules."""
        return self.confidence in ("D", "U")


class Alternative(Cited):
    """One alternative of a quantity (validated by the quantity that holds it)."""

    value: str | float | int


@dataclass(frozen=True)
class Picked:
    """A chosen value: ``si`` float in the quantity's SI unit, ``text`` as written,
    ``option`` its name (``"default"`` for the main value) and where it comes from."""

    si: float
    text: str
    option: str
    source: tuple[str, ...]
    confidence: str
    note: str

    @property
    def uncertain(self) -> bool:
        """True for disputed (D) or unconfirmed (U) values."""
        return self.confidence in ("D", "U")


def to_si(value: str | float | int, unit: str, field: str = "") -> float:
    """A value as written in a data file -> SI float in ``unit``.

    ``unit == "kg/m^3"`` also accepts percentages (``"2 %"`` = 2 g/100 mL = 20 kg/m^3).
    """
    if unit == "kg/m^3" and isinstance(value, str) and value.strip().endswith("%"):
        return parse_quantity(value.strip()[:-1], "dimensionless", field) * 10.0
    return parse_quantity(value, unit, field)


class Quantity(Alternative):
    """A number with a unit, its source, and optional named alternatives."""

    unit: ClassVar[str] = "dimensionless"
    bounds: ClassVar[dict[str, float]] = {"gt": 0.0}
    integer: ClassVar[bool] = False

    options: dict[str, Alternative] = {}

    @model_validator(mode="after")
    def _check_values(self) -> Quantity:
        self._convert(self.value, "value")
        for name, alternative in self.options.items():
            if name == DEFAULT:
                raise pydantic_error(
                    ConfigError(
                        "",
                        name,
                        None,
                        "any name but 'default'",
                        "option name 'default' is reserved",
                    )
                )
            self._convert(alternative.value, f"options.{name}.value")
        return self

    @classmethod
    def _convert(cls, value: str | float | int, where: str) -> float:
        try:
            x = to_si(value, cls.unit, where)
        except ConfigError as exc:
            raise pydantic_error(exc.with_prefix(where) if where != "value" else exc) from None
        ok = check_range(x, **cls.bounds)
        if cls.integer and not float(x).is_integer():
            ok = False
        if not ok:
            bounds = " and ".join(f"{_OPS[k]} {v:g}" for k, v in cls.bounds.items())
            kind = "a whole number " if cls.integer else ""
            raise pydantic_error(
                ConfigError(
                    "",
                    value,
                    cls.unit,
                    f"{kind}{bounds}".strip(),
                    f"{where}: {value} is not allowed",
                )
            )
        return x

    @property
    def si(self) -> float:
        """The default value as an SI float."""
        return self._convert(self.value, "value")

    def pick(self, option: str | None = None, field: str = "option") -> Picked:
        """The default (``option`` None or ``"default"``) or the named alternative.

        ConfigError naming ``field`` if there is no such option.
        """
        if option is None or option == DEFAULT:
            return Picked(
                self.si, str(self.value), DEFAULT, self.source, self.confidence, self.note
            )
        if option not in self.options:
            names = [DEFAULT, *self.options]
            raise ConfigError(
                field,
                option,
                None,
                "one of: " + ", ".join(names),
                f"no option {option!r}{suggest(option, names)}",
            )
        alt = self.options[option]
        return Picked(
            self._convert(alt.value, option),
            str(alt.value),
            option,
            alt.source,
            alt.confidence,
            alt.note,
        )

    def option_names(self) -> list[str]:
        """``["default", *options]``."""
        return [DEFAULT, *self.options]


class Current(Quantity):
    unit: ClassVar[str] = "A"


class Dose(Quantity):
    unit: ClassVar[str] = "C"


class Area(Quantity):
    unit: ClassVar[str] = "m^2"


class Duration(Quantity):
    unit: ClassVar[str] = "s"


class Volume(Quantity):
    unit: ClassVar[str] = "m^3"


class CurrentDensity(Quantity):
    unit: ClassVar[str] = "A/m^2"


class MolarMass(Quantity):
    unit: ClassVar[str] = "kg/mol"


class Concentration(Quantity):
    unit: ClassVar[str] = "kg/m^3"


class Frequency(Quantity):
    unit: ClassVar[str] = "Hz"


class Voltage(Quantity):
    unit: ClassVar[str] = "V"


class Resistance(Quantity):
    unit: ClassVar[str] = "ohm"


class Energy(Quantity):
    unit: ClassVar[str] = "J"


class Charge(Quantity):
    unit: ClassVar[str] = "C"


class Number(Quantity):
    """A plain number (pKa): any finite value."""

    bounds: ClassVar[dict[str, float]] = {}


class Count(Quantity):
    """A whole number >= 0 (sessions, sessions per week)."""

    bounds: ClassVar[dict[str, float]] = {"ge": 0.0}
    integer: ClassVar[bool] = True


class Range(Cited):
    """A typical range ``low``..``high`` (pint text) with its source; checked in ``unit``."""

    unit: ClassVar[str] = "dimensionless"

    low: str | float | int
    high: str | float | int

    @model_validator(mode="after")
    def _check(self) -> Range:
        lo, hi = self._si("low", self.low), self._si("high", self.high)
        if lo > hi:
            raise pydantic_error(
                ConfigError(
                    "", f"{self.low} .. {self.high}", self.unit, "low <= high", "low is above high"
                )
            )
        return self

    def _si(self, name: str, value: str | float | int) -> float:
        try:
            return to_si(value, self.unit, name)
        except ConfigError as exc:
            raise pydantic_error(exc.with_prefix(name)) from None

    @property
    def si(self) -> tuple[float, float]:
        """(low, high) as SI floats."""
        return self._si("low", self.low), self._si("high", self.high)


class CurrentRange(Range):
    unit: ClassVar[str] = "A"


class DurationRange(Range):
    unit: ClassVar[str] = "s"


class FrequencyRange(Range):
    unit: ClassVar[str] = "Hz"


class CountRange(Range):
    unit: ClassVar[str] = "dimensionless"


def walk_cited(model: BaseModel, path: str = "") -> Iterator[tuple[str, Cited]]:
    """Every :class:`Cited` inside ``model`` (itself included), with its dotted path."""
    if isinstance(model, Cited):
        yield path, model
    for name in type(model).model_fields:
        yield from _walk_value(getattr(model, name), f"{path}.{name}" if path else name)


def _walk_value(value: Any, path: str) -> Iterator[tuple[str, Cited]]:
    if isinstance(value, BaseModel):
        yield from walk_cited(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_value(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            yield from _walk_value(item, f"{path}[{k}]")
