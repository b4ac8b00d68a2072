"""Patients, practitioners, protocols, courses: CRUD, and the constraints that keep data
from being lost (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ionto.core.errors import ConfigError
from ionto.record import store
from ionto.record.database import RecordError
from ionto.record.importer import import_log
from ionto.record.models import (
    Course,
    Measurement,
    Patient,
    Protocol,
    ScheduledSession,
    SessionEvent,
    TreatmentSession,
)

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "examples" / "plans"


def _course_plan(tmp_path: Path, start: str = "2026-03-02") -> Path:
    text = (PLANS / "lidocaine-forearm.toml").read_text()
    path = tmp_path / "course.toml"
    path.write_text(text + f"\n[course]\nstart = {start}\nsessions = 3\nper_week = 1\n")
    return path


def test_patients_add_find_list_delete(db: Session) -> None:
    ada = store.add_patient(db, "A-1", "Ada Lovelace", dt.date(1815, 12, 10), "notes")
    bob = store.add_patient(db, "B-2", "Bob")
    db.commit()
    assert store.find_patient(db, "A-1") is ada
    assert store.find_patient(db, str(bob.id)) is bob
    assert [p.code for p in store.list_patients(db)] == ["A-1", "B-2"]
    assert ada.birth_date == dt.date(1815, 12, 10)
    assert ada.created_at.tzinfo is not None
    with pytest.raises(RecordError, match="'A-1' exists already"):
        store.add_patient(db, "A-1", "Someone else")
    with pytest.raises(RecordError, match="unknown patient 'Z9'"):
        store.find_patient(db, "Z9")
    with pytest.raises(ConfigError, match="--code"):
        store.add_patient(db, "  ", "Nobody")
    with pytest.raises(ConfigError, match="digits alone"):
        store.add_patient(db, "123", "Numbers")
    store.delete_patient(db, "B-2")
    db.commit()
    assert [p.code for p in store.list_patients(db)] == ["A-1"]


def test_practitioners(db: Session) -> None:
    p = store.add_practitioner(db, "Dr Who", "REG-1")
    store.add_practitioner(db, "Nurse", None)
    db.commit()
    assert store.find_practitioner(db, "REG-1") is p
    assert store.find_practitioner(db, str(p.id)) is p
    assert len(store.list_practitioners(db)) == 2
    with pytest.raises(RecordError, match="exists"):
        store.add_practitioner(db, "Dr Who again", "REG-1")
    with pytest.raises(RecordError, match="unknown practitioner"):
        store.find_practitioner(db, "nobody")


def test_plan_snapshot_is_stored_once(db: Session) -> None:
    path = PLANS / "lidocaine-forearm.toml"
    first = store.add_plan(db, path)
    again = store.add_plan(db, path)
    db.commit()
    assert first.id == again.id
    assert first.plan_toml == path.read_text()
    assert first.protocol_text.startswith("ramp to 4 mA over 30 s")
    assert (first.modality, first.drug, first.site, first.polarity) == (
        "drug-iontophoresis",
        "lidocaine",
        "forearm",
        "anode",
    )
    assert first.target_dose_ma_min == pytest.approx(40.0)
    assert store.find_protocol(db, first.digest[:10]) is first
    other = store.add_plan(db, PLANS / "microcurrent-face.toml")
    assert other.id != first.id and len(store.list_protocols(db)) == 2


def test_bad_plan_is_a_config_error(db: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((PLANS / "lidocaine-forearm.toml").read_text().replace("anode", "sideways"))
    with pytest.raises(ConfigError, match="polarity"):
        store.add_plan(db, bad)


def test_course_with_dated_sessions(db: Session, tmp_path: Path) -> None:
    ada = store.add_patient(db, "A-1", "Ada")
    course = store.add_course(db, ada, _course_plan(tmp_path))
    db.commit()
    assert [s.date for s in course.schedule] == [
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 16),
    ]
    assert [s.number for s in course.schedule] == [1, 2, 3]
    assert course.protocol.plan_toml is not None and "[course]" in course.protocol.plan_toml
    assert store.list_courses(db, ada) == [course]
    store.delete_course(db, course)
    db.commit()
    assert db.scalar(select(func.count()).select_from(ScheduledSession)) == 0


def test_a_course_against_the_rules_is_refused(db: Session, tmp_path: Path) -> None:
    text = (PLANS / "lidocaine-forearm.toml").read_text()
    path = tmp_path / "twice.toml"  # two sessions on one day: closer than the 1 day gap
    path.write_text(text + "\n[course]\nstart = 2026-03-02\nsessions = 3\nadd = [2026-03-02]\n")
    ada = store.add_patient(db, "A-1", "Ada")
    with pytest.raises(RecordError, match="the course is refused") as info:
        store.add_course(db, ada, path)
    assert not info.value.bad_input


def test_patient_with_sessions_cannot_be_deleted(db: Session, logs: Callable[[str], Path]) -> None:
    ada = store.add_patient(db, "A-1", "Ada")
    import_log(db, logs("complete"), patient=ada)
    db.commit()
    with pytest.raises(RecordError, match="1 recorded session.*refused") as info:
        store.delete_patient(db, "A-1")
    assert not info.value.bad_input
    # the database refuses too: a raw DELETE, and the ORM (which must not null the link)
    with pytest.raises(IntegrityError):
        db.execute(delete(Patient).where(Patient.id == ada.id))
    db.rollback()
    db.delete(store.find_patient(db, "A-1"))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    session = db.scalar(select(TreatmentSession))
    assert session is not None and session.patient_id == ada.id


def test_a_protocol_in_use_cannot_be_deleted(db: Session, logs: Callable[[str], Path]) -> None:
    import_log(db, logs("complete"))
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(delete(Protocol))
    db.rollback()


def test_measurements_and_events_cannot_be_orphaned(
    db: Session, logs: Callable[[str], Path]
) -> None:
    result = import_log(db, logs("complete"))
    db.commit()
    row = {
        "seq": 10_000,
        "t_s": 0.0,
        "setpoint_a": 0.0,
        "dose_ma_min": 0.0,
        "state": "deliver",
        "step": "",
        "compliance": False,
    }
    with pytest.raises(IntegrityError):  # no such session
        db.execute(insert(Measurement), [{**row, "session_id": result.session_id + 99}])
    db.rollback()
    with pytest.raises(IntegrityError):  # no session at all
        db.execute(
            text(
                "INSERT INTO measurements (session_id, seq, t_s, setpoint_a, dose_ma_min, "
                "state, step, compliance) VALUES (NULL, 0, 0, 0, 0, 'idle', '', false)"
            )
        )
    db.rollback()
    with pytest.raises(IntegrityError):  # the same period twice
        db.execute(insert(Measurement), [{**row, "seq": 0, "session_id": result.session_id}])
    db.rollback()
    with pytest.raises(IntegrityError):
        db.execute(
            insert(SessionEvent),
            [{"session_id": result.session_id + 99, "seq": 0, "t_s": 0.0, "kind": "x",
              "state": "idle", "message": ""}],
        )  # fmt: skip
    db.rollback()
    # deleting the session takes its own parts with it, and nothing else
    db.delete(db.get(TreatmentSession, result.session_id))
    db.commit()
    assert db.scalar(select(func.count()).select_from(Measurement)) == 0
    assert db.scalar(select(func.count()).select_from(SessionEvent)) == 0
    assert db.scalar(select(func.count()).select_from(Protocol)) == 1


def test_check_constraints(db: Session, logs: Callable[[str], Path]) -> None:
    import_log(db, logs("complete"))
    db.commit()
    session = db.scalar(select(TreatmentSession))
    assert session is not None
    session.status = "exploded"
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    session = db.scalar(select(TreatmentSession))
    assert session is not None
    session.delivered_ma_min = -1.0
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_a_course_with_a_recorded_session_is_kept(
    db: Session, logs: Callable[[str], Path], tmp_path: Path
) -> None:
    ada = store.add_patient(db, "A-1", "Ada")
    course = store.add_course(db, ada, _course_plan(tmp_path))
    import_log(db, logs("complete"), course=course)
    db.commit()
    with pytest.raises(RecordError, match="1 recorded session"):
        store.delete_course(db, course)
    with pytest.raises(IntegrityError):  # and the database refuses the cascade
        db.execute(delete(Course).where(Course.id == course.id))
    db.rollback()


def test_naive_times_are_refused(db: Session) -> None:
    db.add(Patient(code="N-1", name="Naive", created_at=dt.datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="time zone"):
        db.flush()
    db.rollback()
