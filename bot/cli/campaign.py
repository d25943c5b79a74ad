"""``minping campaign check|load``."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import app, console, engine, fail

campaign_app = typer.Typer(help="Campaign files: check and load.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("check")
def campaign_check(file: Path = typer.Argument(..., help="The campaign YAML file.")) -> None:
    """Validate a campaign file without touching the database."""
    from flows.loader import CampaignFileError, load_campaign

    try:
        c = load_campaign(file)
    except CampaignFileError as exc:
        fail(str(exc))
    console.print(f"[green]OK[/] {file}: {c.id}, {len(c.evaluees)} evaluees, {len(c.rater_groups)} rater groups")


@campaign_app.command("load")
def campaign_load(file: Path = typer.Argument(..., help="The campaign YAML file.")) -> None:
    """Validate a campaign file and store it (re-loading updates it)."""
    from flows.loader import CampaignFileError, load_campaign
    from storage.campaigns import CampaignLocked, store_campaign
    from storage.db import session_scope

    try:
        c = load_campaign(file)
    except CampaignFileError as exc:
        fail(str(exc))
    eng = engine()
    try:
        with session_scope(eng) as s:
            result = store_campaign(s, c, file.read_text(encoding="utf-8"))
    except CampaignLocked as exc:
        fail(str(exc))
    verb = "loaded" if result.created else "updated"
    console.print(f"[green]{verb}[/] campaign [bold]{c.id}[/]: {c.text(c.title, c.default_locale)} — "
                  f"{len(c.evaluees)} evaluees in {len(c.categories)} categories, "
                  f"{len(c.dimensions)} dimensions, {len(c.rater_groups)} rater groups; "
                  f"opens {c.opens:%Y-%m-%d %H:%M}, closes {c.closes:%Y-%m-%d %H:%M} ({c.timezone})")
