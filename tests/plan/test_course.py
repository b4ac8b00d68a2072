"""Course schedules: modality rules, practitioner overrides, limits and iCalendar."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar
from plan_helpers import plan_of

from ionto.core.errors import ConfigError
from ionto.plan.course import Overrides, add_months, course_from_plan, schedule
from ionto.plan.library import builtin_library

LIB = builtin_library()
MONDAY = dt.date(2026, 3, 2)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(("age", "per_month"), [(40, 1), (49.9, 1), (50, 2), (56, 2)])
def test_C5_microcurrent_course_is_12_at_2_a_week_then_monthly_or_twice_monthly(
    age: float, per_month: int
) -> None:
    course = schedule(
        LIB.modality("microcurrent"), MONDAY, age=age, overrides=Overrides(maintenance_sessions=6)
    )
    initial = [s.date for s in course.sessions if s.phase == "initial"]
    upkeep = [s.date for s in course.sessions if s.phase == "maintenance"]
    assert len(initial) == 12
    assert initial[:4] == [d("2026-03-02"), d("2026-03-05"), d("2026-03-09"), d("2026-03-12")]
    for week in range(6):  # exactly 2 in each week from the start
        start = MONDAY + dt.timedelta(days=7 * week)
        assert sum(start <= x < start + dt.timedelta(days=7) for x in initial) == 2
    assert min((b - a).days for a, b in zip(initial, initial[1:], strict=False)) >= 1  # >= 24 h
    last = initial[-1]
    assert len(upkeep) == 6
    for k in range(6 // per_month):  # per_month sessions in each month after the series
        lo, hi = add_months(last, k), add_months(last, k + 1)
        assert sum(lo < x <= hi for x in upkeep) == per_month
    assert not course.findings


def test_C5_practitioner_overrides_the_microcurrent_course() -> None:
    """The practitioner may change the schedule: a different frequency (weekly instead of
    twice a week), a moved session and a skipped one replace the rule's dates, and the
    maintenance still follows the client's age (over 50: twice a month)."""
    o = Overrides(
        sessions=4,
        per_week=1,
        maintenance_sessions=4,
        move=((d("2026-03-09"), d("2026-03-10")),),
        skip=(d("2026-03-16"),),
    )
    course = schedule(LIB.modality("microcurrent"), MONDAY, age=60, overrides=o)
    initial = [s.date.isoformat() for s in course.sessions if s.phase == "initial"]
    assert initial == ["2026-03-02", "2026-03-10", "2026-03-23"]
    upkeep = [s.date for s in course.sessions if s.phase == "maintenance"]
    assert len(upkeep) == 4
    assert sum(d("2026-03-23") < x <= add_months(d("2026-03-23"), 1) for x in upkeep) == 2


def test_tap_water_course_three_a_week_at_most_one_a_day() -> None:
    course = schedule(LIB.modality("tap-water-iontophoresis"), MONDAY)
    initial = [s.date for s in course.sessions if s.phase == "initial"]
    assert len(initial) == 12
    assert {x.strftime("%a") for x in initial} == {"Mon", "Wed", "Fri"}
    assert len(set(course.dates)) == len(course.dates)
    upkeep = [s.date for s in course.sessions if s.phase == "maintenance"]
    assert [(b - a).days for a, b in zip(upkeep, upkeep[1:], strict=False)] == [14] * 5
    assert not course.findings


def test_tap_water_limits_are_checked() -> None:
    twi = LIB.modality("tap-water-iontophoresis")
    six = schedule(twi, MONDAY, overrides=Overrides(per_week=6))
    assert {f.id for f in six.findings} == {"course.max-per-week", "course.frequency"}
    assert six.refused
    twice = schedule(twi, MONDAY, overrides=Overrides(add=(d("2026-03-02"),)))
    assert [f.id for f in twice.findings] == ["course.min-gap"]
    five = schedule(twi, MONDAY, overrides=Overrides(per_week=5))
    assert not five.refused


def test_drug_iontophoresis_every_two_days_with_custom_frequency() -> None:
    drug = LIB.modality("drug-iontophoresis")
    course = schedule(drug, MONDAY)
    assert len(course.sessions) == 9
    assert {(b - a).days for a, b in zip(course.dates, course.dates[1:], strict=False)} == {2}
    custom = schedule(drug, MONDAY, overrides=Overrides(every_days=3, sessions=4))
    assert custom.dates == [d("2026-03-02"), d("2026-03-05"), d("2026-03-08"), d("2026-03-11")]
    assert not custom.findings
    slow = schedule(drug, MONDAY, overrides=Overrides(every_days=5, sessions=2))
    assert [f.severity for f in slow.findings] == ["warning"]


def test_practitioner_skips_moves_and_adds_dates() -> None:
    twi = LIB.modality("tap-water-iontophoresis")
    o = Overrides(
        sessions=3,
        maintenance_sessions=0,
        skip=(d("2026-03-04"),),
        move=((d("2026-03-06"), d("2026-03-07")),),
        add=(d("2026-03-10"),),
        notes={"2026-03-10": "extra session after holiday"},
    )
    course = schedule(twi, MONDAY, overrides=o)
    assert [(s.number, s.date.isoformat(), s.phase) for s in course.sessions] == [
        (1, "2026-03-02", "initial"),
        (2, "2026-03-07", "initial"),
        (3, "2026-03-10", "added"),
    ]
    assert course.sessions[-1].note == "extra session after holiday"
    with pytest.raises(ConfigError, match="no session on 2026-03-03"):
        schedule(twi, MONDAY, overrides=Overrides(skip=(d("2026-03-03"),)))


def test_modality_without_course_rules_needs_a_frequency() -> None:
    ems = LIB.modality("ems")
    with pytest.raises(ConfigError, match="no course rules"):
        schedule(ems, MONDAY)
    course = schedule(ems, MONDAY, overrides=Overrides(sessions=4, per_week=2))
    assert len(course.sessions) == 4


def test_course_from_plan_uses_its_table_and_the_clients_age() -> None:
    course = course_from_plan(plan_of("microcurrent-face"))
    assert len(course.sessions) == 16
    upkeep = [s.date for s in course.sessions if s.phase == "maintenance"]
    assert upkeep[0] - course.dates[11] == dt.timedelta(days=15)  # twice a month (age 56)
    younger = course_from_plan(plan_of("microcurrent-face", patient={"age": 30}))
    assert [s.date for s in younger.sessions if s.phase == "maintenance"][0] == add_months(
        younger.dates[11], 1
    )
    with pytest.raises(ConfigError, match="has no \\[course\\]"):
        course_from_plan(plan_of("lidocaine-forearm"))


def test_icalendar_export_round_trips() -> None:
    course = course_from_plan(plan_of("tap-water-palms"))
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = course.to_ical(stamp=stamp)
    assert data == course.to_ical(stamp=stamp)  # stable UIDs
    cal = Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == len(course.sessions)
    first = events[0]
    assert first.decoded("dtstart") == dt.datetime(2026, 3, 2, 9, 0)
    assert first.decoded("dtend") - first.decoded("dtstart") == dt.timedelta(minutes=30)
    assert "session 1/18" in str(first["summary"])
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(d("2026-01-31"), 1) == d("2026-02-28")
    assert add_months(d("2026-11-15"), 3) == d("2027-02-15")
