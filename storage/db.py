"""Engine, sessions and migrations. SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event, text
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
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})
        _sqlite_pragmas(engine)
        _SQLITE_LOCKS[engine] = threading.RLock()
        return engine
    # A connection is checked before use (pre-ping), so one left over from before a
    # database restart is replaced, not handed out; a connect to an unreachable server
    # gives up after CONNECT_TIMEOUT instead of waiting on TCP.
    connect_args: dict = {"connect_timeout": CONNECT_TIMEOUT}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


CONNECT_TIMEOUT = 3  # seconds (PostgreSQL)
SQLITE_BUSY_MS = 30_000  # how long a SQLite transaction waits for another process's write lock
_no_wait: contextvars.ContextVar[bool] = contextvars.ContextVar("minping_sqlite_no_wait", default=False)
_QUERY_ONLY = "minping_query_only"
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("minping_read_only", default=False)


class Busy(RuntimeError):
    """SQLite: another process holds the write lock right now (``no_wait``)."""


@contextmanager
def no_wait() -> Iterator[None]:
    """SQLite: transactions begun inside fail at once with ``Busy`` when another process
    holds the write lock, instead of waiting for it (the event loop must not wait)."""
    token = _no_wait.set(True)
    try:
        yield
    finally:
        _no_wait.reset(token)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Deleted content (a submitted draft, an appended envelope) is overwritten with
        # zeros, not left readable in free pages of the file.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record):  # noqa: ANN001
        if record.info.pop(_QUERY_ONLY, False) and dbapi_conn is not None:  # a read_scope's connection writes again
            dbapi_conn.execute("PRAGMA query_only = OFF")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Take the write lock up front: a WAL reader that later writes would otherwise
        # fail with SQLITE_BUSY_SNAPSHOT when another connection committed meanwhile.
        # Straight to the driver: this runs before every transaction, and SQLAlchemy's
        # statement machinery around it cost more than the statement.
        driver = conn.connection.driver_connection
        if _reading.get():  # read_scope: a deferred WAL reader never takes the write lock
            driver.execute("BEGIN")
            return
        if not _no_wait.get():
            driver.execute("BEGIN IMMEDIATE")
            return
        driver.execute("PRAGMA busy_timeout = 0")
        try:
            driver.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise Busy(str(exc)) from exc
        finally:
            driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")


def alembic_config(engine: Engine):  # noqa: ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). ``minping migrate``, the
    demo and the tests call it; every other command only ``check``s."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), "head")
    except Exception as exc:  # connection refused, bad path, permissions …
        if _is_connection_error(exc):
            raise DatabaseUnavailable(f"cannot open the database {_where(engine)}: {exc}") from exc
        raise


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def revision(engine: Engine) -> str | None:
    """The schema revision stored in the database (None: no minping tables yet)."""
    try:
        with engine.connect() as conn:
            if "alembic_version" not in _table_names(conn):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        if _is_connection_error(exc):
            raise DatabaseUnavailable(f"cannot open the database {_where(engine)}: {exc}") from exc
        raise


def _table_names(conn) -> set[str]:  # noqa: ANN001
    if conn.dialect.name == "sqlite":
        return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    return set(conn.execute(text("SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = current_schema()")).scalars())


def check(engine: Engine) -> None:
    """Refuse (``SchemaMismatch``, saying what to do) unless the schema is the newest.
    Cheap: one small query, no alembic (``storage.schema``)."""
    from storage.schema import SchemaMismatch, problem

    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).exists():
            raise SchemaMismatch(f"there is no database at {path} (DATABASE_URL): create it with "
                                 "`minping migrate`, or point DATABASE_URL at your database (see .env.example)")
    message = problem(revision(engine), _where(engine))
    if message:
        raise SchemaMismatch(message)


def is_transient(exc: BaseException) -> bool:
    """A failure that trying again may cure: the database unreachable or restarting, a
    dropped connection, a lock wait that timed out, a serialization failure or deadlock
    (PostgreSQL rolls such a transaction back whole). Anything else is a bug or bad data."""
    from sqlalchemy import exc as sa_exc

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseUnavailable | Busy | sa_exc.OperationalError | sa_exc.InterfaceError
                      | sa_exc.TimeoutError | sqlite3.OperationalError | ConnectionError | TimeoutError):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        if _psycopg_transient(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def _psycopg_transient(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    # OperationalError covers refused connections, admin shutdown, serialization
    # failures and deadlocks (TransactionRollback), lock timeouts.
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def reachable(engine: Engine) -> bool:
    """Whether the database takes a transaction now (SQLite: its write lock is free)."""
    try:
        with no_wait(), engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        return True
    except Exception:
        return False


def _is_connection_error(exc: Exception) -> bool:
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


# Advisory locks of chats live in their own key space (the two-int form of
# pg_advisory_xact_lock), so they never meet another application's locks.
CHAT_LOCKS = 0x6D70  # "mp"
_LOCK_CHAT = None


def lock_chat(session: Session, chat_id: int, channel: str = "telegram") -> None:
    """Serialize every transaction about one chat (an address of ``channel``), across
    threads and processes, until this transaction ends. PostgreSQL: a transaction-level
    advisory lock on the chat id (a chat id folded to 32 bits, another channel's mixed
    with its name's CRC; two chats that share a key only wait for each other).
    SQLite: nothing to do, BEGIN IMMEDIATE already makes each write transaction the only
    one. Call it first: everything read afterwards is what the chat's previous update
    committed."""
    if session.get_bind().dialect.name != "postgresql":
        return
    global _LOCK_CHAT
    if _LOCK_CHAT is None:
        from sqlalchemy import bindparam, func, select

        from storage.direct import Direct

        _LOCK_CHAT = Direct(select(func.pg_advisory_xact_lock(bindparam("space"), bindparam("key"))))
    key = (chat_id ^ (chat_id >> 32)) & 0xFFFFFFFF
    if channel != "telegram":  # Telegram's keys are those from before there were channels
        import zlib

        key ^= zlib.crc32(channel.encode())
    _LOCK_CHAT.rows(session, space=CHAT_LOCKS, key=key - (1 << 32) if key >= 1 << 31 else key)


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


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads, one consistent snapshot, rolled back at the end.
    On SQLite it begins deferred, not IMMEDIATE: a long read (a digest's figures) never
    holds the write lock, so the bot's taps in other processes do not wait for it. A
    write inside fails on every backend."""
    token = _reading.set(True)
    try:
        with Session(engine, expire_on_commit=False) as session:
            conn = session.connection()
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
                conn.info[_QUERY_ONLY] = True  # undone when the connection goes back to the pool
            else:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield session
            finally:
                session.rollback()
    finally:
        _reading.reset(token)
