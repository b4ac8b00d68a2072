"""The ``plan`` commands (a typer sub-application; ``ionto.cli`` mounts it as ``ionto plan``).

* ``library list [KIND] [--extra FILE ...] [--json]``: drugs, electrodes, modalities, sources;
* ``library show NAME [--extra FILE ...] [--json]``: one entry with its values and sources;
* ``library validate FILE ... [--json]``: check user library files (as strictly as the
  built-in ones, duplicates included);
* ``check PLAN.toml [--library FILE ...] [--json]``: the safety check; exit 1 if refused;
* ``schedule [PLAN.toml] [--modality NAME --start DATE --age N] [overrides] [--ics FILE]
  [--json]``: the dated course.

Every command prints rich tables, or one JSON object with ``--json``. Bad input prints
``error: ...`` on stderr (a protocol syntax error with its line and caret) and exits 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ionto.plan.library import Library

EXIT_REFUSED = 1
EXIT_CONFIG = 2

app = typer.Typer(
    name="plan",
    help="Plan treatments: libraries, safety checks and course schedules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
library_app = typer.Typer(
    name="library", help="Drugs, electrodes, modalities and sources.", no_args_is_help=True
)
app.add_typer(library_app, name="library")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ExtraOption = Annotated[
    list[Path] | None, typer.Option("--extra", "--library", help="Extra library TOML file.")
]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False)


@contextmanager
def _user_errors() -> Iterator[None]:
    """ConfigError -> ``error: ...`` on stderr and exit 2; other ionto errors exit 1."""
    from rich.text import Text

    from ionto.core.errors import ConfigError, IontoError
    from ionto.plan.protocol.errors import ProtocolSyntaxError

    try:
        yield
    except ProtocolSyntaxError as exc:
        _console(True).print(Text("error: " + str(exc), style="bold red"))
        raise typer.Exit(EXIT_CONFIG) from None
    except ConfigError as exc:
        _console(True).print(Text("error: " + " ".join(str(exc).split()), style="bold red"))
        raise typer.Exit(EXIT_CONFIG) from None
    except IontoError as exc:
        _console(True).print(Text("error: " + " ".join(str(exc).split()), style="bold red"))
        raise typer.Exit(EXIT_REFUSED) from None


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def _library(extra: list[Path] | None) -> Library:
    from ionto.plan.library import Library, builtin_library

    return Library.load(extra) if extra else builtin_library()


# ------------------------------------------------------------------ library

KINDS = {"drugs": "drug", "electrodes": "electrode", "modalities": "modality", "sources": "source"}


def _summary(kind: str, entry: Any) -> str:
    if kind == "drug":
        charge = "/".join(f"{z:+d}" for z in entry.charge.value)
        conc = f", {entry.concentration.value}" if entry.concentration else ""
        return f"charge {charge}, {entry.polarity.value}{conc}"
    if kind == "electrode":
        area = entry.area.value if entry.area else "area per plan"
        capacity = f", {entry.capacity.value}" if entry.capacity else ""
        return f"{entry.material}, {entry.reservoir}, {area}{capacity}"
    if kind == "modality":
        dose = f", dose <= {entry.dose_max.value}" if entry.dose_max else ""
        return f"{entry.purpose}, current <= {entry.current_max.value}{dose}"
    return str(entry.citation)[:70]


@library_app.command("list")
def library_list(
    kind: Annotated[
        str | None,
        typer.Argument(help="drugs, electrodes, modalities or sources (default: all but sources)."),
    ] = None,
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """List library entries."""
    with _user_errors():
        from ionto.core.config import suggest
        from ionto.core.errors import ConfigError

        if kind is not None and kind not in KINDS:
            raise ConfigError(
                "KIND",
                kind,
                None,
                "one of: " + ", ".join(KINDS),
                f"no kind {kind!r}{suggest(kind, KINDS)}",
            )
        lib = _library(extra)
        kinds = [KINDS[kind]] if kind else ["drug", "electrode", "modality"]
        rows = [
            (k, name, getattr(entry, "title", ""), _summary(k, entry))
            for k in kinds
            for name, entry in lib.table(k).items()
        ]
    if json_output:
        _print_json([{"kind": k, "name": n, "title": t, "summary": s} for k, n, t, s in rows])
        return
    from rich.table import Table

    table = Table(title="ionto library", title_justify="left")
    for column in ("kind", "name", "title", "summary"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    _console().print(table)


@library_app.command("show")
def library_show(
    name: Annotated[
        str, typer.Argument(help="Entry name (drug, electrode, modality or source key).")
    ],
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one entry with its values, units and sources."""
    with _user_errors():
        from ionto.core.config import suggest
        from ionto.core.errors import ConfigError

        lib = _library(extra)
        found = [
            (k, lib.table(k)[name])
            for k in ("drug", "electrode", "modality", "source")
            if name in lib.table(k)
        ]
        if not found:
            every = [n for k in ("drug", "electrode", "modality", "source") for n in lib.table(k)]
            raise ConfigError(
                "NAME",
                name,
                None,
                "a library entry (plan library list)",
                f"no entry {name!r}{suggest(name, every)}",
            )
    kind, entry = found[0]
    data = entry.model_dump(mode="json", by_alias=True)  # type: ignore[attr-defined]
    keys = sorted({k for _, v in _cited(data) for k in v})
    citations = {k: lib.sources[k].citation for k in keys if k in lib.sources}
    if json_output:
        _print_json(
            {
                "kind": kind,
                "origin": lib.origin.get((kind, name), ""),
                "entry": data,
                "sources": citations,
            }
        )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{kind} {name}"), title_justify="left", show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(Text(key), Text(_text(value)))
    console = _console()
    console.print(table)
    for key, citation in citations.items():
        console.print(Text(f"[{key}] {citation}"))


