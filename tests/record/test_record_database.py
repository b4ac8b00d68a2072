"""Database URLs: accepted forms, their normal form, and the order of the sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.record.database import default_path, parse_url, resolve_url, shown


@pytest.mark.parametrize(
    ("text", "driver"),
    [
        ("sqlite:///x.sqlite3", "sqlite"),
        ("sqlite://", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@/db?host=/tmp/sock", "postgresql+psycopg"),
    ],
)
def test_accepted_urls(text: str, driver: str) -> None:
    assert parse_url(text).drivername == driver


def test_a_file_path_is_a_sqlite_file(tmp_path: Path) -> None:
    url = parse_url(str(tmp_path / "r.db"))
    assert url.drivername == "sqlite" and url.database == str(tmp_path / "r.db")


@pytest.mark.parametrize("text", ["oracle://u@h/db", "sqlite+pysqlcipher:///x", "http://x"])
def test_refused_urls(text: str) -> None:
    with pytest.raises(ConfigError, match="^--db: "):
        parse_url(text)


def test_passwords_are_hidden_in_messages() -> None:
    assert "secret" not in shown("postgresql://u:secret@h/db")
    with pytest.raises(ConfigError) as info:
        parse_url("mssql://u:secret@h/db")
    assert "secret" not in str(info.value)


def test_order_of_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IONTO_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("IONTO_DB_URL", raising=False)
    assert default_path() == tmp_path / "ionto" / "records.sqlite3"
    assert resolve_url() == f"sqlite:///{default_path()}"
    monkeypatch.setenv("IONTO_DB_URL", "sqlite:///env.db")
    assert resolve_url() == "sqlite:///env.db"
    assert resolve_url("sqlite:///option.db") == "sqlite:///option.db"
