"""Results: ``minping close``, ``verify``, ``kit``, ``tally``, ``report`` (``record``: bot/cli/records.py).

A sealed campaign's results stay hidden until ``close``: ``tally`` and ``report``
refuse it with a clear message (``status`` shows progress meanwhile).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import YES, app, confirm, console, engine, err, fail, get_campaign, now, phase_line, require_phase


def ranking_table(campaign, result, locale: str = "zh") -> list[Table]:  # noqa: ANN001
    """One rich table per category: rank, evaluee, total and its parts, satisfaction."""
    from reports.results import no_score
    from reports.stats import wilson

    tables = []
    for cat in campaign.categories:
        rows = sorted((r for r in result.evaluees.values() if r.category == cat.key),
                      key=lambda r: (not r.scored, r.rank or 0, r.evaluee))
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
            trend = "" if r.previous_total is None or not r.scored else f"{r.total - r.previous_total:+.2f}"
            name = escape(campaign.text(campaign.evaluee(r.evaluee).name, locale))
            if not r.scored:  # no voting group: say why instead of a 0.00 that would rank it last
                table.add_row("—", name, escape(no_score(campaign.min_group_size, locale)), "—", f"{r.daily:.2f}",
                              f"{r.bonus:.2f}", rate, "", "")
                continue
            table.add_row(f"{r.rank}/{r.of}", name,
                          f"{r.total:.2f}", f"{r.democratic:.2f}", f"{r.daily:.2f}", f"{r.bonus:.2f}", rate, trend,
                          escape(", ".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting)))
        tables.append(table)
    return tables



@app.command()
def close(campaign_id: str = typer.Argument(..., help="Campaign id."),
          force: bool = typer.Option(False, "--force", help="Close a campaign that has not opened yet (asks still)."),
          yes: bool = YES) -> None:
    """Close a campaign for good: stop answering, record the ballot-chain head and count,
    compute and store the tally, print the ranking. Shows what it will do and asks
    first; refused before the campaign opens unless --force."""
    from reports import tally
    from storage import campaigns
    from storage.db import session_scope
    from storage.status import group_progress

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        allowed = {"open", "ended"} | ({"upcoming"} if force else set())
        phase = require_phase(s, campaign, "closing", allowed, instead={
            "upcoming": "it has not opened, so closing it now would end it for good without a single ballot. "
                        f"Check the campaign id; if you really mean to end it, use: minping close {campaign_id} --force",
            "closed": f"it is already closed; see `minping tally {campaign_id}`"})
        row = campaigns.get_row(s, campaign_id)
        line = phase_line(campaign, row)
        progress = group_progress(s, campaign)
    answering = sum(p.started for p in progress)
    console.print(f"campaign [bold]{escape(campaign_id)}[/] is {escape(line)}.")
    console.print("Closing it now, for good: stops all answering"
                  + (f" ({answering} rater(s) in the middle of a questionnaire can no longer submit)" if answering else "")
                  + f"; seals the ballot chain at {row.chain_count} ballot(s); computes and stores the final tally "
                  "(the ranking is printed). It cannot be reopened.")
    for p in progress:
        g = campaign.group(p.group)
        console.print(f"  {escape(campaign.text(g.label, campaign.default_locale))}: {p.submitted} submitted"
                      + (f" of {p.drawn} drawn" if not p.open else "") + f", {p.started} answering")
    if phase == "upcoming":
        err.print(f"[yellow]warning:[/] {escape(campaign_id)} has not opened yet: nobody will be able to answer it")
    confirm(f"close campaign {campaign_id} now?", yes)
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        if campaigns.get_row(s, campaign_id).closed:  # closed meanwhile by someone else
            fail(f"campaign '{campaign_id}' is already closed; see `minping tally {campaign_id}`")
        result = tally.close_campaign(s, campaign, now())
        row = campaigns.get_row(s, campaign_id)
    from storage.ballots import scrub

    scrub(eng)  # no copy of an envelope left in the files
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
    ballots by an independent code path; say what was checked and print OK or each
    difference (exit 1). Before close only the chain can be checked (nothing is
    published yet); verify again after close."""
    from reports.verify import verify as run
    from storage import campaigns
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        row = campaigns.get_row(s, campaign_id)
        line = phase_line(campaign, row)
        result = run(s, campaign)
    for p in result.chain:
        console.print(f"[red]chain[/] position {p.position}{f' (ballot {p.ballot_id})' if p.ballot_id else ''}: "
                      f"{escape(p.problem)}")
    for line_ in result.sealed_chain:
        console.print(f"[red]close record[/] {escape(line_)}")
    for d in result.differences:
        console.print(f"[red]recount[/] {escape(str(d))}")
    for line_ in result.counts:
        console.print(f"[red]count[/] {escape(line_)}")
    if not result.ok:
        raise typer.Exit(1)
    n = row.chain_count
    chain = (f"the ballot chain: {n} ballot(s), each linked to the one before, the last one matching the recorded "
             "head; the ballots per rater group match the raters marked as submitted")
    if row.closed:
        checked = (f"{chain} and the head and count recorded at close; every published figure recounted from the raw "
                   "ballots by an independent code path agrees with the stored tally")
    elif result.recounted:
        checked = (f"{chain}; the live figures (the campaign is not sealed) recounted from the raw ballots by an "
                   "independent code path agree")
    else:
        checked = (f"{chain}. Only these: the campaign is sealed and not closed, so nothing is published yet "
                   f"and there is no figure to recount. Run `minping verify {campaign_id}` again after close")
    console.print(f"[green]OK[/] {escape(campaign_id)} ({escape(line)}). Checked {escape(checked)}.")


