"""Patients, practitioners, protocols and courses: adding, finding, listing and the rules
that keep records from being lost.

Every function takes an open SQLAlchemy ORM session (called ``db`` here, to keep it
apart from treatment sessions) and leaves committing to the caller (:func:`open_records`
commits on success and rolls back on an error). A record that does not exist, or a
change that would lose data, raises :class:`ionto.record.database.RecordError` with the
reason in one line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from ionto.core.errors import ConfigError
from ionto.record.database import RecordError, make_engine, resolve_url
from ionto.record.models import (
    Course,
    Patient,
    Practitioner,
    Protocol,
    ScheduledSession,
    TreatmentSession,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ionto.plan.plan import Plan

_Row = TypeVar("_Row", Patient, Practitioner)


@contextmanager
def open_records(url: str | None = None) -> Iterator[Session]:
    """An ORM session on the records at ``url`` (see :func:`resolve_url`), with the
    schema made ready first (:func:`ionto.record.migrate.ready`). Commits when the block
    ends normally, rolls back on an exception."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from ionto.record.database import connection_error, default_url
    from ionto.record.migrate import ready

    text = resolve_url(url)
    engine = make_engine(text, create_dir=text == default_url())
    try:
        ready(engine)
        with Session(engine) as db:
            try:
                yield db
                db.commit()
            except DBAPIError as exc:
                db.rollback()
                if exc.connection_invalidated:
                    raise connection_error(engine.url, exc) from None
                raise
            except BaseException:
                db.rollback()
                raise
    finally:
        engine.dispose()


# ------------------------------------------------------------------ patients


def add_patient(
    db: Session, code: str, name: str, birth_date: dt.date | None = None, notes: str = ""
) -> Patient:
    """A new patient; ``code`` (the clinic's identifier) must be new and not empty."""
    code = code.strip()
    if not code:
        raise ConfigError("--code", code, None, "a non-empty identifier", "empty patient code")
    if code.isdigit():
        raise ConfigError(
            "--code", code, None, "an identifier with a letter", "digits alone are record ids"
        )
    if not name.strip():
        raise ConfigError("NAME", name, None, "a non-empty name", "empty patient name")
    existing = db.scalar(select(Patient).where(Patient.code == code))
    if existing is not None:
        raise RecordError(f"a patient with code {code!r} exists already (id {existing.id})")
    patient = Patient(code=code, name=name.strip(), birth_date=birth_date, notes=notes)
    db.add(patient)
    db.flush()
    return patient


def _by_key_or_id(
    db: Session, model: type[_Row], key: Any, ref: str | int, what: str, key_name: str
) -> _Row:
    """The ``model`` row whose unique ``key`` column equals ``ref``, or whose id is ``ref``
    (digits); a RecordError naming the command that lists them otherwise."""
    text = str(ref).strip()
    found = db.scalar(select(model).where(key == text))
    if found is None and text.isdigit():
        found = db.get(model, int(text))
    if found is None:
        raise RecordError(
            f"unknown {what} {text!r}: no {what} has that id or {key_name} "
            f"(`ionto records {what}s list` shows them)"
        )
    return found


def find_patient(db: Session, ref: str | int) -> Patient:
    """The patient whose code is ``ref``, or whose id is ``ref`` (digits)."""
    return _by_key_or_id(db, Patient, Patient.code, ref, "patient", "code")


def list_patients(db: Session) -> list[Patient]:
    """Every patient, by id."""
    return list(db.scalars(select(Patient).order_by(Patient.id)))


def session_counts(db: Session) -> dict[int, int]:
    """Recorded sessions per patient id (one query; patients without sessions absent)."""
    query = (
        select(TreatmentSession.patient_id, func.count())
        .where(TreatmentSession.patient_id.is_not(None))
        .group_by(TreatmentSession.patient_id)
    )
    return {int(pid): int(n) for pid, n in db.execute(query).all() if pid is not None}


