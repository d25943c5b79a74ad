"""Retention by hand: ``minping purge CAMPAIGN`` (the scheduler does the same once a
campaign's ``retention_days`` have passed; ``storage/retention.py`` says what goes)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import app, console, engine, fail, get_campaign


@app.command()
def purge(campaign_id: str = typer.Argument(..., help="Campaign id."),
          yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (for scripts).")) -> None:
    """Delete a closed campaign's personal data for good: chat ids, memberships' links to
    persons, drafts, contacts, organizers, its messages, parked updates. Ballots, the
    chain, the tally, plans and the draw stay, so `minping verify` still checks it."""
    from reports.verify import verify
    from storage import campaigns, retention
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        get_campaign(s, campaign_id)
        row = campaigns.get_row(s, campaign_id)
        if row.purged_at is not None:
            console.print(f"campaign '{escape(campaign_id)}' was purged on {row.purged_at:%Y-%m-%d %H:%M} UTC: "
                          "nothing left to delete")
            return
        if not row.closed:
            fail(f"campaign '{campaign_id}' is still open: its people's data is still needed. Close it first "
                 f"(`minping close {campaign_id}`)")
        due = retention.due_at(s, campaign_id)
        open_round = retention.finished_at(s, campaign_id) is None
        plan = retention.preview(s, campaign_id)
    table = Table(title=f"purge {campaign_id}: deleted for good", show_header=False)
    for label, n in (("people whose chat id is deleted", plan.persons_deleted),
                     ("people kept for another campaign (only this campaign's links go)", plan.persons_kept),
                     ("memberships unlinked from their person", plan.memberships_cut),
                     ("drafts and conversation states", plan.conversations),
                     ("evaluee contacts", plan.contacts),
                     ("organizers' chat ids", plan.organizers),
                     ("outbox messages (texts, charts)", plan.messages)):
        table.add_row(label, str(n))
    console.print(table)
    console.print("Kept: ballots, the hash chain, the tally, notices and rectification plans, follow-up rates, "
                  "the draw (pseudonyms). `minping verify` still checks the campaign.")
    if open_round:
        console.print("[yellow]warning:[/] a rectification round is still open: its follow-up survey cannot reach "
                      "anyone after this")
    if due is not None:
        console.print(f"(retention_days would purge it on {due:%Y-%m-%d %H:%M} UTC)")
    if not yes:
        try:
            ok = typer.confirm("Delete this personal data for good?", default=False)
        except typer.Abort:
            ok = False
        if not ok:
            fail("nothing deleted (pass --yes to purge without asking)")
    with session_scope(eng) as s:
        try:
            done = retention.purge(s, campaign_id, datetime.now(UTC))
        except retention.NotFinished:
            fail(f"campaign '{campaign_id}' is still open")
    console.print(f"[green]purged[/] {escape(campaign_id)}: {done.persons_deleted} people forgotten, "
                  f"{done.persons_kept} kept for other campaigns, {done.memberships_cut} memberships unlinked, "
                  f"{done.conversations} drafts, {done.messages} messages, {done.parked} parked updates deleted")
    with session_scope(eng) as s:
        result = verify(s, get_campaign(s, campaign_id))
    if not result.ok:
        fail(f"verify {campaign_id} after the purge: {'; '.join(map(str, result.chain + result.counts))}")
    console.print(f"[green]OK[/] verify {escape(campaign_id)}: the ballots and counts still agree")
