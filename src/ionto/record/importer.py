"""Session logs (``ionto.run.session_log``) into the records.

A log becomes one :class:`~ionto.record.models.TreatmentSession` (keyed by the log's
uid), one :class:`~ionto.record.models.Measurement` per ``event`` document (control
period) and one :class:`~ionto.record.models.SessionEvent` per ``occurrence``. The
status, reason and delivered dose are exactly what :func:`ionto.run.session_log.recover`
computes (an interrupted log stays "interrupted", with the dose of its last fsync'd
period).

Importing is idempotent. The session remembers how many bytes of the log it holds and
their SHA-256: the same log again changes nothing; a log that grew since (a session
that went on, or a stop appended by ``mark_interrupted`` / an ``acknowledged``
document) adds only the new periods and events and updates the summary; a log whose
imported part changed is refused (records are not rewritten behind anyone's back).

Each document is checked before anything is written; a malformed one is a
:class:`ConfigError` naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, insert, select

from ionto.core.errors import ConfigError, IontoError
from ionto.record.database import RecordError
from ionto.record.models import (
    SESSION_STATUSES,
    Measurement,
    Patient,
    Practitioner,
    SessionEvent,
    TreatmentSession,
    utcnow,
)
from ionto.record.store import get_protocol, open_slot

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ionto.record.models import Course
    from ionto.run.session_log import Recovery

Action = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``action`` (created, updated, unchanged), the session's uid
    and row id, its status and delivered dose (mA*min), rows added."""

    path: Path
    uid: str
    session_id: int
    action: Action
    status: str
    delivered_ma_min: float
    measurements_added: int
    events_added: int


@dataclass(frozen=True)
class _Log:
    data: bytes
    recovery: Recovery
    docs: list[tuple[int, dict[str, Any]]]  # (line number from 1, document)


def _read(path: Path) -> _Log:
    """The log's bytes, its documents and its recovery, all from the same content (a log
    still being written is read again until two reads agree)."""
    from ionto.run.session_log import recover

    for _ in range(5):
        try:
            data = path.read_bytes()
            recovery = recover(path)
            again = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                str(path), None, None, "a session log file", f"cannot read: {exc.strerror}"
            ) from None
        except IontoError as exc:  # "not a session log"
            raise ConfigError(
                str(path), None, None, "a JSONL session log from `ionto run`", str(exc)
            ) from None
        if again == data:
            break
    else:
        raise RecordError(f"{path}: the log keeps changing while it is read; try again")
    docs: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # a line cut by a crash: recover() counts it in damaged_lines
        if isinstance(doc, dict):
            docs.append((number, doc))
    return _Log(data, recovery, docs)


def _bad(path: Path, line: int, field: str, value: Any, allowed: str) -> ConfigError:
    where = f"{path}: line {line}" if line else str(path)
    return ConfigError(f"{where}: {field}", value, None, allowed)


def _number(path: Path, line: int, doc: dict[str, Any], key: str, *, optional: bool) -> Any:
    value = doc.get(key)
    if value is None and optional:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    allowed = "a finite number" + (" or null" if optional else "")
    raise _bad(path, line, f"{doc.get('type')}.{key}", value, allowed)


