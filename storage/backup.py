"""Backups of the whole database, and their restore (``minping backup`` / ``restore``).

* SQLite: SQLite's online backup API copies a consistent snapshot while the bot keeps
  writing (WAL included); the backup is itself a SQLite database.
* PostgreSQL: ``pg_dump --format=custom`` (it must be on PATH, of the server's major
  version or newer); restored with ``pg_restore`` into an empty database.

A restore goes only into an empty database (nothing of minping there yet): it never
overwrites data. The caller then brings the schema to the newest and verifies.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import text
from sqlalchemy.engine import Engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message says why and what to do."""


def kind_of(path: Path) -> str:
    """'sqlite' or 'postgresql' from the file's first bytes; BackupError otherwise."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a minping backup (neither a SQLite database nor a pg_dump custom-format file)")


# --- SQLite ----------------------------------------------------------------------------------------
def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("DATABASE_URL is an in-memory SQLite database: there is nothing to back up")
    return path


def _copy_sqlite(src: sqlite3.Connection, dst: sqlite3.Connection, progress: Callable[[int, int], None] | None) -> None:
    def step(status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    src.backup(dst, pages=256, progress=step)


def backup_sqlite(engine: Engine, out: Path, progress: Callable[[int, int], None] | None = None) -> None:
    path = _sqlite_path(engine)
    if not Path(path).exists():
        raise BackupError(f"there is no database at {path} (DATABASE_URL)")
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(path, timeout=30)  # read only by use; ro mode could not open a WAL file's index
    dst = sqlite3.connect(tmp)
    try:
        _copy_sqlite(src, dst, progress)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"the copy failed its integrity check: {ok}")
    finally:
        src.close()
        dst.close()
    os.replace(tmp, out)


def restore_sqlite(engine: Engine, backup: Path, progress: Callable[[int, int], None] | None = None) -> None:
    path = _sqlite_path(engine)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{backup} is damaged (its integrity check failed)")
        dst = sqlite3.connect(path)
        try:
            _copy_sqlite(src, dst, progress)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


# --- PostgreSQL --------------------------------------------------------------------------------------
def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools of the server's major "
                          f"version or newer (Debian: apt-get install postgresql-client)")
    return found


def _libpq(engine: Engine) -> tuple[list[str], dict[str, str], str | None]:
    """(connection arguments, environment, schema on the search path) for pg_dump and
    pg_restore; the password goes in the environment, never on the command line."""
    url = engine.url
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--dbname", url.database or ""]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    schema = None
    options = url.query.get("options")
    options = options[0] if isinstance(options, tuple) else options
    if options and "search_path=" in options:
        schema = unquote(options.split("search_path=", 1)[1].split()[0]).split(",")[0]
    return args, env, schema


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tool = Path(cmd[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")


def backup_postgres(engine: Engine, out: Path) -> None:
    args, env, schema = _libpq(engine)
    tmp = out.with_name(out.name + ".part")
    cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(tmp), *args]
    if schema:
        cmd += ["--schema", schema]
    _run(cmd, env)
    _run([_tool("pg_restore"), "--list", str(tmp)], env)  # readable as a whole
    os.replace(tmp, out)


def restore_postgres(engine: Engine, backup: Path) -> None:
    args, env, _ = _libpq(engine)
    # Every new database already has the schema ``public``: a backup of a database that
    # used it carries a CREATE SCHEMA public, which would stop the restore. Leave it out.
    listing = subprocess.run([_tool("pg_restore"), "--list", str(backup)], env=env, capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {listing.returncode}): {listing.stderr.strip()[-800:]}")
    fd, name = tempfile.mkstemp(suffix=".toc")  # the backup's folder may be read-only
    os.close(fd)
    toc = Path(name)
    toc.write_text("\n".join(line for line in listing.stdout.splitlines()
                             if not re.search(r"\bSCHEMA - public\b", line)) + "\n")
    try:
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--use-list", str(toc), *args, str(backup)], env)
    finally:
        toc.unlink(missing_ok=True)


# --- both -------------------------------------------------------------------------------------------
def is_empty(engine: Engine) -> bool:
    """No minping table in the database (where DATABASE_URL points)."""
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine)
        if not Path(path).exists() or Path(path).stat().st_size == 0:
            return True
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
        finally:
            conn.close()
    with engine.connect() as conn:
        return not conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                                     "current_schema()")).scalar()
