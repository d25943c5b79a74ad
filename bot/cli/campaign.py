"""``minping campaign check|load``.

Loading a file whose id is already stored is a reviewed change: the differences
(title, dates, phase before → after, texts, weights, …) are shown and confirmed;
changes that would break a running campaign are refused (``storage.campaigns.
reload_refusal``). ``check`` shows the same review without writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.markup import escape

from bot.cli.common import YES, app, confirm, console, engine, err, fail, now, when

campaign_app = typer.Typer(help="Campaign files: check and load.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")


@dataclass
class Review:
    """What loading the file would do to the database."""

    exists: bool = False
    changes: list[str] = field(default_factory=list)
    phase_before: str | None = None
    phase_after: str = ""
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None
    bad_previous: str | None = None  # ``previous:`` cannot be this campaign's earlier round


def _read(file: Path):  # noqa: ANN202
    from flows.loader import CampaignFileError, load_campaign

    try:
        return load_campaign(file)
    except CampaignFileError as exc:
        fail(str(exc))


def review(s, c) -> Review:  # noqa: ANN001
    """Compare the file's campaign with the stored one (if any), at the command's time."""
    from flows.changes import diff, phase_at
    from flows.loader import calendar_warnings
    from storage import campaigns

    at = now()
    out = Review(phase_after=phase_at(c.opens, c.closes, False, at))
    try:
        campaigns.check_previous(s, c)
    except campaigns.BadPrevious as exc:
        out.bad_previous = str(exc)
    row = s.get(campaigns.CampaignRow, c.id)
    warnings = calendar_warnings(c, at)
    if row is None:
        out.warnings = warnings
        return out
    from flows.campaign import Campaign

    old = Campaign.model_validate(row.definition)
    out.exists = True
    out.phase_before = campaigns.phase(row, at)
    out.phase_after = phase_at(c.opens, c.closes, row.closed, at)
    out.changes = [ch.line() for ch in diff(old, c)]
    # Dates already in force are no news; a date that moved is.
    moved = {name for name in ("opens", "closes") if getattr(old, name) != getattr(c, name)}
    out.warnings = [w for w in warnings if any(w.startswith(name) for name in moved)]
    out.refusal = campaigns.reload_refusal(s, c, at)
    return out


def _show(c, r: Review) -> None:  # noqa: ANN001
    if r.exists:
        if r.changes:
            console.print(f"[bold]campaign {escape(c.id)} is stored; this file changes {len(r.changes)} thing(s):[/]")
            for line in r.changes:
                console.print("  " + escape(line))
        else:
            console.print(f"campaign {escape(c.id)} is stored and this file changes nothing")
        phase = (f"{r.phase_before} → {r.phase_after}" if r.phase_before != r.phase_after
                 else f"{r.phase_after} (unchanged)")
        console.print(f"phase: {phase}; opens {when(c, c.opens)}, closes {when(c, c.closes)} ({c.timezone})")
    for w in r.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")


@campaign_app.command("check")
def campaign_check(file: Path = typer.Argument(..., help="The campaign YAML file.")) -> None:
    """Validate a campaign file without writing anything. If its id is already stored,
    show what loading it would change (exit 1 if the load would be refused); dates in
    the past are warnings."""
    from flows.loader import calendar_warnings

    c = _read(file)
    console.print(f"[green]OK[/] {file}: {c.id}, {len(c.evaluees)} evaluees, {len(c.rater_groups)} rater groups")
    r = _stored_review(c)
    if r is None:
        for w in calendar_warnings(c, now()):
            err.print(f"[yellow]warning:[/] {escape(w)}")
        return
    _show(c, r)
    if r.bad_previous:
        fail(f"loading it would be refused: {file}: {r.bad_previous}")
    if r.refusal:
        fail(f"loading it would be refused: {r.refusal}")


def _stored_review(c):  # noqa: ANN001, ANN202
    """The review against the configured database, or None (with a note) when there is
    no usable database: ``check`` never creates or migrates one."""
    from bot.settings import get_settings
    from storage.db import DatabaseUnavailable, check, make_engine, session_scope
    from storage.schema import SchemaMismatch

    from bot.cli import common
    from storage import rehearsal

    eng = make_engine(get_settings().database_url)
    try:
        check(eng)
    except (DatabaseUnavailable, SchemaMismatch) as exc:
        console.print(f"(not compared with a stored campaign: {escape(str(exc))})")
        return None
    with session_scope(eng) as s:
        stored = rehearsal.stored(s)  # read only: a rehearsal database keeps its own clock
        if stored is not None:
            common._clock[0] = stored
        return review(s, c)


@campaign_app.command("load")
def campaign_load(file: Path = typer.Argument(..., help="The campaign YAML file."), yes: bool = YES) -> None:
    """Validate a campaign file and store it. Re-loading a stored campaign shows what
    changes and asks first; changes that would break a running campaign are refused.
    Dates in the past need a confirmation too."""
    from storage.campaigns import BadPrevious, CampaignLocked, store_campaign
    from storage.db import session_scope

    c = _read(file)
    eng = engine()
    with session_scope(eng) as s:  # a read: nothing is held while the organizer decides
        r = review(s, c)
    if r.bad_previous:
        fail(f"{file}: {r.bad_previous}. Nothing was changed")
    _show(c, r)
    if r.refusal:
        fail(f"{r.refusal}. Nothing was changed")
    if r.exists and not r.changes:
        return
    if r.exists or r.warnings:
        what = "apply these changes" if r.exists else "load it with these dates"
        confirm(f"{what} to campaign {c.id}?", yes)
    try:
        with session_scope(eng) as s:  # checked again here: the refusals hold at the moment of writing
            result = store_campaign(s, c, file.read_text(encoding="utf-8"), now())
    except (CampaignLocked, BadPrevious) as exc:
        fail(f"{file}: {exc}. Nothing was changed" if isinstance(exc, BadPrevious) else f"{exc}. Nothing was changed")
    verb = "loaded" if result.created else "updated"
    console.print(f"[green]{verb}[/] campaign [bold]{c.id}[/]: {escape(c.text(c.title, c.default_locale))} — "
                  f"{len(c.evaluees)} evaluees in {len(c.categories)} categories, "
                  f"{len(c.dimensions)} dimensions, {len(c.rater_groups)} rater groups; "
                  f"opens {when(c, c.opens)}, closes {when(c, c.closes)} ({c.timezone})")
