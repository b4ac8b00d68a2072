"""Misfit arithmetic and prediction expressions of ``ionto validate`` (no engine)."""

from __future__ import annotations

import math

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.validation.compare import (
    compare_independent,
    compare_proportional,
    compare_trend,
    compare_value,
    crossing,
    line_crossing,
    line_fit,
)
from ionto.simulate.validation.expression import (
    evaluate,
    mapping_lookup,
    names_in,
    quantity_of,
    to_unit,
)
from ionto.simulate.validation.spec import Measured, Tolerance


def test_value_with_uncertainty_is_in_sigmas() -> None:
    m = Measured(value=2.7, uncertainty=1.3)
    c = compare_value(1.4, m, Tolerance())
    assert c.misfit == pytest.approx(-1.0)
    assert c.misfit_unit == "sigma" and c.within
    far = compare_value(5.4, m, Tolerance())
    assert far.misfit == pytest.approx(2.0769, rel=1e-4) and not far.within
    strict = compare_value(4.1, m, Tolerance(sigmas=1))
    assert not strict.within


def test_value_with_stated_tolerance() -> None:
    rel = compare_value(3.87, Measured(value=3.4), Tolerance(relative=0.25))
    assert rel.misfit == pytest.approx(3.87 / 3.4) and rel.within and rel.misfit_unit == "ratio"
    assert not compare_value(4.3, Measured(value=3.4), Tolerance(relative=0.25)).within
    ab = compare_value(7.0, Measured(value=8.0), Tolerance(absolute=2.0))
    assert ab.misfit == pytest.approx(-0.5) and ab.within and ab.misfit_unit == "tolerance"
    assert not compare_value(10.5, Measured(value=8.0), Tolerance(absolute=2.0)).within


@pytest.mark.parametrize(
    ("p", "ratio", "inside"),
    [(0.7, 1.0, True), (0.6, 1.0, True), (0.3, 0.5, False), (1.6, 2.0, False)],
)
def test_range_is_a_ratio_to_the_nearest_bound(p: float, ratio: float, inside: bool) -> None:
    c = compare_value(p, Measured(range=(0.6, 0.8)), Tolerance())
    assert c.misfit == pytest.approx(ratio) and c.within is inside


def test_range_factor_and_a_range_from_zero() -> None:
    assert compare_value(1.2, Measured(range=(0.6, 0.8)), Tolerance(factor=1.5)).within
    assert compare_value(0.0, Measured(range=(0.0, 37.0)), Tolerance()).misfit == 1.0
    below = compare_value(-1.0, Measured(range=(0.0, 37.0)), Tolerance())
    assert below.misfit == -math.inf and not below.within


def test_limit_is_a_ratio() -> None:
    c = compare_value(6.65, Measured(limit=10.0), Tolerance())
    assert c.misfit == pytest.approx(0.665) and c.within
    assert not compare_value(10.0, Measured(limit=10.0), Tolerance()).within


def test_missing_prediction_never_agrees() -> None:
    assert not compare_value(None, Measured(limit=1.0), Tolerance()).within
    assert not compare_value(math.nan, Measured(limit=1.0), Tolerance()).within


def test_line_fit_and_proportionality() -> None:
    a, b, r2 = line_fit([1, 2, 3], [2, 4, 6])
    assert (a, b, r2) == pytest.approx((0.0, 2.0, 1.0))
    good = compare_proportional([2, 5, 10, 20], [4.0, 10.0, 20.0, 40.0], Tolerance())
    assert good.within and good.misfit == pytest.approx(0.0, abs=1e-12)
    offset = compare_proportional([2, 5, 10, 20], [14.0, 20.0, 30.0, 50.0], Tolerance())
    assert not offset.within  # a line, but with an intercept of 20 % of the top value
    assert offset.misfit == pytest.approx((10.0 / 40.0) / 0.05)
    curved = compare_proportional([1, 2, 3, 4], [1.0, 4.0, 9.0, 16.0], Tolerance())
    assert not curved.within and "R^2" in curved.detail


