"""Alembic environment: runs on the connection handed over by cardfile.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cardfile.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # plain `alembic` CLI use: connect from the configured URL
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
