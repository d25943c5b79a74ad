"""Enrolment and the draw: ``minping status``, ``links``, ``sample``, ``verify-draw``,
``invite``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from bot.cli.common import app, console, engine, err, fail, get_campaign



def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


@app.command()
def status(campaign_id: str = typer.Argument(None, help="Campaign id; all campaigns when omitted.")) -> None:
    """Phase and progress per rater group: pool, drawn, invited, started, submitted, opted
    out, unreachable, response rates RR1/RR2 (progress only: no results)."""
    from rich.table import Table

    from storage import campaigns, draw
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
            d = draw.get(s, c.id)
            stage = ("no draw yet" if d is None else "pool committed, not drawn" if d.revealed_at is None
                     else "drawn")
            table = Table(title=escape(f"{c.id} — {c.text(c.title, c.default_locale)} — {campaigns.phase(row)}"
                                       f" — {row.chain_count} ballots — {stage}"))
            cols = ("rater group", "sample", "enrolled", "pool", "drawn", "invited", "started", "submitted",
                    "opted out", "unreachable", "RR1", "RR2")
            for col in cols:
                table.add_column(col, justify="left" if col == "rater group" else "right")
            for p in group_progress(s, c):
                g = c.group(p.group)
                label = escape(c.text(g.label, c.default_locale))
                if p.open:
                    table.add_row(label, "open", str(p.enrolled), "—", "—", "—", str(p.started), str(p.submitted),
                                  str(p.opted_out), str(p.unreachable), "—", "—")
                else:
                    table.add_row(label, str(g.sample), str(p.enrolled), str(p.pool), str(p.drawn), str(p.invited),
                                  str(p.started), str(p.submitted), str(p.opted_out), str(p.unreachable),
                                  _pct(p.rr1), _pct(p.rr2))
            from rich.console import Console

            Console(width=max(console.width, 150)).print(table)  # twelve columns: keep labels whole
            console.print("RR1 = submitted ÷ drawn; RR2 = (submitted + partials) ÷ drawn; a partial is a drawn "
                          "rater who started and has not submitted (the 'started' column). Open groups: no draw.")


def _qr(directory: Path, name: str, url: str) -> Path:
    import segno

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    segno.make(url, error="m").save(str(path), scale=8, border=2)
    return path


@app.command()
def links(campaign_id: str = typer.Argument(..., help="Campaign id."),
          bot_username: str = typer.Option("minping_bot", help="The bot's @username, for t.me links."),
          qr: Path = typer.Option(None, help="Also write a QR code PNG for each link into this directory."),
          codes: int = typer.Option(0, min=0, max=10_000,
                                    help="Issue N single-use codes per closed group (per unit for staff)."),
          organizer: int = typer.Option(0, min=0, max=100, help="Issue N single-use organizer codes."),
          evaluee: str = typer.Option(None, help="Issue one single-use evaluee code for KEY, or 'all'.")) -> None:
    """The deep links: a reusable enrolment link per open or link-enrolled group (per unit
    for own-unit groups), single-use codes for closed groups (--codes N), an after-service
    link per evaluee, and single-use organizer / evaluee codes."""
    from rich.table import Table

    from storage import links as link_store
    from storage.db import session_scope

    eng = engine()
    rows: list[tuple[str, str, str, str]] = []  # kind, for whom, file name, url
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        keys = [e.key for e in c.evaluees]
        if evaluee not in (None, "all") and evaluee not in keys:
            fail(f"campaign '{c.id}' has no evaluee '{evaluee}' (evaluees: {', '.join(keys)})")

        def url(token: str) -> str:
            return f"https://t.me/{bot_username.lstrip('@')}?start={token}"

        loc = c.default_locale
        closed_without_codes = []
        for g in c.rater_groups:
            label = c.text(g.label, loc)
            for unit in (c.units if g.rates == "own_unit" else [None]):
                who = f"{label} ({unit})" if unit else label
                base = f"{g.key}-{unit}" if unit else g.key
                if not g.by_codes:
                    kind = "open group" if g.open else "group"
                    rows.append((kind, who, base, url(link_store.group_link(s, c.id, g.key, unit).token)))
                elif codes:
                    for i, link in enumerate(link_store.issue_codes(s, c.id, "code", codes, group_key=g.key, unit=unit), 1):
                        rows.append(("code (single-use)", who, f"{base}-code{i}", url(link.token)))
                else:
                    closed_without_codes.append(who)
        service = c.service_group_key
        if service is not None:
            for e in c.evaluees:
                link = _service_link(s, c.id, service, e.key)
                rows.append(("after service", c.text(e.name, loc), f"service-{e.key}", url(link.token)))
        for i, link in enumerate(link_store.issue_codes(s, c.id, "organizer", organizer), 1):
            rows.append(("organizer code", "organizer", f"organizer{i}", url(link.token)))
        for key in (keys if evaluee == "all" else [evaluee] if evaluee else []):
            link = link_store.issue_codes(s, c.id, "evaluee", 1, evaluee_key=key)[0]
            rows.append(("evaluee code", c.text(c.evaluee(key).name, loc), f"evaluee-{key}", url(link.token)))
    table = Table(title=escape(f"Links of {c.id}"))
    for col in ("kind", "for", "link") + (("QR code",) if qr else ()):
        table.add_column(col, no_wrap=True)  # links stay whole, to copy them
    table_rows = [("kind", "for", "link", "QR code")]
    for kind, who, name, link_url in rows:
        extra = (str(_qr(qr, name, link_url)),) if qr else ()
        table.add_row(kind, escape(who), link_url, *extra)
        table_rows.append((kind, who, link_url, *extra))
    from rich.cells import cell_len
    from rich.console import Console

    need = sum(max((cell_len(str(x)) for x in col), default=0) + 3 for col in zip(*table_rows, strict=False)) + 2
    Console(width=max(console.width, need)).print(table)
    if closed_without_codes:
        console.print("Closed groups join with single-use codes only; issue them with --codes N: "
                      + escape(", ".join(closed_without_codes)))


def _service_link(s, campaign_id: str, group_key: str, evaluee_key: str):  # noqa: ANN001, ANN202
    """The reusable after-service link of an evaluee, created on first use."""
    import secrets

    from sqlmodel import select

    from storage.models import Link

    link = s.exec(select(Link).where(Link.campaign_id == campaign_id, Link.kind == "service",
                                     Link.evaluee_key == evaluee_key)).first()
    if link is None:
        link = Link(token=secrets.token_urlsafe(16), campaign_id=campaign_id, kind="service",
                    group_key=group_key, evaluee_key=evaluee_key)
        s.add(link)
        s.flush()
    return link


@app.command()
def sample(campaign_id: str = typer.Argument(..., help="Campaign id."),
           commit: bool = typer.Option(False, "--commit", help="Freeze the pools and commit to a secret seed."),
           reveal: bool = typer.Option(False, "--reveal", help="Draw with the committed seed and reveal it."),
           replace: str = typer.Option(None, "--replace", metavar="GROUP",
                                       help="Draw replacements for GROUP's non-responders (next round)."),
           out: Path = typer.Option(None, help="Write the list to publish (pool list / drawn list) as JSON.")) -> None:
    """The verifiable draw: --commit, then --reveal, later --replace GROUP."""
    from storage import draw
    from storage.db import session_scope

    if sum([commit, reveal, replace is not None]) != 1:
        fail("choose exactly one of --commit, --reveal, --replace GROUP")
    eng = engine()
    now = datetime.now(UTC)
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        try:
            if commit:
                result = draw.commit(s, c, now)
                published = draw.pool_file(s, c)
                for g, pool in result.pools.items():
                    console.print(f"[bold]{escape(g)}[/] (sample {result.samples[g]}): pool of {len(pool)}")
                    console.print("  " + " ".join(pool) if pool else "  (empty)")
                console.print(f"pool digest: {result.pool_digest}")
                console.print(f"[bold]commitment[/] (SHA-256 of seed + pool digest): {result.commitment}")
                console.print("Publish the pool list and the commitment now; then run --reveal.")
            elif reveal:
                result = draw.reveal(s, c, now)
                published = draw.drawn_file(s, c)
                for g, chosen in result.drawn.items():
                    console.print(f"[bold]{escape(g)}[/]: drew {len(chosen)}: " + " ".join(chosen))
                for g, size, n in result.short:
                    err.print(f"[yellow]warning:[/] the pool of {escape(g)} ({size}) is smaller than its sample "
                              f"({n}): taken whole")
                console.print(f"[bold]seed[/]: {result.seed}")
                console.print(f"Next: minping invite {c.id}")
            else:
                round_no, chosen = draw.replace(s, c, replace)
                published = draw.drawn_file(s, c)
                console.print(f"{escape(replace)}: round {round_no} drew {len(chosen)} replacement(s): "
                              + " ".join(chosen))
        except draw.DrawError as exc:
            fail(str(exc))
    if out is not None:
        out.write_text(json.dumps(published, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("verify-draw")
def verify_draw(pool_file: Path = typer.Argument(..., help="The pool list published at commit (JSON)."),
                seed: str = typer.Option(..., help="The seed revealed at the draw."),
                commitment: str = typer.Option(..., help="The commitment published before the draw."),
                drawn: Path = typer.Option(None, help="The drawn list published at reveal (JSON), to compare.")) -> None:
    """Recompute the draw from published data only; says MATCH or what differs. Exit 1 on
    a mismatch."""
    from flows import sampling

    def read(path: Path) -> dict:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            fail(f"{path}: cannot read it as JSON ({exc})", 2)
        if not isinstance(data, dict):
            fail(f"{path}: expected a JSON object", 2)
        return data

    pools = read(pool_file)
    if not isinstance(pools.get("groups"), dict):
        fail(f"{pool_file}: no 'groups' (is this the pool list written by minping sample --commit --out?)", 2)
    published = read(drawn).get("drawn") if drawn else None
    if drawn and not isinstance(published, dict):
        fail(f"{drawn}: no 'drawn' (is this the list written by minping sample --reveal --out?)", 2)
    result = sampling.verify(pools, seed.strip(), commitment, published)
    for g, rounds in result.drawn.items():
        console.print(f"{escape(g)}: " + " | ".join(" ".join(r) for r in rounds))
    if result.ok:
        console.print("[green]MATCH[/]: the commitment fits this seed and pool list"
                      + (", and the published draw follows the procedure." if drawn else "."))
        return
    for p in result.problems:
        err.print(f"[red]MISMATCH:[/] {escape(p)}")
    raise typer.Exit(1)


@app.command()
def invite(campaign_id: str = typer.Argument(..., help="Campaign id.")) -> None:
    """Invite every drawn rater not yet invited (through the outbox; `minping run` sends)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.jobs import reminders
    from storage import campaigns, draw
    from storage.db import session_scope

    eng = engine()
    now = datetime.now(UTC)
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        row = campaigns.get_row(s, c.id)
        phase = campaigns.phase(row, now)
        if phase == "closed":
            fail(f"campaign '{c.id}' has closed: no invitations")
        if phase == "upcoming":
            fail(f"campaign '{c.id}' opens at {c.opens:%Y-%m-%d %H:%M}: invite then, or set "
                 "schedule.invite_on_open: true to invite automatically when it opens")
        if not draw.revealed(s, c.id):
            fail(f"campaign '{c.id}' has no draw yet: run minping sample {c.id} --commit, then --reveal")
        todo = reminders.invite_candidates(s, c)
        with Progress(TextColumn("invitations"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("invite", total=len(todo))
            n = 0
            for member, person in todo:
                n += reminders.invite_one(s, c, member, person, now)
                bar.advance(task)
    console.print(f"{n} invitation(s) queued in the outbox; `minping run` sends them.")
