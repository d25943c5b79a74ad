"""The end of ``minping demo``: close the campaign, print the ranking, verify it, and
write the charts and the report (html and xlsx, in Chinese) under the demo directory."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from bot.cli.results import ranking_table
from reports import charts, export, tally
from reports.progress import progress
from reports.verify import verify
from storage import campaigns
from storage.db import session_scope


def finish(engine: Engine, campaign_id: str, console: Console, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign(s, campaign_id)
        result = tally.close_campaign(s, campaign)
        row = campaigns.get_row(s, campaign_id)
    from storage.ballots import scrub

    scrub(engine)  # no copy of an envelope left in the files
    console.print(f"[green]closed[/] {campaign_id}: {row.chain_count} ballots, chain head {row.chain_head[:16]}…")
    for table in ranking_table(campaign, result):
        console.print(table)
    with session_scope(engine) as s:
        check = verify(s, campaign)
        found = charts.result_charts(campaign, result)
        found.append(charts.progress(campaign, progress(s, campaign)))
        model = export.build(s, campaign, "zh")
        html, xlsx = export.to_html(model), export.to_xlsx(model)
    console.print("verify: " + ("[green]OK[/] (hash chain and independent recount agree)" if check.ok
                                else f"[red]{len(check.chain) + len(check.differences)} problem(s)[/]"))
    paths = []
    for c in found:
        path = out_dir / f"{c.name}.png"
        path.write_bytes(c.png)
        paths.append(path)
    for suffix, data in (("html", html), ("xlsx", xlsx)):
        report = out_dir / f"{campaign_id}-report.{suffix}"
        report.write_bytes(data)
        paths.append(report)
    for p in paths:
        console.print(f"wrote {p}")
    _kit(engine, campaign, console, out_dir / "kit")


def _kit(engine: Engine, campaign, console: Console, out: Path) -> None:  # noqa: ANN001
    """The verification kit, checked as anyone would: verify_kit.py in a Python that
    cannot import minping (``-I -S``: the standard library only)."""
    import subprocess
    import sys

    from reports import kit

    with session_scope(engine) as s:
        kit.write(s, campaign, out)
    check = subprocess.run([sys.executable, "-I", "-S", "verify_kit.py"], cwd=out, capture_output=True, text=True,
                           timeout=120)
    lines = check.stdout.strip().splitlines()
    # The verdict: the last line before the anchors, which end every run.
    verdict = next((i for i, line in enumerate(lines) if line.startswith("ANCHORS:")), len(lines))
    last = (lines[:verdict] or ["(no output)"])[-1]
    console.print(f"wrote the verification kit {out}; python3 verify_kit.py there: "
                  + ("[green]MATCH[/]" if check.returncode == 0 else f"[red]{last}[/]"))
