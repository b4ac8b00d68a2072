"""Schema migrations, run programmatically with Alembic (no ``alembic.ini`` needed).

The migration scripts ship inside the package (``ionto/record/migrations``). The
production path is always Alembic: :func:`upgrade` (``ionto db upgrade``) brings a
database to the latest revision, :func:`current` (``ionto db current``) says where it
is. :func:`ready` is what every records command calls first: an empty database is
upgraded to head (a first use needs no separate step), a database at an older revision
is refused with a request to run ``ionto db upgrade`` (changing the schema of data that
exists is a decision, not a side effect), and a database that is not an ionto one (tables
but no revision) is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ionto.record.database import RecordError, connection_error, shown

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped scripts, bound to ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision shipped with this version of ionto."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def revisions() -> list[tuple[str, str]]:
    """(revision, message) of every shipped migration, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    out = [(s.revision, s.doc or "") for s in scripts.walk_revisions()]
    return out[::-1]


def _check_revision(revision: str) -> None:
    known = {r for r, _ in revisions()}
    if revision not in known | {"head", "base"} and not any(r.startswith(revision) for r in known):
        from ionto.core.errors import ConfigError

        shown_ = ", ".join(["head", "base", *sorted(known)])
        raise ConfigError("REVISION", revision, None, f"one of: {shown_}", "unknown revision")


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply the migrations up to ``revision`` (default the newest); returns the
    database's revision afterwards."""
    from alembic import command

    _check_revision(revision)
    with _connect(engine) as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.commit()
    return current(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Undo migrations down to ``revision`` ("base": no tables left)."""
    from alembic import command

    _check_revision(revision)
    with _connect(engine) as conn:
        command.downgrade(alembic_config(conn), revision)
        conn.commit()
    return current(engine)


def current(engine: Engine) -> str | None:
    """The database's revision (None when it has none: empty or not ionto's)."""
    from alembic.runtime.migration import MigrationContext

    with _connect(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _connect(engine: Engine) -> Connection:
    from sqlalchemy.exc import DBAPIError

    try:
        return engine.connect()
    except DBAPIError as exc:
        raise connection_error(engine.url, exc) from None


def ready(engine: Engine) -> str:
    """Make sure the schema is the newest before using the records (see module doc)."""
    from sqlalchemy import inspect

    rev = current(engine)
    newest = head()
    if rev == newest:
        return rev
    with _connect(engine) as conn:
        tables = inspect(conn).get_table_names()
    if rev is None and not tables:
        upgrade(engine)
        return newest
    where = shown(engine.url)
    if rev is None:
        raise RecordError(
            f"{where} has tables but no ionto schema revision; use an empty database "
            "or one made by `ionto db upgrade`",
            bad_input=False,
        )
    if rev not in {r for r, _ in revisions()}:
        raise RecordError(
            f"{where} is at revision {rev}, which this version of ionto does not know "
            f"(newest known: {newest}); use a newer ionto",
            bad_input=False,
        )
    raise RecordError(
        f"{where} is at revision {rev}, not the newest ({newest}); "
        f"run `ionto db upgrade --db {where}` first",
        bad_input=False,
    )