def _text(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        extra = [f"{value.get('confidence', '')}", ",".join(value.get("source", []))]
        text = f"{value['value']} ({' '.join(e for e in extra if e)})"
        if value.get("options"):
            text += "; options: " + ", ".join(
                f"{k} = {v['value']}" for k, v in value["options"].items()
            )
        return text
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def _cited(value: Any) -> Iterator[tuple[str, list[str]]]:
    if isinstance(value, dict):
        if isinstance(value.get("source"), list):
            yield "source", value["source"]
        for item in value.values():
            yield from _cited(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cited(item)


@library_app.command("validate")
def library_validate(
    files: Annotated[list[Path], typer.Argument(help="Library TOML files to check.")],
    json_output: JsonOption = False,
) -> None:
    """Validate library files against the schema and the built-in library."""
    with _user_errors():
        from ionto.plan.library import Library, read_library_file

        lib = Library.load(files)
        counts: dict[str, dict[str, int]] = {}
        for file in files:
            content = read_library_file(file)
            counts[str(file)] = {
                "drugs": len(content.drug),
                "electrodes": len(content.electrode),
                "modalities": len(content.modality),
                "sources": len(content.sources),
            }
    if json_output:
        _print_json(
            {
                "valid": True,
                "files": counts,
                "total": {k: len(lib.table(v)) for k, v in KINDS.items()},
            }
        )
        return
    for path, c in counts.items():
        typer.echo(
            f"{path}: ok ({c['drugs']} drugs, {c['electrodes']} electrodes, "
            f"{c['modalities']} modalities, {c['sources']} sources)"
        )


# ------------------------------------------------------------------ check


@app.command("check")
def check(
    plan_file: Annotated[Path, typer.Argument(help="Plan TOML file (see docs/planning.md).")],
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check a plan against the safety rules; exit code 1 when it is refused."""
    with _user_errors():
        from ionto.plan.plan import load_plan
        from ionto.plan.safety import check_plan

        plan = load_plan(plan_file, extra or ())
        report = check_plan(plan)
        protocol = plan.protocol
        facts: dict[str, Any] = {"peak_current_mA": protocol.peak_current * 1e3}
        if protocol.bounded:
            facts |= {
                "duration_s": protocol.duration,
                "dose_mAmin": protocol.dose_mAmin,
                "net_charge_C": protocol.charge.net,
            }
    if json_output:
        _print_json(report.to_dict() | {"protocol": str(protocol), "facts": facts})
    else:
        _print_report(report, facts)
    if report.refused:
        raise typer.Exit(EXIT_REFUSED)


def _print_report(report: Any, facts: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    console = _console()
    summary = ", ".join(f"{k} = {v:.6g}" for k, v in facts.items())
    console.print(Text(f"{report.plan}: {summary}"))
    if report.findings:
        table = Table(title="Findings", title_justify="left")
        for column in ("severity", "rule", "message", "source"):
            table.add_column(column)
        styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        for f in report.findings:
            table.add_row(
                Text(f.severity, style=styles[f.severity]),
                Text(f.id),
                Text(f.message),
                Text(", ".join(f.source)),
            )
        console.print(table)
    verdict = "REFUSED" if report.refused else "accepted"
    console.print(Text(f"plan {verdict}", style="bold red" if report.refused else "bold green"))


# ------------------------------------------------------------------ schedule


def _date(text: str, field: str) -> dt.date:
    from ionto.core.errors import ConfigError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            field, text, None, "a date YYYY-MM-DD", f"{text!r} is not a date"
        ) from None


@app.command("schedule")
def schedule(
    plan_file: Annotated[
        Path | None, typer.Argument(help="Plan TOML file with a [course] table.")
    ] = None,
    modality: Annotated[str | None, typer.Option(help="Modality (without a plan file).")] = None,
    start: Annotated[str | None, typer.Option(help="First session, YYYY-MM-DD.")] = None,
    age: Annotated[float | None, typer.Option(help="Client's age in years.")] = None,
    sessions: Annotated[int | None, typer.Option(help="Sessions in the initial series.")] = None,
    per_week: Annotated[int | None, typer.Option(help="Custom frequency: sessions a week.")] = None,
    every: Annotated[
        int | None, typer.Option(help="Custom frequency: one session every N days.")
    ] = None,
    maintenance: Annotated[
        int | None, typer.Option(help="Maintenance sessions after the series.")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option(help="Skip a session date (repeatable).")
    ] = None,
    move: Annotated[
        list[str] | None, typer.Option(help="Move a session: FROM:TO (repeatable).")
    ] = None,
    add: Annotated[list[str] | None, typer.Option(help="Add a session date (repeatable).")] = None,
    ics: Annotated[Path | None, typer.Option(help="Write the course as an iCalendar file.")] = None,
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """Dated course of sessions from the modality's rules and practitioner overrides."""
    with _user_errors():
        from ionto.core.errors import ConfigError
        from ionto.plan.course import Overrides, course_from_plan
        from ionto.plan.course import schedule as make_schedule

        moves = []
        for k, text in enumerate(move or []):
            if ":" not in text:
                raise ConfigError(
                    f"--move[{k}]", text, None, "FROM:TO dates", f"{text!r} is not FROM:TO"
                )
            a, b = text.split(":", 1)
            moves.append((_date(a, f"--move[{k}]"), _date(b, f"--move[{k}]")))
        overrides = Overrides(
            sessions=sessions,
            per_week=per_week,
            every_days=every,
            maintenance_sessions=maintenance,
            skip=tuple(_date(d, "--skip") for d in skip or []),
            move=tuple(moves),
            add=tuple(_date(d, "--add") for d in add or []),
        )
        if plan_file is not None:
            from ionto.plan.plan import load_plan

            plan = load_plan(plan_file, extra or ())
            if start is not None and plan.course is not None:
                plan = _with_start(plan, _date(start, "--start"))
            course = course_from_plan(plan, overrides)
        else:
            if modality is None or start is None:
                raise ConfigError(
                    "schedule",
                    None,
                    None,
                    "PLAN.toml, or --modality and --start",
                    "give a plan file or --modality and --start",
                )
            entry = _library(extra).modality(modality, "--modality")
            course = make_schedule(entry, _date(start, "--start"), age=age, overrides=overrides)
        if ics is not None:
            ics.parent.mkdir(parents=True, exist_ok=True)
            ics.write_bytes(course.to_ical())
    if json_output:
        _print_json(course.to_dict() | ({"ics": str(ics)} if ics else {}))
    else:
        _print_course(course, ics)
    if course.refused:
        raise typer.Exit(EXIT_REFUSED)


def _with_start(plan: Any, start: dt.date) -> Any:
    from dataclasses import replace

    return replace(plan, course=plan.course.model_copy(update={"start": start}))


def _print_course(course: Any, ics: Path | None) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text(f"{course.title or course.modality}: {len(course.sessions)} sessions"),
        title_justify="left",
    )
    for column in ("#", "date", "day", "phase", "note"):
        table.add_column(column)
    for s in course.sessions:
        table.add_row(
            str(s.number), s.date.isoformat(), s.date.strftime("%a"), s.phase, Text(s.note)
        )
    console = _console()
    console.print(table)
    for f in course.findings:
        console.print(
            Text(
                f"{f.severity}: {f.id}: {f.message}",
                style="bold red" if f.severity == "error" else "yellow",
            )
        )
    if ics is not None:
        console.print(Text(f"iCalendar written to {ics}"))


# ------------------------------------------------------------------ plan (check + predict)


class _Progress:
    """A rich progress bar for the simulations, shown once they pass ~1 s of wall time."""

    def __init__(self, label: str, delay: float = 1.0) -> None:
        import time

        self._clock = time.perf_counter
        self._start = self._clock()
        self._delay = delay
        self._label = label
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, t: float, t_end: float) -> None:
        if self._bar is None:
            if self._clock() - self._start < self._delay:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = _console(True)
            if not console.is_terminal:
                return
            self._bar = Progress(
                TextColumn(self._label),
                BarColumn(),
                TextColumn("t = {task.completed:.0f} / {task.total:.0f} s"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=t_end)
        self._bar.update(self._task, completed=t, total=t_end)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _target_amount(text: str, plan: Any) -> float:
    """A target amount (mol) from ``"2 umol"`` or a mass (``"500 ug"``, needs the drug's
    molecular weight)."""
    from ionto.core.errors import ConfigError
    from ionto.core.units import parse_quantity

    try:
        return parse_quantity(text, "mol", "--target")
    except ConfigError:
        mass = parse_quantity(text, "kg", "--target")  # ConfigError names both if neither
        if plan.drug is None or plan.drug.molecular_weight is None:
            raise ConfigError(
                "--target", text, "mol", "an amount (mol) for a drug without a molecular weight"
            ) from None
        return mass / plan.drug.molecular_weight.si


@app.command("plan")
def plan_command(
    plan_file: Annotated[Path, typer.Argument(help="Plan TOML file (see docs/planning.md).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report (self-contained).")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report.")] = None,
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Write the generated scenario TOML.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help='Find the dose that delivers this into the skin, e.g. "2 umol".'
        ),
    ] = None,
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check, predict (simulate the active site) and schedule a plan; exit 1 if refused."""
    progress = _Progress("simulating")
    prediction_error = ""
    dose_result = None
    try:
        with _user_errors():
            from ionto.core.errors import ConfigError, SolverError
            from ionto.plan.plan import load_plan
            from ionto.plan.predict.checks import SimulationCheck
            from ionto.plan.safety import check_plan

            plan = load_plan(plan_file, extra or ())
            if target is not None:
                from ionto.plan.predict.dose import find_dose

                amount = _target_amount(target, plan)
                dose_result = find_dose(plan, amount, progress, check=False)
                if dose_result.plan is not None:
                    plan = dose_result.plan
            found = dose_result.prediction if dose_result is not None else None
            sim = SimulationCheck(prediction=found, progress=progress)
            try:
                safety = check_plan(plan, extra=[sim])
            except (ConfigError, SolverError) as exc:
                prediction_error = " ".join(str(exc).split())
                safety = check_plan(plan)
            prediction = sim.prediction if not prediction_error else None
            course = None
            if plan.course is not None:
                from ionto.plan.course import course_from_plan

                course = course_from_plan(plan)
            if scenario is not None and prediction is not None:
                from ionto.plan.predict.scenario import scenario_toml

                scenario.parent.mkdir(parents=True, exist_ok=True)
                scenario.write_text(scenario_toml(prediction.scenario))
            written: dict[str, str] = {}
            if report is not None or pdf is not None:
                from ionto.plan.report import build_report

                document = build_report(plan, safety, prediction, course, prediction_error)
                if report is not None:
                    written["report"] = str(document.write_html(report))
                if pdf is not None:
                    written["pdf"] = str(document.write_pdf(pdf))
            if scenario is not None and prediction is not None:
                written["scenario"] = str(scenario)
    finally:
        progress.close()
    refused = safety.refused or (course is not None and course.refused)
    if dose_result is not None and dose_result.refused:
        refused = True
    if json_output:
        out: dict[str, Any] = safety.to_dict() | {
            "refused": refused,
            "protocol": str(plan.protocol),
        }
        out["prediction"] = prediction.to_dict() if prediction is not None else None
        out["prediction_error"] = prediction_error
        out["course"] = course.to_dict() if course is not None else None
        out["dose_finder"] = dose_result.to_dict() if dose_result is not None else None
        out["written"] = written
        _print_json(out)
    else:
        _print_plan(plan, safety, prediction, prediction_error, course, dose_result, written)
    if refused:
        raise typer.Exit(EXIT_REFUSED)


def _print_plan(
    plan: Any,
    safety: Any,
    prediction: Any,
    prediction_error: str,
    course: Any,
    dose_result: Any,
    written: dict[str, str],
) -> None:
    from rich.table import Table
    from rich.text import Text

    console = _console()
    protocol = plan.protocol
    facts: dict[str, Any] = {"peak_current_mA": protocol.peak_current * 1e3}
    if protocol.bounded:
        facts |= {"duration_s": protocol.duration, "dose_mAmin": protocol.dose_mAmin}
    if dose_result is not None:
        _print_dose(dose_result)
    if prediction is not None:
        from ionto.plan.report.content import _summary

        table = Table(
            title=Text(f"Prediction (both electrodes): {plan.title}"), title_justify="left"
        )
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for name, value in _summary(prediction)[1:]:
            table.add_row(Text(name), Text(value))
        console.print(table)
        for note in prediction.notes:
            console.print(Text(f"note: {note}", style="dim"))
    elif prediction_error:
        console.print(Text(f"no prediction: {prediction_error}", style="yellow"))
    if course is not None:
        dates = ", ".join(s.date.isoformat() for s in course.sessions[:6])
        more = " ..." if len(course.sessions) > 6 else ""
        console.print(Text(f"course: {len(course.sessions)} sessions: {dates}{more}"))
        for f in course.findings:
            console.print(Text(f"{f.severity}: {f.id}: {f.message}"))
    _print_report(safety, facts)
    for kind, path in written.items():
        console.print(Text(f"{kind} written to {path}"))


def _print_dose(result: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    console = _console()
    table = Table(
        title=Text(f"Dose finder: {result.target * 1e6:.4g} umol into the skin"),
        title_justify="left",
    )
    table.add_column("hold charge [mA*min]", justify="right")
    table.add_column("delivered [umol]", justify="right")
    for hold, delivered in result.evaluations:
        table.add_row(f"{hold / 0.06:.5g}", f"{delivered * 1e6:.5g}")
    console.print(table)
    for name, text in result.limits.items():
        console.print(Text(f"limit: {name}: {text}", style="dim"))
    if result.refused:
        console.print(Text(f"dose finder: {result.reason}", style="bold red"))
    else:
        p = result.plan.protocol
        console.print(
            Text(
                f"found: {str(p).replace(chr(10), '; ')} ({p.dose_mAmin:.4g} mA*min, "
                f"{p.duration / 60:.4g} min)",
                style="bold green",
            )
        )


@app.command("dose")
def dose_command(
    plan_file: Annotated[
        Path | None, typer.Argument(help="Plan TOML file (with --target).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help='Amount into the skin, e.g. "2 umol" or "500 ug".')
    ] = None,
    current: Annotated[str | None, typer.Option(help='Current, e.g. "4 mA".')] = None,
    duration: Annotated[str | None, typer.Option(help='Duration, e.g. "10 min".')] = None,
    dose: Annotated[str | None, typer.Option(help='Dose, e.g. "40 mA*min".')] = None,
    density: Annotated[
        str | None, typer.Option(help='Current density for electrode sizing, e.g. "0.5 mA/cm^2".')
    ] = None,
    extra: ExtraOption = None,
    json_output: JsonOption = False,
) -> None:
    """Dose finder (PLAN --target AMOUNT) or calculator (two of --current/--duration/--dose;
    --density sizes the electrode for the current)."""
    progress = _Progress("finding the dose")
    try:
        with _user_errors():
            from ionto.core.errors import ConfigError
            from ionto.core.units import parse_quantity

            if plan_file is not None:
                from ionto.plan.plan import load_plan
                from ionto.plan.predict.dose import find_dose

                if target is None:
                    raise ConfigError("--target", None, "mol", 'an amount, e.g. "2 umol"')
                plan = load_plan(plan_file, extra or ())
                result = find_dose(plan, _target_amount(target, plan), progress)
            else:
                from ionto.plan.predict.dose import calculate, electrode_area

                values = calculate(
                    parse_quantity(current, "A", "--current") if current else None,
                    parse_quantity(duration, "s", "--duration") if duration else None,
                    parse_quantity(dose, "C", "--dose") if dose else None,
                )
                if density is not None:
                    values["area"] = electrode_area(
                        values["current"], parse_quantity(density, "A/m^2", "--density")
                    )
                    values["density"] = parse_quantity(density, "A/m^2", "--density")
                result = None
    finally:
        progress.close()
    if result is None:
        shown = {
            "current": f"{values['current'] * 1e3:.6g} mA",
            "duration": f"{values['duration'] / 60:.6g} min",
            "dose": f"{values['dose'] / 0.06:.6g} mA*min",
        }
        if "area" in values:
            shown["electrode area"] = f"{values['area'] * 1e4:.6g} cm^2"
        if json_output:
            _print_json({k: v for k, v in values.items()} | {"shown": shown})
        else:
            for key, text in shown.items():
                typer.echo(f"{key}: {text}")
        return
    if json_output:
        _print_json(result.to_dict())
    else:
        _print_dose(result)
    if result.refused:
        raise typer.Exit(EXIT_REFUSED)
