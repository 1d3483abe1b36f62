"""Run the Alembic migrations of the system tables from code (``cardfile init``/``serve``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from cardfile.store.database import Database

__all__ = ["alembic_config", "upgrade"]


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "cardfile.store:migrations")
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
