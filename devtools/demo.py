"""``minping demo``: a whole sample campaign on a fresh SQLite file under var/demo/."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devtools.persona import Persona
from bot.service import Service
from flows.campaign import Campaign
from flows.i18n import t
from flows.loader import load_campaign
from reports.progress import progress as progress_figures
from storage import campaigns, links
from storage.db import make_engine, migrate, session_scope

DEMO_DIR = Path("var/demo")
# What `minping record` would enter during the year: deductions and awards (seed 004).
DAILY_RECORDS = [("transport", "deduction", "verified_complaint", "群众投诉经查属实"),
                 ("transport", "deduction", "litigation", "行政诉讼败诉"),
                 ("water", "bonus", "city", "市级表彰"), ("water", "bonus", "province", "省级表彰"),
                 ("finance", "bonus", "county", "县级表彰")]
DEMO_TOKEN = "2026:minping-demo"
# The public draw a real office names with its commitment (a lottery drawn after it);
# the demo's is made up, with a fixed result, so that the demo repeats.
DEMO_BEACON = "演示：中国福利彩票双色球 2026-12-03 开奖号码（虚构） [6+1]"
DEMO_BEACON_VALUE = "03 07 12 19 25 31 + 09"
TIMEOUT = 30.0  # seconds a simulated rater waits for the bot before the demo fails
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "county-2026.yaml"


@dataclass
class DemoResult:
    submitted: int
    abandoned: int
    database: Path
    drawn: int = 0
    not_drawn: int = 0


def open_now(campaign: Campaign, now: datetime) -> Campaign:
    """The example's dates lie ahead; the demo runs it as if it opened an hour ago."""
    length = campaign.closes - campaign.opens
    opens = now - timedelta(hours=1)
    return campaign.model_copy(update={"opens": opens, "closes": opens + length})


