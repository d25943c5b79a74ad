"""``minping record``: the daily-assessment deductions and bonus awards of seed 004.

    minping record CAMPAIGN EVALUEE deduction|bonus ITEM [--note …] [--by …]
    minping record CAMPAIGN EVALUEE deduction other --points N --note …
    minping record list CAMPAIGN [--evaluee KEY]
    minping record void CAMPAIGN ID --reason …

Records are never deleted: a mistaken one is voided with a reason and stays in the
list. A second record of the same kind and item for the same evaluee is the usual
slip (one event typed twice): it is shown and asked about first.
"""

from __future__ import annotations

import getpass

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from bot.cli.common import YES, app, confirm, console, engine, fail, get_campaign, now, require_phase


class _DefaultAdd(TyperGroup):
    """``record CAMPAIGN …`` means ``record add CAMPAIGN …``; ``list`` and ``void`` are
    subcommands."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:  # noqa: ANN001
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


record_app = typer.Typer(cls=_DefaultAdd, no_args_is_help=True, rich_markup_mode="markdown",
                         help="Deductions and bonuses: record CAMPAIGN EVALUEE KIND ITEM, record list, record void.")
app.add_typer(record_app, name="record")

_OPEN_FOR_RECORDS = {"upcoming", "open", "ended"}
_FINAL = {"closed": "its scores are final since `minping close`"}


@record_app.command("add")
def add(campaign_id: str = typer.Argument(..., help="Campaign id."),
        evaluee: str = typer.Argument(..., help="Evaluee key."),
        kind: str = typer.Argument(..., help="deduction or bonus."),
        item: str = typer.Argument(..., help="A key under scoring.deductions / scoring.bonus, or 'other' "
                                               "(a deduction with --points)."),
        note: str = typer.Option(None, help="What happened (kept with the record, shown to the evaluee)."),
        points: float = typer.Option(None, help="Points of an 'other' deduction (the file sets all others)."),
        by: str = typer.Option(None, help="Who records it (default: the login name)."),
        yes: bool = YES) -> None:
    """Record a daily-assessment deduction or a bonus award (with who and when)."""
    from storage import tally as store
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        require_phase(s, campaign, "recording a deduction or bonus", _OPEN_FOR_RECORDS, instead=_FINAL)
        same = store.duplicates(s, campaign.id, evaluee, kind, item)
    if same:
        console.print(f"[yellow]{escape(evaluee)} already has {len(same)} {escape(kind)} '{escape(item)}' record(s):[/]")
        for ev in same:
            console.print("  " + escape(_describe(ev)))
        confirm("record another one (a separate event, not the same one again)?", yes)
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            ev = store.record_event(s, campaign, evaluee, kind, item, recorded_by=by or getpass.getuser(),
                                    note=note, now=now(), points=points)
        except store.UnknownItem as exc:
            fail(str(exc))
    sign = "-" if kind == "deduction" else "+"
    console.print(f"[green]recorded[/] #{ev.id} {kind} {escape(item)} ({sign}{ev.points:g}) for {escape(evaluee)} by "
                  f"{escape(ev.recorded_by)} at {ev.recorded_at:%Y-%m-%d %H:%M} UTC")


def _describe(ev) -> str:  # noqa: ANN001
    sign = "-" if ev.kind == "deduction" else "+"
    text = (f"#{ev.id} {ev.evaluee_key} {ev.kind} {ev.item} {sign}{ev.points:g}, by {ev.recorded_by} "
            f"{ev.recorded_at:%Y-%m-%d %H:%M} UTC")
    if ev.note:
        text += f": {ev.note}"
    if ev.voided_at is not None:
        text += f" — VOIDED {ev.voided_at:%Y-%m-%d %H:%M} by {ev.voided_by}: {ev.void_reason}"
    return text


@record_app.command("list")
def list_(campaign_id: str = typer.Argument(..., help="Campaign id."),
          evaluee: str = typer.Option(None, help="Only this evaluee's records.")) -> None:
    """Every record of a campaign, voided ones included (marked, with the reason)."""
    from storage import tally as store
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if evaluee is not None and evaluee not in {e.key for e in campaign.evaluees}:
            fail(f"campaign '{campaign_id}' has no evaluee '{evaluee}' "
                 f"(evaluees: {', '.join(e.key for e in campaign.evaluees)})")
        rows = store.list_events(s, campaign.id, evaluee)
    if not rows:
        console.print(f"No deduction or bonus recorded for {escape(campaign_id)}"
                      + (f" / {escape(evaluee)}" if evaluee else "") + " yet.")
        return
    table = Table(title=escape(f"{campaign_id} — records"))
    for col in ("id", "evaluee", "kind", "item", "points", "note", "by", "recorded (UTC)", "voided"):
        table.add_column(col, justify="right" if col in ("id", "points") else "left")
    for ev in rows:
        sign = "-" if ev.kind == "deduction" else "+"
        voided = (f"{ev.voided_at:%Y-%m-%d %H:%M} by {ev.voided_by}: {ev.void_reason}" if ev.voided_at else "")
        style = "strike dim" if ev.voided_at else None
        table.add_row(str(ev.id), escape(ev.evaluee_key), ev.kind, escape(ev.item), f"{sign}{ev.points:g}",
                      escape(ev.note or ""), escape(ev.recorded_by), f"{ev.recorded_at:%Y-%m-%d %H:%M}",
                      escape(voided), style=style)
    from rich.console import Console

    Console(width=max(console.width, 160)).print(table)
    counting = [ev for ev in rows if ev.voided_at is None]
    console.print(f"{len(counting)} record(s) count, {len(rows) - len(counting)} voided.")


@record_app.command("void")
def void(campaign_id: str = typer.Argument(..., help="Campaign id."),
         record_id: int = typer.Argument(..., help="The record's id (see: minping record list)."),
         reason: str = typer.Option(..., help="Why it no longer counts (kept on record)."),
         by: str = typer.Option(None, help="Who voids it (default: the login name)."),
         yes: bool = YES) -> None:
    """Void a record: it stays in the list, marked, and no longer counts in the score."""
    from storage import tally as store
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        require_phase(s, campaign, "voiding a record", _OPEN_FOR_RECORDS, instead=_FINAL)
        ev = next((e for e in store.list_events(s, campaign.id) if e.id == record_id), None)
        if ev is None:
            fail(f"campaign '{campaign_id}' has no record {record_id} (see: minping record list {campaign_id})")
    console.print("  " + escape(_describe(ev)))
    confirm(f"void record #{record_id} (it will no longer count)?", yes)
    with session_scope(eng) as s:
        try:
            ev = store.void_event(s, campaign_id, record_id, reason, by or getpass.getuser(), now())
        except store.UnknownItem as exc:
            fail(str(exc))
    console.print(f"[green]voided[/] record #{record_id}: {escape(ev.void_reason or '')}")
