"""Engine, sessions and migrations. SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# SQLite has one writer at a time. Threads of this process queue on a lock instead of on
# SQLite's busy handler, whose back-off sleeps (up to 100 ms) would stall the bot.
_SQLITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


class DatabaseUnavailable(RuntimeError):
    """The database in DATABASE_URL cannot be reached or opened."""


def normalize_url(url: str) -> str:
    # Accept the usual postgres:// spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_pragmas(engine)
        _SQLITE_LOCKS[engine] = threading.RLock()
        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Take the write lock up front: a WAL reader that later writes would otherwise
        # fail with SQLITE_BUSY_SNAPSHOT when another connection committed meanwhile.
        # Straight to the driver: this runs before every transaction, and SQLAlchemy's
        # statement machinery around it cost more than the statement.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except Exception as exc:  # connection refused, bad path, permissions …
        if _is_connection_error(exc):
            raise DatabaseUnavailable(f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {exc}") from exc
        raise


def _is_connection_error(exc: Exception) -> bool:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    # BEGIN IMMEDIATE goes straight to the driver (``_on_begin``): its error is sqlite3's.
    return isinstance(exc, OperationalError | sqlite3.OperationalError)


@contextmanager
def uncontended(engine: Engine) -> Iterator[bool]:
    """SQLite only: True, holding this process's database lock, when it was free at once.
    Lets a caller run a short transaction on its own thread instead of handing it to a
    worker thread (a thread hop costs more than the transaction). False otherwise."""
    lock = _SQLITE_LOCKS.get(engine)
    if lock is None or not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with _SQLITE_LOCKS.get(engine) or nullcontext(), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
