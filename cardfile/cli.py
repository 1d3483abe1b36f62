"""The ``cardfile`` command: a thin shell over the library."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cardfile.cli_identity import register as register_identity
from cardfile.cli_options import DEFAULT_DATA, DataOpt, DbOpt
from cardfile.cli_options import open_services as _services
from cardfile.schema.model import SchemaError
from cardfile.schema.packs import available_packs, load_pack

if TYPE_CHECKING:
    from cardfile.services import Services

app = typer.Typer(
    help="cardfile: a self-hostable records server.", no_args_is_help=True, add_completion=False
)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
pack_app = typer.Typer(help="Record-type packs shipped with cardfile.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(pack_app, name="pack")
register_identity(app)  # users, clients, tokens, signing keys

PackOpt = Annotated[list[str] | None, typer.Option("--pack", help="Pack to install (repeatable).")]
DEMO_KEY_FILE = "demo-api-key"


def _demo_key(svc: Services, data: Path) -> str:
    """The demo key lives in a file readable only by its owner, so restarts can print it."""
    from cardfile.auth.apikeys import create_key

    path = data / DEMO_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = create_key(svc.db, "demo")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


@app.command()
def init(
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
    pack: PackOpt = None,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty database (demo pack).")] = False,
    seed_contacts: Annotated[
        int, typer.Option(help="Add N synthetic contacts (demo pack), for benchmarks.")
    ] = 0,
) -> None:
    """Create or migrate the database and install packs."""
    from cardfile.demo import has_records, seed_demo, synthetic_contacts
    from cardfile.engine.commands import Context
    from cardfile.engine.importer import import_records

    packs = pack or ["demo"]
    svc = _services(data, database, packs)
    try:
        if demo and not has_records(svc):
            seed_demo(svc)
        if seed_contacts:
            n = import_records(
                svc.engine,
                "contacts",
                synthetic_contacts(seed_contacts),
                Context("seed", "cli", "synthetic contacts"),
            )
            typer.echo(f"seeded {n} contacts", err=True)
    finally:
        svc.close()
    typer.echo(f"initialised {database or data}", err=True)


@app.command()
def serve(
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
    pack: PackOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Demo pack and data, and print a demo API key.")] = False,
    require_preconditions: Annotated[
        bool, typer.Option(help="Refuse PATCH/DELETE without If-Match or If-Unmodified-Since (428).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    rate_limit_storage: Annotated[
        str | None,
        typer.Option(
            "--rate-limit-storage",
            metavar="URI",
            help="Rate-limit counts: memory:// (this process) or redis://host:port/db (shared by processes).",
        ),
    ] = None,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from cardfile.api.app import create_app
    from cardfile.demo import has_records, seed_demo

    packs = list(pack or [])
    if demo and "demo" not in packs:
        packs.append("demo")
    limits = {"rate_limit_storage": rate_limit_storage} if rate_limit_storage else {}
    svc = _services(data, database, packs, require_preconditions=require_preconditions, **limits)
    if demo:
        if not has_records(svc):
            seed_demo(svc)
        typer.echo(f"cardfile is running at http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        typer.echo(f"demo API key: {_demo_key(svc, data)}")
        typer.echo(
            f"try: curl -H 'Authorization: Bearer <key>' http://{host}:{port}/api/records/contacts?_limit=2"
        )
    else:
        typer.echo(f"cardfile is running at http://{host}:{port}")
    uvicorn.run(create_app(svc), host=host, port=port, log_level=log_level, access_log=False)


@app.command()
def worker(
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
    concurrency: Annotated[int | None, typer.Option(help="Deliveries in flight at once.")] = None,
) -> None:
    """Deliver webhooks from the outbox (run any number, beside servers started with
    CARDFILE_WEBHOOK_WORKER=off or alone). Stops on Ctrl-C or SIGTERM."""
    import signal
    import threading

    from cardfile.webhooks.worker import DeliveryWorker

    svc = _services(data, database)
    config = svc.settings.webhooks
    if concurrency is not None:
        config = dataclasses.replace(config, concurrency=concurrency)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    w = DeliveryWorker(svc.db, config, name="worker")
    w.start()
    typer.echo(f"cardfile worker delivering webhooks from {database or data}", err=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        w.stop()
        svc.close()


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="Shown as the actor in history.")],
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
) -> None:
    """Create an API key and print it (alone, on stdout). It is not shown again."""
    from cardfile.auth.apikeys import create_key

    svc = _services(data, database)
    try:
        typer.echo(create_key(svc.db, name))
    finally:
        svc.close()


@pack_app.command("list")
def pack_list() -> None:
    """List the packs and their record types."""
    for name in available_packs():
        p = load_pack(name)
        typer.echo(f"{name}: {', '.join(t.name for t in p.types)}  - {p.description}")


def main() -> None:
    try:
        app()
    except SchemaError as exc:  # a bad --pack or pack file: say so, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
