"""What every ``cardfile`` command shares: the data and database options, and opening the
services. Its own module, so ``cli`` and ``cli_identity`` both use it without importing
each other."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from cardfile.services import Services

__all__ = ["DEFAULT_DATA", "DataOpt", "DbOpt", "open_services"]

DataOpt = Annotated[Path, typer.Option("--data", help="Directory for the SQLite file and other state.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL, e.g. postgresql://user@host/db (default: SQLite in --data)."
    ),
]
DEFAULT_DATA = Path("cardfile-data")


def open_services(
    data: Path, database: str | None, packs: list[str] | None = None, **settings: Any
) -> Services:
    """The services of the data directory or database a command names."""
    # imported here: ``cardfile --help`` stays fast
    from cardfile.services import open_services as open_all
    from cardfile.settings import Settings

    s = Settings(data_dir=data, database_url=database, packs=tuple(packs or ()))
    return open_all(dataclasses.replace(s, **settings) if settings else s)