@app.command()
def kit(campaign_id: str = typer.Argument(..., help="Campaign id."),
        out: Path = typer.Option(..., "--out", help="A new or empty directory to write the kit into.")) -> None:
    """Write the verification kit of a closed campaign: the draw's lists, the ballot log
    (opinions as SHA-256 only), the chain head and count recorded at close, the counts,
    the campaign file, the published figures, and verify_kit.py, which anyone can run
    with a plain Python to recompute all of them (MATCH or each difference). Only after
    close."""
    from reports import kit as kit_
    from storage.db import session_scope

    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            written = kit_.write(s, campaign, out)
        except kit_.KitError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the kit into {out}: {exc}")
    console.print(f"wrote the verification kit of {escape(campaign_id)} into {escape(str(out))} "
                  f"({len(written)} files). Anyone can check it with: python3 {escape(str(out / 'verify_kit.py'))}")


@app.command()
def report(campaign_id: str = typer.Argument(..., help="Campaign id."),
           format: str = typer.Option("xlsx", "--format", "-f", help="html, xlsx, csv, or data."),  # noqa: A002
           out: Path = typer.Option(None, help="Output file (default: CAMPAIGN-results.FORMAT here; data: "
                                               "CAMPAIGN-ballots.csv and its .schema.json beside it)."),
           locale: str = typer.Option("zh", help="zh or en: the report's language (headers, labels, names).")) -> None:
    """The results report for people, in Chinese by default: html (print-ready A4, a
    ranking per category, a section per evaluee, charts), xlsx (排名, 评议内容, 意见建议,
    整改, 日常考核记录) or csv (the ranking); or ``data``: one anonymous row per ballot
    (csv) with a JSON schema of its codes. Refused for a sealed open campaign."""
    from reports import data as ballot_data
    from reports import export
    from reports.tally import Sealed
    from storage.db import session_scope

    if format not in export.FORMATS:
        fail(f"--format must be one of {', '.join(export.FORMATS)} (got '{format}')")
    if locale not in ("zh", "en"):
        fail(f"--locale must be zh or en (got '{locale}')")
    eng = engine()
    with session_scope(eng) as s:
        campaign = get_campaign(s, campaign_id)
        try:
            if format == "data":
                files = dict(zip(("csv", "schema"), ballot_data.export(s, campaign), strict=True))
            else:
                files = {"report": export.export(s, campaign, format, locale)}
        except Sealed as exc:
            fail(str(exc))
    if format == "data":
        path = out or Path(f"{campaign_id}-ballots.csv")
        paths = {"csv": path, "schema": path.with_suffix(".schema.json")}
    else:
        paths = {"report": out or Path(f"{campaign_id}-results.{format}")}
    for key, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[key])
        console.print(f"[green]wrote[/] {path} ({len(files[key]):,} bytes)")
