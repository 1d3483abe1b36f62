"""record search: a full-text index of each record's name-like fields

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

SQLite: an FTS5 table ``record_search`` (rowid = record id) kept in step with
``records`` by triggers, so every writer (any dialect, the CLI, imports) updates it in
its own transaction. PostgreSQL: a GIN index on ``to_tsvector`` of the same text. Both
index the same text (``cardfile.store.search.SEARCH_KEYS``) split on non-alphanumerics.
"""

from alembic import op

from cardfile.store.search import pg_search_text, sqlite_search_text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_records_search ON records USING gin "
            f"(to_tsvector('simple'::regconfig, {pg_search_text('data')}))"
        )
        return
    new, old = sqlite_search_text("new.data"), sqlite_search_text("old.data")
    op.execute(
        "CREATE VIRTUAL TABLE record_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2', "
        "prefix = '2 3')"
    )
    op.execute(f"INSERT INTO record_search(rowid, body) SELECT id, {sqlite_search_text('data')} FROM records")
    op.execute(
        "CREATE TRIGGER record_search_insert AFTER INSERT ON records BEGIN "
        f"INSERT INTO record_search(rowid, body) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER record_search_update AFTER UPDATE OF data ON records WHEN {old} IS NOT {new} BEGIN "
        "DELETE FROM record_search WHERE rowid = old.id; "
        f"INSERT INTO record_search(rowid, body) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER record_search_delete AFTER DELETE ON records BEGIN "
        "DELETE FROM record_search WHERE rowid = old.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_records_search")
        return
    for name in ("record_search_insert", "record_search_update", "record_search_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS record_search")
