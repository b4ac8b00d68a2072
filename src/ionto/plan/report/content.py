"""What a treatment report says, independent of its format (HTML or PDF).

:func:`report_content` gathers a plan, its safety report (plain and simulation-based
findings), its prediction and its course into :class:`ReportContent`: a title, the
headline numbers with units, the exposure indicators of both electrodes, the findings,
the notes on what is and is not simulated, the parameter provenance (plan library
values, prediction defaults, the skin parameter set) and the citations of every source
key used.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ionto import __version__
from ionto.core.units import format_si

if TYPE_CHECKING:
    from ionto.plan.course import Course
    from ionto.plan.plan import Plan
    from ionto.plan.predict.run import Prediction
    from ionto.plan.safety.findings import Report

Row = tuple[str, ...]

#: Significant digits a number in a report table keeps (84.9798172934 -> 85.0).
DIGITS = 3
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def _round(match: re.Match[str]) -> str:
    text = match.group(0)
    if "." not in text and "e" not in text.lower():
        return text  # an integer (a count, a year, 1200 s) stays as written
    value = float(text)
    if value == 0.0 or not math.isfinite(value):
        return text
    digits = len(text.lower().split("e")[0].lstrip("+-").replace(".", "").lstrip("0"))
    if digits <= DIGITS:
        return text
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -3 or magnitude >= 6:
        return f"{value:.{DIGITS - 1}e}"
    return f"{value:.{max(0, DIGITS - 1 - magnitude)}f}"


def round_numbers(text: str) -> str:
    """``text`` with every decimal number rounded to :data:`DIGITS` significant digits
    (integers kept): the values of the prediction's inputs are carried with 12 digits
    for the scenario file but read as 3 in a report."""
    return _NUMBER.sub(_round, text)


@dataclass
class ReportContent:
    """The parts of a report: tables are lists of rows (strings), first row the header."""

    title: str
    subtitle: str
    verdict: str
    refused: bool
    facts: list[Row]
    summary: list[Row]
    exposure: list[Row]
    findings: list[Row]
    notes: list[str]
    provenance: list[Row]
    skin: list[Row]
    course: list[Row]
    citations: list[tuple[str, str, str]]  # key, citation, url
    scenario_toml: str = ""
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    version: str = __version__


def _amount(mol: float, molar_mass: float | None) -> str:
    text = f"{mol * 1e6:.4g} umol"
    if molar_mass:
        text += f" ({mol * molar_mass * 1e9:.4g} ug)"
    return text


def _summary(p: Prediction) -> list[Row]:
    rows: list[Row] = [("quantity", "value")]
    s = p.scenario
    e = p.end
    rows += [
        (
            "current flows for",
            f"{s.protocol_end / 60:.4g} min "
            f"(then {(s.duration - s.protocol_end) / 60:.4g} min observed)",
        ),
        ("charge passed", f"{p.dose[-1] / 0.06:.4g} mA*min ({p.dose[-1]:.4g} C)"),
        ("peak current density", f"{abs(p.current).max() / p.area / 10:.4g} mA/cm^2"),
        ("peak voltage, whole circuit", f"{abs(p.voltage).max():.4g} V"),
        ("time at the compliance voltage", _compliance(p)),
        ("electrode capacity spent", "; ".join(p.exhaustion_messages()) or "no"),
        (
            "pH at the skin surface, active (min - max)",
            f"{p.pH_skin_surface.min():.2f} - {p.pH_skin_surface.max():.2f}",
        ),
        (
            "pH at the active electrode (min - max)",
            f"{p.pH_electrode.min():.2f} - {p.pH_electrode.max():.2f}",
        ),
        (
            "pH at the skin surface, indifferent (min - max)",
            f"{p.pH_indifferent_skin_surface.min():.2f} - "
            f"{p.pH_indifferent_skin_surface.max():.2f}",
        ),
        (
            "pH at the indifferent electrode (min - max)",
            f"{p.pH_indifferent_electrode.min():.2f} - {p.pH_indifferent_electrode.max():.2f}",
        ),
    ]
    drug = s.drug
    if drug is not None:
        m = drug.molar_mass
        rows += [
            (
                f"{drug.name} released from the reservoir (end of current)",
                _amount(float(p.released[e]), m),
            ),
            (f"{drug.name} in the skin (end of current)", _amount(float(p.delivered[e]), m)),
            (f"{drug.name} in the skin (end of observation)", _amount(float(p.delivered[-1]), m)),
            (f"{drug.name} taken up by the blood (end)", _amount(float(p.cleared[-1]), m)),
        ]
        if p.plasma is not None:
            peak = float(p.plasma.max())
            rows.append(
                ("peak plasma level", f"{peak * m * 1e6:.4g} ng/mL ({peak * 1e3:.4g} umol/L)")
            )
        released = float(p.released[e])
        if p.dose[e] > 0:
            rows.append(
                (
                    "drug transport number (released / charge)",
                    f"{96485.33212 * abs(drug.charge) * released / p.dose[e]:.3g}",
                )
            )
    rows += [
        (
            "simulation",
            f"{p.wall_time:.2f} s wall time, {p.result.stats.steps} steps, "
            f"balance error {p.balance_error:.1e}",
        ),
        (
            "skin",
            f"{s.skin_type}: active {s.skin_site}, indifferent {s.indifferent_site} "
            f"parameters; electrodes simulated as {s.electrode} (active) and "
            f"{s.indifferent_electrode} (indifferent)",
        ),
    ]
    return rows


def _compliance(p: Prediction) -> str:
    limit = p.scenario.compliance_voltage
    if limit is None:
        return "no compliance voltage simulated (see the notes)"
    spent = p.time_at_compliance
    if spent == 0.0:
        return f"never (limit {limit:.4g} V)"
    return f"{spent / 60:.4g} min at {limit:.4g} V in {len(p.compliance_intervals)} stretch(es)"


def exposure_rows(p: Prediction) -> list[Row]:
    """The exposure indicators (claim P10) at both electrodes, as ``sim.burn-risk`` uses
    them: the engine's peak local current density and local charge density, and the pH
    excursion at each skin surface from the prediction's pH series. (The engine's own pH
    excursion at the electrode face is not shown: it reads 3.4 at t = 0 with no current
    on the lidocaine example, a bug reported to the engine's maintainers.)"""
    rows: list[Row] = [("indicator", "active electrode", "indifferent electrode")]
    act, ind = p.site_exposure("active"), p.site_exposure("indifferent")
    rows.append(
        (
            "peak current density [mA/cm^2]",
            f"{act.get('current density', 0.0) / 10:.4g}",
            f"{ind.get('current density', 0.0) / 10:.4g}",
        )
    )
    rows.append(
        (
            "charge density [mA*min/cm^2]",
            f"{act.get('charge density', 0.0) / 600:.4g}",
            f"{ind.get('charge density', 0.0) / 600:.4g}",
        )
    )
    rows.append(
        (
            "largest pH excursion at the skin surface [-]",
            f"{p.skin_ph_excursion('active'):.3g}",
            f"{p.skin_ph_excursion('indifferent'):.3g}",
        )
    )
    return rows


