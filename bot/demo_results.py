"""The end of ``minping demo``: close the campaign, print the ranking, verify it, and
write the charts and the html report under the demo directory."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from bot.cli.results import ranking_table
from reports import charts, export, tally
from reports.verify import verify
from storage import campaigns
from storage.db import session_scope
from storage.status import group_progress


def finish(engine: Engine, campaign_id: str, console: Console, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign(s, campaign_id)
        result = tally.close_campaign(s, campaign)
        row = campaigns.get_row(s, campaign_id)
    console.print(f"[green]closed[/] {campaign_id}: {row.chain_count} ballots, chain head {row.chain_head[:16]}…")
    for table in ranking_table(campaign, result):
        console.print(table)
    with session_scope(engine) as s:
        check = verify(s, campaign)
        found = charts.result_charts(campaign, result, tally.rounds(s, campaign, result))
        found.append(charts.progress(campaign, group_progress(s, campaign)))
        html = export.to_html(s, campaign, result)
    console.print("verify: " + ("[green]OK[/] (hash chain and independent recount agree)" if check.ok
                                else f"[red]{len(check.chain) + len(check.differences)} problem(s)[/]"))
    paths = []
    for c in found:
        path = out_dir / f"{c.name}.png"
        path.write_bytes(c.png)
        paths.append(path)
    report = out_dir / f"{campaign_id}-report.html"
    report.write_bytes(html)
    paths.append(report)
    for p in paths:
        console.print(f"wrote {p}")