def delete_patient(db: Session, ref: str | int) -> Patient:
    """Delete a patient who has no sessions and no courses; otherwise refuse and say
    what would be lost (records of treatments are never deleted as a side effect)."""
    patient = find_patient(db, ref)
    sessions = db.scalar(select(func.count()).where(TreatmentSession.patient_id == patient.id))
    courses = db.scalar(select(func.count()).where(Course.patient_id == patient.id))
    if sessions or courses:
        raise RecordError(
            f"patient {patient.code} (id {patient.id}) has {sessions} recorded session(s) "
            f"and {courses} course(s); deleting would lose them, so it is refused",
            bad_input=False,
        )
    db.delete(patient)
    db.flush()
    return patient


# ------------------------------------------------------------------ practitioners


def add_practitioner(db: Session, name: str, registration: str | None = None) -> Practitioner:
    """A new practitioner; ``registration`` (licence number), when given, must be new."""
    if not name.strip():
        raise ConfigError("NAME", name, None, "a non-empty name", "empty practitioner name")
    if registration is not None:
        existing = db.scalar(select(Practitioner).where(Practitioner.registration == registration))
        if existing is not None:
            raise RecordError(
                f"a practitioner with registration {registration!r} exists (id {existing.id})"
            )
    practitioner = Practitioner(name=name.strip(), registration=registration)
    db.add(practitioner)
    db.flush()
    return practitioner


def find_practitioner(db: Session, ref: str | int) -> Practitioner:
    """The practitioner whose registration is ``ref``, or whose id is ``ref``."""
    return _by_key_or_id(
        db, Practitioner, Practitioner.registration, ref, "practitioner", "registration"
    )


def list_practitioners(db: Session) -> list[Practitioner]:
    """Every practitioner, by id."""
    return list(db.scalars(select(Practitioner).order_by(Practitioner.id)))


# ------------------------------------------------------------------ protocols


def protocol_digest(text: str, plan_toml: str | None) -> str:
    """SHA-256 identifying a protocol text with its plan snapshot (if any)."""
    h = hashlib.sha256(text.encode())
    h.update(b"\0")
    h.update((plan_toml or "").encode())
    return h.hexdigest()


def get_protocol(
    db: Session,
    text: str,
    *,
    plan_toml: str | None = None,
    plan: Plan | None = None,
    plan_file: str | None = None,
    title: str = "",
    modality: str | None = None,
    target_ma_min: float | None = None,
) -> Protocol:
    """The protocol row for ``text`` (canonical protocol text) and ``plan_toml`` (the
    plan file's content), created on first use; details come from ``plan`` if given."""
    if not text.strip():
        raise ConfigError("protocol", text, None, "a protocol text", "empty protocol")
    digest = protocol_digest(text, plan_toml)
    existing = db.scalar(select(Protocol).where(Protocol.digest == digest))
    if existing is not None:
        return existing
    row = Protocol(
        digest=digest,
        protocol_text=text,
        plan_toml=plan_toml,
        plan_file=plan_file,
        title=title,
        modality=modality,
        target_dose_ma_min=target_ma_min,
    )
    if plan is not None:
        row.title = plan.title or title
        row.modality = plan.modality.name
        row.drug = plan.drug.name if plan.drug is not None else None
        row.site = plan.site
        row.polarity = plan.polarity
        if plan.protocol.bounded:
            row.target_dose_ma_min = plan.protocol.dose_mAmin
    db.add(row)
    db.flush()
    return row


def add_plan(db: Session, path: str | Path) -> Protocol:
    """Store a plan file: its protocol text and a snapshot of the TOML as it is now."""
    from ionto.plan.plan import load_plan

    path = Path(path)
    plan = load_plan(path)  # ConfigError naming the key if the plan is wrong
    return get_protocol(
        db,
        str(plan.protocol),
        plan_toml=path.read_text(encoding="utf-8"),
        plan=plan,
        plan_file=str(path),
    )


def list_protocols(db: Session) -> list[Protocol]:
    """Every stored protocol, by id."""
    return list(db.scalars(select(Protocol).order_by(Protocol.id)))


def find_protocol(db: Session, ref: str | int) -> Protocol:
    """The protocol with id ``ref`` or whose digest starts with ``ref`` (8+ characters)."""
    text = str(ref).strip()
    found = db.get(Protocol, int(text)) if text.isdigit() else None
    if found is None and len(text) >= 8:
        matches = list(
            db.scalars(select(Protocol).where(Protocol.digest.startswith(text, autoescape=True)))
        )
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise RecordError(f"unknown protocol {text!r} (`ionto records plans list` shows them)")
    return found


