"""The treatment report, looked at as a person would: the PDF rendered page by page, the
HTML parsed for its sections and images."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pymupdf  # a dev dependency: renders the PDF pages as a reader would see them
import pytest
from plan_helpers import EXAMPLES
from typer.testing import CliRunner

from ionto.plan.cli import app

pytestmark = pytest.mark.engine

SECTIONS = [
    "Plan",
    "Safety findings",
    "Prediction",
    "Exposure indicators (both electrodes)",
    "Figures",
    "Course",
    "What is simulated",
    "Parameter provenance",
    "Skin parameters",
    "Citations",
    "Scenario",
]
FIGURES = [
    "Figure 1: current, voltage and dose over time",
    "Figure 2: pH under both electrodes",
    "Figure 3: depth profiles of the drug in the skin",
    "Figure 4: delivered amount and plasma level",
]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    html, pdf = out / "report.html", out / "report.pdf"
    result = CliRunner().invoke(
        app,
        [
            "plan",
            str(EXAMPLES / "dexamethasone-knee.toml"),
            "--report",
            str(html),
            "--pdf",
            str(pdf),
        ],
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    return html, pdf


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.svgs = 0
        self.external: list[str] = []
        self.sections: list[str] = []
        self._in_h2 = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")
        elif tag == "svg":
            self.svgs += 1
        elif tag == "section":
            self.sections.append(a.get("id") or "")
        elif tag in ("img", "script", "link") and (a.get("src") or a.get("href")):
            self.external.append(str(a.get("src") or a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings[-1] += data
        self.text.append(data)


def test_html_has_every_section_and_its_figures_inline(written: tuple[Path, Path]) -> None:
    page = Page()
    page.feed(written[0].read_text())
    assert page.headings == SECTIONS
    assert page.svgs == len(FIGURES) and page.external == []  # self-contained
    text = " ".join(page.text)
    for title in FIGURES:
        assert title in text
    assert "sim.burn-risk" in text and "substance.prescription" in text
    assert "not simulated yet" not in text  # both electrodes are
    for words in ("indifferent anode: skin surface", "active cathode: skin surface"):
        assert words in text  # both pH curves of figure 2
    assert "pH at the skin surface, indifferent" in text
    assert "peak current density [mA/cm^2]" in text  # the exposure table
    assert "Anderson" in text  # a citation of the drug's source, not only its key
    assert "2026-03-02" in text  # the course


def test_pdf_pages_render_non_blank_with_their_parts(written: tuple[Path, Path]) -> None:
    doc = pymupdf.open(written[1])
    texts = [page.get_text() for page in doc]
    for page in doc:
        pix = page.get_pixmap(dpi=60, colorspace=pymupdf.csGRAY)
        pixels = np.frombuffer(pix.samples, dtype=np.uint8)
        assert (pixels < 200).mean() > 0.002, f"page {page.number} looks blank"
    everything = "\n".join(texts)
    for heading in ["Plan accepted", *SECTIONS[:3], "What is simulated", "Citations"]:
        assert heading in everything, heading
    assert "sim.burn-risk" in everything
    figure_pages = [t for t in texts if t.count("Figure ") and any(f in t for f in FIGURES)]
    assert len(figure_pages) == len(FIGURES)
    assert all(any(f in t for t in figure_pages) for f in FIGURES)
    assert "pH" in figure_pages[1] and "indifferent" in figure_pages[1]
    assert "compliance" in figure_pages[0]  # the limit drawn on the voltage
    assert "Exposure indicators" in everything


def test_exposure_table_shows_both_electrodes() -> None:
    from plan_helpers import plan_of

    from ionto.plan.predict.run import predict
    from ionto.plan.report.content import exposure_rows

    p = predict(plan_of("lidocaine-forearm"))
    rows = {r[0]: r[1:] for r in exposure_rows(p)[1:]}
    assert rows["peak current density [mA/cm^2]"] == ("0.4", "0.4")  # 4 mA, 10 cm^2 each
    assert rows["charge density [mA*min/cm^2]"] == ("4", "4")
    assert "largest pH excursion at the skin surface [-]" in rows


def test_compliance_stretches_are_shaded_on_the_time_courses() -> None:
    from plan_helpers import plan_of

    from ionto.plan.predict.run import predict
    from ionto.plan.report.figures import time_courses

    p = predict(plan_of("lidocaine-forearm", prediction={"conductance_activation": False}))
    assert p.compliance_intervals
    fig = time_courses(p)
    current_axes = fig.axes[0]
    spans = [patch for patch in current_axes.patches]
    assert len(spans) == len(p.compliance_intervals)
    labels = current_axes.get_legend_handles_labels()[1]
    assert labels == ["at the compliance voltage"]
    # drawn through dense output times: the longest stretch holds points, not only ends
    start, end = max(p.compliance_intervals, key=lambda s: s[1] - s[0])
    inside = (p.times > start) & (p.times < end)
    assert inside.sum() >= min(10, int((end - start) / 10.0) - 1)


def test_time_courses_draw_the_ramps_through_points_on_them() -> None:
    """The 30 s ramp to 4 mA is drawn through points on it, not as a kink between output
    times a minute apart."""
    from plan_helpers import plan_of

    from ionto.plan.predict.run import predict
    from ionto.plan.report.figures import ph_course, time_courses

    p = predict(plan_of("lidocaine-forearm"))
    line = time_courses(p).axes[0].lines[0]
    t = np.asarray(line.get_xdata()) * 60.0  # s
    i = np.asarray(line.get_ydata())  # mA
    ramp = (t > 0.0) & (t < 30.0)
    assert ramp.sum() >= 2
    assert np.allclose(i[ramp], 4.0 * t[ramp] / 30.0, rtol=1e-6)
    end = p.scenario.protocol_end
    down = (t > end - 30.0) & (t < end)
    assert down.sum() >= 2 and np.all((i[down] > 0.0) & (i[down] < 4.0))
    assert len(ph_course(p, {}).axes[0].lines[0].get_xdata()) == len(p.times)


def test_output_times_hold_every_segment_boundary_and_a_grid() -> None:
    from ionto.plan.predict.scenario import CURRENT_STEP, OBSERVE_STEP, output_times

    times = np.array(output_times([30.0, 533.0, 30.0], 1800.0))
    for boundary in (0.0, 30.0, 563.0, 593.0, 2393.0):
        assert boundary in times
    assert np.all(np.diff(times) > 0)
    current = times[times <= 593.0]
    assert np.diff(current).max() <= CURRENT_STEP + 1e-9
    assert np.diff(times[times >= 593.0]).max() <= OBSERVE_STEP + 1e-9
    odd = output_times([30.0, 177.8639625], 0.0)  # never past the simulated duration
    assert odd[-1] == 207.8639625 and odd[-2] < odd[-1]
    long = np.array(output_times([36000.0], 0.0))  # a 10 h wearable: coarser, bounded
    assert len(long) <= 402 and long[-1] == 36000.0


def test_table_lines_align_the_columns_within_the_page() -> None:
    from ionto.plan.report.pdf import GAP, TABLE_WIDTH, column_widths, table_lines

    rows = [
        ("input", "value", "source", "confidence", "note"),
        ("temperature", "305 K", "ionto-default", "U", "skin surface about 32 C"),
        ("reservoir_pH", "7", "ionto-default", "U", "unbuffered reservoir; " * 12),
        ("skin_type", "human", "ionto-default", "U", ""),
    ]
    widths = column_widths(rows)
    lines = table_lines(rows)
    assert all(len(text) <= TABLE_WIDTH for text, _ in lines)
    starts = [sum(widths[:k]) + len(GAP) * k for k in range(len(widths))]
    for n, row in enumerate(rows):
        first = next(text for text, m in lines if m == n)
        for start, cell in zip(starts, row, strict=True):
            assert first[start:].startswith(cell.split()[0] if cell else "")
    assert sum(m == 2 for _, m in lines) > 1  # the long note wraps within its column
    assert "ionto-default" in lines[2][0]  # short words are kept whole


def test_report_numbers_are_rounded_and_tables_aligned(written: tuple[Path, Path]) -> None:
    """The PDF's text pages (before the citations, whose DOIs and URLs hold digits) show
    no number with more than 4 significant digits, and tables are aligned columns."""
    import re

    from ionto.plan.report.content import round_numbers

    assert round_numbers("84.9798172934 mol/m^3, 6.0056695787e-10 m^2/s") == (
        "85.0 mol/m^3, 6.01e-10 m^2/s"
    )
    assert round_numbers("1200 s, 7.4, 0.0003 m, 2026-03-02") == "1200 s, 7.4, 0.0003 m, 2026-03-02"
    doc = pymupdf.open(written[1])
    text = "\n".join(page.get_text() for page in doc)
    body = text[: text.index("Citations")]
    assert "Parameter provenance" in body
    for number in re.findall(r"(?<![\w.])\d*\.\d+(?:e[-+]?\d+)?", body):
        digits = number.split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 4, number
    rows: dict[str, float] = {}
    for page in doc:
        words = page.get_text("words")  # x0, y0, x1, y1, word, block, line, number
        lines: dict[tuple[int, int], list[tuple[float, str]]] = {}
        for w in words:
            lines.setdefault((w[5], w[6]), []).append((w[0], w[4]))
        for parts in lines.values():
            parts.sort()
            if parts[0][1] in ("temperature", "tissue_pH", "observe") and len(parts) > 1:
                rows[parts[0][1]] = parts[1][0]  # where the value column starts
    assert len(rows) == 3 and max(rows.values()) - min(rows.values()) < 0.5
