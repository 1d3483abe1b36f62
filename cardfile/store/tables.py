"""The system tables, described once for SQLAlchemy Core and Alembic.

Layout (see docs/adr/0002-record-storage.md): every record of every type is one row of
``records`` with its fields in one JSON document, so a custom field added at runtime
needs no DDL. What the database must enforce lives in side tables: ``unique_values``
holds one row per value of a unique field (its primary key is the constraint).
Timestamps are integers, microseconds since the Unix epoch, identical on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "api_keys",
    "auth_codes",
    "oauth_clients",
    "refresh_tokens",
    "signing_keys",
    "history",
    "idempotency_keys",
    "meta",
    "metadata",
    "outbox",
    "record_types",
    "records",
    "unique_values",
    "users",
    "webhook_deliveries",
    "webhook_subscriptions",
    "record_locks",
    "automation_rules",
]

metadata = MetaData()

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Doc = JSON().with_variant(JSONB(), "postgresql")
# INTEGER PRIMARY KEY is SQLite's rowid alias; BIGINT identity on PostgreSQL.
Id = BigInteger().with_variant(Integer(), "sqlite")

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", Doc, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    Column("modified_by", String(200), nullable=False),
    Column("locked_by", String(200)),  # the automation rule that locked it; NULL: not locked
    Index("ix_records_type_id", "type", "id"),
    sqlite_autoincrement=True,  # never reuse the id of a deleted record
)

history = Table(
    "history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_type", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("op", String(16), nullable=False),  # create | update | delete
    Column("actor", String(200), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column(
        "changes", Doc, nullable=False
    ),  # [{field, old, new}] in field order (a list keeps order in JSONB)
    Column("reason", Text),
    Column("client_id", String(64)),  # the OAuth2 client the actor acted through, if any
    Index("ix_history_record", "record_type", "record_id", "version"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_type", String(64), nullable=False),  # record.created | record.updated | record.deleted
    Column("record_type", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("payload", Doc, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger),
    Column("delivered_at", BigInteger),
    Index("ix_outbox_pending", "status", "next_attempt_at"),
)

unique_values = Table(
    "unique_values",
    metadata,
    Column("record_type", String(64), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("value", String(512), primary_key=True),
    Column("record_id", BigInteger, nullable=False),
    Index("ix_unique_values_record", "record_id"),
)

record_types = Table(
    "record_types",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("definition", Doc, nullable=False),
    Column("pack", String(64)),
    Column("updated_at", BigInteger, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("email", String(320)),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", BigInteger, nullable=False),
    Column("password_hash", String(255)),  # Argon2id; None: cannot log in with a password
    Column("role", String(16), nullable=False, server_default="standard"),  # admin | standard | read-only
    Index("ux_users_email", "email", unique=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 of a 256-bit random key
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("headers", Doc, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("secret_hash", String(255)),  # Argon2id; None for a public client (PKCE only)
    Column("redirect_uris", Doc, nullable=False),
    Column("scopes", Text, nullable=False),  # the most this client may ever be granted
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", Doc, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger),  # still verifies tokens for the overlap window after this
)

auth_codes = Table(
    "auth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(8), nullable=False),
    Column("nonce", String(255)),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False),  # every rotation of one grant shares it
    Column("client_id", String(64), nullable=False),
    Column("user_id", BigInteger),
    Column("scope", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),  # rotated: presenting it again revokes the family
    Column("revoked_at", BigInteger),
    Index("ix_refresh_tokens_family", "family_id"),
)

# Webhooks (cardfile/webhooks): who receives which events, and one delivery row per
# (outbox event, subscription) with its retry state. See migration 0003.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("event_types", Doc, nullable=False),  # [] = every event type
    Column("record_types", Doc, nullable=False),  # [] = every record type
    Column("fields", Doc),  # None = any change; else updates only when one of these changed
    Column("secrets", Doc, nullable=False),  # [{secret, created_at, expires_at}], newest first
    Column("description", String(500), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, nullable=False),  # outbox.id
    Column("subscription_id", BigInteger, nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivering | delivered | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("first_attempt_at", BigInteger),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger),  # a claim past this is abandoned (its worker died)
    Column("claim_token", String(32)),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", BigInteger),
    Column("dead_at", BigInteger),
    UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_sub"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "subscription_id", "record_type", "record_id", "event_id"),
    sqlite_autoincrement=True,
)

# Automation rules per record type (cardfile/automation), from packs (``pack``) or the API
# (``pack`` None); evaluated in ``position`` order.
automation_rules = Table(
    "automation_rules",
    metadata,
    Column("record_type", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("pack", String(64)),
    Column("definition", Doc, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Records locked by an automation rule: updates and deletes are refused (RECORD_LOCKED).
record_locks = Table(
    "record_locks",
    metadata,
    Column("record_id", BigInteger, primary_key=True),
    Column("record_type", String(64), nullable=False),
    Column("locked_at", BigInteger, nullable=False),
    Column("locked_by", String(200), nullable=False),
    Column("reason", Text),
)