# ------------------------------------------------------------------ courses


def add_course(
    db: Session,
    patient: Patient,
    path: str | Path,
    practitioner: Practitioner | None = None,
) -> Course:
    """A course for ``patient`` from the plan file's ``[course]`` (dated with
    :func:`ionto.plan.course.course_from_plan`); a schedule that breaks the modality's
    course rules is refused with the findings."""
    from ionto.plan.course import course_from_plan
    from ionto.plan.plan import load_plan

    path = Path(path)
    plan = load_plan(path)
    schedule = course_from_plan(plan)
    if schedule.refused:
        reasons = "; ".join(f.message for f in schedule.findings if f.severity == "error")
        raise RecordError(f"{path}: the course is refused: {reasons}", bad_input=False)
    protocol = add_plan(db, path)
    course = Course(
        patient=patient,
        protocol=protocol,
        practitioner=practitioner,
        title=schedule.title,
        modality=schedule.modality,
        start_date=schedule.sessions[0].date if schedule.sessions else dt.date.today(),
    )
    course.schedule = [
        ScheduledSession(number=s.number, date=s.date, phase=s.phase, note=s.note)
        for s in schedule.sessions
    ]
    db.add(course)
    db.flush()
    return course


def find_course(db: Session, ref: str | int) -> Course:
    """The course with id ``ref``."""
    text = str(ref).strip()
    found = db.get(Course, int(text)) if text.isdigit() else None
    if found is None:
        raise RecordError(f"unknown course {text!r} (`ionto records courses list` shows them)")
    return found


def list_courses(db: Session, patient: Patient | None = None) -> list[Course]:
    """Every course (of ``patient``, when given), by id."""
    query = select(Course).order_by(Course.id)
    if patient is not None:
        query = query.where(Course.patient_id == patient.id)
    return list(db.scalars(query))


def delete_course(db: Session, course: Course) -> None:
    """Delete a course and its schedule, refused when a session was recorded in it."""
    done = db.scalar(
        select(func.count())
        .select_from(TreatmentSession)
        .join(ScheduledSession, TreatmentSession.scheduled_id == ScheduledSession.id)
        .where(ScheduledSession.course_id == course.id)
    )
    if done:
        raise RecordError(
            f"course {course.id} has {done} recorded session(s); deleting it would lose "
            "their place in the course, so it is refused",
            bad_input=False,
        )
    db.delete(course)
    db.flush()


def open_slot(db: Session, course: Course, day: dt.date) -> ScheduledSession:
    """The course's scheduled session for a treatment on ``day``: the one dated ``day``
    if it is still open, else the earliest open one."""
    taken = set(
        db.scalars(
            select(TreatmentSession.scheduled_id).where(
                TreatmentSession.scheduled_id.in_([s.id for s in course.schedule])
            )
        )
    )
    free = [s for s in course.schedule if s.id not in taken]
    if not free:
        raise RecordError(f"course {course.id} has no open scheduled session left")
    same_day = [s for s in free if s.date == day]
    return same_day[0] if same_day else free[0]


# ------------------------------------------------------------------ sessions


def find_session(db: Session, ref: str) -> TreatmentSession:
    """The session whose uid starts with ``ref`` (a unique prefix)."""
    text = ref.strip()
    if not text:
        raise ConfigError("UID", ref, None, "a session uid or a unique prefix of it")
    matches = list(
        db.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.uid.startswith(text, autoescape=True))
            .limit(2)
        )
    )
    if not matches:
        raise RecordError(f"no recorded session matches {text!r}")
    if len(matches) > 1:
        raise RecordError(f"several recorded sessions match {text!r}; give more of the uid")
    return matches[0]


def list_sessions(db: Session, patient: Patient | None = None) -> list[TreatmentSession]:
    """Recorded sessions (of ``patient``, when given), oldest first."""
    query = select(TreatmentSession).order_by(TreatmentSession.started_at, TreatmentSession.id)
    if patient is not None:
        query = query.where(TreatmentSession.patient_id == patient.id)
    return list(db.scalars(query))