def _skin_rows(p: Prediction) -> tuple[list[Row], set[str], dict[str, tuple[str, str]]]:
    from ionto.simulate.params.loader import ParameterSet

    skin = ParameterSet.builtin().load_skin(p.scenario.skin_type, p.scenario.skin_site)
    rows: list[Row] = [("skin parameter", "value", "source", "confidence")]
    keys: set[str] = set()
    cites: dict[str, tuple[str, str]] = {}
    for name, prov in sorted(skin.provenance.items()):
        value = getattr(skin, name, None)
        if value is None:
            continue
        rows.append(
            (name, format_si(float(f"{value:.4g}"), prov.unit), prov.source.key, prov.confidence)
        )
        keys.add(prov.source.key)
        cites[prov.source.key] = (prov.source.citation, prov.source.url)
    return rows, keys, cites


def report_content(
    plan: Plan,
    report: Report,
    prediction: Prediction | None,
    course: Course | None = None,
    prediction_error: str = "",
) -> ReportContent:
    """Gather everything a report shows (see the module docstring)."""
    from ionto.plan.predict.scenario import scenario_toml

    protocol = plan.protocol
    facts: list[Row] = [("item", "value")]
    facts += [
        ("modality", plan.modality.title),
        ("substance", plan.drug.title if plan.drug else "(none)"),
        ("site", plan.site or "(not given)"),
        ("polarity of the active electrode", plan.polarity or "(not given)"),
        ("active electrode", f"{plan.active.entry.title}, {plan.active.area_cm2:.4g} cm^2"),
        (
            "indifferent electrode",
            f"{plan.indifferent.entry.title}, {plan.indifferent.area_cm2:.4g} cm^2",
        ),
        ("protocol", str(protocol).replace("\n", "; ")),
    ]
    if protocol.bounded:
        facts.append(
            (
                "duration, dose",
                f"{protocol.duration / 60:.4g} min, {protocol.dose_mAmin:.4g} mA*min",
            )
        )
    findings: list[Row] = [("severity", "rule", "message", "source")]
    keys: set[str] = set()
    for f in report.findings:
        findings.append((f.severity, f.id, f.message, ", ".join(f.source)))
        keys.update(f.source)
    notes: list[str] = []
    provenance: list[Row] = [("input", "value", "source", "confidence", "note")]
    skin: list[Row] = []
    cites: dict[str, tuple[str, str]] = {}
    summary: list[Row] = []
    exposure: list[Row] = []
    toml_text = ""
    if prediction is not None:
        notes = list(prediction.notes)
        summary = _summary(prediction)
        exposure = exposure_rows(prediction)
        for a in prediction.scenario.assumptions:
            provenance.append(
                (a.name, round_numbers(a.value), ", ".join(a.source), a.confidence, a.note)
            )
            keys.update(a.source)
        skin, skin_keys, cites = _skin_rows(prediction)
        keys |= skin_keys
        toml_text = scenario_toml(prediction.scenario)
    elif prediction_error:
        notes = [f"no prediction: {prediction_error}"]
    if plan.drug is not None:
        keys.update(plan.drug.references)
    course_rows: list[Row] = []
    if course is not None:
        course_rows = [("#", "date", "day", "phase", "note")]
        course_rows += [
            (str(s.number), s.date.isoformat(), s.date.strftime("%a"), s.phase, s.note)
            for s in course.sessions
        ]
        for f in course.findings:
            findings.append((f.severity, f.id, f.message, ", ".join(f.source)))
            keys.update(f.source)
    refused = report.refused or (course is not None and course.refused)
    citations: list[tuple[str, str, str]] = []
    lib_sources = plan.library.sources
    for key in sorted(keys):
        if key in lib_sources:
            citations.append((key, lib_sources[key].citation, lib_sources[key].url or ""))
        elif key in cites:
            citations.append((key, *cites[key]))
        elif key == "plan":
            citations.append((key, f"set in the plan file {plan.source}", ""))
        else:
            from ionto.simulate.params.loader import ParameterSet

            params = ParameterSet.builtin().sources
            if key in params:
                citations.append((key, params[key].citation, params[key].url))
    return ReportContent(
        title=plan.title or plan.source,
        subtitle=f"{plan.modality.title} - plan file {plan.source}",
        verdict="REFUSED" if refused else "accepted",
        refused=refused,
        facts=facts,
        summary=summary,
        exposure=exposure,
        findings=findings,
        notes=notes,
        provenance=provenance if len(provenance) > 1 else [],
        skin=skin,
        course=course_rows,
        citations=citations,
        scenario_toml=toml_text,
    )
