"""Which database, and how to connect to it.

The URL comes from (first found): the ``--db`` option, the ``IONTO_DB_URL`` environment
variable, ``db`` in the ``[records]`` table of the settings file (``$IONTO_CONFIG``, else
``$XDG_CONFIG_HOME/ionto/config.toml``, i.e. ``~/.config/ionto/config.toml``; a relative
SQLite path there is relative to that file), or the default SQLite file
``$XDG_DATA_HOME/ionto/records.sqlite3`` (``~/.local/share/ionto/records.sqlite3``).

Accepted: ``sqlite:///PATH`` (a file; ``sqlite://`` alone is an in-memory database) and
``postgresql://...`` (psycopg 3; a bare ``postgresql://`` or ``postgres://`` is read as
``postgresql+psycopg://``). A plain file path is taken as a SQLite file.

SQLite does not enforce foreign keys unless asked on every connection: the engine made
here asks (``PRAGMA foreign_keys = ON``), so the ``RESTRICT``/``CASCADE`` rules of the
schema hold on both backends.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ionto.core.errors import ConfigError, IontoError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

ENV_VAR = "IONTO_DB_URL"
ALLOWED = "sqlite:///PATH or postgresql://USER@HOST[:PORT]/DB"


class RecordError(IontoError):
    """A records operation that cannot be done as asked (refused to keep data, or a
    record that does not exist). ``bad_input`` marks errors caused by the user's input."""

    def __init__(self, message: str, *, bad_input: bool = True) -> None:
        super().__init__(" ".join(message.split()))
        self.bad_input = bad_input


def default_path() -> Path:
    """``$XDG_DATA_HOME/ionto/records.sqlite3`` (XDG default ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ionto" / "records.sqlite3"


def settings_path() -> Path:
    """The settings file: ``$IONTO_CONFIG``, else ``$XDG_CONFIG_HOME/ionto/config.toml``."""
    named = os.environ.get("IONTO_CONFIG", "").strip()
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ionto" / "config.toml"


def settings_url() -> str | None:
    """``[records] db`` of the settings file (checked; relative SQLite paths made
    absolute against the file's folder), or None without a file or a setting."""
    from pydantic import ValidationError

    from ionto.core.config import StrictModel, config_error, load_toml

    class RecordsSettings(StrictModel):
        """``[records]``: ``db``, the database URL."""

        db: str | None = None

    path = settings_path()
    if not path.is_file():
        return None
    data = load_toml(path)
    try:
        records = RecordsSettings.model_validate(data.get("records", {}))
    except ValidationError as exc:
        raise config_error(exc, prefix=f"{path}: records") from None
    if not records.db:
        return None
    url = parse_url(records.db, field=f"{path}: records.db")
    database = url.database or ""
    relative = database not in ("", ":memory:") and not Path(database).expanduser().is_absolute()
    if url.get_backend_name() == "sqlite" and relative:
        url = url.set(database=str(path.parent / database))
    return url.render_as_string(hide_password=False)


def resolve_url(option: str | None = None) -> str:
    """The database URL as text: ``option``, else ``$IONTO_DB_URL``, else the settings
    file's ``[records] db``, else the default SQLite file (see the module docstring)."""
    if option:
        return option
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return settings_url() or default_url()


def default_url() -> str:
    """The URL of the default SQLite file."""
    return f"sqlite:///{default_path()}"


def parse_url(text: str, field: str = "--db") -> URL:
    """Check a database URL and normalise its driver; :class:`ConfigError` if unusable."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = text.strip()
    if "://" not in text and text:
        text = f"sqlite:///{Path(text).expanduser()}"  # a file path
    try:
        url = make_url(text)
    except ArgumentError:
        raise ConfigError(field, text, None, ALLOWED, f"{text!r} is not a database URL") from None
    backend, _, driver = url.drivername.partition("+")  # no dialect is loaded here
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise ConfigError(field, text, None, "sqlite:///PATH", f"driver {driver!r}")
        return url
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg", "psycopg2"):  # psycopg 3 serves them all
            raise ConfigError(
                field, _hide(url), None, "postgresql+psycopg://...", f"driver {driver!r}"
            )
        return url.set(drivername="postgresql+psycopg")
    raise ConfigError(field, _hide(url), None, ALLOWED, f"{backend!r} databases are not supported")


def _hide(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def shown(url: URL | str) -> str:
    """The URL for messages, password hidden."""
    from sqlalchemy.engine import make_url

    return _hide(make_url(url) if isinstance(url, str) else url)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def make_engine(url: str | URL, *, create_dir: bool = False, echo: bool = False) -> Engine:
    """An engine for ``url`` (checked with :func:`parse_url`). For a SQLite file,
    foreign keys are enforced and the folder must exist (``create_dir``: make it)."""
    from sqlalchemy import create_engine, event

    parsed = parse_url(url) if isinstance(url, str) else url
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if create_dir:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise ConfigError(
                    "--db", shown(parsed), None, ALLOWED, f"no such directory: {path.parent}"
                )
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    return engine


def connection_error(url: URL | str, exc: BaseException) -> ConfigError:
    """A :class:`ConfigError` (one line) for a database that cannot be reached."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = reason[0] if reason else type(exc).__name__
    return ConfigError(
        "--db", shown(url), None, ALLOWED, f"cannot connect to {shown(url)}: {detail}"
    )
