"""The treatment report as a PDF (matplotlib's PdfPages): text pages with the plan, the
safety findings, the prediction, notes, provenance and citations, and one page per
figure. A4 portrait. Written with matplotlib alone (already a dependency): the text
pages are laid out line by line, which a report of tables and paragraphs needs no more
than."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ionto.plan.report.content import ReportContent, Row

if TYPE_CHECKING:
    from matplotlib.figure import Figure

A4 = (8.27, 11.69)  # inches
MARGIN = 0.06  # fraction of the page
WIDTH = 100  # characters per line of body text
STYLES = {
    "title": (16, "bold", 0.032),
    "heading": (12, "bold", 0.026),
    "body": (8.5, "normal", 0.0155),
    "error": (8.5, "bold", 0.0155),
}
COLOURS = {"error": "#b00000"}


@dataclass
class _Line:
    text: str
    style: str = "body"


def _rows(rows: list[Row]) -> list[_Line]:
    if not rows:
        return [_Line("(none)")]
    out = []
    for row in rows[1:]:
        text = " | ".join(c for c in row if c)
        style = "error" if row[0] == "error" else "body"
        wrapped = textwrap.wrap(text, WIDTH, subsequent_indent="    ") or [""]
        out += [_Line(w, style) for w in wrapped]
    return out


def _lines(c: ReportContent) -> list[_Line]:
    lines = [
        _Line(c.title, "title"),
        _Line(c.subtitle),
        _Line(f"ionto {c.version}, {c.created}"),
        _Line(f"Plan {c.verdict}", "error" if c.refused else "heading"),
        _Line("Not medical advice: to be reviewed by qualified clinicians."),
        _Line("Plan", "heading"),
        *_rows(c.facts),
        _Line("Safety findings", "heading"),
        *_rows(c.findings),
        _Line("Prediction", "heading"),
        *_rows(c.summary),
    ]
    if c.exposure:
        lines += [_Line("Exposure indicators (both electrodes)", "heading"), *_rows(c.exposure)]
    if c.course:
        lines += [_Line("Course", "heading"), *_rows(c.course)]
    lines.append(_Line("What is simulated", "heading"))
    for note in c.notes:
        lines += [_Line(w) for w in textwrap.wrap("- " + note, WIDTH, subsequent_indent="  ")]
    lines += [_Line("Parameter provenance", "heading"), *_rows(c.provenance)]
    if c.skin:
        lines += [_Line("Skin parameters", "heading"), *_rows(c.skin)]
    lines.append(_Line("Citations", "heading"))
    for key, text, url in c.citations:
        entry = f"[{key}] {text}" + (f" {url}" if url else "")
        lines += [_Line(w) for w in textwrap.wrap(entry, WIDTH, subsequent_indent="    ")]
    return lines


def _text_pages(lines: list[_Line]) -> list[Figure]:
    from matplotlib.figure import Figure

    pages: list[Figure] = []
    page: Figure | None = None
    y = 0.0
    for line in lines:
        size, weight, step = STYLES[line.style]
        gap = step * (1.6 if line.style == "heading" else 1.0)
        if page is None or y - gap < MARGIN:
            page = Figure(figsize=A4)
            pages.append(page)
            y = 1.0 - MARGIN
        y -= gap
        page.text(
            MARGIN,
            y,
            line.text,
            fontsize=size,
            fontweight=weight,
            family="DejaVu Sans",
            color=COLOURS.get(line.style, "black"),
            va="baseline",
        )
    for k, p in enumerate(pages, start=1):
        p.text(0.5, MARGIN / 2, f"page {k} of the text", ha="center", fontsize=7, color="0.5")
    return pages


def write_pdf(content: ReportContent, figures: list[Figure], path: str | Path) -> Path:
    """Write the report; returns the path."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with PdfPages(
        path, metadata={"Title": content.title, "Creator": f"ionto {content.version}"}
    ) as pdf:
        for page in _text_pages(_lines(content)):
            pdf.savefig(page)
        for figure in figures:
            figure.set_size_inches(A4[0], A4[0] * 0.75)
            pdf.savefig(figure)
    return path
