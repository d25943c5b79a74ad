"""Shared pieces of the ``minping`` command line: the app, consoles, database, errors."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.markup import escape

from bot.settings import get_settings

app = typer.Typer(help="minping 民评 — public evaluation of officials and government units in a chat app.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False,
                  rich_markup_mode="markdown")  # docstrings wrap as paragraphs
console = Console()
err = Console(stderr=True, soft_wrap=True)  # errors stay one line each: greppable


def engine():
    """The configured database, migrated to the newest schema."""
    from storage.db import DatabaseUnavailable, make_engine, migrate

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    eng = make_engine(settings.database_url)
    try:
        migrate(eng)
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}\nCheck DATABASE_URL in .env (see .env.example).")
        raise typer.Exit(2) from None
    return eng


def fail(message: str, code: int = 1) -> None:
    # Messages quote the organizer's own text: never let rich read it as markup.
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def get_campaign(s, campaign_id: str):  # noqa: ANN001, ANN201
    """The stored campaign, or a clear error (exit 1) naming how to load one."""
    from storage import campaigns

    try:
        return campaigns.get_campaign(s, campaign_id)
    except campaigns.UnknownCampaign as exc:
        fail(str(exc))
