"""Records out: a patient's history (courses, sessions and their events) as JSON or
CSV, and one session's measurements as CSV or JSON.

JSON keeps everything (times as ISO 8601 UTC, doses in mA*min, the course schedules,
each session's events); the history CSV has one row per session, the measurement CSV one
row per control period with the columns of ``ionto sessions export``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ionto.core.errors import ConfigError
from ionto.record.models import Course, Measurement, Patient, TreatmentSession
from ionto.record.store import list_courses, list_sessions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FORMATS = ("csv", "json")
HISTORY_COLUMNS = [
    "uid",
    "started_at",
    "title",
    "modality",
    "status",
    "reason",
    "delivered_mAmin",
    "target_mAmin",
    "duration_s",
    "periods",
    "practitioner",
    "course",
    "course_session",
    "protocol_id",
]
MEASUREMENT_COLUMNS = [
    ("t_s", "t_s"),
    ("setpoint_A", "setpoint_a"),
    ("current_A", "current_a"),
    ("voltage_V", "voltage_v"),
    ("impedance_ohm", "impedance_ohm"),
    ("dose_mAmin", "dose_ma_min"),
    ("state", "state"),
    ("step", "step"),
    ("compliance", "compliance"),
    ("device_t_s", "device_t_s"),
    ("device_status", "device_status"),
]


def check_format(fmt: str) -> str:
    """``fmt`` if it is csv or json, else a :class:`ConfigError`."""
    if fmt not in FORMATS:
        raise ConfigError("--format", fmt, None, "csv or json")
    return fmt


def patient_dict(p: Patient) -> dict[str, Any]:
    """A patient as JSON-able values."""
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "notes": p.notes,
        "created_at": p.created_at.isoformat(),
    }


def course_dict(c: Course) -> dict[str, Any]:
    """A course with its dated schedule."""
    return {
        "id": c.id,
        "patient": c.patient.code,
        "title": c.title,
        "modality": c.modality,
        "start_date": c.start_date.isoformat(),
        "protocol_id": c.protocol_id,
        "practitioner": c.practitioner.name if c.practitioner else None,
        "schedule": [
            {
                "number": s.number,
                "date": s.date.isoformat(),
                "phase": s.phase,
                "note": s.note,
                "sessions": [t.uid for t in s.done_by],
            }
            for s in c.schedule
        ],
    }


def session_dict(s: TreatmentSession, *, events: bool = False) -> dict[str, Any]:
    """A recorded session's summary (and its events)."""
    out: dict[str, Any] = {
        "uid": s.uid,
        "started_at": s.started_at.isoformat(),
        "patient": s.patient.code if s.patient else None,
        "title": s.title,
        "modality": s.modality,
        "status": s.status,
        "reason": s.reason,
        "delivered_mAmin": s.delivered_ma_min,
        "target_mAmin": s.target_ma_min,
        "duration_s": s.duration_s,
        "last_t_s": s.last_t_s,
        "periods": s.periods,
        "damaged_lines": s.damaged_lines,
        "acknowledged": s.acknowledged,
        "resumes": s.resumes_uid,
        "resumed_by": s.resumed_by_uid,
        "practitioner": s.practitioner.name if s.practitioner else None,
        "course": s.scheduled.course_id if s.scheduled else None,
        "course_session": s.scheduled.number if s.scheduled else None,
        "protocol_id": s.protocol_id,
        "protocol": s.protocol.protocol_text,
        "device": s.device,
        "software_version": s.software_version,
        "log_path": s.log_path,
    }
    if events:
        out["events"] = [
            {"t_s": e.t_s, "kind": e.kind, "state": e.state, "message": e.message} for e in s.events
        ]
    return out


def history(db: Session, patient: Patient) -> dict[str, Any]:
    """Everything recorded for ``patient``: details, courses, sessions with events."""
    return {
        "patient": patient_dict(patient),
        "courses": [course_dict(c) for c in list_courses(db, patient)],
        "sessions": [session_dict(s, events=True) for s in list_sessions(db, patient)],
    }


def history_text(db: Session, patient: Patient, fmt: str) -> str:
    """The history as JSON, or as CSV with one row per session (columns HISTORY_COLUMNS)."""
    if check_format(fmt) == "json":
        return json.dumps(history(db, patient), indent=1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for s in list_sessions(db, patient):
        d = session_dict(s)
        writer.writerow(["" if d[c] is None else d[c] for c in HISTORY_COLUMNS])
    return buffer.getvalue()


def measurements_text(db: Session, session: TreatmentSession, fmt: str) -> str:
    """One session's control periods as CSV (columns ``t_s,setpoint_A,...``) or JSON."""
    rows = db.scalars(
        select(Measurement).where(Measurement.session_id == session.id).order_by(Measurement.seq)
    )
    if check_format(fmt) == "json":
        return json.dumps(
            [{name: getattr(m, attr) for name, attr in MEASUREMENT_COLUMNS} for m in rows]
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in MEASUREMENT_COLUMNS])
    for m in rows:
        values = [getattr(m, attr) for _, attr in MEASUREMENT_COLUMNS]
        writer.writerow(
            ["" if v is None else repr(v) if isinstance(v, float) else v for v in values]
        )
    return buffer.getvalue()
