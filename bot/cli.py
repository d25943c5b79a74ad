"""The ``minping`` command line (typer + rich)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bot.settings import get_settings

app = typer.Typer(help="minping 民评 — public evaluation of officials and government units in a chat app.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
campaign_app = typer.Typer(help="Campaign files: check and load.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
console = Console()
err = Console(stderr=True)


def _engine():
    """The configured database, migrated to the newest schema."""
    from storage.db import DatabaseUnavailable, make_engine, migrate

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}\nCheck DATABASE_URL in .env (see .env.example).")
        raise typer.Exit(2) from None
    return engine


def _fail(message: str, code: int = 1) -> None:
    # Messages quote the organizer's own text: never let rich read it as markup.
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


@campaign_app.command("check")
def campaign_check(file: Path = typer.Argument(..., help="The campaign YAML file.")) -> None:
    """Validate a campaign file without touching the database."""
    from flows.loader import CampaignFileError, load_campaign

    try:
        c = load_campaign(file)
    except CampaignFileError as exc:
        _fail(str(exc))
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
        _fail(str(exc))
    engine = _engine()
    try:
        with session_scope(engine) as s:
            result = store_campaign(s, c, file.read_text(encoding="utf-8"))
    except CampaignLocked as exc:
        _fail(str(exc))
    verb = "loaded" if result.created else "updated"
    console.print(f"[green]{verb}[/] campaign [bold]{c.id}[/]: {c.text(c.title, c.default_locale)} — "
                  f"{len(c.evaluees)} evaluees in {len(c.categories)} categories, "
                  f"{len(c.dimensions)} dimensions, {len(c.rater_groups)} rater groups; "
                  f"opens {c.opens:%Y-%m-%d %H:%M}, closes {c.closes:%Y-%m-%d %H:%M} ({c.timezone})")


@app.command()
def status(campaign_id: str = typer.Argument(None, help="Campaign id; all campaigns when omitted.")) -> None:
    """Campaign phase and counts per rater group (progress only: no results)."""
    from rich.table import Table

    from storage import campaigns
    from storage.db import session_scope
    from storage.status import group_progress

    engine = _engine()
    with session_scope(engine) as s:
        try:
            rows = [campaigns.get_row(s, campaign_id)] if campaign_id else campaigns.list_campaigns(s)
        except campaigns.UnknownCampaign as exc:
            _fail(str(exc))
        if not rows:
            console.print("No campaigns yet. Load one with: minping campaign load FILE")
            return
        for row in rows:
            c = campaigns.get_campaign(s, row.id)
            table = Table(title=f"{c.id} — {c.text(c.title, c.default_locale)} — {campaigns.phase(row)}"
                          f" — {row.chain_count} ballots")
            for col in ("rater group", "weight", "sample", "enrolled", "started", "submitted", "opted out"):
                table.add_column(col, justify="left" if col == "rater group" else "right")
            for p in group_progress(s, c):
                g = c.group(p.group)
                table.add_row(c.text(g.label, c.default_locale), f"{g.weight:g}",
                              "open" if g.open else str(g.sample or "—"),
                              str(p.enrolled), str(p.started), str(p.submitted), str(p.opted_out))
            console.print(table)


@app.command()
def links(campaign_id: str = typer.Argument(..., help="Campaign id."),
          bot_username: str = typer.Option("minping_bot", help="The bot's @username, for t.me links.")) -> None:
    """Print the enrolment deep links: one per rater group (per unit for own-unit groups)."""
    from storage import campaigns
    from storage import links as link_store
    from storage.db import session_scope

    engine = _engine()
    with session_scope(engine) as s:
        try:
            c = campaigns.get_campaign(s, campaign_id)
        except campaigns.UnknownCampaign as exc:
            _fail(str(exc))
        for g in c.rater_groups:
            for unit in (c.units if g.rates == "own_unit" else [None]):
                token = link_store.group_link(s, c.id, g.key, unit).token
                where = f" ({unit})" if unit else ""
                console.print(f"{c.text(g.label, c.default_locale)}{where}: https://t.me/{bot_username}?start={token}")


@app.command()
def demo(raters: int = typer.Option(300, min=1, max=100_000, help="How many simulated raters."),
         seed: int = typer.Option(2026, help="Random seed (same seed, same demo)."),
         framework: str = typer.Option("aiogram", help="aiogram or ptb."),
         telegram_limits: bool = typer.Option(False, help="Enforce Telegram's flood limits (slower).")) -> None:
    """Run a whole sample campaign on a fresh SQLite file under var/demo/, with simulated
    raters talking to the real bot through a local Bot API server."""
    from bot.demo import run_demo

    if framework not in ("aiogram", "ptb"):
        _fail("--framework must be aiogram or ptb")
    logging.basicConfig(level=logging.WARNING)
    run_demo(raters=raters, seed=seed, console=console, framework=framework, limits=telegram_limits)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def devserver(ctx: typer.Context) -> None:
    """Run the local Telegram Bot API server with an interactive prompt to act as users
    (options: --port 8081 --token 123:ABC --no-rate-limit)."""
    from bot.devserver.cli import main as devserver_main

    raise typer.Exit(devserver_main(ctx.args))


@app.command()
def run() -> None:
    """Run the bot (long polling) with the outbox sender and the scheduler, reading .env."""
    import asyncio

    from bot.runtime import BotRuntime, StartupError
    from bot.sender import Sender
    from bot.service import Service

    settings = get_settings()
    engine = _engine()

    async def serve() -> None:
        runtime = BotRuntime(Service(engine), settings.bot_framework, settings.telegram_bot_token,
                             settings.telegram_api_base)
        async with runtime:
            # The outbox sender drains proactive messages (invitations, reminders,
            # digests) within Telegram's limits, in the same process.
            stop = asyncio.Event()
            sender = asyncio.create_task(Sender(engine, runtime.transport).run(stop))
            console.print(f"[green]running[/] @{runtime.username} on {settings.bot_framework}; Ctrl-C stops")
            try:
                await asyncio.Event().wait()
            finally:
                stop.set()
                await sender

    try:
        asyncio.run(serve())
    except StartupError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        console.print("stopped")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
