"""``minping updates``: updates set aside as poison (``storage/parked.py``)."""

from __future__ import annotations

import typer
from rich.markup import escape

from bot.cli.common import app, console, engine, fail


@app.command()
def updates(parked: bool = typer.Option(True, "--parked", help="List the parked updates (the default)."),
            retry: list[int] = typer.Option(None, "--retry", help="Replay this parked update (repeatable)."),
            retry_all: bool = typer.Option(False, "--retry-all", help="Replay every parked update."),
            drop: list[int] = typer.Option(None, "--drop", help="Delete this parked update for good (repeatable).")
            ) -> None:
    """Updates the bot could not apply (a bug, bad data, or failing while the database
    answered) are parked with their error instead of blocking their chat. List them;
    once the cause is fixed, ask the running bot to feed them again (it does within
    seconds); or drop them."""
    from storage import parked as store
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        known = {row.update_id for row in store.listing(s)}
        asked = sorted(set(retry or []) | set(drop or []))
        if unknown := [u for u in asked if u not in known]:
            fail(f"no parked update {', '.join(map(str, unknown))} (see `minping updates --parked`)")
        if retry_all or retry:
            n = store.request_retry(s, None if retry_all else list(retry))
            console.print(f"{n} update(s) will be replayed by the running bot within seconds")
            return
        if drop:
            n = store.drop(s, list(drop))
            console.print(f"{n} parked update(s) deleted")
            return
        rows = store.listing(s)
    if not rows:
        console.print("No parked updates.")
        return
    console.print(f"{len(rows)} parked update(s): id, kind, parked at (UTC), tries, error")
    for row in rows:
        asked = "  (replay asked)" if row.retry_requested else ""
        console.print(f"{row.update_id}  {row.kind}  {row.parked_at:%Y-%m-%d %H:%M:%S}  tries {row.attempts}{asked}  "
                      f"{escape(row.error)}", soft_wrap=True)
