"""Enrolment and the draw: ``minping status``, ``sample``, ``verify-draw``, ``invite``
(``links``: bot/cli/links.py)."""

from __future__ import annotations

import getpass
import json
import logging
from pathlib import Path

import typer
from rich.markup import escape

from bot.cli.common import YES, app, confirm, console, engine, err, fail, get_campaign, now, phase_line, require_phase
from bot.settings import get_settings



def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


@app.command()
def status(campaign_id: str = typer.Argument(None, help="Campaign id; all campaigns when omitted.")) -> None:
    """Phase and progress per rater group: pool, drawn, invited, started, submitted, opted
    out, unreachable, response rates RR1/RR2 (progress only: no results)."""
    from bot.cli import quick

    if get_settings().clock:
        engine()  # begins or re-anchors the rehearsal clock, which the quick path reads
    code = quick.status_command(campaign_id)
    if code:
        raise typer.Exit(code)


@app.command()
def sample(campaign_id: str = typer.Argument(..., help="Campaign id."),
           commit: bool = typer.Option(False, "--commit", help="Freeze the pools and commit to a secret seed."),
           reveal: bool = typer.Option(False, "--reveal", help="Draw with the committed seed and reveal it."),
           replace: str = typer.Option(None, "--replace", metavar="GROUP",
                                       help="Draw replacements for GROUP's non-responders (next round)."),
           uncommit: bool = typer.Option(False, "--uncommit",
                                         help="Withdraw the commitment before the reveal (kept on record)."),
           before_opens: bool = typer.Option(False, "--before-opens",
                                             help="Commit although the campaign has not opened yet."),
           reason: str = typer.Option(None, help="Why the commitment is withdrawn (--uncommit)."),
           beacon: str = typer.Option(None, "--beacon", metavar="NAME",
                                      help="--commit: the named, dated public draw (not yet held) whose result will "
                                           "be combined with the seed, e.g. \"中国福利彩票双色球 2026-12-03 开奖号码\"."),
           beacon_shape: str = typer.Option(None, "--beacon-shape", metavar="SHAPE",
                                            help="--commit: how its result is written: 6+1 (six numbers, then one), "
                                                 "1+1+1 (three digits in order), text. Bound by the commitment, so "
                                                 "the result has one spelling at --reveal."),
           no_beacon: bool = typer.Option(False, "--no-beacon",
                                          help="--commit without a public draw (legacy): the seed alone decides the "
                                               "sample, so whoever made it could have chosen it."),
           beacon_value: str = typer.Option(None, "--beacon-value", metavar="VALUE",
                                            help="--reveal: the public draw's result as announced, e.g. "
                                                 "\"03 07 12 19 25 31 + 09\"."),
           out: Path = typer.Option(None, help="Write the list to publish (pool list / drawn list) as JSON."),
           yes: bool = YES) -> None:
    """The verifiable draw: --commit --beacon NAME, then --reveal --beacon-value VALUE,
    later --replace GROUP. --commit and --reveal show what they will do and ask first.
    Own-unit groups are drawn per unit."""
    from flows import sampling
    from storage import draw
    from storage.db import session_scope

    if sum([commit, reveal, replace is not None, uncommit]) != 1:
        fail("choose exactly one of --commit, --reveal, --replace GROUP, --uncommit")
    if (beacon is not None or no_beacon or beacon_shape is not None) and not commit:
        fail("--beacon and --no-beacon go with --commit (the public draw is named when the draw is committed)")
    if beacon_value is not None and not reveal:
        fail("--beacon-value goes with --reveal (the public draw's result is entered when the draw is revealed)")
    if commit:
        if beacon is not None and no_beacon:
            fail("choose one: --beacon NAME (a public draw) or --no-beacon")
        if beacon is None and not no_beacon:
            fail("name the public draw whose result will make the draw, announced with the commitment and held "
                 "after it, e.g. --beacon \"中国福利彩票双色球 2026-12-03 开奖号码\" (then at --reveal: --beacon-value "
                 "\"03 07 12 19 25 31 + 09\"). Without one (--no-beacon) the seed alone decides the sample, so "
                 "whoever makes it could choose it")
        if no_beacon and beacon_shape is not None:
            fail("--beacon-shape goes with --beacon")
        try:
            beacon = draw.check_beacon(beacon)
            if beacon is not None and beacon_shape is None:
                fail("say how the public draw's result will be written, so that it has one spelling at the reveal: "
                     "--beacon-shape 6+1 (e.g. 双色球: six red balls, then the blue one), 1+1+1 (福彩3D: three "
                     "digits in order), or text")
            if beacon is not None:
                beacon = sampling.with_shape(beacon, beacon_shape)
        except (draw.DrawError, ValueError) as exc:
            fail(str(exc))
    eng = engine()
    with session_scope(eng) as s:  # the checks and the preview: nothing held while the organizer decides
        c = get_campaign(s, campaign_id)
        row = draw.get(s, c.id)
        if commit:
            require_phase(s, c, "committing the draw", {"open"} | ({"upcoming"} if before_opens else set()), instead={
                "upcoming": "people may still enrol until it opens, and the pools would be frozen without them. "
                            "Commit after it opens, or, if the enrolment is really complete, pass --before-opens",
                "ended": "the campaign is over: nobody can answer any more",
                "closed": "the campaign is over: nobody can answer any more"})
            if row is not None:
                fail(f"the pool of campaign '{c.id}' is already frozen and committed"
                     + ("" if row.revealed_at else f" (withdraw it first with: minping sample {c.id} --uncommit)"))
            preview = draw.preview(s, c)
        elif reveal:
            require_phase(s, c, "revealing the draw", {"upcoming", "open"}, instead={
                "ended": "the campaign is over: nobody can answer any more"})
            if row is None:
                fail(f"commit the draw first: minping sample {c.id} --commit")
            if row.revealed_at is not None:
                fail(f"the draw of campaign '{c.id}' was already revealed (seed {row.seed})")
            if row.beacon is not None and beacon_value is None:
                fail(f"the draw of campaign '{c.id}' was committed to the public draw «{row.beacon}»: enter its "
                     "result as announced with --beacon-value, e.g. --beacon-value \"03 07 12 19 25 31 + 09\"")
            if row.beacon is None and beacon_value is not None:
                fail(f"the draw of campaign '{c.id}' was committed without a public draw (--no-beacon): its seed "
                     "alone makes the draw; leave out --beacon-value")
            if beacon_value is not None:
                try:
                    beacon_value = draw.check_beacon_value(beacon_value)
                except draw.DrawError as exc:
                    fail(str(exc))
                if (wrong := sampling.shape_problem(row.beacon, beacon_value)) is not None:
                    fail(wrong)
            named = row.beacon
            sizes = draw.counts_by_stratum(s, c.id)
        elif uncommit:
            require_phase(s, c, "withdrawing the draw's commitment", {"upcoming", "open"})
            if row is None:
                fail(f"campaign '{c.id}' has no committed draw to withdraw")
            if row.revealed_at is not None:
                fail(f"the draw of campaign '{c.id}' was revealed (seed {row.seed}): it is final and cannot be withdrawn")
        else:
            require_phase(s, c, "drawing replacements", {"open"})
        from storage import campaigns

        line = phase_line(c, campaigns.get_row(s, c.id))
    if commit or reveal or uncommit:
        console.print(f"campaign [bold]{escape(c.id)}[/] is {escape(line)}.")
    if commit:
        _show_preview(c, preview)
        if beacon is not None:
            console.print(f"The draw will combine the committed seed with the result of [bold]{escape(beacon)}[/]. "
                          "Publish the commitment and that name now, before that draw is held; the sample is then "
                          "known to nobody, the office included, until its result is announced.")
        else:
            err.print("[yellow]warning:[/] --no-beacon: the committed seed alone decides the sample. Whoever made it "
                      "(this server, its operator) could have tried seeds until the sample suited them; nobody "
                      "outside can tell. Name a public draw with --beacon instead.")
        confirm(f"freeze these pools and commit the draw of {c.id}?", yes)
    elif reveal:
        for st in _strata(c):
            n = sizes.get(st.name, 0)
            console.print(f"  {escape(st.name)}: draws {min(n, st.sample)} of a pool of {n}")
        if named is not None:
            kind = sampling.beacon_kind(beacon_value)
            console.print(f"public draw «{escape(named)}»: result as entered {escape(beacon_value)!s} → canonical "
                          f"{escape(sampling.canonical_beacon(beacon_value))} (read as {kind})")
            if kind == "text":
                err.print("[yellow]warning:[/] the value was not read as numbers (a letter or another sign?): "
                          "check it against the announcement; everyone checking the draw must type the same")
        console.print("Revealing publishes the seed and makes the draw final: it can no longer be withdrawn.")
        confirm(f"reveal the draw of {c.id}?", yes)
    elif uncommit:
        console.print(f"Withdrawing commitment {row.commitment} (committed {row.committed_at:%Y-%m-%d %H:%M} UTC): the "
                      "pools are unfrozen; the commitment and its seed stay on record and are published with the next "
                      "pool list, so anyone can recompute the draw that was withdrawn.")
        confirm(f"withdraw the draw's commitment of {c.id}?", yes)
    at = now()
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        try:
            if commit:
                result = draw.commit(s, c, at, beacon=beacon)
                published = draw.pool_file(s, c)
                for g, pool in result.pools.items():
                    console.print(f"[bold]{escape(g)}[/] (sample {result.samples[g]}): pool of {len(pool)}")
                    console.print("  " + " ".join(pool) if pool else "  (empty)")
                console.print(f"pool digest: {result.pool_digest}")
                if beacon is not None:
                    console.print(f"[bold]public draw[/]: {escape(beacon)}")
                    console.print(f"[bold]commitment[/] (SHA-256 of seed + pool digest + public draw): "
                                  f"{result.commitment}")
                    console.print("Publish the pool list, the commitment and the public draw's name now, before "
                                  "that draw is held; once its result is announced run: "
                                  f"minping sample {escape(c.id)} --reveal --beacon-value \"…\"")
                else:
                    console.print(f"[bold]commitment[/] (SHA-256 of seed + pool digest): {result.commitment}")
                    console.print("Publish the pool list and the commitment now; then run --reveal.")
            elif reveal:
                result = draw.reveal(s, c, at, beacon_value)
                published = draw.drawn_file(s, c)
                for g, chosen in result.drawn.items():
                    console.print(f"[bold]{escape(g)}[/]: drew {len(chosen)}: " + " ".join(chosen))
                for g, size, n in result.short:
                    err.print(f"[yellow]warning:[/] the pool of {escape(g)} ({size}) is smaller than its sample "
                              f"({n}): taken whole")
                console.print(f"[bold]seed[/]: {result.seed}")
                if result.draw_seed != result.seed:
                    console.print(f"[bold]draw seed[/] (SHA-256 of seed + canonical public draw result): "
                                  f"{result.draw_seed}")
                console.print(f"Next: minping invite {c.id}")
            elif uncommit:
                gone = draw.uncommit(s, c, at, getpass.getuser(), reason)
                published = None
                logging.getLogger("minping.draw").warning(
                    "draw commitment %s of %s withdrawn by %s (seed %s): %s", gone.commitment, c.id,
                    gone.withdrawn_by, gone.seed, reason or "no reason given")
                console.print(f"[green]withdrawn[/] commitment {gone.commitment}; its seed, now public: {gone.seed}")
                console.print(f"The pools are open again; commit anew with: minping sample {c.id} --commit")
            else:
                published = None
                for name, round_no, chosen in draw.replace(s, c, replace):
                    console.print(f"{escape(name)}: round {round_no} drew {len(chosen)} replacement(s): "
                                  + " ".join(chosen))
                published = draw.drawn_file(s, c)
        except draw.DrawError as exc:
            fail(str(exc))
    if out is not None and published is not None:
        out.write_text(json.dumps(published, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"wrote {out}")


def _strata(c):  # noqa: ANN001, ANN202
    from flows.sampling import strata

    return strata(c)


def _show_preview(c, preview) -> None:  # noqa: ANN001
    """Pool against sample per stratum, with a warning for each pool below its sample."""
    from rich.table import Table

    table = Table(title=escape(f"{c.id}: the pools as they would be frozen now"))
    for col in ("rater group", "unit", "sample", "pool", ""):
        table.add_column(col, justify="right" if col in ("sample", "pool") else "left")
    short = []
    for p in preview:
        st = p.stratum
        note = ""
        if p.pool < st.sample:
            note = "[yellow]pool below sample: all of it is drawn[/]"
            short.append(f"{st.name} ({p.pool} < {st.sample})")
        table.add_row(escape(c.text(c.group(st.group).label, c.default_locale)), escape(st.unit or ""),
                      str(st.sample), str(p.pool), note)
    console.print(table)
    if any(p.stratum.unit for p in preview):
        console.print("Own-unit groups are drawn per unit: the sample is split in equal shares, the remainder "
                      "one each to the first units in the file.")
    if short:
        err.print(f"[yellow]warning:[/] {len(short)} pool(s) smaller than their sample: " + escape(", ".join(short))
                  + ". Once committed, people who enrol later are not in this draw.")


@app.command("verify-draw")
def verify_draw(pool_file: Path = typer.Argument(..., help="The pool list published at commit (JSON)."),
                seed: str = typer.Option(..., help="The seed revealed at the draw."),
                commitment: str = typer.Option(..., help="The commitment published before the draw."),
                drawn: Path = typer.Option(None, help="The drawn list published at reveal (JSON), to compare."),
                beacon_value: str = typer.Option(None, "--beacon-value", metavar="VALUE",
                                                 help="The result of the public draw named in the pool list, as "
                                                      "announced by its organizer (not as copied from drawn.json).")
                ) -> None:
    """Recompute the draw from published data only; says MATCH or what differs. Exit 1 on
    a mismatch. A draw committed to a public draw needs its result (--beacon-value)."""
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
    drawn_file = read(drawn) if drawn else {}
    published = drawn_file.get("drawn") if drawn else None
    if drawn and not isinstance(published, dict):
        fail(f"{drawn}: no 'drawn' (is this the list written by minping sample --reveal --out?)", 2)
    result = sampling.verify(pools, seed.strip(), commitment, published, beacon_value)
    for g, rounds in result.drawn.items():
        console.print(f"{escape(g)}: " + " | ".join(" ".join(r) for r in rounds))
    if result.ok and result.draw_seed != seed.strip():
        console.print(f"draw seed: {result.draw_seed}")
    if result.ok and drawn_file.get("draw_seed") not in (None, result.draw_seed):
        result.ok = False
        result.problems.append(f"the drawn list gives the draw seed {drawn_file['draw_seed']}, recomputed "
                               f"{result.draw_seed}: the seed or the public draw's result differs")
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
    from storage import draw
    from storage.db import session_scope

    eng = engine()
    at = now()
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        require_phase(s, c, "inviting", {"open"}, instead={
            "upcoming": "invite once it opens, or set schedule.invite_on_open: true to invite automatically "
                        "when it opens",
            "ended": "the campaign is over: nobody can answer any more",
            "closed": "the campaign is over: nobody can answer any more"})
        if not draw.revealed(s, c.id):
            fail(f"campaign '{c.id}' has no draw yet: run minping sample {c.id} --commit, then --reveal")
        todo = reminders.invite_candidates(s, c)
        with Progress(TextColumn("invitations"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("invite", total=len(todo))
            n = 0
            for member, person in todo:
                n += reminders.invite_one(s, c, member, person, at)
                bar.advance(task)
    console.print(f"{n} invitation(s) queued in the outbox; `minping run` sends them.")
