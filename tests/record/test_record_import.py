"""Session logs from the run layer into the records: every period and event, the
recovery's status and dose exactly, idempotency, grown logs, malformed logs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ionto.core.errors import ConfigError
from ionto.record import store
from ionto.record.database import RecordError
from ionto.record.importer import import_log
from ionto.record.models import Measurement, Protocol, SessionEvent, TreatmentSession
from ionto.run.session_log import mark_interrupted, read_documents, recover, resume_check

Logs = Callable[[str], Path]


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _docs(path: Path, kind: str) -> list[dict]:
    return [d for d in read_documents(path)[0] if d["type"] == kind]


def _rows(db: Session, uid: str) -> tuple[TreatmentSession, list[Measurement], list[SessionEvent]]:
    session = db.scalar(select(TreatmentSession).where(TreatmentSession.uid == uid))
    assert session is not None
    db.refresh(session)
    return session, list(session.measurements), list(session.events)


def test_complete_log_every_period_and_event(db: Session, logs: Logs) -> None:
    path = logs("complete")
    result = import_log(db, path)
    db.commit()
    rec = recover(path)
    assert result.action == "created" and result.uid == rec.uid
    session, measurements, events = _rows(db, rec.uid)
    assert session.status == "success" == rec.status
    assert session.delivered_ma_min == rec.delivered_mAmin  # exactly, not approximately
    assert session.reason == rec.reason and session.periods == rec.events
    assert session.target_ma_min == rec.target_mAmin
    assert session.protocol.protocol_text == rec.protocol
    assert session.title == "short test" and session.modality == "galvanic"
    logged = _docs(path, "event")
    assert len(measurements) == len(logged) == result.measurements_added > 250
    for m, d in zip(measurements, logged, strict=True):
        assert (m.seq, m.t_s, m.setpoint_a, m.current_a, m.voltage_v, m.dose_ma_min) == (
            d["seq"],
            d["t"],
            d["setpoint_A"],
            d["current_A"],
            d["voltage_V"],
            d["dose_mAmin"],
        )
        assert (m.impedance_ohm, m.state, m.step, m.compliance) == (
            d["impedance_ohm"],
            d["state"],
            d["step"],
            d["compliance"],
        )
    occurred = _docs(path, "occurrence")
    assert [(e.t_s, e.kind, e.state, e.message) for e in events] == [
        (d["t"], d["kind"], d["state"], d["message"]) for d in occurred
    ]
    assert any(e.kind == "transition" for e in events)
    assert session.started_at.isoformat() == rec.start["time"]
    assert session.start_doc["uid"] == rec.uid


def test_importing_twice_changes_nothing(db: Session, logs: Logs) -> None:
    path = logs("complete")
    import_log(db, path)
    db.commit()
    counts = (_count(db, TreatmentSession), _count(db, Measurement), _count(db, SessionEvent))
    again = import_log(db, path)
    db.commit()
    assert again.action == "unchanged"
    assert (again.measurements_added, again.events_added) == (0, 0)
    assert counts == (
        _count(db, TreatmentSession),
        _count(db, Measurement),
        _count(db, SessionEvent),
    )
    assert _count(db, Protocol) == 1


def test_interrupted_log_keeps_status_and_dose(db: Session, logs: Logs) -> None:
    path = logs("interrupted")
    rec = recover(path)
    assert rec.interrupted and rec.damaged_lines == 1 and rec.events == 150
    result = import_log(db, path)
    db.commit()
    session, measurements, _ = _rows(db, rec.uid)
    assert result.status == session.status == "interrupted"
    assert session.delivered_ma_min == rec.delivered_mAmin == measurements[-1].dose_ma_min
    assert 0 < session.delivered_ma_min < session.target_ma_min  # type: ignore[operator]
    assert session.damaged_lines == 1 and len(measurements) == 150
    assert session.duration_s is None  # no session_stop in the log
    # the run layer then marks it and an operator acknowledges: the record follows
    mark_interrupted(path)
    resume_check(path, acknowledge=True, who="test")
    updated = import_log(db, path)
    db.commit()
    session, measurements, _ = _rows(db, rec.uid)
    after = recover(path)
    assert updated.action == "updated" and updated.measurements_added == 0
    assert session.status == "interrupted" and session.reason == after.reason
    assert session.reason.startswith("recovered:")
    assert session.delivered_ma_min == after.delivered_mAmin == rec.delivered_mAmin
    assert session.acknowledged and len(measurements) == 150
    assert _count(db, TreatmentSession) == 1


def test_log_of_a_killed_process(db: Session, killed_log: Path, tmp_path: Path) -> None:
    path = tmp_path / killed_log.name
    path.write_bytes(killed_log.read_bytes())
    rec = recover(path)
    assert rec.interrupted and rec.events >= 200
    result = import_log(db, path)
    db.commit()
    session, measurements, _ = _rows(db, rec.uid)
    assert result.status == session.status == "interrupted"
    assert session.delivered_ma_min == rec.delivered_mAmin > 0
    assert len(measurements) == rec.events
    assert session.protocol.plan_toml is not None  # the plan named in the log
    assert import_log(db, path).action == "unchanged"


def test_a_log_that_grew_is_brought_up_to_date(db: Session, logs: Logs) -> None:
    partial = logs("interrupted")  # a byte prefix of the complete log: the same session
    complete = logs("complete")
    import_log(db, partial)
    db.commit()
    grown = import_log(db, complete)
    db.commit()
    session, measurements, events = _rows(db, grown.uid)
    rec = recover(complete)
    assert grown.action == "updated" and grown.measurements_added == rec.events - 150
    assert session.status == "success" and session.delivered_ma_min == rec.delivered_mAmin
    assert [m.seq for m in measurements] == list(range(rec.events))
    assert len(events) == len(_docs(complete, "occurrence"))
    assert session.damaged_lines == 0 and session.log_bytes == complete.stat().st_size
    assert import_log(db, complete).action == "unchanged"


def test_a_rewritten_log_is_refused(db: Session, logs: Logs) -> None:
    path = logs("complete")
    import_log(db, path)
    db.commit()
    text = path.read_text()
    edited = text.replace('"seq":3,', '"seq":3,"edited":true,', 1)
    assert edited != text
    path.write_text(edited)
    with pytest.raises(RecordError, match="differ from this file's; refusing"):
        import_log(db, path)


def test_fault_log(db: Session, logs: Logs) -> None:
    path = logs("fault")
    result = import_log(db, path)
    db.commit()
    rec = recover(path)
    session, _, events = _rows(db, rec.uid)
    assert result.status == "fault" == session.status and session.reason == rec.reason
    assert session.reason.startswith("open_circuit")
    assert session.delivered_ma_min == rec.delivered_mAmin
    assert any(e.kind == "trip" for e in events)


def test_plan_run_is_stored_with_its_plan_snapshot(db: Session, logs: Logs) -> None:
    path = logs("lidocaine")
    ada = store.add_patient(db, "A-1", "Ada")
    doctor = store.add_practitioner(db, "Dr Who", "REG-1")
    result = import_log(db, path, patient=ada, practitioner=doctor)
    db.commit()
    session, measurements, _ = _rows(db, result.uid)
    plan_file = Path(session.start_doc["plan"])
    assert session.protocol.plan_toml == plan_file.read_text()
    assert session.protocol.drug == "lidocaine" and session.title.startswith("Lidocaine")
    assert session.delivered_ma_min == recover(path).delivered_mAmin
    assert session.delivered_ma_min == pytest.approx(40.0, abs=0.05)
    assert len(measurements) > 6000
    assert session.patient is ada and session.practitioner is doctor
    # the same protocol stored by `plans add` is the same row
    assert store.add_plan(db, plan_file).id == session.protocol_id


def test_explicit_plan_must_match_the_log(db: Session, logs: Logs) -> None:
    plans = Path(__file__).resolve().parents[2] / "examples" / "plans"
    with pytest.raises(ConfigError, match="--plan: its protocol differs"):
        import_log(db, logs("complete"), plan_file=plans / "lidocaine-forearm.toml")


def test_patient_is_not_moved_silently(db: Session, logs: Logs) -> None:
    ada = store.add_patient(db, "A-1", "Ada")
    bob = store.add_patient(db, "B-2", "Bob")
    path = logs("complete")
    import_log(db, path)
    assert import_log(db, path, patient=ada).action == "updated"  # assigned now
    assert import_log(db, path, patient=ada).action == "unchanged"
    db.commit()
    with pytest.raises(RecordError, match="not moved silently"):
        import_log(db, path, patient=bob)
    session = db.scalar(select(TreatmentSession))
    assert session is not None and session.patient_id == ada.id


def test_course_sessions_are_linked(db: Session, logs: Logs, tmp_path: Path) -> None:
    plans = Path(__file__).resolve().parents[2] / "examples" / "plans"
    plan = tmp_path / "course.toml"
    plan.write_text(
        (plans / "lidocaine-forearm.toml").read_text()
        + "\n[course]\nstart = 2026-01-05\nsessions = 2\nper_week = 2\n"
    )
    ada = store.add_patient(db, "A-1", "Ada")
    course = store.add_course(db, ada, plan)
    first = import_log(db, logs("complete"), course=course)
    second = import_log(db, logs("fault"), course=course)
    db.commit()
    rows = {s.uid: s for s in store.list_sessions(db, ada)}
    assert rows[first.uid].scheduled.number == 1  # type: ignore[union-attr]
    assert rows[second.uid].scheduled.number == 2  # type: ignore[union-attr]
    with pytest.raises(RecordError, match="no open scheduled session"):
        import_log(db, logs("lidocaine"), course=course)
    bob = store.add_patient(db, "B-2", "Bob")
    with pytest.raises(RecordError, match="belongs to patient A-1"):
        import_log(db, logs("lidocaine"), course=course, patient=bob)


EVENT_2 = '"type":"event","seq":2,'


def _set(text: str, key: str, value: str) -> str:
    """``text`` with ``key`` of period 2 set to the JSON ``value``."""
    return re.sub(rf'({EVENT_2}[^\n]*?"{key}":)[^,}}]+', rf"\g<1>{value}", text, count=1)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda text: text.split("\n", 1)[1], "not a session log"),
        (lambda text: "garbage\n\x00\x01\n", "not a session log"),
        (lambda text: "", "not a session log"),
        (lambda text: text.replace('"seq":0,', '"seq":7,', 1), "line {n}: event.seq: 7"),
        (
            lambda text: text.replace(EVENT_2 + '"t":', EVENT_2 + '"t":"soon","x":'),
            "line {n}: event.t: soon is not allowed (allowed: a finite number)",
        ),
        (
            lambda text: _set(text, "dose_mAmin", "true"),
            "line {n}: event.dose_mAmin: True",
        ),
        (
            lambda text: _set(text, "compliance", '"yes"'),
            "line {n}: event.compliance: yes",
        ),
        (
            lambda text: text.replace('"exit_status":"success"', '"exit_status":"paused"'),
            "session_stop.exit_status: paused is not allowed (allowed: one of success, abort,",
        ),
    ],
)
def test_malformed_logs_are_config_errors(
    db: Session, logs: Logs, mutate: Callable[[str], str], words: str
) -> None:
    path = logs("complete")
    text = path.read_text()
    changed = mutate(text)
    assert changed != text
    path.write_text(changed)
    old, new = text.splitlines(), changed.splitlines()
    n = next((k for k, (a, b) in enumerate(zip(old, new, strict=False), 1) if a != b), 0)
    words = words.format(n=n)  # the line that was changed
    with pytest.raises(ConfigError) as info:
        import_log(db, path)
    message = str(info.value)
    assert message.startswith(str(path)) and words in message, message
    assert "\n" not in message
    assert _count(db, TreatmentSession) == 0


def test_missing_file(db: Session, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        import_log(db, tmp_path / "nothing.jsonl")


def test_start_document_with_infinities_is_stored(db: Session, logs: Logs) -> None:
    path = logs("complete")
    lines = path.read_text().splitlines(keepends=True)
    start = json.loads(lines[0])
    start["rules"]["extend_limit"] = float("inf")
    lines[0] = json.dumps(start) + "\n"  # Python writes Infinity, as json.dumps does
    path.write_text("".join(lines))
    result = import_log(db, path)
    db.commit()
    session, _, _ = _rows(db, result.uid)
    assert session.start_doc["rules"]["extend_limit"] is None


def test_resume_links_and_device_fields(db: Session, logs: Logs) -> None:
    """Documents the run layer adds around resumed sessions (``resumes`` in the start
    document, a ``resumed_by`` document appended later) and per-reading device fields."""
    path = logs("complete")
    text = path.read_text()
    text = text.replace('"type":"session_start",', '"type":"session_start","resumes":"a1b2",', 1)
    path.write_text(text)
    readings = [json.loads(line) for line in text.splitlines() if '"type":"event"' in line]
    assert readings and all("device_t" in r and "status" in r for r in readings)
    first = import_log(db, path)
    db.commit()
    session, measurements, _ = _rows(db, first.uid)
    assert session.resumes_uid == "a1b2" and session.resumed_by_uid is None
    assert [m.device_t_s for m in measurements] == [r["device_t"] for r in readings]
    assert [m.device_status for m in measurements] == [r["status"] for r in readings]
    with path.open("a") as f:
        f.write(json.dumps({"type": "resumed_by", "uid": first.uid, "by": "c3d4"}) + "\n")
    assert import_log(db, path).action == "updated"
    db.commit()
    session, _, _ = _rows(db, first.uid)
    assert session.resumed_by_uid == "c3d4"
