"""Alembic migrations of the record schema (run by :mod:`ionto.record.migrate`)."""
