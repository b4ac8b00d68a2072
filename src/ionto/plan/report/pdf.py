"""The treatment report as a PDF (matplotlib's PdfPages): text pages with the plan, the
safety findings, the prediction, notes, provenance and citations, and one page per
figure. A4 portrait. Written with matplotlib alone (already a dependency): the text
pages are laid out line by line, which a report of tables and paragraphs needs no more
than; tables are set in a monospace font as aligned columns, each cell wrapped within
its column (a matplotlib table cannot wrap a cell nor break across pages)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

from ionto.plan.report.content import ReportContent, Row

if TYPE_CHECKING:
    from matplotlib.figure import Figure

A4 = (8.27, 11.69)  # inches
MARGIN = 0.06  # fraction of the page
WIDTH = 100  # characters per line of body text
TABLE_WIDTH = 116  # characters per table line (DejaVu Sans Mono 7.5 pt across the page)
MIN_COLUMN = 12  # characters: narrowest a wrapped column gets
MAX_WORD = 16  # characters: longer words may be broken across lines
GAP = "  "  # between columns
STYLES = {
    "title": (16, "bold", 0.032),
    "heading": (12, "bold", 0.026),
    "body": (8.5, "normal", 0.0155),
    "error": (8.5, "bold", 0.0155),
    "table": (7.5, "normal", 0.0128),
    "table-head": (7.5, "bold", 0.0128),
    "table-error": (7.5, "bold", 0.0128),
}
COLOURS = {"error": "#b00000", "table-error": "#b00000", "table-head": "#303060"}


@dataclass
class _Line:
    text: str
    style: str = "body"


def column_widths(rows: list[Row], total: int = TABLE_WIDTH) -> list[int]:
    """Characters per column: each column's longest cell; when the line is longer than
    ``total``, the column widest for its mean cell length is narrowed in turn (so a
    column of long notes wraps, one of short names keeps them), to no less than its
    longest cell or its longest word (up to :data:`MAX_WORD`), :data:`MIN_COLUMN` at
    least."""
    count = max(len(r) for r in rows)
    cells = [[r[k] if k < len(r) else "" for r in rows] for k in range(count)]
    widths = [max(1, *(len(c) for c in col)) for col in cells]
    mean = [1.0 + sum(len(c) for c in col) / len(col) for col in cells]
    words = [max((len(w) for c in col for w in c.split()), default=1) for col in cells]
    floor = [min(w, max(MIN_COLUMN, min(n, MAX_WORD))) for w, n in zip(widths, words, strict=True)]
    room = total - len(GAP) * (count - 1)
    while sum(widths) > room:
        free = [k for k in range(count) if widths[k] > floor[k]]
        if not free:
            break
        k = max(free, key=lambda j: widths[j] / mean[j])
        widths[k] -= 1
    return widths


def table_lines(rows: list[Row], total: int = TABLE_WIDTH) -> list[tuple[str, int]]:
    """A table (first row the header) as aligned monospace lines: (text, row number, 0
    for the header and its rule); a cell longer than its column wraps onto the next lines
    of that column."""
    widths = column_widths(rows, total)
    out: list[tuple[str, int]] = []
    for n, row in enumerate(rows):
        full = tuple(row) + ("",) * (len(widths) - len(row))
        cells = [
            textwrap.wrap(c, w, break_on_hyphens=False) or [""]
            for c, w in zip(full, widths, strict=True)
        ]
        for parts in zip_longest(*cells, fillvalue=""):
            text = GAP.join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()
            out.append((text, n))
        if n == 0:
            out.append((GAP.join("-" * w for w in widths), 0))
    return out


def _rows(rows: list[Row]) -> list[_Line]:
    if not rows:
        return [_Line("(none)")]
    out: list[_Line] = []
    for text, n in table_lines(rows):
        style = "table-head" if n == 0 else "table-error" if rows[n][0] == "error" else "table"
        out.append(_Line(text, style))
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
            family="DejaVu Sans Mono" if line.style.startswith("table") else "DejaVu Sans",
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
