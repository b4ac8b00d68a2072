"""Migrations: head on an empty database is exactly the models; down to base and up
again works; a database at an unknown revision or with foreign tables is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from ionto.record import migrate
from ionto.record.database import RecordError, make_engine
from ionto.record.models import Base

TABLES = {
    "patients",
    "practitioners",
    "protocols",
    "courses",
    "scheduled_sessions",
    "sessions",
    "measurements",
    "session_events",
}


def _diff(engine: object) -> list[object]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate.current(engine) is None
    assert migrate.upgrade(engine) == migrate.head()
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert tables == TABLES | {"alembic_version"}
    assert _diff(engine) == []
    engine.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    assert migrate.downgrade(engine, "base") is None
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert migrate.upgrade(engine) == migrate.head()
    assert _diff(engine) == []
    engine.dispose()


def test_foreign_keys_and_uniques_exist(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        insp = inspect(conn)
        fks = {
            (fk["referred_table"], tuple(fk["constrained_columns"]), fk["options"].get("ondelete"))
            for fk in insp.get_foreign_keys("sessions")
        }
        measurement_fk = insp.get_foreign_keys("measurements")
        pk = insp.get_pk_constraint("measurements")["constrained_columns"]
    engine.dispose()
    assert ("patients", ("patient_id",), "RESTRICT") in fks
    assert ("protocols", ("protocol_id",), "RESTRICT") in fks
    assert [(f["referred_table"], f["options"].get("ondelete")) for f in measurement_fk] == [
        ("sessions", "CASCADE")
    ]
    assert pk == ["session_id", "seq"]


def test_ready_upgrades_an_empty_database_only(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate.ready(engine) == migrate.head()
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(RecordError, match="revision ffff, which this version"):
        migrate.ready(engine)
    engine.dispose()


def test_ready_refuses_tables_without_a_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (x INTEGER)"))
    with pytest.raises(RecordError, match="no ionto schema revision"):
        migrate.ready(engine)
    engine.dispose()


def test_unknown_revision_is_a_config_error(db_url: str) -> None:
    from ionto.core.errors import ConfigError

    engine = make_engine(db_url)
    with pytest.raises(ConfigError, match="REVISION: unknown revision"):
        migrate.upgrade(engine, "nonsense")
    engine.dispose()


def test_history_lists_the_shipped_migrations() -> None:
    revs = migrate.revisions()
    assert revs[0][0] == "0001" and revs[-1][0] == migrate.head()
    assert (migrate.MIGRATIONS / "script.py.mako").is_file()
