"""Feedback and rectification: ``minping publish``, ``rectification``, ``unbind``."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import app, console, engine, fail, get_campaign



@app.command()
def publish(campaign_id: str = typer.Argument(..., help="Campaign id (closed).")) -> None:
    """Send each evaluee's contacts its rectification notice (results, opinions scrubbed
    of personal data in random order, deadline) through the outbox. Only after close.
    Running it again sends the notice to contacts bound since, and nothing twice."""
    from bot import feedback
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            out = feedback.publish(s, campaign, datetime.now(UTC))
        except feedback.NotClosed as exc:
            fail(str(exc))
    console.print(f"[green]published[/] {campaign_id}: {out.evaluees} new notice(s), {out.items} item(s), "
                  f"{out.dropped} opinion(s) dropped as empty after removing personal data; "
                  f"{out.messages} message(s) queued")
    if out.contacts_missing:
        names = ", ".join(out.contacts_missing)
        console.print(f"[yellow]no contact bound yet[/] for: {escape(names)} — hand out codes from "
                      f"`minping links {campaign_id} --evaluee KEY`, then run publish again")


@app.command()
def rectification(campaign_id: str = typer.Argument(..., help="Campaign id."),
                  overdue: bool = typer.Option(False, "--overdue", help="List the overdue items.")) -> None:
    """The rectification board: per evaluee, round, deadline, items planned / done /
    overdue, and the follow-up satisfaction rate of each round."""
    from reports import rectification as boards
    from storage.db import session_scope

    eng = engine()
    now = datetime.now(UTC)
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        rows = boards.board(s, campaign, now)
        late = boards.overdue_items(s, campaign, now) if overdue else []
    if not rows:
        console.print(f"No rectification notice published for {escape(campaign_id)} yet (minping publish).")
        return
    loc = campaign.default_locale
    table = Table(title=escape(f"{campaign.id} — rectification"))
    for col in ("evaluee", "contacts", "round", "deadline", "items", "planned", "done", "overdue", "follow-up"):
        table.add_column(col, justify="left" if col in ("evaluee", "follow-up") else "right")
    for r in rows:
        rates = "; ".join(
            f"r{x.number} {'—' if x.rate is None else f'{x.rate:.1%}'} (n={x.valid or 0})" if x.closed
            else f"r{x.number} running {x.answered}/{x.asked}" for x in r.rounds)
        table.add_row(escape(campaign.text(campaign.evaluee(r.evaluee).name, loc)), str(r.contacts), str(r.round),
                      r.deadline.isoformat(), str(r.items), str(r.planned), str(r.done),
                      f"[red]{r.overdue}[/]" if r.overdue else "0", escape(rates))
    console.print(table)
    for o in late:
        what = escape(o.measure or "no plan")
        console.print(f"overdue: {escape(o.evaluee)} round {o.round} items {','.join(map(str, o.items))} — "
                      f"{what} — owner {escape(o.owner or '—')} — due {o.deadline.isoformat()}")


@app.command()
def unbind(campaign_id: str = typer.Argument(..., help="Campaign id."),
           evaluee: str = typer.Argument(..., help="Evaluee key."),
           chat_id: int = typer.Argument(..., help="The contact's chat id.")) -> None:
    """Remove a contact of an evaluee (they no longer receive its notice or file its plan)."""
    from storage import feedback as fb
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if evaluee not in {e.key for e in campaign.evaluees}:
            fail(f"campaign '{campaign_id}' has no evaluee '{evaluee}' "
                 f"(evaluees: {', '.join(e.key for e in campaign.evaluees)})")
        if not fb.unbind(s, campaign_id, evaluee, chat_id, datetime.now(UTC)):
            fail(f"chat {chat_id} is not a contact of '{evaluee}' in '{campaign_id}'")
    console.print(f"[green]unbound[/] chat {chat_id} from {escape(evaluee)} in {escape(campaign_id)}")
