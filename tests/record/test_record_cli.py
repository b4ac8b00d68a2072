"""``ionto db`` and ``ionto records`` on both backends: outputs, exit codes, one-line
errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ionto.cli import app
from ionto.record import migrate
from ionto.run.session_log import read_documents, recover

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"
runner = CliRunner()
Logs = Callable[[str], Path]


def ionto(db_url: str, *args: str, code: int = 0) -> str:
    """Run ``ionto ARGS --db URL``; check the exit code; the standard output."""
    result = runner.invoke(app, [*args, "--db", db_url])
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
        return result.stderr
    return result.stdout if code == 0 else result.stderr


def test_db_upgrade_current_downgrade(db_url: str) -> None:
    assert json.loads(ionto(db_url, "db", "current", "--json"))["current"] is None
    assert "empty -> 0001" in ionto(db_url, "db", "upgrade")
    state = json.loads(ionto(db_url, "db", "current", "--json"))
    assert state["current"] == state["head"] == migrate.head()
    assert "up to date" in ionto(db_url, "db", "current")
    assert "--yes" in ionto(db_url, "db", "downgrade", "base", code=1)
    assert "0001 -> empty" in ionto(db_url, "db", "downgrade", "base", "--yes")
    assert "unknown revision" in ionto(db_url, "db", "upgrade", "zzz", code=2)


def test_db_history() -> None:
    result = runner.invoke(app, ["db", "history"])
    assert result.exit_code == 0 and result.stdout.startswith("0001  Initial record schema")


def test_patients_import_sessions_history(db_url: str, logs: Logs, tmp_path: Path) -> None:
    out = ionto(db_url, "records", "patients", "add", "Ada Lovelace", "--code", "A-1",
                "--birth", "1815-12-10")  # fmt: skip
    assert out.strip() == "patient 1 (A-1): Ada Lovelace"
    ionto(db_url, "records", "practitioners", "add", "Dr Who", "--registration", "REG-1")
    paths = [logs("lidocaine"), logs("fault")]
    done = json.loads(
        ionto(
            db_url,
            "records",
            "import",
            *map(str, paths),
            "--patient",
            "A-1",
            "--practitioner",
            "REG-1",
            "--json",
        )  # fmt: skip
    )
    assert [d["action"] for d in done] == ["created", "created"]
    assert [d["status"] for d in done] == ["success", "fault"]
    assert [d["delivered_mAmin"] for d in done] == [recover(p).delivered_mAmin for p in paths]
    again = ionto(db_url, "records", "import", *map(str, paths), "--patient", "1")
    assert again.count("unchanged") == 2
    listed = json.loads(ionto(db_url, "records", "sessions", "list", "--json"))
    assert {s["uid"] for s in listed} == {d["uid"] for d in done}
    assert all(s["patient"] == "A-1" and s["practitioner"] == "Dr Who" for s in listed)
    table = ionto(db_url, "records", "sessions", "list", "--patient", "A-1")
    assert "fault" in table and "success" in table
    uid = done[1]["uid"]
    assert "matches '%'" in ionto(db_url, "records", "sessions", "show", "%", code=2)
    shown = json.loads(ionto(db_url, "records", "sessions", "show", uid[:8], "--json"))
    assert shown["status"] == "fault" and any(e["kind"] == "trip" for e in shown["events"])
    assert "open_circuit" in ionto(db_url, "records", "sessions", "show", uid[:8])
    # measurements out again, equal to the log's periods
    rows = list(csv.DictReader(io.StringIO(ionto(db_url, "records", "sessions", "export", uid))))
    events = [d for d in read_documents(paths[1])[0] if d["type"] == "event"]
    assert len(rows) == len(events)
    assert [float(r["dose_mAmin"]) for r in rows] == [e["dose_mAmin"] for e in events]
    as_json = json.loads(ionto(db_url, "records", "sessions", "export", uid, "--format", "json"))
    assert [r["current_A"] for r in as_json] == [e["current_A"] for e in events]
    # the patient's history, CSV and JSON
    history_csv = ionto(db_url, "records", "patients", "history", "A-1", "--format", "csv")
    history = list(csv.DictReader(io.StringIO(history_csv)))
    by_uid = {r["uid"]: r for r in history}
    assert [by_uid[d["uid"]]["status"] for d in done] == ["success", "fault"]
    assert [float(by_uid[d["uid"]]["delivered_mAmin"]) for d in done] == [
        d["delivered_mAmin"] for d in done
    ]
    assert [r["started_at"] for r in history] == sorted(r["started_at"] for r in history)
    out_file = tmp_path / "out" / "ada.json"
    ionto(db_url, "records", "patients", "history", "A-1", "--out", str(out_file))
    history_json = json.loads(out_file.read_text())
    assert history_json["patient"]["birth_date"] == "1815-12-10"
    assert len(history_json["sessions"]) == 2
    assert all(s["events"] for s in history_json["sessions"])
    patients = json.loads(ionto(db_url, "records", "patients", "list", "--json"))
    assert patients[0]["sessions"] == 2
    assert json.loads(ionto(db_url, "records", "patients", "show", "A-1"))["patient"]["id"] == 1
    # the stored plan snapshot comes back byte for byte
    plans = json.loads(ionto(db_url, "records", "plans", "list", "--json"))
    lidocaine = next(p for p in plans if p["drug"] == "lidocaine")
    snapshot = ionto(db_url, "records", "plans", "show", str(lidocaine["id"]), "--toml")
    assert snapshot == PLAN.read_text()
    # a patient with sessions is not deleted
    refused = ionto(db_url, "records", "patients", "delete", "A-1", code=1)
    assert "2 recorded session(s)" in refused and "refused" in refused


def test_courses(db_url: str, logs: Logs, tmp_path: Path) -> None:
    plan = tmp_path / "course.toml"
    plan.write_text(PLAN.read_text() + "\n[course]\nstart = 2026-01-05\nsessions = 3\n")
    ionto(db_url, "records", "patients", "add", "Ada", "--code", "A-1")
    course = json.loads(
        ionto(db_url, "records", "courses", "add", str(plan), "--patient", "A-1", "--json")
    )
    assert [s["date"] for s in course["schedule"]] == ["2026-01-05", "2026-01-07", "2026-01-09"]
    ionto(db_url, "records", "import", str(logs("complete")), "--course", str(course["id"]))
    shown = json.loads(ionto(db_url, "records", "courses", "show", str(course["id"])))
    assert len(shown["schedule"][0]["sessions"]) == 1
    assert "1/3" in ionto(db_url, "records", "courses", "list")
    assert "refused" in ionto(db_url, "records", "courses", "delete", "1", code=1)
    # the course's plan (with [course]), the session's protocol, and now the plain plan
    ionto(db_url, "records", "plans", "add", str(PLAN))
    ionto(db_url, "records", "plans", "add", str(PLAN))  # once only
    assert len(json.loads(ionto(db_url, "records", "plans", "list", "--json"))) == 3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["records", "sessions", "list", "--patient", "Z9"], "unknown patient 'Z9'"),
        (["records", "import", "nothing.jsonl"], "cannot read"),
        (["records", "import", "LOG", "--patient", "nobody"], "unknown patient 'nobody'"),
        (["records", "sessions", "show", "ffffffff"], "no recorded session matches"),
        (["records", "patients", "history", "Z9"], "unknown patient"),
        (["records", "patients", "history", "Z9", "--format", "xml"], "--format: xml"),
        (["records", "patients", "add", "X", "--code", "P", "--birth", "soon"], "--birth"),
        (["records", "courses", "show", "77"], "unknown course '77'"),
        (["records", "plans", "show", "77"], "unknown protocol '77'"),
        (["records", "plans", "add", "missing.toml"], "missing.toml"),
    ],
)
def test_bad_input_one_line_exit_2(db_url: str, logs: Logs, args: list[str], words: str) -> None:
    args = [str(logs("complete")) if a == "LOG" else a for a in args]
    assert words in ionto(db_url, *args, code=2)


def test_malformed_log_exit_2(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "event", "t": 1}\n')
    assert "not a session log" in ionto(db_url, "records", "import", str(bad), code=2)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://u@h/db", "'mysql' databases are not supported"),
        ("://", "is not a database URL"),
        ("postgresql+asyncpg://u@h/db", "driver 'asyncpg'"),
        ("postgresql://nobody@127.0.0.1:1/x", "cannot connect"),
        ("sqlite:////no/such/folder/r.db", "no such directory"),
    ],
)
def test_bad_database_url_exit_2(url: str, words: str) -> None:
    result = runner.invoke(app, ["records", "patients", "list", "--db", url])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("IONTO_DB_URL", url)
    result = runner.invoke(app, ["records", "patients", "add", "Env", "--code", "E-1"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "env.sqlite3").is_file()
    state = runner.invoke(app, ["db", "current", "--json"])
    assert json.loads(state.stdout)["url"] == url


def test_default_database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IONTO_DB_URL", raising=False)
    monkeypatch.setenv("IONTO_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = runner.invoke(app, ["records", "patients", "list", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert (tmp_path / "data" / "ionto" / "records.sqlite3").is_file()


def test_an_old_schema_is_not_upgraded_silently(db_url: str) -> None:
    from sqlalchemy import text

    from ionto.record.database import make_engine

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    message = ionto(db_url, "records", "patients", "list", code=1)
    assert "revision 0000" in message


def test_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IONTO_DB_URL", raising=False)
    settings = tmp_path / "conf" / "config.toml"
    settings.parent.mkdir()
    settings.write_text('[records]\ndb = "sqlite:///clinic.sqlite3"\n')
    monkeypatch.setenv("IONTO_CONFIG", str(settings))
    result = runner.invoke(app, ["records", "patients", "add", "Conf", "--code", "C-1"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "conf" / "clinic.sqlite3").is_file()  # relative to the file
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    monkeypatch.setenv("IONTO_DB_URL", other)  # the environment wins over the file
    state = runner.invoke(app, ["db", "current", "--json"])
    assert json.loads(state.stdout)["url"] == other
    monkeypatch.delenv("IONTO_DB_URL")
    settings.write_text('[records]\ndbb = "sqlite:///x.sqlite3"\n')
    bad = runner.invoke(app, ["records", "patients", "list"])
    assert bad.exit_code == 2 and "records.dbb" in bad.stderr and "did you mean 'db'" in bad.stderr
    settings.write_text('[records]\ndb = "mysql://x/y"\n')
    bad = runner.invoke(app, ["records", "patients", "list"])
    assert bad.exit_code == 2 and f"{settings}: records.db" in bad.stderr
