"""Clinic records: patients, practitioners, protocols (plans), courses, treatment sessions,
their events and per-period measurements, in SQLite or PostgreSQL.

* :mod:`ionto.record.models`: the tables (SQLAlchemy 2 typed declarative mappings);
* :mod:`ionto.record.database`: database URLs (``--db``, ``IONTO_DB_URL``, the default
  SQLite file) and engines;
* :mod:`ionto.record.migrate`: the Alembic migrations shipped in ``migrations/``, run
  programmatically (``ionto db upgrade``);
* :mod:`ionto.record.store`: patients, practitioners, plans and courses, with the rules
  that keep data from being lost;
* :mod:`ionto.record.importer`: session logs (``ionto.run.session_log``) into records,
  idempotently;
* :mod:`ionto.record.export`: a patient's history as CSV or JSON.

See docs/records.md.
"""
