"""Course schedules: dated sessions from a start date and the modality's course rules.

The rules come from ``[modality.course]`` in the library (see modalities.toml):

* ``weekly``: ``per_week`` sessions spread over each 7 days (offsets floor(i * 7 / k)
  days: 2 a week -> days 0 and 3; 3 a week -> 0, 2, 4, Mon/Wed/Fri from a Monday);
* ``interval``: one session every ``interval`` days;
* then ``maintenance``: ``per_month`` sessions in each month after the last initial
  session (``older_per_month`` from ``older_age`` on: microcurrent twice a month over
  50, C5), or one every ``every``.

A practitioner may override the number of sessions, the frequency (``per_week`` or
``every_days``) and the number of maintenance sessions, and skip, move or add dates.
The result is checked against the modality's limits (``min_gap`` between sessions,
``max_per_week`` in any 7 days, the usual frequency range); breaches are findings
(course.min-gap and course.max-per-week are errors, course.frequency a warning).
Dates are :class:`datetime.date`; durations in days unless stated.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ionto.core.errors import ConfigError
from ionto.plan.library_schema import CourseRules, Modality
from ionto.plan.safety.findings import Finding

Phase = Literal["initial", "maintenance", "added"]
DAY = 86400.0


@dataclass(frozen=True)
class Session:
    """One scheduled session: ``number`` (1-based, in date order), ``date`` and ``phase``."""

    number: int
    date: dt.date
    phase: Phase
    note: str = ""


@dataclass(frozen=True)
class Course:
    """A dated schedule and the findings of its check against the course rules."""

    modality: str
    sessions: tuple[Session, ...]
    findings: tuple[Finding, ...] = ()
    title: str = ""
    time: dt.time = dt.time(9, 0)
    length: dt.timedelta = dt.timedelta(minutes=30)

    @property
    def dates(self) -> list[dt.date]:
        """The session dates in order."""
        return [s.date for s in self.sessions]

    @property
    def refused(self) -> bool:
        """True when a finding is an error."""
        return any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "modality": self.modality,
            "title": self.title,
            "refused": self.refused,
            "sessions": [
                {"number": s.number, "date": s.date.isoformat(), "phase": s.phase, "note": s.note}
                for s in self.sessions
            ],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_ical(self, stamp: dt.datetime | None = None) -> bytes:
        """The schedule as an iCalendar (RFC 5545) file, one VEVENT per session.

        Events are in floating local time at ``time`` for ``length``; UIDs are stable
        for the same course. ``stamp`` (UTC) is the DTSTAMP, default now.
        """
        from icalendar import Calendar, Event

        cal = Calendar()
        cal.add("prodid", "-//ionto//treatment course//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", self.title or f"{self.modality} course")
        key = hashlib.sha256(f"{self.modality}|{self.title}|{self.dates}".encode()).hexdigest()[:16]
        stamp = stamp or dt.datetime.now(dt.UTC)
        total = len(self.sessions)
        for s in self.sessions:
            event = Event()
            begin = dt.datetime.combine(s.date, self.time)
            event.add("uid", f"{key}-{s.number}@ionto")
            event.add("dtstamp", stamp)
            event.add("dtstart", begin)
            event.add("dtend", begin + self.length)
            name = self.title or self.modality
            event.add("summary", f"{name}: session {s.number}/{total} ({s.phase})")
            if s.note:
                event.add("description", s.note)
            cal.add_component(event)
        return bytes(cal.to_ical())


@dataclass(frozen=True)
class Overrides:
    """Practitioner changes: dates to ``skip``, ``(from, to)`` pairs to ``move``, dates to
    ``add``; ``sessions`` (initial count), ``per_week`` or ``every_days`` (frequency),
    ``maintenance_sessions``."""

    sessions: int | None = None
    per_week: int | None = None
    every_days: int | None = None
    maintenance_sessions: int | None = None
    skip: Sequence[dt.date] = ()
    move: Sequence[tuple[dt.date, dt.date]] = ()
    add: Sequence[dt.date] = ()
    notes: dict[str, str] = field(default_factory=dict)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the month's last day."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days(seconds: float, field: str) -> int:
    days = seconds / DAY
    if abs(days - round(days)) > 1e-9 or round(days) < 1:
        raise ConfigError(field, f"{seconds:g} s", "s", "a whole number of days >= 1")
    return int(round(days))


def _initial(
    rules: CourseRules | None, start: dt.date, n: int, o: Overrides, name: str
) -> list[dt.date]:
    per_week = o.per_week
    every = o.every_days
    if per_week is None and every is None:
        if rules is None:
            raise ConfigError(
                "course",
                None,
                None,
                "per_week or every",
                f"{name} has no course rules; give a frequency",
            )
        if rules.pattern == "weekly":
            per_week = int(rules.per_week.si) if rules.per_week else None
        elif rules.interval is not None:
            every = _days(rules.interval.si, f"{name}.course.interval")
    if per_week is not None:
        if not 1 <= per_week <= 7:
            raise ConfigError("course.per_week", per_week, None, "1 to 7")
        offsets = [i * 7 // per_week for i in range(per_week)]
        return [
            start + dt.timedelta(days=7 * (j // per_week) + offsets[j % per_week]) for j in range(n)
        ]
    if every is None:
        raise ConfigError(
            "course", None, None, "per_week or every", f"{name}: no frequency in the course rules"
        )
    if every < 1:
        raise ConfigError("course.every", every, "day", ">= 1 day")
    return [start + dt.timedelta(days=every * j) for j in range(n)]


def _maintenance(
    rules: CourseRules | None, last: dt.date, m: int, age: float | None
) -> list[dt.date]:
    if m <= 0 or rules is None or rules.maintenance is None:
        return []
    plan = rules.maintenance
    per_month = int(plan.per_month.si) if plan.per_month else None
    older = plan.older_age.si / (365.25 * DAY) if plan.older_age else None
    if per_month and older is not None and plan.older_per_month and age is not None:
        per_month = int(plan.older_per_month.si) if age >= older - 1e-9 else per_month
    if per_month:
        out = []
        for j in range(1, m + 1):
            whole, part = divmod(j, per_month)
            out.append(add_months(last, whole) + dt.timedelta(days=round(part * 30 / per_month)))
        return out
    if plan.every is not None:
        every = _days(plan.every.si, "maintenance.every")
        return [last + dt.timedelta(days=every * j) for j in range(1, m + 1)]
    return []


def schedule(
    modality: Modality,
    start: dt.date,
    *,
    age: float | None = None,
    overrides: Overrides | None = None,
    title: str = "",
    time: dt.time = dt.time(9, 0),
    length: dt.timedelta = dt.timedelta(minutes=30),
) -> Course:
    """The course of ``modality`` from ``start`` for a client of ``age`` years."""
    o = overrides or Overrides()
    rules = modality.course
    n = o.sessions if o.sessions is not None else (int(rules.sessions.si) if rules else None)
    if n is None:
        raise ConfigError(
            "course.sessions",
            None,
            None,
            ">= 1",
            f"{modality.name} has no course rules; give sessions",
        )
    dates: list[tuple[dt.date, Phase]] = [
        (d, "initial") for d in _initial(rules, start, n, o, modality.name)
    ]
    m = o.maintenance_sessions
    if m is None:
        m = int(rules.maintenance.sessions.si) if rules and rules.maintenance else 0
    last = dates[-1][0] if dates else start
    dates += [(d, "maintenance") for d in _maintenance(rules, last, m, age)]
    dates = _apply(dates, o)
    sessions = tuple(
        Session(k, d, phase, o.notes.get(d.isoformat(), ""))
        for k, (d, phase) in enumerate(dates, start=1)
    )
    findings = tuple(check_course(modality, [s.date for s in sessions], o))
    return Course(modality.name, sessions, findings, title, time, length)


def _apply(dates: list[tuple[dt.date, Phase]], o: Overrides) -> list[tuple[dt.date, Phase]]:
    current = list(dates)

    def index(day: dt.date, field: str) -> int:
        for k, (d, _) in enumerate(current):
            if d == day:
                return k
        near = sorted(current, key=lambda item: abs((item[0] - day).days))[:2]
        shown = ", ".join(d.isoformat() for d, _ in near)
        raise ConfigError(
            field,
            day.isoformat(),
            None,
            f"a scheduled date (nearest: {shown})",
            f"no session on {day}",
        )

    for k, day in enumerate(o.skip):
        current.pop(index(day, f"course.skip[{k}]"))
    for k, (old, new) in enumerate(o.move):
        i = index(old, f"course.move[{k}].from")
        current[i] = (new, current[i][1])
    current += [(day, "added") for day in o.add]
    current.sort(key=lambda item: item[0])
    return current


def check_course(
    modality: Modality, dates: Iterable[dt.date], o: Overrides | None = None
) -> list[Finding]:
    """Breaches of the modality's course limits by a list of session dates."""
    rules = modality.course
    out: list[Finding] = []
    days = sorted(dates)
    if rules is None:
        return out
    if rules.min_gap is not None:
        gap = rules.min_gap.si / DAY
        for a, b in zip(days, days[1:], strict=False):
            if (b - a).days < gap - 1e-9:
                out.append(
                    Finding(
                        "course.min-gap",
                        "error",
                        f"sessions on {a} and {b} are closer than {rules.min_gap.value}",
                        rules.min_gap.source,
                    )
                )
    if rules.max_per_week is not None:
        limit = int(rules.max_per_week.si)
        for k, first in enumerate(days):
            window = [d for d in days[k:] if (d - first).days < 7]
            if len(window) > limit:
                out.append(
                    Finding(
                        "course.max-per-week",
                        "error",
                        f"{len(window)} sessions in the 7 days from {first}; at most {limit}",
                        rules.max_per_week.source,
                    )
                )
                break
    o = o or Overrides()
    if o.per_week is not None and rules.per_week_range is not None:
        low, high = rules.per_week_range.si
        if not low <= o.per_week <= high:
            out.append(
                Finding(
                    "course.frequency",
                    "warning",
                    f"{o.per_week} sessions a week; the usual range is "
                    f"{rules.per_week_range.low} to {rules.per_week_range.high}",
                    rules.per_week_range.source,
                )
            )
    if o.every_days is not None and rules.interval_range is not None:
        low, high = (x / DAY for x in rules.interval_range.si)
        if not low <= o.every_days <= high:
            out.append(
                Finding(
                    "course.frequency",
                    "warning",
                    f"every {o.every_days} days; the usual interval is "
                    f"{rules.interval_range.low} to {rules.interval_range.high}",
                    rules.interval_range.source,
                )
            )
    return out


