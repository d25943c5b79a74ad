"""Feedback and rectification: ``minping publish``, ``rectification``, ``unbind``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.common import YES, app, confirm, console, engine, fail, get_campaign, now, require_phase



@app.command()
def publish(campaign_id: str = typer.Argument(..., help="Campaign id (closed)."), yes: bool = YES) -> None:
    """Send each evaluee's contacts its rectification notice (results, records with their
    reasons, opinions scrubbed of personal data in random order, deadline) through the
    outbox. Only after close; shows what it will send and asks first. Running it again
    sends the notice to contacts bound since, and nothing twice."""
    from bot.app import notice
    from storage import rectification as rs
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        require_phase(s, campaign, "publishing the rectification notices", {"closed"}, instead={
            "upcoming": "notices carry the final results: the campaign must run and be closed first",
            "open": f"notices carry the final results: close it first with `minping close {campaign_id}`",
            "ended": f"notices carry the final results: close it first with `minping close {campaign_id}`"})
        new = [e.key for e in campaign.evaluees if rs.notice(s, campaign.id, e.key) is None]
        contacts = {e.key: len(rs.contacts(s, campaign.id, e.key, reachable=True)) for e in campaign.evaluees}
    when_ = f"{campaign.rectification.deadline_days} days from today"
    console.print(f"publishing {escape(campaign_id)}: {len(new)} new notice(s) (deadline {when_}) of "
                  f"{len(campaign.evaluees)} evaluee(s); {sum(contacts.values())} reachable contact(s) "
                  "get the notice if they have not had it. Sent notices cannot be recalled.")
    for e in campaign.evaluees:
        console.print(f"  {escape(e.key)}: {contacts[e.key]} contact(s)" + (", new notice" if e.key in new else ""))
    confirm(f"publish the notices of {campaign_id}?", yes)
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            out = notice.publish(s, campaign, now())
        except notice.NotClosed as exc:
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
                  overdue: bool = typer.Option(False, "--overdue", help="List only the overdue items after the board."),
                  locale: str = typer.Option(None, help="zh or en (default: the campaign's first language).")) -> None:
    """The rectification board (per evaluee: round, deadline, items planned / done /
    overdue / needing no rectification, the follow-up satisfaction of each round), then
    every plan: measure, owner, deadline, state, progress; items marked "no
    rectification needed" with their reason."""
    from reports import rectification as boards
    from storage.db import session_scope

    eng = engine()
    at = now()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        rows = boards.board(s, campaign, at)
        plans = boards.plan_rows(s, campaign, at)
        late = boards.overdue_items(s, campaign, at) if overdue else []
    if not rows:
        console.print(f"No rectification notice published for {escape(campaign_id)} yet (minping publish).")
        return
    loc = locale if locale in campaign.locales else campaign.default_locale
    zh = loc == "zh"
    wide = Console(width=max(console.width, 150))  # ten columns: keep names whole
    table = Table(title=escape(f"{campaign.id} — {'整改台账' if zh else 'rectification'}"))
    heads = (("被评议对象", "联系人", "轮次", "截止", "意见", "已安排", "已完成", "逾期", "无需整改", "回访满意度") if zh else
             ("evaluee", "contacts", "round", "deadline", "items", "planned", "done", "overdue", "no need", "follow-up"))
    for i, col in enumerate(heads):
        table.add_column(col, justify="left" if i in (0, len(heads) - 1) else "right")
    for r in rows:
        rates = "; ".join(
            f"r{x.number} {'—' if x.rate is None else f'{x.rate:.1%}'} (n={x.valid or 0})" if x.closed
            else f"r{x.number} running {x.answered}/{x.asked}" for x in r.rounds)
        table.add_row(escape(campaign.text(campaign.evaluee(r.evaluee).name, loc)), str(r.contacts), str(r.round),
                      r.deadline.isoformat(), str(r.items), str(r.planned), str(r.done),
                      f"[red]{r.overdue}[/]" if r.overdue else "0", str(r.exempt), escape(rates))
    wide.print(table)
    if overdue:
        for o in late:
            what = escape(o.measure or "no plan")
            console.print(f"overdue: {escape(o.evaluee)} round {o.round} items {','.join(map(str, o.items))} — "
                          f"{what} — owner {escape(o.owner or '—')} — due {o.deadline.isoformat()}")
        return
    plan_table = Table(title="整改方案" if zh else "plans")
    for col in (("被评议对象", "轮次", "序号", "对应意见", "整改措施 / 理由", "责任人", "时限", "状态", "进展") if zh else
                ("evaluee", "round", "no.", "items", "measure / reason", "owner", "due", "state", "progress")):
        plan_table.add_column(col, overflow="fold")
    for p in plans:
        plan_table.add_row(escape(campaign.text(campaign.evaluee(p.evaluee).name, loc)), str(p.round), str(p.number),
                           ",".join(map(str, p.items)), escape(p.measure), escape(p.owner or "—"),
                           p.deadline.isoformat() if p.kind == "plan" else "—",
                           escape(boards.state_label(p.state, loc)), escape(p.progress or ""))
    if plans:
        wide.print(plan_table)
    else:
        console.print("尚未提交整改方案。" if zh else "No plan filed yet.")


@app.command()
def unbind(campaign_id: str = typer.Argument(..., help="Campaign id."),
           evaluee: str = typer.Argument(..., help="Evaluee key."),
           chat_id: int = typer.Argument(..., help="The contact's chat id.")) -> None:
    """Remove a contact of an evaluee (they no longer receive its notice or file its plan)."""
    from storage import rectification as rs
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if evaluee not in {e.key for e in campaign.evaluees}:
            fail(f"campaign '{campaign_id}' has no evaluee '{evaluee}' "
                 f"(evaluees: {', '.join(e.key for e in campaign.evaluees)})")
        if not rs.unbind(s, campaign_id, evaluee, chat_id, now()):
            fail(f"chat {chat_id} is not a contact of '{evaluee}' in '{campaign_id}'")
    console.print(f"[green]unbound[/] chat {chat_id} from {escape(evaluee)} in {escape(campaign_id)}")