def _weights(campaign: Campaign, raters: int) -> list[float]:
    """How the simulated people spread over the groups (the open public group keeps the
    number of answers up: about a third)."""
    sampled = sum(g.sample or 0 for g in campaign.rater_groups)
    return [g.sample if g.sample and not g.open else max(sampled // 2, 1) for g in campaign.rater_groups]


def with_samples(source: str, campaign: Campaign) -> str:
    """The campaign file's text with each rater group's ``sample:`` set to the campaign's."""
    lines, group = source.splitlines(keepends=True), None
    samples = {g.key: g.sample for g in campaign.rater_groups if g.sample}
    for i, line in enumerate(lines):
        if m := re.match(r"\s*- key:\s*(\S+)", line):
            group = m.group(1)
        elif (m := re.match(r"(\s*sample:\s*)\d+", line)) and group in samples:
            lines[i] = re.sub(r"(\s*sample:\s*)\d+", rf"\g<1>{samples[group]}", line, count=1)
    return "".join(lines)


def scaled_samples(campaign: Campaign, raters: int) -> Campaign:
    """The example's sample sizes are for a county (400, 60, 100); the demo enrols a few
    hundred people, so each group draws about 70% of its expected pool."""
    w = _weights(campaign, raters)
    groups = []
    for g, wi in zip(campaign.rater_groups, w, strict=True):
        if g.sample and not g.open:
            g = g.model_copy(update={"sample": max(1, round(0.7 * raters * wi / sum(w)))})
        groups.append(g)
    return campaign.model_copy(update={"rater_groups": groups})


def prepare(directory: Path = DEMO_DIR, example: Path = EXAMPLE, raters: int = 300):
    """A fresh database with the example campaign, open now. Returns the engine, the
    campaign and the enrolment tokens per group: the group link, or for code-only groups
    (unit staff) enough single-use codes, each bound to its unit."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    db = directory / "demo.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    campaign = scaled_samples(open_now(load_campaign(example), datetime.now(UTC)), raters)
    with session_scope(engine) as s:
        # Stored from the model (the demo's dates and sample sizes); the file kept as source
        # says the sample sizes the demo uses (the kit's verifier compares the two).
        campaigns.store_campaign(s, campaign, with_samples(example.read_text(encoding="utf-8"), campaign))
        tokens = {}
        for g in campaign.rater_groups:
            units = campaign.units if g.rates == "own_unit" else [None]
            if g.by_codes:
                per_unit = raters // len(units) + 1
                tokens[g.key] = [c.token for unit in units
                                 for c in links.issue_codes(s, campaign.id, "code", per_unit, group_key=g.key, unit=unit)]
            else:
                tokens[g.key] = [links.group_link(s, campaign.id, g.key, unit).token for unit in units]
    return engine, campaign, tokens, db


# Replies after which a simulated person has nothing to do for now (in the pool, a used
# code, …): recognised by a phrase of each text, in Chinese.
_RESTING = ("抽签名单", "已经冻结", "已经使用过", "不能再加入", "已结束", "将于", "未被抽中", "邀请码")


def _screen_or_rest(thanks: str):  # noqa: ANN202
    return lambda m: bool(m.buttons) or thanks in (m.text or "") or any(w in (m.text or "") for w in _RESTING)


async def walk(u, persona: Persona, screen, thanks: str, latencies: list[float] | None,  # noqa: ANN001
               pause: Callable[[], Awaitable[None]] | None = None) -> str:
    """Tap through the bot's screens like a person (``pause``: awaited before each tap,
    not counted in ``latencies``). Returns submitted | abandoned | resting."""
    wait = _screen_or_rest(thanks)
    while True:
        if not screen.buttons:
            return "submitted" if thanks in (screen.text or "") else "resting"
        decision = persona.decide(screen.text or "", screen.labels)
        if decision.leave:
            return "abandoned"
        if pause is not None:
            await pause()
        began = time.perf_counter()
        if decision.text is not None:
            u.send(decision.text)
        else:
            u.tap(decision.tap, message_id=screen.message_id)
        screen = await u.wait_for_async(wait, TIMEOUT, new=True)
        if latencies is not None:
            latencies.append(time.perf_counter() - began)


async def simulate_in_telegram(server, campaign: Campaign, tokens: dict[str, list[str]], raters: int,  # noqa: ANN001
                               seed: int, concurrency: int = 16, progress=None, task=None,  # noqa: ANN001
                               latencies: list[float] | None = None,
                               waiting: list | None = None) -> tuple[int, int]:
    """Each persona is a Telegram user of the local Bot API server: it opens its group's
    link (staff: a personal code), reads the consent screen, agrees, and answers at once
    where it may (the open group); people of sampled groups are then in the pool and,
    with ``waiting`` given, are listed there as (chat id, persona) for the invitations."""
    rng = random.Random(seed)
    groups = [g.key for g in campaign.rater_groups]
    weights = _weights(campaign, raters)
    codes = {g.key: rng.sample(tokens[g.key], len(tokens[g.key])) for g in campaign.rater_groups if g.by_codes}
    plans = []
    for n in range(raters):
        group = rng.choices(groups, weights)[0]
        token = codes[group].pop() if codes.get(group) else rng.choice(tokens[group])
        plans.append((10_000 + n, random.Random(rng.random()), token))
    thanks = t("q.thanks", "zh")
    gate = asyncio.Semaphore(concurrency)
    tally = {"submitted": 0, "abandoned": 0, "resting": 0}
    # Everyone opens their link one after the other, so that people and memberships get
    # the same ids in every run (the draw's pseudonyms are made from them); then they read,
    # consent and answer concurrently.
    screens = []
    opening = progress.add_task("people open their links (in a fixed order)", total=raters) if progress else None
    for chat_id, _, token in plans:
        u = server.user(chat_id, f"评议人{chat_id}", language_code="zh")
        u.send(f"/start {token}")
        screens.append(await u.wait_for_async(_screen_or_rest(thanks), TIMEOUT, new=True))
        if progress is not None:
            progress.advance(opening)

    async def one(chat_id: int, prng: random.Random, screen) -> None:  # noqa: ANN001
        async with gate:
            persona = Persona(campaign, prng)
            u = server.user(chat_id)
            outcome = await walk(u, persona, screen, thanks, latencies)
            tally[outcome] += 1
            if outcome == "resting" and waiting is not None and "抽签名单" in (u.last().text or ""):
                waiting.append((chat_id, persona))
            if progress is not None:
                progress.advance(task)

    await asyncio.gather(*(one(chat_id, prng, screen) for (chat_id, prng, _), screen in zip(plans, screens, strict=True)))
    return tally["submitted"], tally["abandoned"]


async def answer_invitations(server, waiting: list, concurrency: int = 16, progress=None, task=None  # noqa: ANN001
                             ) -> tuple[int, int, int]:
    """The drawn open their invitation and answer. Returns (submitted, abandoned, not drawn)."""
    thanks = t("q.thanks", "zh")
    start = t("invite.start", "zh")
    gate = asyncio.Semaphore(concurrency)
    tally = {"submitted": 0, "abandoned": 0, "resting": 0, "not drawn": 0}

    async def one(chat_id: int, persona: Persona) -> None:
        async with gate:
            u = server.user(chat_id)
            invitation = next((m for m in u.messages() if start in m.labels), None)
            if invitation is None:
                tally["not drawn"] += 1
            else:
                tally[await walk(u, persona, invitation, thanks, None)] += 1
            if progress is not None:
                progress.advance(task)

    await asyncio.gather(*(one(*w) for w in waiting))
    return tally["submitted"], tally["abandoned"], tally["not drawn"]


def _draw(engine, campaign: Campaign, console: Console, seed: int) -> int:  # noqa: ANN001
    """Commit (naming a public draw), reveal (with its result), verify from the published
    lists, invite: as an organizer would (but with a seed made from ``seed`` and a
    made-up public draw with a fixed result, so that the demo repeats)."""
    from bot.jobs import reminders
    from flows import sampling
    from storage import draw

    now = datetime.now(UTC)
    with session_scope(engine) as s:
        committed = draw.commit(s, campaign, now, fixed=f"minping-demo:{seed}".encode(), beacon=DEMO_BEACON)
        pool_file = draw.pool_file(s, campaign)
    sizes = ", ".join(f"{g} {len(p)}" for g, p in committed.pools.items())
    console.print(f"draw: pools frozen ({sizes}); commitment {committed.commitment[:16]}…, bound to the public "
                  f"draw «{DEMO_BEACON}»")
    with session_scope(engine) as s:
        revealed = draw.reveal(s, campaign, now, beacon_value=DEMO_BEACON_VALUE)
        published = draw.drawn_file(s, campaign)
    drawn = ", ".join(f"{g} {len(p)} of {len(committed.pools[g])}" for g, p in revealed.drawn.items())
    check = sampling.verify(pool_file, revealed.seed, committed.commitment, published["drawn"], DEMO_BEACON_VALUE)
    console.print(f"draw: drew {drawn}; seed {revealed.seed[:16]}…, its result {DEMO_BEACON_VALUE}, draw seed "
                  f"{revealed.draw_seed[:16]}…; "
                  f"verify-draw from the published lists: {'MATCH' if check.ok else 'MISMATCH'}")
    with session_scope(engine) as s:
        return reminders.invite(s, campaign, now)


async def _run_in_telegram(engine, campaign, tokens, raters, seed, framework, limits, progress, console):  # noqa: ANN001
    from devtools.devserver import BotAPIServer
    from bot.runtime import BotRuntime
    from bot.sender import Sender

    with BotAPIServer(token=DEMO_TOKEN, rate_limit=limits) as server:
        async with BotRuntime(Service(engine), framework, DEMO_TOKEN, server.base_url) as runtime:
            waiting: list = []
            task = progress.add_task("consent (the open group answers at once)", total=raters)
            submitted, abandoned = await simulate_in_telegram(server, campaign, tokens, raters, seed,
                                                              progress=progress, task=task, waiting=waiting)
            invited = _draw(engine, campaign, console, seed)
            sender = Sender(engine, runtime.transport, poll_interval=0.05,
                            **({} if limits else {"per_second": 1000.0, "per_chat_interval": 0.0, "burst": 1000.0}))
            began = time.perf_counter()
            stats = await sender.drain()
            console.print(f"invitations: {invited} queued in the outbox, {stats.get('sent', 0)} sent by the sender "
                          f"in {time.perf_counter() - began:.1f} s")
            task = progress.add_task("drawn raters answering", total=len(waiting))
            s2, a2, not_drawn = await answer_invitations(server, waiting, progress=progress, task=task)
            return submitted + s2, abandoned + a2, invited, not_drawn


def run_demo(raters: int = 300, seed: int = 2026, console: Console | None = None,
             framework: str = "aiogram", limits: bool = False) -> DemoResult:
    console = console or Console()
    engine, campaign, tokens, db = prepare(raters=raters)
    console.print(f"[bold]minping demo[/]: {campaign.text(campaign.title, 'zh')} — {raters} simulated people "
                  f"in Telegram ({framework} over HTTP, local Bot API server"
                  f"{', Telegram flood limits on' if limits else ', flood limits off for speed'})")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        submitted, abandoned, drawn, not_drawn = asyncio.run(
            _run_in_telegram(engine, campaign, tokens, raters, seed, framework, limits, progress, console))
    with session_scope(engine) as s:
        console.print(status_table(campaign, progress_figures(s, campaign)))
    console.print(f"{submitted} ballots submitted, {abandoned} raters left midway, {not_drawn} enrolled but not "
                  f"drawn. Database: {db}")
    # Results: close (the tally is sealed until then), rank, verify, charts, html report.
    # First the daily assessment and awards an evaluation office records (minping record).
    from devtools.demo_results import finish
    from storage import tally as score_events

    with session_scope(engine) as s:
        for evaluee, kind, item, note in DAILY_RECORDS:
            score_events.record_event(s, campaign, evaluee, kind, item, recorded_by="demo", note=note)
    console.print("recorded: " + "; ".join(f"{e} {k} {i}" for e, k, i, _ in DAILY_RECORDS))

    finish(engine, campaign.id, console, db.parent)
    engine.dispose()
    return DemoResult(submitted, abandoned, db, drawn, not_drawn)


def status_table(campaign: Campaign, figures) -> Table:  # noqa: ANN001
    """``reports.progress`` figures, as ``minping status`` shows them."""
    from reports.progress import rate_text

    table = Table(title="Progress per rater group (RR1 = drawn raters who submitted ÷ drawn)")
    for col in ("group", "enrolled", "pool", "drawn", "invited", "started", "submitted", "RR1"):
        table.add_column(col, justify="right" if col != "group" else "left")
    for f in figures:
        p = f.raw
        label = campaign.text(campaign.group(p.group).label, "zh")
        if p.open:
            table.add_row(label, str(p.enrolled), "open", "—", "—", str(p.started), str(p.submitted), "—")
        else:
            table.add_row(label, str(p.enrolled), str(p.pool), str(p.drawn), str(p.invited), str(p.started),
                          str(p.drawn_submitted), rate_text(f.rate))
    return table
