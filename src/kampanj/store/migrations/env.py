"""Alembic environment: runs on the connection kampanj hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from kampanj.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
else:
    # `alembic revision --autogenerate` from a developer shell.
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as own_connection:
        context.configure(connection=own_connection, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
