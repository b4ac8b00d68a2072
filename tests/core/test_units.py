"""parse_quantity: pint text -> SI float, with the dimension checked."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ionto.core.errors import ConfigError
from ionto.core.units import format_si, get_registry, parse_quantity, round_si


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("20 um", "m", 20e-6),
        ("1.0 mm", "m", 1e-3),
        ("0.5 mA/cm^2", "A/m^2", 5.0),
        ("5 A/m^2", "A/m^2", 5.0),
        ("4.0e-9 m^3/C", "m^3/C", 4.0e-9),
        ("1e-3 1/s", "1/s", 1e-3),
        ("305.15 K", "K", 305.15),
        ("37 degC", "K", 310.15),
        ("100 mol/m^3", "mol/m^3", 100.0),
        ("100 mM", "mol/m^3", 100.0),
        ("0.1 M", "mol/m^3", 100.0),
        ("6.0e-10 m^2/s", "m^2/s", 6.0e-10),
        ("4 mA", "A", 4e-3),
        ("10 cm^2", "m^2", 1e-3),
        ("2 mL", "m^3", 2e-6),
        ("20 min", "s", 1200.0),
        ("2 V", "V", 2.0),
        ("-20 mol/m^3", "mol/m^3", -20.0),
        ("-20 um", "m", -20e-6),
    ],
)
def test_accepts(text: str, unit: str, expected: float) -> None:
    assert parse_quantity(text, unit, "f") == pytest.approx(expected, rel=1e-14)


def test_conversion_noise_removed() -> None:
    assert parse_quantity("20 um", "m", "f") == 2e-05
    assert parse_quantity("100 mM", "mol/m^3", "f") == 100.0


@pytest.mark.parametrize("value", [1e-4, 0.5, 3, "0.5", "1e-4", "50 %"])
def test_dimensionless_accepts_plain_numbers(value: object) -> None:
    assert parse_quantity(value, "dimensionless", "f") > 0


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        (20, "m", "no unit"),
        (20.0, "m", "no unit"),
        ("20", "m", "no unit"),
        ("20 s", "m", "dimension"),
        ("20 um um", "m", "dimension"),
        ("5 mA", "A/m^2", "dimension"),
        ("1 um", "dimensionless", "plain number"),
        ("nan m", "m", "not finite"),
        ("inf mM", "mol/m^3", "not finite"),
        (float("nan"), "dimensionless", "not finite"),
        (float("inf"), "dimensionless", "not finite"),
        ("20 furlongz", "m", "not a valid quantity"),
        ("5 A/", "A/m^2", "not a valid quantity"),
        ("m", "m", "does not start with a number"),
        ("", "m", "does not start with a number"),
        (True, "dimensionless", "not a number"),
        ([1, 2], "m", "not a number"),
        (None, "m", "not a number"),
    ],
)
def test_rejects(value: object, unit: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_quantity(value, unit, "layers[1].thickness")
    message = str(info.value)
    assert message.startswith("layers[1].thickness: ")
    assert words in message
    assert "\n" not in message
    assert info.value.field == "layers[1].thickness"


def test_error_names_unit_and_example() -> None:
    with pytest.raises(ConfigError) as info:
        parse_quantity("20 s", "m", "layers[0].thickness")
    assert info.value.unit == "m"
    assert "(unit: m; allowed: a length" in str(info.value)


def test_registry_is_created_once() -> None:
    assert get_registry() is get_registry()


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_micrometres_round_trip(x: float) -> None:
    si = parse_quantity(f"{x!r} um", "m", "f")
    assert math.isclose(si, x * 1e-6, rel_tol=1e-13, abs_tol=1e-300)


@given(st.floats(min_value=1e-30, max_value=1e30, allow_nan=False))
def test_format_si_round_trip(x: float) -> None:
    assert parse_quantity(format_si(x, "mol/m^3"), "mol/m^3", "f") == round_si(x)


def test_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ionto.core.units import _cache_folder

    monkeypatch.setenv("IONTO_CACHE_DIR", str(tmp_path / "c"))
    assert _cache_folder("9.9") == tmp_path / "c" / "pint-9.9"
    assert (tmp_path / "c" / "pint-9.9").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("IONTO_CACHE_DIR", str(blocker))
    assert _cache_folder("9.9") is None  # cannot create a folder below a file
    monkeypatch.setenv("IONTO_NO_CACHE", "1")
    assert _cache_folder("9.9") is None
