"""Alembic environment: runs the migrations on the connection that
:mod:`ionto.record.migrate` hands over (``config.attributes["connection"]``), or on an
engine made from the configured URL (``alembic -x``-free use from a checkout)."""

from __future__ import annotations

from alembic import context

from ionto.record.database import make_engine
from ionto.record.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite rebuilds a table to alter it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the handed-over connection, or connect to ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not offered
    raise SystemExit("ionto's migrations run online only (ionto db upgrade)")
run_migrations_online()
