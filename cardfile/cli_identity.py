"""CLI for identity: users, OAuth2 clients, access tokens and signing keys.

Each command works while the server runs and prints only its result on stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from cardfile.cli_options import DEFAULT_DATA, DataOpt, DbOpt
from cardfile.cli_options import open_services as _services

__all__ = ["register"]

user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
client_app = typer.Typer(help="Manage OAuth2 clients.", no_args_is_help=True)
token_app = typer.Typer(help="Issue access tokens without a browser.", no_args_is_help=True)
key_app = typer.Typer(help="Manage token signing keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the identity commands to the ``cardfile`` command (``cli.py`` calls this)."""
    app.add_typer(user_app, name="user")
    app.add_typer(client_app, name="client")
    app.add_typer(token_app, name="token")
    app.add_typer(key_app, name="key")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str, typer.Option("--name")] = "",
    role: Annotated[str, typer.Option("--role", help="admin, standard or read-only")] = "standard",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
) -> None:
    """Add a user. The password comes from standard input, never from the command line."""
    from cardfile.auth.users import add_user
    from cardfile.errors import CardfileError

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    svc = _services(data, database)
    try:
        with svc.db.write() as conn:
            user = add_user(conn, email, name=name, role=role, password=password)
    except (ValueError, CardfileError) as exc:
        _fail(str(exc))
    finally:
        svc.close()
    typer.echo(orjson.dumps(user.to_json()).decode())


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Option("--email")], data: DataOpt = DEFAULT_DATA, database: DbOpt = None
) -> None:
    """Disable a user: every request with their tokens is refused from now on."""
    from cardfile.auth.users import set_active
    from cardfile.errors import CardfileError

    svc = _services(data, database)
    try:
        with svc.db.write() as conn:
            user = set_active(conn, email, False)
    except (ValueError, CardfileError) as exc:
        _fail(str(exc))
    finally:
        svc.close()
    typer.echo(orjson.dumps(user.to_json()).decode())


@user_app.command("list")
def user_list(data: DataOpt = DEFAULT_DATA, database: DbOpt = None) -> None:
    """List users, one JSON object a line."""
    from cardfile.auth.users import list_users

    svc = _services(data, database)
    try:
        with svc.db.read() as conn:
            for u in list_users(conn):
                typer.echo(orjson.dumps(u.to_json()).decode())
    finally:
        svc.close()


@client_app.command("add")
def client_add(
    name: Annotated[str, typer.Option("--name")],
    redirect_uri: Annotated[
        list[str] | None, typer.Option("--redirect-uri", help="Exact redirect URI (repeatable).")
    ] = None,
    scopes: Annotated[
        str, typer.Option("--scopes", help="Space-separated scopes the client may be granted.")
    ] = "records.ALL metadata.READ",
    public: Annotated[
        bool, typer.Option("--public", help="No secret: authorization code with PKCE only.")
    ] = False,
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
) -> None:
    """Register an OAuth2 client; prints {"client_id", "client_secret"} (the secret only once)."""
    from cardfile.auth.clients import add_client
    from cardfile.errors import CardfileError

    svc = _services(data, database)
    try:
        with svc.db.write() as conn:
            client_id, secret = add_client(
                conn, name, redirect_uris=list(redirect_uri or []), scopes=scopes, public=public
            )
    except (ValueError, CardfileError) as exc:
        _fail(str(exc))
    finally:
        svc.close()
    typer.echo(orjson.dumps({"client_id": client_id, "client_secret": secret}).decode())


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="The user's email.")],
    scopes: Annotated[
        str | None, typer.Option("--scopes", help="Space-separated; default: all the role allows.")
    ] = None,
    client: Annotated[
        str | None, typer.Option("--client", help="Issue as if through this client (by name).")
    ] = None,
    ttl: Annotated[int | None, typer.Option("--ttl", help="Lifetime in seconds.")] = None,
    data: DataOpt = DEFAULT_DATA,
    database: DbOpt = None,
) -> None:
    """Print an access token for a user, accepted by the native API and every dialect."""
    from cardfile.auth import scopes as scope_rules
    from cardfile.auth.clients import get_client
    from cardfile.auth.users import get_user
    from cardfile.errors import CardfileError

    svc = _services(data, database)
    try:
        with svc.db.write() as conn:
            u = get_user(conn, email=user)
            if not u.active:
                _fail(f"user {u.email} is disabled")
            wanted = scope_rules.parse(scopes) if scopes is not None else scope_rules.default_for_role(u.role)
            bad = sorted(s for s in wanted if not scope_rules.valid_scope(s))
            if bad:
                _fail(f"unknown scope(s): {', '.join(bad)}")
            client_id = None
            if client is not None:
                c = get_client(conn, name=client)
                missing = scope_rules.covers(c.scopes, wanted)
                if missing:
                    _fail(f"client {client!r} may not be granted: {' '.join(sorted(missing))}")
                client_id = c.client_id
            token, _ = svc.auth.tokens.issue(
                conn,
                subject=f"user:{u.id}",
                scopes=scope_rules.normalize(wanted),
                client_id=client_id,
                ttl_s=ttl,
            )
    except (ValueError, CardfileError) as exc:
        _fail(str(exc))
    finally:
        svc.close()
    typer.echo(token)


@key_app.command("rotate")
def key_rotate(data: DataOpt = DEFAULT_DATA, database: DbOpt = None) -> None:
    """Start signing with a new key; tokens signed with the old one stay valid for the overlap window."""
    svc = _services(data, database)
    try:
        with svc.db.write() as conn:
            key = svc.auth.tokens.keys.rotate(conn)
    finally:
        svc.close()
    typer.echo(key.kid)
