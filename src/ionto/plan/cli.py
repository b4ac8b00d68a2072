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
