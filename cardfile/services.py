"""The assembled core: database, catalog and engine, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from cardfile.auth.authenticator import Authenticator
from cardfile.auth.keys import SigningKeys
from cardfile.auth.tokens import TokenService
from cardfile.automation.hooks import automation_hooks
from cardfile.automation.rulebook import install_named_packs
from cardfile.engine.catalog import Catalog
from cardfile.engine.update import Engine
from cardfile.ratelimit import RateLimiter
from cardfile.schema.packs import load_pack
from cardfile.settings import Settings
from cardfile.store.database import Database

__all__ = ["Services", "open_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: Catalog
    engine: Engine
    auth: Authenticator
    rate_limiter: RateLimiter

    def close(self) -> None:
        self.rate_limiter.close()
        self.db.dispose()


def open_services(settings: Settings, *, migrate: bool = True) -> Services:
    # first: a bad storage URI or limit fails before anything is opened
    limiter = RateLimiter(
        settings.rate_limit_storage, settings.rate_limits, enabled=settings.rate_limits_enabled
    )
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url, sync=settings.sqlite_sync, busy_timeout_ms=settings.busy_timeout_ms)
    if migrate:
        db.migrate()
    catalog = Catalog(db)
    if settings.packs:
        catalog.install(load_pack(p) for p in settings.packs)
        install_named_packs(db, settings.packs)  # their automation rules
    # automation plugs into the engine through its hooks: the engine never imports it
    engine = Engine(db, catalog, batch_limit=settings.batch_limit, hooks=automation_hooks())
    tokens = TokenService(
        SigningKeys(overlap_s=settings.key_overlap_s),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_s=settings.token_ttl_s,
    )
    return Services(
        settings=settings,
        db=db,
        catalog=catalog,
        engine=engine,
        auth=Authenticator(tokens),
        rate_limiter=limiter,
    )