def _text(path: Path, line: int, doc: dict[str, Any], key: str, default: str | None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise _bad(path, line, f"{doc.get('type')}.{key}", value, "a string")
    return value


def _optional_text(path: Path, line: int, doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(path, line, f"{doc.get('type')}.{key}", value, "a string or null")
    return value


def _rows(path: Path, log: _Log) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Measurement and event rows (without session_id), checked."""
    measurements: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for line, doc in log.docs:
        kind = doc.get("type")
        if kind == "event":
            seq = doc.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq != len(measurements):
                raise _bad(path, line, "event.seq", seq, f"{len(measurements)} (the next period)")
            compliance = doc.get("compliance", False)
            if not isinstance(compliance, bool):
                raise _bad(path, line, "event.compliance", compliance, "true or false")
            measurements.append(
                {
                    "seq": seq,
                    "t_s": _number(path, line, doc, "t", optional=False),
                    "setpoint_a": _number(path, line, doc, "setpoint_A", optional=False),
                    "current_a": _number(path, line, doc, "current_A", optional=True),
                    "voltage_v": _number(path, line, doc, "voltage_V", optional=True),
                    "impedance_ohm": _number(path, line, doc, "impedance_ohm", optional=True),
                    "dose_ma_min": _number(path, line, doc, "dose_mAmin", optional=False),
                    "state": _text(path, line, doc, "state", None),
                    "step": _text(path, line, doc, "step", ""),
                    "compliance": compliance,
                    "device_t_s": _number(path, line, doc, "device_t", optional=True),
                    "device_status": _optional_text(path, line, doc, "status"),
                }
            )
        elif kind == "occurrence":
            events.append(
                {
                    "seq": len(events),
                    "t_s": _number(path, line, doc, "t", optional=False),
                    "kind": _text(path, line, doc, "kind", None),
                    "state": _text(path, line, doc, "state", ""),
                    "message": _text(path, line, doc, "message", ""),
                }
            )
    return measurements, events


def _started_at(path: Path, start: dict[str, Any]) -> dt.datetime:
    text = start.get("time")
    if isinstance(text, str):
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _bad(path, 1, "session_start.time", text, "an ISO 8601 time") from None
        return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    epoch = start.get("epoch")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        return dt.datetime.fromtimestamp(float(epoch), dt.UTC)
    raise _bad(path, 1, "session_start.time", text, "an ISO 8601 time")


def _finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats (which PostgreSQL's json refuses) become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _stop(log: _Log) -> dict[str, Any] | None:
    return next((d for _, d in reversed(log.docs) if d.get("type") == "session_stop"), None)


def _plan_snapshot(
    path: Path, rec: Recovery, plan_file: Path | None
) -> tuple[Any, str | None, str | None]:
    """(plan, TOML text, file name) of the plan the session ran, when it can be found
    and its protocol is the log's; an explicit ``plan_file`` that differs is an error."""
    from ionto.plan.plan import load_plan

    if plan_file is not None:
        plan = load_plan(plan_file)
        if str(plan.protocol) != rec.protocol:
            raise ConfigError(
                "--plan",
                str(plan_file),
                None,
                "the plan the session ran",
                f"its protocol differs from the one in {path}",
            )
        return plan, plan_file.read_text(encoding="utf-8"), str(plan_file)
    named = rec.start.get("plan")
    if not isinstance(named, str) or not named:
        return None, None, None
    for candidate in (Path(named), path.parent.parent / named, path.parent / named):
        if not candidate.is_file():
            continue
        try:
            plan = load_plan(candidate)
        except (IontoError, OSError):
            continue
        if str(plan.protocol) == rec.protocol:
            return plan, candidate.read_text(encoding="utf-8"), named
    return None, None, None


def _summary(log: _Log) -> dict[str, Any]:
    rec = log.recovery
    stop = _stop(log)
    duration = stop.get("duration_s") if stop is not None else None
    return {
        "status": rec.status,
        "reason": rec.reason,
        "delivered_ma_min": rec.delivered_mAmin,
        "target_ma_min": None if rec.target_mAmin is None else float(rec.target_mAmin),
        "duration_s": float(duration)
        if isinstance(duration, int | float) and not isinstance(duration, bool)
        else None,
        "last_t_s": rec.last_t,
        "last_state": rec.last_state,
        "periods": rec.events,
        "damaged_lines": rec.damaged_lines,
        "acknowledged": rec.acknowledged,
        "resumed_by_uid": next(
            (str(d["by"]) for _, d in log.docs if d.get("type") == "resumed_by" and d.get("by")),
            None,
        ),
        "log_bytes": len(log.data),
        "log_digest": hashlib.sha256(log.data).hexdigest(),
    }


def import_log(
    db: Session,
    path: str | Path,
    *,
    patient: Patient | None = None,
    practitioner: Practitioner | None = None,
    course: Course | None = None,
    plan_file: str | Path | None = None,
) -> ImportResult:
    """Import (or bring up to date) one session log; see the module docstring.

    ``patient``/``practitioner``: who; ``course``: the course the session belongs to
    (it takes the scheduled session of its date, else the earliest open one; the
    patient defaults to the course's); ``plan_file``: the plan the session ran (default:
    the ``plan`` named in the log, when it is found and its protocol matches).
    """
    path = Path(path)
    log = _read(path)
    rec = log.recovery
    if not rec.uid:
        raise _bad(path, 1, "session_start.uid", rec.uid, "the session's uid")
    if rec.status not in SESSION_STATUSES:
        raise _bad(
            path, 0, "session_stop.exit_status", rec.status, "one of " + ", ".join(SESSION_STATUSES)
        )
    if rec.delivered_mAmin < 0 or not math.isfinite(rec.delivered_mAmin):
        raise _bad(path, 1, "delivered_mAmin", rec.delivered_mAmin, ">= 0")
    measurements, events = _rows(path, log)
    if course is not None:
        if patient is None:
            patient = course.patient
        elif course.patient_id != patient.id:
            raise RecordError(
                f"course {course.id} belongs to patient {course.patient.code}, not {patient.code}"
            )
    summary = _summary(log)
    existing = db.scalar(select(TreatmentSession).where(TreatmentSession.uid == rec.uid))
    if existing is None:
        return _create(
            db,
            path,
            log,
            summary,
            measurements,
            events,
            patient,
            practitioner,
            course,
            Path(plan_file) if plan_file is not None else None,
        )
    assigned = _assign(existing, patient, practitioner, course, db)
    if existing.log_bytes == len(log.data) and existing.log_digest == summary["log_digest"]:
        return ImportResult(
            path,
            rec.uid,
            existing.id,
            "updated" if assigned else "unchanged",
            existing.status,
            existing.delivered_ma_min,
            0,
            0,
        )
    prefix = hashlib.sha256(log.data[: existing.log_bytes]).hexdigest()
    if len(log.data) < existing.log_bytes or prefix != existing.log_digest:
        raise RecordError(
            f"{path}: session {rec.uid[:8]} is recorded from a log whose first "
            f"{existing.log_bytes} bytes differ from this file's; refusing to rewrite it"
        )
    have_m = db.scalar(select(func.count()).where(Measurement.session_id == existing.id)) or 0
    have_e = db.scalar(select(func.count()).where(SessionEvent.session_id == existing.id)) or 0
    new_m = [{**m, "session_id": existing.id} for m in measurements[have_m:]]
    new_e = [{**e, "session_id": existing.id} for e in events[have_e:]]
    if new_m:
        db.execute(insert(Measurement), new_m)
    if new_e:
        db.execute(insert(SessionEvent), new_e)
    for key, value in summary.items():
        setattr(existing, key, value)
    existing.log_path = str(path)
    existing.updated_at = utcnow()
    db.flush()
    return ImportResult(
        path,
        rec.uid,
        existing.id,
        "updated",
        existing.status,
        existing.delivered_ma_min,
        len(new_m),
        len(new_e),
    )


def _assign(
    row: TreatmentSession,
    patient: Patient | None,
    practitioner: Practitioner | None,
    course: Course | None,
    db: Session,
) -> bool:
    """Fill in who/which course on an existing session (True if something was filled
    in); a different one than recorded is refused."""
    changed = False
    if patient is not None:
        if row.patient_id is None:
            row.patient = patient
            changed = True
        elif row.patient_id != patient.id:
            raise RecordError(
                f"session {row.uid[:8]} is recorded for patient id {row.patient_id}, "
                f"not {patient.code}; it is not moved silently"
            )
    if practitioner is not None:
        if row.practitioner_id is None:
            row.practitioner = practitioner
            changed = True
        elif row.practitioner_id != practitioner.id:
            raise RecordError(
                f"session {row.uid[:8]} is recorded with practitioner id "
                f"{row.practitioner_id}, not {practitioner.id}"
            )
    if course is not None:
        if row.scheduled is None:
            row.scheduled = open_slot(db, course, row.started_at.date())
            changed = True
        elif row.scheduled.course_id != course.id:
            raise RecordError(
                f"session {row.uid[:8]} is recorded in course {row.scheduled.course_id}, "
                f"not {course.id}"
            )
    return changed


def _create(
    db: Session,
    path: Path,
    log: _Log,
    summary: dict[str, Any],
    measurements: list[dict[str, Any]],
    events: list[dict[str, Any]],
    patient: Patient | None,
    practitioner: Practitioner | None,
    course: Course | None,
    plan_file: Path | None,
) -> ImportResult:
    rec = log.recovery
    start = rec.start
    plan, plan_toml, plan_name = _plan_snapshot(path, rec, plan_file)
    title = start.get("title") if isinstance(start.get("title"), str) else ""
    modality = start.get("modality") if isinstance(start.get("modality"), str) else None
    protocol = get_protocol(
        db,
        rec.protocol,
        plan_toml=plan_toml,
        plan=plan,
        plan_file=plan_name,
        title=title or "",
        modality=modality,
        target_ma_min=summary["target_ma_min"],
    )
    started = _started_at(path, start)
    slot = open_slot(db, course, started.date()) if course is not None else None
    row = TreatmentSession(
        uid=rec.uid,
        patient=patient,
        practitioner=practitioner,
        protocol=protocol,
        started_at=started,
        title=title or protocol.title,
        modality=modality or protocol.modality,
        software_version=str(start.get("software_version", "")),
        device=str(start.get("device", "")),
        start_doc=_finite(start),
        resumes_uid=str(start["resumes"]) if start.get("resumes") else None,
        log_path=str(path),
        **summary,
    )
    row.scheduled = slot
    db.add(row)
    db.flush()
    if measurements:
        db.execute(insert(Measurement), [{**m, "session_id": row.id} for m in measurements])
    if events:
        db.execute(insert(SessionEvent), [{**e, "session_id": row.id} for e in events])
    db.flush()
    return ImportResult(
        path,
        rec.uid,
        row.id,
        "created",
        row.status,
        row.delivered_ma_min,
        len(measurements),
        len(events),
    )
