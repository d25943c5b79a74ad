"""Backups: ``minping backup --out FILE`` and ``minping restore FILE`` (``storage/backup.py``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress

from bot.cli import common
from bot.cli.common import app, console, err, fail


def _database():  # noqa: ANN202
    """The configured database as it is: no migration (a restore needs it empty)."""
    from storage.db import make_engine

    return make_engine(common.get_settings().database_url)


def _summary(eng) -> tuple[int, int]:  # noqa: ANN001
    from sqlmodel import func, select

    from storage.db import session_scope
    from storage.models import Ballot, CampaignRow

    with session_scope(eng) as s:
        return (s.exec(select(func.count()).select_from(CampaignRow)).one(),
                s.exec(select(func.count()).select_from(Ballot)).one())


@app.command()
def backup(out: Path = typer.Option(..., "--out", help="The backup file to write (replaced if it exists).")) -> None:
    """Back up the whole database while the bot runs: SQLite's online backup API, or
    pg_dump (custom format; must be on PATH) for PostgreSQL. The file holds personal
    data: keep it as safe as the database."""
    from storage import backup as b

    eng = common.engine()  # the newest schema: a backup restores as it was taken
    campaigns, ballots = _summary(eng)
    out = out.expanduser()
    if out.is_dir():
        fail(f"--out {out} is a folder: give a file name, e.g. {out / 'minping.backup'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if eng.dialect.name == "sqlite":
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("backing up", total=None)
                b.backup_sqlite(eng, out, lambda done, total: bar.update(task, completed=done, total=total))
        else:
            with console.status("pg_dump …"):
                b.backup_postgres(eng, out)
    except b.BackupError as exc:
        fail(str(exc))
    size = out.stat().st_size
    console.print(f"[green]backed up[/] {campaigns} campaign(s), {ballots} ballot(s) to {escape(str(out))} "
                  f"({size / 1e6:.1f} MB, {eng.dialect.name})")


@app.command()
def restore(file: Path = typer.Argument(..., help="A file written by `minping backup`.")) -> None:
    """Restore a backup into the (empty) database of DATABASE_URL, bring its schema to the
    newest, then verify every closed campaign (exit 1 if one fails)."""
    from reports.verify import verify
    from storage import backup as b
    from storage import campaigns
    from storage.db import DatabaseUnavailable, migrate, session_scope
    from storage.health import newest_revision, stored_revision

    eng = _database()
    try:
        kind = b.kind_of(file)
    except b.BackupError as exc:
        fail(str(exc))
    if kind != eng.dialect.name:
        fail(f"{file} is a {kind} backup but DATABASE_URL is {eng.dialect.name}: restore it into a {kind} database")
    try:
        empty = b.is_empty(eng)
    except Exception as exc:  # noqa: BLE001
        err.print(f"[red]error:[/] cannot open the database: {escape(type(exc).__name__)}. Check DATABASE_URL.")
        raise typer.Exit(2) from None
    if not empty:
        fail("the database of DATABASE_URL is not empty: restore into a new, empty database (or move the old one "
             "away first); nothing was changed")
    try:
        if kind == "sqlite":
            b.restore_sqlite(eng, file)
        else:
            with console.status("pg_restore …"):
                b.restore_postgres(eng, file)
    except b.BackupError as exc:
        fail(str(exc))
    eng.dispose()
    was = stored_revision(eng)
    try:
        migrate(eng)
    except DatabaseUnavailable as exc:
        fail(str(exc), 2)
    if was != newest_revision():
        console.print(f"schema upgraded from {was} to {newest_revision()}")
    n_campaigns, n_ballots = _summary(eng)
    console.print(f"[green]restored[/] {n_campaigns} campaign(s), {n_ballots} ballot(s) from {escape(str(file))}")
    failed = 0
    with session_scope(eng) as s:
        for row in campaigns.list_campaigns(s):
            if not row.closed:
                continue
            result = verify(s, campaigns.get_campaign(s, row.id))
            if result.ok:
                console.print(f"[green]OK[/] verify {escape(row.id)}")
            else:
                failed += 1
                problems = [*map(str, result.chain), *result.sealed_chain, *map(str, result.differences), *result.counts]
                console.print(f"[red]FAILED[/] verify {escape(row.id)}: {escape('; '.join(problems[:5]))}")
    if failed:
        raise typer.Exit(1)
