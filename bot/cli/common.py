"""Shared pieces of the ``minping`` command line: the app, consoles, database, clock,
errors, confirmations and the phase guard every campaign command uses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import typer
from rich.console import Console
from rich.markup import escape

from flows.clock import REAL, Clock
from bot.settings import get_settings

app = typer.Typer(help="minping 民评 — public evaluation of officials and government units in a chat app.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False,
                  rich_markup_mode="markdown")  # docstrings wrap as paragraphs
console = Console(soft_wrap=True)  # sentences stay whole (greppable, copyable); tables keep their width
err = Console(stderr=True, soft_wrap=True)  # errors stay one line each: greppable

_clock: list[Clock] = [REAL]  # set by ``engine()`` from MINPING_CLOCK / the database

YES = typer.Option(False, "--yes", "-y", help="Do it without asking (for scripts).")


@app.callback()
def _every_command() -> None:
    # Logging first, for every command (bot/logs.py: quiet, secrets redacted).
    setup_logs()


def setup_logs(level: str | None = None) -> None:
    from bot.logs import LogSettingsError, setup

    try:
        setup(get_settings(), level=level)
    except LogSettingsError as exc:
        fail(str(exc), 2)


def engine(run: bool = False):  # noqa: ANN201
    """The configured database (``bot.cli.serve.open_database``): refused with exit 2
    when it cannot be opened or its schema is not this minping's. Sets the clock: a
    rehearsal's when MINPING_CLOCK is set or the database is a rehearsal database."""
    from bot.cli.serve import Refused, open_database

    try:
        eng, _clock[0] = open_database(run)
    except Refused as exc:
        fail(exc.message, exc.code)
    if _clock[0].rehearsal:
        err.print(f"[yellow]rehearsal:[/] {_clock[0].describe()}")
    return eng


def clock() -> Clock:
    return _clock[0]


def now() -> datetime:
    """The time commands act at: real, or a rehearsal's campaign time."""
    return _clock[0].now()


def fail(message: str, code: int = 1) -> None:
    # Messages quote the organizer's own text: never let rich read it as markup. They may
    # quote a library's error too (PTB's names the rejected token): redacted as logs are.
    from bot.logs import redact

    err.print(f"[red]error:[/] {escape(redact(message))}")
    raise typer.Exit(code)


def confirm(question: str, yes: bool) -> None:
    """Ask before something that cannot be undone; ``--yes`` answers for scripts.
    No answer (standard input closed, e.g. cron) or "no" changes nothing (exit 1)."""
    if yes:
        return
    try:
        ok = typer.confirm(question, default=False)
    except (typer.Abort, EOFError):
        err.print("")
        fail("no answer on standard input: nothing was changed. To confirm from a script, pass --yes")
    if not ok:
        fail("not confirmed: nothing was changed")


def get_campaign(s, campaign_id: str):  # noqa: ANN001, ANN201
    """The stored campaign, or a clear error (exit 1): no such campaign, the likely
    meant one, and how to load one."""
    from storage import campaigns

    try:
        return campaigns.get_campaign(s, campaign_id)
    except campaigns.UnknownCampaign:
        fail(unknown_campaign(s, campaign_id))


def unknown_campaign(s, campaign_id: str) -> str:  # noqa: ANN001
    from bot.cli.quick import suggestion
    from storage import campaigns

    return suggestion(campaign_id, sorted(r.id for r in campaigns.list_campaigns(s)))


# --- phases ------------------------------------------------------------------------------
def when(campaign, t: datetime) -> str:  # noqa: ANN001
    """A time in the campaign's own time zone, as organizers wrote it."""
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo(campaign.timezone)).strftime("%Y-%m-%d %H:%M")


def phase_line(campaign, row, at: datetime | None = None) -> str:  # noqa: ANN001
    """'open (opened 2026-12-01 09:00, closes 2026-12-20 18:00 Asia/Shanghai)'."""
    from storage import campaigns

    ph = campaigns.phase(row, at or now())
    if ph == "upcoming":
        span = f"opens {when(campaign, campaign.opens)}, closes {when(campaign, campaign.closes)}"
    elif ph == "open":
        span = f"opened {when(campaign, campaign.opens)}, closes {when(campaign, campaign.closes)}"
    elif row.closed:
        span = f"closed with `minping close`; ran {when(campaign, campaign.opens)} – {when(campaign, campaign.closes)}"
    else:
        span = f"closing time {when(campaign, campaign.closes)} has passed; not yet closed with `minping close`"
    return f"{ph} ({span} {campaign.timezone})"


def require_phase(s, campaign, what: str, allowed: Iterable[str], instead: dict[str, str] | None = None) -> str:  # noqa: ANN001
    """The one phase guard of every command: returns the campaign's phase (upcoming |
    open | closed) if ``what`` may be done in it, else refuses (exit 1) naming the phase
    and what to do instead (``instead[phase]``). "closed" here means closed with
    ``minping close``; a campaign past its closing time but not closed counts as
    "ended" (only ``close`` and read-only commands make sense then)."""
    from storage import campaigns

    row = campaigns.get_row(s, campaign.id)
    ph = campaigns.phase(row, now())
    key = "ended" if ph == "closed" and not row.closed else ph
    if key in set(allowed):
        return ph
    hint = (instead or {}).get(key) or _DEFAULT_INSTEAD.get(key, "").format(id=campaign.id)
    fail(f"campaign '{campaign.id}' is {phase_line(campaign, row)}: {what} is not possible now"
         + (f"; {hint}" if hint else ""))
    return ph  # not reached


_DEFAULT_INSTEAD = {
    "upcoming": "wait until it opens",
    "ended": "close it first: minping close {id}",
    "closed": "its results are final (see: minping tally, minping report)",
}
