"""Alembic environment: runs on the connection `open_database` hands over
(``config.attributes["connection"]``), or on ``sqlalchemy.url`` when run
from the alembic command line by a developer writing a new migration.

The report tables (`flowengine.reports.sql.tables`, ``report_*``) are a
cache with their own metadata, made and rebuilt by the reports, not by
migrations: autogenerate leaves them out (`include_object`)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from flowengine.storage.schema import metadata

config = context.config


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out the report tables the database has and the schema does not."""
    return not (type_ == "table" and compare_to is None and (name or "").startswith("report_"))


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run()
