"""Enrolment and the draw: ``minping status``, ``links`` (issue 4 extends: sample, invite,
verify-draw)."""

from __future__ import annotations

import typer

from bot.cli.common import app, console, engine, fail


@app.command()
def status(campaign_id: str = typer.Argument(None, help="Campaign id; all campaigns when omitted.")) -> None:
    """Campaign phase and counts per rater group (progress only: no results)."""
    from rich.table import Table

    from storage import campaigns
    from storage.db import session_scope
    from storage.status import group_progress

    eng = engine()
    with session_scope(eng) as s:
        try:
            rows = [campaigns.get_row(s, campaign_id)] if campaign_id else campaigns.list_campaigns(s)
        except campaigns.UnknownCampaign as exc:
            fail(str(exc))
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

    eng = engine()
    with session_scope(eng) as s:
        try:
            c = campaigns.get_campaign(s, campaign_id)
        except campaigns.UnknownCampaign as exc:
            fail(str(exc))
        for g in c.rater_groups:
            for unit in (c.units if g.rates == "own_unit" else [None]):
                token = link_store.group_link(s, c.id, g.key, unit).token
                where = f" ({unit})" if unit else ""
                console.print(f"{c.text(g.label, c.default_locale)}{where}: https://t.me/{bot_username}?start={token}")
