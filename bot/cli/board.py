"""``minping site``: the public board (五公开) as a static site (``reports/board.py``)."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import app, console, engine, fail, get_campaign, now


@app.command()
def site(campaign_id: str = typer.Argument(..., help="Campaign id."),
         out: Path = typer.Option(..., "--out", help="The folder to write the site into (made if missing)."),
         locale: str = typer.Option("all", help="zh, en, or all (zh at the top, English under en/).")) -> None:
    """Write the campaign's public pages (五公开) as a static site: plain HTML, CSS and
    PNG with relative links and no external requests, for any web server. Shows only
    what may be public now: progress while open, results only after close."""
    from reports import board
    from storage.db import session_scope

    locales = {"all": board.LOCALES, "zh": ("zh",), "en": ("en",)}.get(locale)
    if locales is None:
        fail(f"--locale must be zh, en or all (got '{locale}')")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a folder")
    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        files = board.site(s, campaign, now(), locales)
    for path, body in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    size = sum(len(b) for b in files.values())
    console.print(f"[green]wrote[/] {len(files)} files ({size:,} bytes) to {out}; open {out / 'index.html'}")
    console.print(f"Put the verification kit (minping kit) into {out / board.KIT}: verify.html links there.")
