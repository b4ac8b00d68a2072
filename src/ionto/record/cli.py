"""The ``db`` and ``records`` commands (a typer sub-application; ``ionto.cli`` mounts them).

* ``db upgrade [REVISION]``, ``db downgrade REVISION``, ``db current``, ``db history``:
  the schema migrations;
* ``records import LOG... [--patient P] [--practitioner R] [--course C] [--plan FILE]``;
* ``records sessions list|show|export``, ``records patients add|list|show|delete|history``,
  ``records practitioners add|list``, ``records plans add|list|show``,
  ``records courses add|list|show|delete``.

Every command takes ``--db URL`` (default ``$IONTO_DB_URL``, else the SQLite file of
:func:`ionto.record.database.default_path`). Bad input (a bad URL, an unknown patient,
a malformed log) prints one line and exits 2; a refusal that protects data exits 1.
Only typer is imported at start-up; SQLAlchemy and the rest load inside the commands.
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
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

EXIT_REFUSED = 1
EXIT_CONFIG = 2

app = typer.Typer(name="record", help="Clinic records.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(
    help="The records database schema: upgrade, downgrade, current, history.",
    no_args_is_help=True,
    add_completion=False,
)
records_app = typer.Typer(
    help="Clinic records: import session logs; patients, practitioners, plans, courses.",
    no_args_is_help=True,
    add_completion=False,
)
sessions_app = typer.Typer(help="Recorded sessions.", no_args_is_help=True)
patients_app = typer.Typer(help="Patients.", no_args_is_help=True)
practitioners_app = typer.Typer(help="Practitioners.", no_args_is_help=True)
plans_app = typer.Typer(help="Protocols and plan snapshots.", no_args_is_help=True)
courses_app = typer.Typer(help="Courses and their dated sessions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(records_app, name="records")
records_app.add_typer(sessions_app, name="sessions")
records_app.add_typer(patients_app, name="patients")
records_app.add_typer(practitioners_app, name="practitioners")
records_app.add_typer(plans_app, name="plans")
records_app.add_typer(courses_app, name="courses")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="IONTO_DB_URL",
        show_envvar=True,
        help="Database URL: sqlite:///FILE or postgresql://USER@HOST/DB.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
FormatOption = Annotated[str, typer.Option("--format", help="csv or json.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output file (default stdout).")]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    from rich.text import Text

    _console(stderr=True).print(Text("error: " + " ".join(message.split()), style="bold red"))
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """ionto and database errors as one line on stderr and an exit code."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from ionto.core.errors import ConfigError, IontoError
    from ionto.record.database import RecordError

    try:
        yield
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    except RecordError as exc:
        raise _fail(str(exc), EXIT_CONFIG if exc.bad_input else EXIT_REFUSED) from None
    except IontoError as exc:
        raise _fail(str(exc), EXIT_REFUSED) from None
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()
        raise _fail(f"database: {reason[0] if reason else exc}", EXIT_REFUSED) from None
    except SQLAlchemyError as exc:
        raise _fail(f"database: {exc}", EXIT_REFUSED) from None


@contextmanager
def _records(url: str | None) -> Iterator[Session]:
    from ionto.record.store import open_records

    with _errors(), open_records(url) as db:
        yield db


@contextmanager
def _engine(url: str | None, *, create_dir: bool = False) -> Iterator[Engine]:
    """An engine on the database (errors as one line), disposed at the end."""
    from ionto.record.database import make_engine, resolve_url

    with _errors():
        engine = make_engine(resolve_url(url), create_dir=create_dir)
        try:
            yield engine
        finally:
            engine.dispose()


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        _console(stderr=True).print(f"written to {out}")


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, title=Text(title), title_justify="left")
    for row in rows:
        table.add_row(*(Text("-" if v is None else str(v)) for v in row))
    _console().print(table)


def _date(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        from ionto.core.errors import ConfigError

        raise ConfigError(field, text, None, "a date YYYY-MM-DD") from None


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    db: DbOption = None,
) -> None:
    """Apply the schema migrations (creating the database file if needed)."""
    from ionto.record import migrate
    from ionto.record.database import shown

    with _engine(db, create_dir=True) as engine:
        before = migrate.current(engine)
        after = migrate.upgrade(engine, revision)
    typer.echo(f"{shown(engine.url)}: {before or 'empty'} -> {after or 'empty'}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; base drops every table.")],
    db: DbOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: data in dropped tables is lost.")
    ] = False,
) -> None:
    """Undo schema migrations (needs --yes: tables that are dropped lose their data)."""
    from ionto.record import migrate
    from ionto.record.database import shown

    if not yes:
        raise _fail("downgrade drops tables and their data; repeat with --yes", EXIT_REFUSED)
    with _engine(db) as engine:
        before = migrate.current(engine)
        after = migrate.downgrade(engine, revision)
    typer.echo(f"{shown(engine.url)}: {before or 'empty'} -> {after or 'empty'}")


