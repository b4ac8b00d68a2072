"""Units at the edge: text such as ``"20 um"`` becomes an SI float, once.

One pint ``UnitRegistry`` is created lazily on first use (importing pint costs ~0.3 s, so
``ionto --help`` never pays for it). Inside ionto every number is a plain float in SI
base units (m, s, mol, A, V, K); see :mod:`ionto.simulate.problem`.
"""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ionto.core.errors import ConfigError

if TYPE_CHECKING:
    import pint

DIMENSIONLESS = "dimensionless"

_NUMBER_FIRST = re.compile(r"\s*[-+]?(\d|\.\d|nan|inf)", re.IGNORECASE)

# Short descriptions and examples for the units ionto asks for, used in error messages.
_EXAMPLES: dict[str, str] = {
    "m": 'a length such as "20 um"',
    "m^2": 'an area such as "10 cm^2"',
    "m^3": 'a volume such as "2 mL"',
    "s": 'a time such as "20 min"',
    "1/s": 'a rate such as "1e-3 1/s"',
    "K": 'a temperature such as "305.15 K"',
    "mol/m^3": 'a concentration such as "100 mM" or "100 mol/m^3"',
    "m^2/s": 'a diffusivity such as "1e-9 m^2/s"',
    "m^3/C": 'a volume per charge such as "4.0e-9 m^3/C"',
    "A/m^2": 'a current density such as "0.5 mA/cm^2" or "5 A/m^2"',
    "A": 'a current such as "4 mA"',
    "V": 'a voltage such as "2 V"',
    DIMENSIONLESS: "a plain number such as 0.5",
}


def _cache_folder(pint_version: str) -> Path | None:
    """Where pint may cache its parsed unit definitions (~0.3 s saved per process).

    ``$IONTO_CACHE_DIR`` or ``$XDG_CACHE_HOME/ionto`` or ``~/.cache/ionto``; set
    ``IONTO_NO_CACHE=1`` to disable. None when the folder cannot be created.
    """
    if os.environ.get("IONTO_NO_CACHE"):
        return None
    base = os.environ.get("IONTO_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "ionto"
    folder = root / f"pint-{pint_version}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


@lru_cache(maxsize=1)
def get_registry() -> pint.UnitRegistry:
    """The one pint registry of the process (created on first call, cached on disk)."""
    import pint

    folder = _cache_folder(pint.__version__)
    if folder is not None:
        try:
            return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=folder)
        except Exception:  # a broken or unwritable cache must never stop a run
            pass
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def describe_unit(unit: str) -> str:
    """Words for what a value in ``unit`` is, with an example (for error messages)."""
    return _EXAMPLES.get(unit, f'a value in {unit} such as "1 {unit}"')


def _is_dimensionless(unit: str) -> bool:
    return unit.strip() in ("", "1", DIMENSIONLESS)


def round_si(x: float) -> float:
    """Remove unit-conversion noise: 20 um -> 2e-05, not 1.9999999999999998e-05."""
    return float(f"{x:.15g}")


def parse_quantity(text: object, expected_dimension: str, field: str) -> float:
    """Parse a value with a unit and return it as a float in the SI unit ``expected_dimension``.

    ``expected_dimension`` is an SI unit string (``"m"``, ``"A/m^2"``, ``"mol/m^3"``,
    ``"1/s"``, ``"K"``, ...) that fixes both the dimension that is checked and the unit of
    the returned number; ``"dimensionless"`` (or ``""``) for plain numbers. ``text`` is a
    string such as ``"20 um"``, ``"0.5 mA/cm^2"``, ``"100 mM"`` or ``"37 degC"``. Bare
    numbers (int/float or a string without a unit) are accepted only for dimensionless
    fields. NaN and infinity are rejected. Raises :class:`ConfigError` naming ``field``.
    """
    unit = DIMENSIONLESS if _is_dimensionless(expected_dimension) else expected_dimension
    allowed = describe_unit(unit)
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ConfigError(field, text, unit, allowed, f"{text!r} is not a number with a unit")
    if isinstance(text, (int, float)):
        if unit != DIMENSIONLESS:
            raise ConfigError(
                field, text, unit, allowed, f"{text!r} has no unit; write it as a string"
            )
        return _finite(float(text), text, unit, field)
    if not _NUMBER_FIRST.match(text):
        raise ConfigError(field, text, unit, allowed, f"{text!r} does not start with a number")
    ureg = get_registry()
    try:
        quantity: Any = ureg.Quantity(text)
    except Exception as exc:  # pint raises many kinds for bad text
        reason = str(exc).strip() or "it cannot be parsed"
        raise ConfigError(
            field, text, unit, allowed, f"{text!r} is not a valid quantity ({reason})"
        ) from None
    if unit == DIMENSIONLESS:
        if not quantity.dimensionless:
            raise ConfigError(
                field, text, unit, allowed, f"{text!r} has a unit but must be a plain number"
            )
        return _finite(float(quantity.to("dimensionless").magnitude), text, unit, field)
    target = ureg.Unit(unit)
    if quantity.dimensionless:
        raise ConfigError(field, text, unit, allowed, f"{text!r} has no unit")
    if quantity.dimensionality != target.dimensionality:
        raise ConfigError(
            field,
            text,
            unit,
            allowed,
            f"{text!r} has dimension {quantity.dimensionality}, expected {target.dimensionality}",
        )
    return _finite(float(quantity.to(target).magnitude), text, unit, field)


def _finite(x: float, text: object, unit: str, field: str) -> float:
    if not math.isfinite(x):
        raise ConfigError(field, text, unit, "a finite number", f"{text!r} is not finite")
    return round_si(x)


def format_si(value: float, unit: str) -> str:
    """``format_si(2e-05, "m") == "2e-05 m"``: an SI float as text that parses back."""
    if _is_dimensionless(unit):
        return f"{value:.15g}"
    return f"{value:.15g} {unit}"