def test_independence_is_the_relative_spread() -> None:
    c = compare_independent([0.50, 0.52, 0.55], Tolerance())
    assert c.predicted == pytest.approx(0.05 / (1.57 / 3))
    assert c.within and c.misfit == pytest.approx(c.predicted / 0.1)
    assert not compare_independent([0.4, 0.6], Tolerance(spread_max=0.1)).within


def test_trends_count_the_steps_against_them() -> None:
    down = compare_trend([50, 25, 100, 300], [9.0, 14.0, 4.8, 1.6], "decreasing")
    assert down.within and down.misfit == 0.0 and down.predicted == pytest.approx(1.6 / 14.0)
    flat = compare_trend([1, 2, 3, 4], [4.85, 4.86, 4.84, 4.70], "decreasing")
    assert not flat.within and flat.misfit == pytest.approx(1 / 3) and flat.misfit_unit == "steps"
    assert not compare_trend([1, 2], [3.0, 3.0], "increasing").within  # flat is no rise


def test_crossings() -> None:
    assert crossing([3.5, 4.5, 5.0], [-10.0, -2.0, 2.0], 0.0) == pytest.approx(4.75)
    assert crossing([5.0, 3.5, 4.5], [2.0, -10.0, -2.0], 0.0) == pytest.approx(4.75)  # unsorted
    assert crossing([1.0, 2.0], [1.0, 2.0], 0.0) is None
    assert line_crossing([3.0, 4.0, 5.0], [0.5, 0.4, 0.3], 0.0) == pytest.approx(8.0)
    assert line_crossing([3.0, 4.0], [0.5, 0.5], 0.0) is None


# ------------------------------------------------------------------ expressions


def _values() -> dict[str, object]:
    return {
        "J": quantity_of(1e-8, "mol/(m^2 s)"),
        "c": quantity_of("1 mM"),
        "t": quantity_of(0.5, "-"),
    }


def test_expression_units_convert() -> None:
    v = evaluate("J / c", mapping_lookup(_values()), "predicted")
    # 1e-8 m/s = 1e-3 uL/(cm^2 s) = 3.6 uL/(h cm^2)
    assert to_unit(v, "uL/(h*cm^2)", "predicted") == pytest.approx(3.6)
    assert to_unit(evaluate("2 * t - 0.5", mapping_lookup(_values()), "p"), "", "p") == 0.5
    assert to_unit(evaluate("log10(t * 20)", mapping_lookup(_values()), "p"), "", "p") == 1.0
    assert to_unit(evaluate("max(t, 0.7, -t)", mapping_lookup(_values()), "p"), "", "p") == 0.7


def test_names_and_labels() -> None:
    found = names_in('(J["on"] - J["off"]) / c', "p")
    assert sorted(found, key=str) == sorted([("J", "on"), ("J", "off"), ("c", None)], key=str)
    looked: list[tuple[str, str | None]] = []

    def lookup(name: str, label: str | None) -> object:
        looked.append((name, label))
        return quantity_of(2.0 if label == "on" else 1.0, "-")

    assert to_unit(evaluate('J["on"] - J["off"]', lookup, "p"), "", "p") == 1.0
    assert looked == [("J", "on"), ("J", "off")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("J + c", "units do not match"),
        ("J.__class__", "not allowed"),
        ("__import__('os')", "not allowed"),
        ("open('x')", "not allowed"),
        ("J[0]", "label"),
        ("t / (t - t)", "division by zero"),
        ("nope * 2", "unknown name 'nope'"),
        ("J *", "not a valid expression"),
        ("log10(J)", "plain number"),
        ("t ** c", "exponent"),
        ("True * t", "not a number"),
    ],
)
def test_bad_expressions_are_config_errors(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match="predicted") as info:
        evaluate(text, mapping_lookup(_values()), "predicted")
    assert words in str(info.value)


def test_unit_mismatch_of_the_result() -> None:
    with pytest.raises(ConfigError, match="cannot be expressed in 'mg'"):
        to_unit(quantity_of("1 mM"), "mg", "predicted")
