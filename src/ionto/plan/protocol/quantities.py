"""Quantities of the protocol language: SI floats <-> canonical text.

Every value inside a protocol is an SI float: current in A, time in s, frequency in Hz,
dose (charge) in C, voltage in V, impedance in ohm and duty as a fraction of 1. The
canonical text writes each value in a readable unit ("4 mA", "10 min", "40 mA*min",
"10 kohm", "50%") chosen so that parsing the text gives back exactly the same float:
values carry at most 15 significant digits (as :func:`ionto.core.units.parse_quantity`
returns them) and the decimal conversion to the display unit is exact (checked with
:class:`decimal.Decimal`), otherwise a power-of-ten unit is used.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Literal

from ionto.core.units import round_si

Kind = Literal["current", "time", "frequency", "dose", "voltage", "impedance"]

#: SI unit (as understood by :func:`ionto.core.units.parse_quantity`) of each kind.
SI_UNIT: dict[Kind, str] = {
    "current": "A",
    "time": "s",
    "frequency": "Hz",
    "dose": "C",
    "voltage": "V",
    "impedance": "ohm",
}

#: Example of each kind, for error messages.
EXAMPLE: dict[Kind, str] = {
    "current": '"4 mA" or "300 uA"',
    "time": '"30 s", "10 min" or "1 h"',
    "frequency": '"50 Hz" or "1 kHz"',
    "dose": '"40 mA*min" or "2.4 C"',
    "voltage": '"40 V"',
    "impedance": '"10 kohm"',
}

#: Units commonly written for each kind (close-match suggestions for misspelt units).
COMMON_UNITS: dict[Kind, tuple[str, ...]] = {
    "current": ("A", "mA", "uA", "nA"),
    "time": ("s", "ms", "us", "min", "h"),
    "frequency": ("Hz", "kHz", "mHz", "MHz"),
    "dose": ("mA*min", "C", "mC", "uC", "A*s", "mA*s"),
    "voltage": ("V", "mV", "kV"),
    "impedance": ("ohm", "kohm", "Mohm"),
}

_POWERS: dict[Kind, tuple[tuple[str, int], ...]] = {
    # (unit, power of ten of the unit in SI), largest first
    "current": (("A", 0), ("mA", -3), ("uA", -6), ("nA", -9), ("pA", -12)),
    "time": (("s", 0), ("ms", -3), ("us", -6), ("ns", -9)),
    "frequency": (("MHz", 6), ("kHz", 3), ("Hz", 0)),
    "dose": (("C", 0), ("mC", -3), ("uC", -6), ("nC", -9)),
    "voltage": (("kV", 3), ("V", 0), ("mV", -3), ("uV", -6)),
    "impedance": (("Mohm", 6), ("kohm", 3), ("ohm", 0), ("mohm", -3)),
}

_MAX_PLAIN = 18  # longer plain numbers are written in e-notation


def decimal_of(x: float) -> Decimal:
    """The value as the decimal it stands for (at most 15 significant digits)."""
    return Decimal(f"{round_si(x):.15g}")


def number_text(d: Decimal) -> str:
    """A decimal as short plain text: ``Decimal('40.0') -> '40'``; e-notation if long."""
    d = d.normalize()
    if d == 0:
        return "-0" if d.is_signed() else "0"
    plain = format(d, "f")
    if len(plain) <= _MAX_PLAIN:
        return plain
    return format(d, "e").replace("e+", "e")


def _exact_quotient(d: Decimal, factor: Decimal, max_decimals: int) -> Decimal | None:
    """``d / factor`` if it is exact with at most ``max_decimals`` decimals, else None."""
    with localcontext() as ctx:
        ctx.prec = 40
        q = d / factor
        if q * factor != d:
            return None
        exponent = q.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > max_decimals:
            return None
        return q


def _by_power(d: Decimal, kind: Kind) -> str:
    magnitude = abs(d)
    for unit, power in _POWERS[kind]:
        if magnitude >= Decimal(10) ** power or power == _POWERS[kind][-1][1]:
            return f"{number_text(d.scaleb(-power))} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_quantity(x: float, kind: Kind) -> str:
    """Canonical text of an SI float of ``kind``; parses back to exactly ``x``."""
    d = decimal_of(x)
    if d == 0:
        zero = {"current": "mA", "time": "s", "frequency": "Hz", "dose": "mA*min"}
        return f"{number_text(d)} {zero.get(kind, SI_UNIT[kind])}"
    magnitude = abs(d)
    if kind == "time":
        if magnitude >= 3600 and magnitude % 3600 == 0:
            return f"{number_text(d / 3600)} h"
        if magnitude >= 60:
            minutes = _exact_quotient(d, Decimal(60), 1)
            if minutes is not None:
                return f"{number_text(minutes)} min"
        if magnitude >= 1:
            return f"{number_text(d)} s"
    if kind == "dose":
        dose = _exact_quotient(d, Decimal("0.06"), 3)
        if dose is not None and abs(dose) >= Decimal("0.001"):
            return f"{number_text(dose)} mA*min"
    return _by_power(d, kind)


def format_percent(fraction: float) -> str:
    """``0.5 -> '50%'`` (exact)."""
    return f"{number_text(decimal_of(fraction) * 100)}%"


def percent_value(number: str) -> float:
    """``'50' -> 0.5``: the fraction a percentage stands for, rounded like SI values."""
    return round_si(float(Decimal(number) / 100))


def kind_of(unit_si: str) -> Kind | None:
    """The kind whose SI unit is ``unit_si``, if any."""
    for kind, unit in SI_UNIT.items():
        if unit == unit_si:
            return kind
    return None
