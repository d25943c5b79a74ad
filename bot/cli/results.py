"""Results: ``minping close``, ``verify``, ``tally``, ``record``, ``report``.

A sealed campaign's results stay hidden until ``close``: ``tally`` and ``report``
refuse it with a clear message (``status`` shows progress meanwhile).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import app, console, engine, fail, get_campaign


def ranking_table(campaign, result, locale: str = "zh") -> list[Table]:  # noqa: ANN001
    """One rich table per category: rank, evaluee, total and its parts, satisfaction."""
    from reports.stats import wilson

    tables = []
    for cat in campaign.categories:
        rows = sorted((r for r in result.evaluees.values() if r.category == cat.key), key=lambda r: (r.rank, r.evaluee))
        if not rows:
            continue
        table = Table(title=f"{campaign.text(cat.label, locale)} — {result.ballots} ballots")
        for col in ("rank", "evaluee", "total", "democratic", "daily", "bonus", "satisfaction (95% CI)", "trend",
                    "not voting"):
            table.add_column(col, justify="left" if col in ("evaluee", "not voting") else "right")
        for r in rows:
            valid = sum(d.valid for d in r.dimensions.values())
            sat = sum(d.satisfied for d in r.dimensions.values())
            lo, hi = wilson(sat, valid)
            rate = f"{sat / valid:.1%} ({lo:.1%}–{hi:.1%}) n={valid}" if valid else "—"
            trend = "" if r.previous_total is None else f"{r.total - r.previous_total:+.2f}"
            table.add_row(f"{r.rank}/{r.of}", escape(campaign.text(campaign.evaluee(r.evaluee).name, locale)),
                          f"{r.total:.2f}", f"{r.democratic:.2f}", f"{r.daily:.2f}", f"{r.bonus:.2f}", rate, trend,
                          escape(", ".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting)))
        tables.append(table)
    return tables



@app.command()
def close(campaign_id: str = typer.Argument(..., help="Campaign id.")) -> None:
    """Close a campaign: stop answering, record the ballot-chain head and count, compute
    and store the tally, print the ranking."""
    from reports import tally
    from storage import campaigns
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if campaigns.get_row(s, campaign_id).closed:
            fail(f"campaign '{campaign_id}' is already closed; see `minping tally {campaign_id}`")
        result = tally.close_campaign(s, campaign)
        row = campaigns.get_row(s, campaign_id)
    console.print(f"[green]closed[/] {campaign_id}: {row.chain_count} ballots, chain head {row.chain_head}")
    for t in ranking_table(campaign, result):
        console.print(t)


@app.command()
def tally(campaign_id: str = typer.Argument(..., help="Campaign id.")) -> None:
    """Print the results (the stored tally once closed). Refused for a sealed open campaign."""
    from reports import tally as tallies
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            result = tallies.results(s, campaign)
        except tallies.Sealed as exc:
            fail(f"{exc} (progress: minping status {campaign_id})")
    for t in ranking_table(campaign, result):
        console.print(t)


@app.command()
def verify(campaign_id: str = typer.Argument(..., help="Campaign id.")) -> None:
    """Re-walk the ballot hash chain, then recount every published figure from the raw
    ballots by an independent code path; print OK or each difference (exit 1)."""
    from reports.verify import verify as run
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        result = run(s, campaign)
    for p in result.chain:
        console.print(f"[red]chain[/] position {p.position}{f' (ballot {p.ballot_id})' if p.ballot_id else ''}: "
                      f"{escape(p.problem)}")
    for line in result.sealed_chain:
        console.print(f"[red]close record[/] {escape(line)}")
    for d in result.differences:
        console.print(f"[red]recount[/] {escape(str(d))}")
    if not result.ok:
        raise typer.Exit(1)
    what = "ballot chain and recount" if result.recounted else "ballot chain (sealed: nothing published to recount)"
    console.print(f"[green]OK[/] {campaign_id}: {what} agree")


@app.command()
def record(campaign_id: str = typer.Argument(..., help="Campaign id."),
           evaluee: str = typer.Argument(..., help="Evaluee key."),
           kind: str = typer.Argument(..., help="deduction or bonus."),
           item: str = typer.Argument(..., help="A key under scoring.deductions / scoring.bonus."),
           note: str = typer.Option(None, help="What happened (kept with the record)."),
           by: str = typer.Option(None, help="Who records it (default: the login name).")) -> None:
    """Record a daily-assessment deduction or a bonus award (with who and when)."""
    from storage import campaigns
    from storage import tally as store
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if campaigns.get_row(s, campaign_id).closed:
            fail(f"campaign '{campaign_id}' is closed; its scores are final")
        try:
            ev = store.record_event(s, campaign, evaluee, kind, item, recorded_by=by or getpass.getuser(), note=note)
        except store.UnknownItem as exc:
            fail(str(exc))
    sign = "-" if kind == "deduction" else "+"
    console.print(f"[green]recorded[/] {kind} {item} ({sign}{ev.points:g}) for {evaluee} by {escape(ev.recorded_by)} "
                  f"at {ev.recorded_at:%Y-%m-%d %H:%M} UTC")


@app.command()
def report(campaign_id: str = typer.Argument(..., help="Campaign id."),
           format: str = typer.Option("xlsx", "--format", "-f", help="xlsx, csv or html."),  # noqa: A002
           out: Path = typer.Option(None, help="Output file (default: CAMPAIGN-results.FORMAT here)."),
           locale: str = typer.Option("zh", help="Language of names and labels.")) -> None:
    """Export the full results table (xlsx, csv, or a self-contained html report with
    charts). Refused for a sealed open campaign."""
    from reports import export
    from reports.tally import Sealed
    from storage.db import session_scope

    if format not in export.FORMATS:
        fail(f"--format must be one of {', '.join(export.FORMATS)} (got '{format}')")
    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            data = export.export(s, campaign, format, locale)
        except Sealed as exc:
            fail(str(exc))
    path = out or Path(f"{campaign_id}-results.{format}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    console.print(f"[green]wrote[/] {path} ({len(data):,} bytes)")
