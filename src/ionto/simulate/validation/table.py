"""Text of the validation table: cells for predicted, measured, misfit and verdict.

The same cells feed the terminal table (rich), the Markdown table of
``docs/validation.md`` (``ionto validate --markdown``) and nothing else, so the document
and the command cannot drift apart (a test compares them).
"""

from __future__ import annotations

import math

from ionto.simulate.validation.runner import CaseResult, ValidationReport

COLUMNS = ("case", "quantity", "predicted", "measured", "misfit", "verdict")


def _num(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.3g}"


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def predicted_cell(r: CaseResult) -> str:
    c, s = r.comparison, r.spec
    if s.check == "proportional":
        return c.detail
    if s.check == "independent" and c.predicted is not None and r.sweep:
        ys = [v.y for v in r.sweep]
        span = _with_unit(f"{_num(min(ys))} to {_num(max(ys))}", s.unit)
        return f"spread {c.predicted:.1%} over the sweep ({span})"
    if s.check in ("increasing", "decreasing") and c.predicted is not None and r.sweep:
        ordered = sorted(r.sweep, key=lambda v: v.x_value)
        return f"×{_num(c.predicted)} from {ordered[0].label} to {ordered[-1].label}"
    if c.predicted is None:
        return c.detail or "-"
    return _with_unit(_num(c.predicted), s.unit)


def measured_cell(r: CaseResult) -> str:
    m, unit = r.spec.measured, r.spec.unit
    if m.value is not None:
        if m.uncertainty is not None:
            return _with_unit(f"{_num(m.value)} ± {_num(m.uncertainty)}", unit)
        return _with_unit(f"≈ {_num(m.value)}", unit)
    if m.range is not None:
        return _with_unit(f"{_num(m.range[0])}–{_num(m.range[1])}", unit)
    if m.limit is not None:
        return _with_unit(f"< {_num(m.limit)}", unit) + (f" ({m.text})" if m.text else "")
    return m.text or "-"


def misfit_cell(r: CaseResult) -> str:
    c = r.comparison
    if c.misfit is None:
        return "-"
    if c.misfit_unit == "steps":
        return f"{c.misfit:.0%} of steps"
    if c.misfit_unit == "sigma":
        return f"{c.misfit:+.2f} σ"
    if c.misfit_unit == "ratio":
        return f"×{_num(c.misfit)}"
    # in units of the tolerance; below 0.01 the digits are solver noise
    return "<0.01 tol" if abs(c.misfit) < 0.01 else f"{c.misfit:+.2f} tol"


def verdict_cell(r: CaseResult) -> str:
    """ "agrees" / "DISAGREES"; "(not independent)" when a parameter came from this very
    measurement, so agreement is a consistency check only."""
    verdict = "agrees" if r.comparison.within else "DISAGREES"
    return verdict if r.spec.independent else verdict + " (not independent)"


def rows(report: ValidationReport) -> list[tuple[str, ...]]:
    """One row per comparison, in the order of ``COLUMNS``."""
    return [
        (
            r.spec.case,
            r.spec.quantity,
            predicted_cell(r),
            measured_cell(r),
            misfit_cell(r),
            verdict_cell(r),
        )
        for r in report.results
    ]


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: ValidationReport) -> str:
    """The comparison table and the list of uncovered cases as Markdown."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows(report):
        lines.append("| " + " | ".join(_escape(cell) for cell in row) + " |")
    lines.append("")
    lines.append("| case not covered | why |")
    lines.append("|---|---|")
    for u in report.uncovered:
        lines.append(f"| {u.id} | {_escape(u.reason)} |")
    return "\n".join(lines) + "\n"
