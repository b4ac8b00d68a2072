"""Treatment reports (HTML and PDF) of a checked, predicted and scheduled plan.

>>> from ionto.plan.report import build_report   # doctest: +SKIP
>>> report = build_report(plan, safety, prediction, course)
>>> report.write_html("out/report.html"); report.write_pdf("out/report.pdf")

``content`` gathers what a report says, ``figures`` draws it (matplotlib), ``html`` and
``pdf`` write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ionto.plan.report.content import ReportContent, report_content

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ionto.plan.course import Course
    from ionto.plan.plan import Plan
    from ionto.plan.predict.run import Prediction
    from ionto.plan.safety.findings import Report

__all__ = ["TreatmentReport", "build_report"]


@dataclass
class TreatmentReport:
    """A report's content and figures, ready to be written as HTML or PDF."""

    content: ReportContent
    figures: list[Figure]

    def html(self) -> str:
        """The self-contained HTML page."""
        from ionto.plan.report.html import render_html

        return render_html(self.content, self.figures)

    def write_html(self, path: str | Path) -> Path:
        """Write the HTML page; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def write_pdf(self, path: str | Path) -> Path:
        """Write the PDF; returns the path."""
        from ionto.plan.report.pdf import write_pdf

        return write_pdf(self.content, self.figures, path)


def ph_limits(plan: Plan) -> dict[str, float]:
    """The sim.ph limits that apply to the plan (its overrides included)."""
    from ionto.plan.safety import default_rules
    from ionto.plan.safety.context import Context

    ctx = Context(plan, default_rules())
    out = {}
    for name in ("acid_burn", "acid_irritation", "alkaline_irritation", "alkaline_burn"):
        picked = ctx.param("sim.ph", name)
        if picked is not None:
            out[name] = picked.si
    return out


def build_report(
    plan: Plan,
    report: Report,
    prediction: Prediction | None,
    course: Course | None = None,
    prediction_error: str = "",
) -> TreatmentReport:
    """Content and figures of a plan's report (figures only with a prediction)."""
    content = report_content(plan, report, prediction, course, prediction_error)
    figures: list[Figure] = []
    if prediction is not None:
        from ionto.plan.report.figures import report_figures

        figures = report_figures(prediction, ph_limits(plan))
    return TreatmentReport(content, figures)
