"""The record tables as SQLAlchemy 2 typed declarative mappings.

Units are in the column names: ``_s`` seconds, ``_a`` amperes, ``_v`` volts, ``_ohm``
ohms, ``_ma_min`` milliampere-minutes (1 mA*min = 0.06 C), ``_m2`` square metres.
Times are timezone-aware UTC datetimes (stored as such on PostgreSQL; SQLite has no
time zones, so :class:`UTCDateTime` converts on the way in and out).

Nothing is lost silently: every foreign key is declared, SQLite enforces them (see
:mod:`ionto.record.database`), a measurement or an event cannot exist without its
session, and a patient, practitioner, protocol or course that sessions refer to cannot
be deleted (``ON DELETE RESTRICT``; the ORM relationships use ``passive_deletes="all"``
so SQLAlchemy never nulls the references out instead). Only the parts of a session
(its measurements and events) and of a course (its schedule) go with it.

The schema is created and changed only by the migrations in ``migrations/versions``;
``tests/record/test_migrations.py`` checks that they produce exactly these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SESSION_STATUSES = ("success", "abort", "fault", "interrupted")
COURSE_PHASES = ("initial", "maintenance", "added")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime, stored in UTC. Naive values are refused (a time without
    a zone is ambiguous); values read back from SQLite are marked UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{value!r}: a time needs a time zone (records are in UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names in migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class Patient(Base):
    """A patient: ``code`` is the clinic's own identifier (unique), ``birth_date`` optional."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    courses: Mapped[list[Course]] = relationship(back_populates="patient", passive_deletes="all")
    sessions: Mapped[list[TreatmentSession]] = relationship(
        back_populates="patient", passive_deletes="all"
    )

    __table_args__ = (CheckConstraint("length(code) > 0", name="code_not_empty"),)


class Practitioner(Base):
    """Who gave a treatment or prescribed a course; ``registration``: licence number."""

    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    registration: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)


class Protocol(Base):
    """A treatment protocol: its canonical text and, when it came from a plan file, the
    plan's TOML as it was (``plan_toml``) with the plan's title, modality, drug, site and
    polarity. ``digest`` (SHA-256 of text and snapshot) makes the same protocol one row."""

    __tablename__ = "protocols"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    modality: Mapped[str | None] = mapped_column(String(100))
    drug: Mapped[str | None] = mapped_column(String(100))
    site: Mapped[str | None] = mapped_column(String(100))
    polarity: Mapped[str | None] = mapped_column(String(16))
    protocol_text: Mapped[str] = mapped_column(Text)
    plan_toml: Mapped[str | None] = mapped_column(Text)
    plan_file: Mapped[str | None] = mapped_column(Text)
    target_dose_ma_min: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("polarity IN ('anode', 'cathode')", name="polarity"),
        CheckConstraint("length(protocol_text) > 0", name="text_not_empty"),
    )


class Course(Base):
    """A patient's course of treatment with one protocol; its dated schedule is in
    :class:`ScheduledSession`."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocols.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    modality: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="courses")
    protocol: Mapped[Protocol] = relationship()
    practitioner: Mapped[Practitioner | None] = relationship()
    schedule: Mapped[list[ScheduledSession]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ScheduledSession.number",
    )

    __table_args__ = (Index(None, "patient_id"),)


class ScheduledSession(Base):
    """One dated session of a course (``ionto.plan.course.Session``): ``number`` from 1 in
    date order, ``phase`` initial, maintenance or added."""

    __tablename__ = "scheduled_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    phase: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    course: Mapped[Course] = relationship(back_populates="schedule")
    done_by: Mapped[list[TreatmentSession]] = relationship(
        back_populates="scheduled", passive_deletes="all"
    )

    __table_args__ = (
        UniqueConstraint("course_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("phase IN ('initial', 'maintenance', 'added')", name="phase"),
    )


class TreatmentSession(Base):
    """One treatment as its session log recorded it (``ionto.run.session_log``).

    ``uid`` is the log's uid. ``status`` (success, abort, fault, interrupted), ``reason``,
    ``delivered_ma_min`` and ``last_t_s`` are what :func:`ionto.run.session_log.recover`
    computes from the log. ``log_bytes``/``log_digest``: how much of the log file was
    imported and its SHA-256, so a re-import adds only what the log gained.
    ``resumes_uid``: the interrupted session this one delivers the remainder of (the
    start document's ``resumes``); ``resumed_by_uid``: the session that resumed this one.
    """

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT")
    )
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocols.id", ondelete="RESTRICT"))
    scheduled_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduled_sessions.id", ondelete="RESTRICT")
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(200), default="")
    modality: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    delivered_ma_min: Mapped[float] = mapped_column(Double)
    target_ma_min: Mapped[float | None] = mapped_column(Double)
    duration_s: Mapped[float | None] = mapped_column(Double)
    last_t_s: Mapped[float] = mapped_column(Double)
    last_state: Mapped[str] = mapped_column(String(32))
    periods: Mapped[int] = mapped_column(Integer)
    damaged_lines: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    resumes_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    resumed_by_uid: Mapped[str | None] = mapped_column(String(64))
    software_version: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(Text, default="")
    start_doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    log_path: Mapped[str] = mapped_column(Text)
    log_bytes: Mapped[int] = mapped_column(BigInteger)
    log_digest: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient | None] = relationship(back_populates="sessions")
    practitioner: Mapped[Practitioner | None] = relationship()
    protocol: Mapped[Protocol] = relationship()
    scheduled: Mapped[ScheduledSession | None] = relationship(back_populates="done_by")
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Measurement.seq",
    )
    events: Mapped[list[SessionEvent]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SessionEvent.seq",
    )

    __table_args__ = (
        CheckConstraint("status IN ('success', 'abort', 'fault', 'interrupted')", name="status"),
        CheckConstraint("delivered_ma_min >= 0", name="delivered_not_negative"),
        CheckConstraint("periods >= 0", name="periods_not_negative"),
        UniqueConstraint("scheduled_id"),
        Index(None, "patient_id", "started_at"),
    )


class Measurement(Base):
    """One control period of a session (an ``event`` document of the log): ``seq`` from
    0, ``t_s`` from the session start, setpoint and measured current (A), voltage (V),
    impedance (ohm; None when there was no current), accumulated dose (mA*min); the
    device's own clock (s) and status of the reading when the log has them."""

    __tablename__ = "measurements"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    t_s: Mapped[float] = mapped_column(Double)
    setpoint_a: Mapped[float] = mapped_column(Double)
    current_a: Mapped[float | None] = mapped_column(Double)
    voltage_v: Mapped[float | None] = mapped_column(Double)
    impedance_ohm: Mapped[float | None] = mapped_column(Double)
    dose_ma_min: Mapped[float] = mapped_column(Double)
    state: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(Text, default="")
    compliance: Mapped[bool] = mapped_column(Boolean, default=False)
    device_t_s: Mapped[float | None] = mapped_column(Double)
    device_status: Mapped[str | None] = mapped_column(String(32))

    session: Mapped[TreatmentSession] = relationship(back_populates="measurements")

    __table_args__ = (CheckConstraint("seq >= 0", name="seq_not_negative"),)


class SessionEvent(Base):
    """Something that happened during a session (an ``occurrence`` of the log: a
    transition, a monitor trip or re-arm, a refusal, a step end); ``seq`` is its order."""

    __tablename__ = "session_events"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    t_s: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[TreatmentSession] = relationship(back_populates="events")

    __table_args__ = (CheckConstraint("seq >= 0", name="seq_not_negative"),)
