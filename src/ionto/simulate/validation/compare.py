"""Misfit arithmetic: a prediction against a published measurement.

Rules (``docs/validation.md`` states them for readers); p is the prediction, all numbers
in the table's unit:

* **value with uncertainty** u: misfit = (p - m) / u, in units of the reported
  uncertainty ("sigma"); agrees if |misfit| <= ``sigmas`` (default 2).
* **value with a stated tolerance** (published as "approximately"): ``relative``:
  misfit = p / m ("ratio"), agrees if |p/m - 1| <= relative; ``absolute`` a:
  misfit = (p - m) / a ("tolerance"), agrees if |misfit| <= 1.
* **range** [lo, hi]: misfit = p / (the nearest point of the range), 1 inside ("ratio");
  agrees if 1/factor <= misfit <= factor (default factor 1: inside the range).
* **limit** L (a detection limit or an upper bound): misfit = p / L ("ratio"); agrees if
  p < L.
* **proportional** (y against x over a sweep): least-squares line y = a + b x;
  misfit = max((1 - R^2) / (1 - r2_min), |a| / (b x_max) / intercept_max) in units of the
  tolerance; agrees if <= 1 (defaults r2_min 0.99, intercept_max 0.05).
* **independent** (y over a sweep): spread s = (max - min) / |mean|;
  misfit = s / spread_max in units of the tolerance; agrees if <= 1 (default 0.1).
* **increasing** / **decreasing** (y over a sweep, in order of x): misfit = the fraction
  of steps between neighbouring x that go the other way (or stay flat within 1e-9 of
  the values), in units of "steps"; agrees if 0. The prediction shown is y(x_max) /
  y(x_min).
* **crossing**: the x at which y crosses ``level`` (linear interpolation between the
  swept points) is the prediction, compared by the value, range or limit rules.
* **line_crossing**: the x at which the least-squares line of y on x reaches ``level``
  (an extrapolated cut-off, as published size cut-offs are obtained) is the prediction,
  compared by the value, range or limit rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ionto.simulate.validation.spec import Measured, Tolerance

DEFAULT_SIGMAS = 2.0
DEFAULT_R2_MIN = 0.99
DEFAULT_INTERCEPT_MAX = 0.05
DEFAULT_SPREAD_MAX = 0.1


@dataclass(frozen=True)
class Comparison:
    """Outcome of one comparison. ``misfit_unit``: "sigma" (units of the reported
    uncertainty), "ratio" (prediction / measurement, range or limit), "tolerance"
    (units of the stated tolerance) or "steps" (share of a sweep's steps against a
    trend). ``rule``: the rule in words; ``detail``: the
    numbers behind a qualitative check."""

    predicted: float | None
    misfit: float | None
    misfit_unit: str
    within: bool
    rule: str
    detail: str = ""


def compare_value(p: float | None, m: Measured, t: Tolerance) -> Comparison:
    """A predicted number against a value, range or limit (see the module docstring)."""
    if p is None or not math.isfinite(p):
        return Comparison(None, None, "", False, "no prediction", "no prediction in the sweep")
    if m.value is not None:
        if m.uncertainty is not None:
            sigmas = t.sigmas if t.sigmas is not None else DEFAULT_SIGMAS
            z = (p - m.value) / m.uncertainty
            return Comparison(p, z, "sigma", abs(z) <= sigmas, f"|p - m| <= {sigmas:g} u")
        if t.relative is not None:
            ratio = p / m.value if m.value != 0 else math.inf
            ok = abs(ratio - 1.0) <= t.relative
            return Comparison(p, ratio, "ratio", ok, f"|p/m - 1| <= {t.relative:g}")
        assert t.absolute is not None
        k = (p - m.value) / t.absolute
        return Comparison(p, k, "tolerance", abs(k) <= 1.0, f"|p - m| <= {t.absolute:g}")
    if m.range is not None:
        lo, hi = m.range
        factor = t.factor if t.factor is not None else 1.0
        nearest = min(max(p, lo), hi)
        # a range that starts at 0: p = 0 is inside, p < 0 is infinitely far below
        ratio = p / nearest if nearest != 0.0 else (1.0 if p == 0.0 else -math.inf)
        ok = 1.0 / factor <= ratio <= factor
        rule = "inside the range" if factor == 1.0 else f"within a factor {factor:g} of the range"
        return Comparison(p, ratio, "ratio", ok, rule)
    assert m.limit is not None
    ratio = p / m.limit
    return Comparison(p, ratio, "ratio", p < m.limit, "p below the limit")


def line_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares line y = a + b x: (a, b, R^2); R^2 = 1 for exactly collinear data."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx
    a = my - b * mx
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return a, b, r2


def compare_proportional(xs: Sequence[float], ys: Sequence[float], t: Tolerance) -> Comparison:
    """Proportionality of y to x (see the module docstring)."""
    r2_min = t.r2_min if t.r2_min is not None else DEFAULT_R2_MIN
    icpt_max = t.intercept_max if t.intercept_max is not None else DEFAULT_INTERCEPT_MAX
    a, b, r2 = line_fit(xs, ys)
    top = max(abs(x) for x in xs)
    intercept = abs(a) / abs(b * top) if b != 0 else math.inf
    misfit = max((1.0 - r2) / (1.0 - r2_min), intercept / icpt_max)
    rule = f"R^2 >= {r2_min:g} and |intercept| <= {icpt_max:.0%} of the largest value"
    shown = a / (b * top) if b else math.inf
    shown = 0.0 if abs(shown) < 5e-4 else shown  # no "-0.0 %" from round-off
    detail = f"R^2 = {r2:.4f}, intercept {shown:+.1%} of the largest"
    return Comparison(r2, misfit, "tolerance", misfit <= 1.0, rule, detail)


def compare_independent(ys: Sequence[float], t: Tolerance) -> Comparison:
    """Independence of y from the swept value (see the module docstring)."""
    spread_max = t.spread_max if t.spread_max is not None else DEFAULT_SPREAD_MAX
    mean = sum(ys) / len(ys)
    spread = (max(ys) - min(ys)) / abs(mean) if mean != 0 else math.inf
    misfit = spread / spread_max
    rule = f"(max - min) / mean <= {spread_max:g}"
    detail = f"spread {spread:.1%} over the sweep ({min(ys):.3g} to {max(ys):.3g})"
    return Comparison(spread, misfit, "tolerance", misfit <= 1.0, rule, detail)


def crossing(xs: Sequence[float], ys: Sequence[float], level: float) -> float | None:
    """First x (in increasing x) at which y crosses ``level``, linearly interpolated;
    None if y stays on one side over the swept range."""
    pts = sorted(zip(xs, ys, strict=True))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        d0, d1 = y0 - level, y1 - level
        if d0 == 0.0:
            return x0
        if d0 * d1 < 0.0 or d1 == 0.0:
            return x0 + (x1 - x0) * d0 / (d0 - d1)
    return None


def line_crossing(xs: Sequence[float], ys: Sequence[float], level: float) -> float | None:
    """x at which the least-squares line of y on x reaches ``level``; None for a flat line."""
    a, b, _ = line_fit(xs, ys)
    return (level - a) / b if b != 0 else None


def compare_trend(xs: Sequence[float], ys: Sequence[float], direction: str) -> Comparison:
    """Monotonic trend of y with x: ``direction`` "increasing" or "decreasing"."""
    pts = sorted(zip(xs, ys, strict=True))
    sign = 1.0 if direction == "increasing" else -1.0
    scale = max(abs(y) for _, y in pts) or 1.0
    wrong = sum(
        1
        for (_, y0), (_, y1) in zip(pts, pts[1:], strict=False)
        if sign * (y1 - y0) <= 1e-9 * scale
    )
    misfit = wrong / (len(pts) - 1)
    first, last = pts[0][1], pts[-1][1]
    ratio = last / first if first != 0 else math.inf
    detail = f"y(x_max) / y(x_min) = {ratio:.3g}; {wrong} of {len(pts) - 1} steps against the trend"
    return Comparison(ratio, misfit, "steps", wrong == 0, f"{direction} at every step", detail)