@db_app.command("current")
def db_current(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The database's schema revision and the newest one this ionto ships."""
    from ionto.record import migrate
    from ionto.record.database import shown

    with _engine(db) as engine:
        rev = migrate.current(engine)
    newest = migrate.head()
    if as_json:
        _print_json({"url": shown(engine.url), "current": rev, "head": newest})
        return
    state = "up to date" if rev == newest else "run `ionto db upgrade`"
    typer.echo(f"{shown(engine.url)}: {rev or 'empty'} (head {newest}; {state})")


@db_app.command("history")
def db_history() -> None:
    """The shipped migrations, oldest first."""
    from ionto.record import migrate

    for rev, message in migrate.revisions():
        typer.echo(f"{rev}  {' '.join(message.split())}")


# ------------------------------------------------------------------ import


@records_app.command("import")
def records_import(
    logs: Annotated[list[Path], typer.Argument(help="Session log files (.jsonl).")],
    patient: Annotated[str | None, typer.Option(help="Patient id or code.")] = None,
    practitioner: Annotated[
        str | None, typer.Option(help="Practitioner id or registration.")
    ] = None,
    course: Annotated[str | None, typer.Option(help="Course id the sessions belong to.")] = None,
    plan: Annotated[Path | None, typer.Option(help="The plan file the session ran.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import session logs, complete or interrupted (idempotent: a log imported again
    changes nothing; one that grew is brought up to date)."""
    from ionto.record import store
    from ionto.record.importer import import_log

    results = []
    with _records(db) as session:
        who = store.find_patient(session, patient) if patient is not None else None
        by = store.find_practitioner(session, practitioner) if practitioner else None
        within = store.find_course(session, course) if course is not None else None
        for log in logs:
            results.append(
                import_log(
                    session, log, patient=who, practitioner=by, course=within, plan_file=plan
                )
            )
    if as_json:
        _print_json(
            [
                {
                    "log": str(r.path),
                    "uid": r.uid,
                    "action": r.action,
                    "status": r.status,
                    "delivered_mAmin": r.delivered_ma_min,
                    "measurements_added": r.measurements_added,
                    "events_added": r.events_added,
                }
                for r in results
            ]
        )
        return
    for r in results:
        typer.echo(
            f"{r.uid[:8]} {r.action}: {r.status}, {r.delivered_ma_min:.3f} mA*min "
            f"(+{r.measurements_added} periods, +{r.events_added} events) from {r.path}"
        )


# ------------------------------------------------------------------ sessions


@sessions_app.command("list")
def sessions_list(
    patient: Annotated[str | None, typer.Option(help="Only this patient's (id or code).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recorded sessions, oldest first."""
    from ionto.record import store
    from ionto.record.export import session_dict

    with _records(db) as session:
        who = store.find_patient(session, patient) if patient is not None else None
        rows = [session_dict(s) for s in store.list_sessions(session, who)]
    if as_json:
        _print_json(rows)
        return
    _table(
        "Recorded sessions",
        ["uid", "started (UTC)", "patient", "title", "status", "dose mA*min", "time s"],
        [
            [
                r["uid"][:8],
                r["started_at"][:19],
                r["patient"],
                r["title"],
                r["status"],
                f"{r['delivered_mAmin']:.3f}",
                f"{r['last_t_s']:.1f}",
            ]
            for r in rows
        ],
    )


@sessions_app.command("show")
def sessions_show(
    uid: Annotated[str, typer.Argument(help="Session uid (a unique prefix is enough).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One recorded session: its summary, protocol and events."""
    from ionto.record import store
    from ionto.record.export import session_dict

    with _records(db) as session:
        info = session_dict(store.find_session(session, uid), events=True)
    if as_json:
        _print_json(info)
        return
    console = _console()
    for key, value in info.items():
        if key not in ("events", "protocol"):
            console.print(f"{key:17s} {value}", markup=False)
    console.print("protocol:\n  " + info["protocol"].replace("\n", "\n  "), markup=False)
    for e in info["events"]:
        console.print(f"{e['t_s']:8.1f} s  {e['kind']:10s} {e['message']}", markup=False)


@sessions_app.command("export")
def sessions_export(
    uid: Annotated[str, typer.Argument(help="Session uid (a unique prefix is enough).")],
    fmt: FormatOption = "csv",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """A recorded session's measurements (one row per control period)."""
    from ionto.record import store
    from ionto.record.export import check_format, measurements_text

    with _errors():
        check_format(fmt)
    with _records(db) as session:
        text = measurements_text(session, store.find_session(session, uid), fmt)
    _write(text, out)


# ------------------------------------------------------------------ patients


@patients_app.command("add")
def patients_add(
    name: Annotated[str, typer.Argument(help="Full name.")],
    code: Annotated[str, typer.Option(help="The clinic's patient identifier (unique).")],
    birth: Annotated[str | None, typer.Option(help="Birth date YYYY-MM-DD.")] = None,
    notes: Annotated[str, typer.Option(help="Free text.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a patient."""
    from ionto.record import store
    from ionto.record.export import patient_dict

    with _records(db) as session:
        birth_date = _date(birth, "--birth")
        info = patient_dict(store.add_patient(session, code, name, birth_date, notes))
    if as_json:
        _print_json(info)
    else:
        typer.echo(f"patient {info['id']} ({info['code']}): {info['name']}")


@patients_app.command("list")
def patients_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every patient."""
    from ionto.record import store
    from ionto.record.export import patient_dict

    with _records(db) as session:
        counts = store.session_counts(session)
        rows = [
            {**patient_dict(p), "sessions": counts.get(p.id, 0)}
            for p in store.list_patients(session)
        ]
    if as_json:
        _print_json(rows)
        return
    _table(
        "Patients",
        ["id", "code", "name", "born", "sessions"],
        [[r["id"], r["code"], r["name"], r["birth_date"], r["sessions"]] for r in rows],
    )


@patients_app.command("show")
def patients_show(
    patient: Annotated[str, typer.Argument(help="Patient id or code.")],
    db: DbOption = None,
) -> None:
    """A patient with their courses and sessions (JSON)."""
    from ionto.record import store
    from ionto.record.export import history

    with _records(db) as session:
        info = history(session, store.find_patient(session, patient))
    _print_json(info)


@patients_app.command("delete")
def patients_delete(
    patient: Annotated[str, typer.Argument(help="Patient id or code.")],
    db: DbOption = None,
) -> None:
    """Delete a patient; refused (exit 1) when they have sessions or courses."""
    from ionto.record import store

    with _records(db) as session:
        gone = store.delete_patient(session, patient)
        code = gone.code
    typer.echo(f"patient {code} deleted")


@patients_app.command("history")
def patients_history(
    patient: Annotated[str, typer.Argument(help="Patient id or code.")],
    fmt: FormatOption = "json",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """A patient's history: JSON (everything) or CSV (one row per session)."""
    from ionto.record import store
    from ionto.record.export import check_format, history_text

    with _errors():
        check_format(fmt)
    with _records(db) as session:
        text = history_text(session, store.find_patient(session, patient), fmt)
    _write(text, out)


# ------------------------------------------------------------------ practitioners


@practitioners_app.command("add")
def practitioners_add(
    name: Annotated[str, typer.Argument(help="Full name.")],
    registration: Annotated[str | None, typer.Option(help="Licence number (unique).")] = None,
    db: DbOption = None,
) -> None:
    """Add a practitioner."""
    from ionto.record import store

    with _records(db) as session:
        p = store.add_practitioner(session, name, registration)
        text = f"practitioner {p.id}: {p.name}"
    typer.echo(text)


@practitioners_app.command("list")
def practitioners_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every practitioner."""
    from ionto.record import store

    with _records(db) as session:
        rows = [
            {"id": p.id, "name": p.name, "registration": p.registration}
            for p in store.list_practitioners(session)
        ]
    if as_json:
        _print_json(rows)
        return
    _table("Practitioners", ["id", "name", "registration"], [list(r.values()) for r in rows])


# ------------------------------------------------------------------ plans


def _protocol_dict(p: Any, full: bool = False) -> dict[str, Any]:
    out = {
        "id": p.id,
        "digest": p.digest,
        "title": p.title,
        "modality": p.modality,
        "drug": p.drug,
        "site": p.site,
        "polarity": p.polarity,
        "target_dose_mAmin": p.target_dose_ma_min,
        "plan_file": p.plan_file,
        "protocol": p.protocol_text,
    }
    if full:
        out["plan_toml"] = p.plan_toml
    return out


@plans_app.command("add")
def plans_add(
    plan: Annotated[Path, typer.Argument(help="Plan TOML file.")],
    db: DbOption = None,
) -> None:
    """Store a plan: its protocol text and a snapshot of the file."""
    from ionto.record import store

    with _records(db) as session:
        p = store.add_plan(session, plan)
        text = f"protocol {p.id} ({p.digest[:12]}): {p.title or p.protocol_text.splitlines()[0]}"
    typer.echo(text)


@plans_app.command("list")
def plans_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every stored protocol."""
    from ionto.record import store

    with _records(db) as session:
        rows = [_protocol_dict(p) for p in store.list_protocols(session)]
    if as_json:
        _print_json(rows)
        return
    _table(
        "Protocols",
        ["id", "digest", "title", "modality", "dose mA*min", "plan file"],
        [
            [
                r["id"],
                r["digest"][:12],
                r["title"],
                r["modality"],
                r["target_dose_mAmin"],
                r["plan_file"],
            ]
            for r in rows
        ],
    )


@plans_app.command("show")
def plans_show(
    protocol: Annotated[str, typer.Argument(help="Protocol id or digest prefix.")],
    toml: Annotated[bool, typer.Option("--toml", help="Print only the plan snapshot.")] = False,
    db: DbOption = None,
) -> None:
    """A stored protocol with its plan snapshot (JSON), or the snapshot alone (--toml)."""
    from ionto.record import store

    with _records(db) as session:
        info = _protocol_dict(store.find_protocol(session, protocol), full=True)
    if toml:
        if info["plan_toml"] is None:
            raise _fail(f"protocol {info['id']} has no plan snapshot", EXIT_REFUSED)
        sys.stdout.write(info["plan_toml"])
        return
    _print_json(info)


# ------------------------------------------------------------------ courses


@courses_app.command("add")
def courses_add(
    plan: Annotated[Path, typer.Argument(help="Plan TOML file with a [course] table.")],
    patient: Annotated[str, typer.Option(help="Patient id or code.")],
    practitioner: Annotated[
        str | None, typer.Option(help="Practitioner id or registration.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule a patient's course from a plan and store it with its dated sessions."""
    from ionto.record import store
    from ionto.record.export import course_dict

    with _records(db) as session:
        who = store.find_patient(session, patient)
        by = store.find_practitioner(session, practitioner) if practitioner else None
        info = course_dict(store.add_course(session, who, plan, by))
    if as_json:
        _print_json(info)
        return
    dates = ", ".join(s["date"] for s in info["schedule"])
    typer.echo(
        f"course {info['id']} for {info['patient']}: {len(info['schedule'])} sessions ({dates})"
    )


@courses_app.command("list")
def courses_list(
    patient: Annotated[str | None, typer.Option(help="Only this patient's.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Courses with how many of their sessions are recorded."""
    from ionto.record import store
    from ionto.record.export import course_dict

    with _records(db) as session:
        who = store.find_patient(session, patient) if patient is not None else None
        rows = [course_dict(c) for c in store.list_courses(session, who)]
    if as_json:
        _print_json(rows)
        return
    _table(
        "Courses",
        ["id", "patient", "title", "modality", "start", "done"],
        [
            [
                r["id"],
                r["patient"],
                r["title"],
                r["modality"],
                r["start_date"],
                f"{sum(bool(s['sessions']) for s in r['schedule'])}/{len(r['schedule'])}",
            ]
            for r in rows
        ],
    )


@courses_app.command("show")
def courses_show(
    course: Annotated[str, typer.Argument(help="Course id.")],
    db: DbOption = None,
) -> None:
    """A course and its schedule (JSON)."""
    from ionto.record import store
    from ionto.record.export import course_dict

    with _records(db) as session:
        info = course_dict(store.find_course(session, course))
    _print_json(info)


@courses_app.command("delete")
def courses_delete(
    course: Annotated[str, typer.Argument(help="Course id.")],
    db: DbOption = None,
) -> None:
    """Delete a course and its schedule; refused (exit 1) once a session is recorded in it."""
    from ionto.record import store

    with _records(db) as session:
        store.delete_course(session, store.find_course(session, course))
    typer.echo(f"course {course} deleted")
