"""The plan sub-commands: tables, --json, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from icalendar import Calendar
from plan_helpers import EXAMPLES
from typer.testing import CliRunner

from ionto.plan.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_library_list_and_show() -> None:
    code, out, _ = run("library", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert any(r["kind"] == "drug" and r["name"] == "lidocaine" for r in rows)
    assert {r["kind"] for r in rows} == {"drug", "electrode", "modality"}
    code, out, _ = run("library", "list", "electrodes")
    assert code == 0 and "dupel-blue" in out
    code, out, _ = run("library", "show", "dupel-blue", "--json")
    shown = json.loads(out)
    assert shown["entry"]["capacity"]["options"]["510k"]["value"] == "160 mA*min"
    assert "k983484" in shown["sources"]
    code, out, _ = run("library", "show", "lidocaine")
    assert code == 0 and "karpinski2018" in out


def test_library_errors_exit_2() -> None:
    code, out, err = run("library", "show", "lidocain")
    assert code == 2 and out == ""
    assert "did you mean 'lidocaine'" in err
    code, _, err = run("library", "list", "drug")
    assert code == 2 and "did you mean 'drugs'" in err


def test_library_validate(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[sources.x]\ncitation = "Our notes."\n')
    code, out, _ = run("library", "validate", str(good), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[[drug]]\nname = "lidocaine"\n')
    code, _, err = run("library", "validate", str(bad))
    assert code == 2
    assert str(bad) in err and len(err.strip().splitlines()) == 1


def test_check_accepts_and_refuses() -> None:
    code, out, _ = run("check", str(EXAMPLES / "lidocaine-forearm.toml"), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["refused"] is False
    assert abs(report["facts"]["dose_mAmin"] - 40.0) < 1e-9
    code, out, _ = run("check", str(EXAMPLES / "refused-dexamethasone-anode.toml"))
    assert code == 1
    assert "REFUSED" in out and "polarity.substance" in out


def test_check_protocol_error_shows_the_caret(tmp_path: Path) -> None:
    text = (EXAMPLES / "lidocaine-forearm.toml").read_text()
    path = tmp_path / "plan.toml"
    path.write_text(text.replace("hold 4 mA until 38 mA*min", "hodl 4 mA until 38 mA*min"))
    code, out, err = run("check", str(path))
    assert code == 2 and out == ""
    assert "line 2, column 1" in err and "did you mean 'hold'" in err
    assert "^^^^" in err and "Traceback" not in err


def test_schedule_from_plan_with_overrides_and_ics(tmp_path: Path) -> None:
    ics = tmp_path / "course.ics"
    code, out, _ = run(
        "schedule",
        str(EXAMPLES / "microcurrent-face.toml"),
        "--skip",
        "2026-03-05",
        "--add",
        "2026-03-06",
        "--ics",
        str(ics),
        "--json",
    )
    assert code == 0
    course = json.loads(out)
    dates = [s["date"] for s in course["sessions"]]
    assert "2026-03-05" not in dates and "2026-03-06" in dates
    events = [c for c in Calendar.from_ical(ics.read_bytes()).walk() if c.name == "VEVENT"]
    assert len(events) == len(dates)


def test_schedule_without_plan_and_refused_course() -> None:
    code, out, _ = run(
        "schedule", "--modality", "microcurrent", "--start", "2026-03-02", "--age", "60"
    )
    assert code == 0 and "maintenance" in out
    code, out, _ = run(
        "schedule",
        "--modality",
        "tap-water-iontophoresis",
        "--start",
        "2026-03-02",
        "--per-week",
        "6",
    )
    assert code == 1 and "course.max-per-week" in out
    code, _, err = run("schedule", "--modality", "microcurrent", "--start", "March 2")
    assert code == 2 and "is not a date" in err
