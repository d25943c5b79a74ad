"""``minping migrate``: the one explicit step that creates or upgrades the database
schema (every other command only checks it, cheaply, and refuses when it is behind)."""

from __future__ import annotations

from rich.markup import escape

from bot.cli.common import app, console, err, fail
from bot.settings import get_settings


@app.command()
def migrate() -> None:
    """Create the database (SQLite: the file in DATABASE_URL) or bring its schema to
    this minping's newest. Back up a production database first."""
    from storage import schema
    from storage.db import DatabaseUnavailable, make_engine, revision
    from storage.db import migrate as upgrade

    url = get_settings().database_url
    eng = make_engine(url)
    where = eng.url.render_as_string(hide_password=True)
    try:
        before = revision(eng)
        if before is not None and before not in schema.known():
            fail(schema.problem(before, where) or "", 2)
        upgrade(eng)
        after = revision(eng)
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}\nCheck DATABASE_URL in .env (see .env.example).")
        raise SystemExit(2) from None
    finally:
        eng.dispose()
    if before == after:
        console.print(f"database {escape(where)}: schema {after}, already the newest")
    else:
        console.print(f"[green]migrated[/] {escape(where)}: schema {before or 'none (new database)'} → {after}")
