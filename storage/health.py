"""Is the database usable right now? For ``/readyz`` (``bot/web/health.py``).

Each check opens what a new piece of work would open: on PostgreSQL a pooled connection
(pre-pinged, so a dead one is replaced or the check fails); on SQLite a fresh connection
to the file, read-write, never creating it (the bot's open connections would keep
working on a file that was moved or deleted, which an operator must hear about).
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import MIGRATIONS


@lru_cache(maxsize=1)
def newest_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def stored_revision(engine: Engine) -> str | None:
    """The schema revision in the database; raises when the database cannot be read.
    None: no minping schema there."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:":
            conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2)
            try:
                return _revision(conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                              "AND name = 'alembic_version'").fetchone() is not None,
                                 lambda: conn.execute("SELECT version_num FROM alembic_version").fetchone())
            finally:
                conn.close()
    with engine.connect() as conn:
        has = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                                "AND table_name = 'alembic_version'")).scalar() if engine.dialect.name == "postgresql" \
            else True
        return _revision(bool(has), lambda: conn.execute(text("SELECT version_num FROM alembic_version")).fetchone())


def _revision(has_table: bool, fetch) -> str | None:  # noqa: ANN001
    if not has_table:
        return None
    row = fetch()
    return row[0] if row else None


def database_status(engine: Engine) -> tuple[bool, bool, str]:
    """(reachable, schema current, what is wrong in a few words)."""
    try:
        stored = stored_revision(engine)
    except Exception as exc:  # noqa: BLE001 — any failure means: not usable now
        return False, False, f"database unreachable ({type(exc).__name__})"
    if stored != newest_revision():
        return True, False, f"schema at {stored or 'nothing'}, newest is {newest_revision()}: run `minping migrate`"
    return True, True, "ok"