def course_from_plan(plan: Any, overrides: Overrides | None = None) -> Course:
    """The course of a :class:`ionto.plan.plan.Plan` from its ``[course]`` table.

    ``overrides`` (e.g. from the command line) replace the plan's settings where given.
    """
    spec = plan.course
    if spec is None:
        raise ConfigError(
            f"{plan.source}: course",
            None,
            None,
            "a [course] table with start = DATE",
            "the plan has no [course]",
        )
    every = _days(spec.every, f"{plan.source}: course.every") if spec.every is not None else None
    base = Overrides(
        sessions=spec.sessions,
        per_week=spec.per_week,
        every_days=every,
        maintenance_sessions=spec.maintenance_sessions,
        skip=tuple(spec.skip),
        move=tuple((m.from_, m.to) for m in spec.move),
        add=tuple(spec.add),
    )
    if overrides is not None:
        base = _merge(base, overrides)
    return schedule(
        plan.modality,
        spec.start,
        age=plan.patient.age,
        overrides=base,
        title=plan.title,
        time=spec.time,
        length=dt.timedelta(seconds=spec.length),
    )


def _merge(base: Overrides, extra: Overrides) -> Overrides:
    def pick(a: Any, b: Any) -> Any:
        return b if b is not None else a

    frequency_given = extra.per_week is not None or extra.every_days is not None
    return Overrides(
        sessions=pick(base.sessions, extra.sessions),
        per_week=extra.per_week if frequency_given else base.per_week,
        every_days=extra.every_days if frequency_given else base.every_days,
        maintenance_sessions=pick(base.maintenance_sessions, extra.maintenance_sessions),
        skip=(*base.skip, *extra.skip),
        move=(*base.move, *extra.move),
        add=(*base.add, *extra.add),
        notes={**base.notes, **extra.notes},
    )
