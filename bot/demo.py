"""``minping demo``: a whole sample campaign on a fresh SQLite file under var/demo/."""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.persona import Persona
from bot.service import Incoming, Service
from flows.campaign import Campaign
from flows.i18n import t
from flows.loader import load_campaign
from reports.satisfaction import satisfaction_table
from storage import campaigns, links
from storage.db import make_engine, migrate, session_scope
from storage.status import group_progress

DEMO_DIR = Path("var/demo")
DEMO_TOKEN = "2026:minping-demo"
TIMEOUT = 30.0  # seconds a simulated rater waits for the bot before the demo fails
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "county-2026.yaml"


@dataclass
class DemoResult:
    submitted: int
    abandoned: int
    database: Path


def open_now(campaign: Campaign, now: datetime) -> Campaign:
    """The example's dates lie ahead; the demo runs it as if it opened an hour ago."""
    length = campaign.closes - campaign.opens
    opens = now - timedelta(hours=1)
    return campaign.model_copy(update={"opens": opens, "closes": opens + length})


def prepare(directory: Path = DEMO_DIR, example: Path = EXAMPLE):
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    db = directory / "demo.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    campaign = open_now(load_campaign(example), datetime.now(UTC))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, example.read_text(encoding="utf-8"))
        tokens = {}
        for g in campaign.rater_groups:
            units = campaign.units if g.rates == "own_unit" else [None]
            tokens[g.key] = [links.group_link(s, campaign.id, g.key, unit).token for unit in units]
    return engine, campaign, tokens, db


def simulate(service: Service, campaign: Campaign, tokens: dict[str, list[str]], raters: int,
             seed: int, progress=None, task=None) -> tuple[int, int]:  # noqa: ANN001
    """Walk ``raters`` personas through the bot service, exactly as the chat would."""
    rng = random.Random(seed)
    groups = [g.key for g in campaign.rater_groups]
    weights = [max(g.sample or raters // 5, 1) for g in campaign.rater_groups]
    submitted = abandoned = 0
    update_id = 0
    for n in range(raters):
        chat_id = 10_000 + n
        persona = Persona(campaign, random.Random(rng.random()))
        token = rng.choice(tokens[rng.choices(groups, weights)[0]])
        update_id += 1
        reply = service.handle(Incoming(chat_id, "start", update_id, text=token))
        screen = reply.messages[-1]
        while True:
            labels = [b.label for b in screen.all_buttons()]
            decision = persona.decide(screen.text, labels)
            update_id += 1
            if decision.leave:
                abandoned += 1
                break
            if decision.text is not None:
                reply = service.handle(Incoming(chat_id, "text", update_id, text=decision.text))
            else:
                action = next(b.action for b in screen.all_buttons() if b.label == decision.tap)
                reply = service.handle(Incoming(chat_id, "tap", update_id, data=action))
            if reply.submitted:
                submitted += 1
                break
            with_buttons = [m for m in reply.messages if m.buttons]
            if not with_buttons:
                abandoned += 1
                break
            screen = with_buttons[-1]
        if progress is not None:
            progress.advance(task)
    return submitted, abandoned


async def simulate_in_telegram(server, campaign: Campaign, tokens: dict[str, list[str]], raters: int,  # noqa: ANN001
                               seed: int, concurrency: int = 16, progress=None, task=None,  # noqa: ANN001
                               latencies: list[float] | None = None) -> tuple[int, int]:
    """Like ``simulate``, but each persona is a Telegram user of the local Bot API server:
    it reads the cards the bot sent and taps their buttons over HTTP."""
    rng = random.Random(seed)
    groups = [g.key for g in campaign.rater_groups]
    weights = [max(g.sample or raters // 5, 1) for g in campaign.rater_groups]
    plans = [(10_000 + n, random.Random(rng.random()), rng.choice(tokens[rng.choices(groups, weights)[0]]))
             for n in range(raters)]
    thanks = t("q.thanks", "zh")
    gate = asyncio.Semaphore(concurrency)
    tally = {"submitted": 0, "abandoned": 0}

    def screen_or_thanks(m) -> bool:  # noqa: ANN001
        return bool(m.buttons) or thanks in (m.text or "")

    async def one(chat_id: int, prng: random.Random, token: str) -> None:
        async with gate:
            persona = Persona(campaign, prng)
            u = server.user(chat_id, f"评议人{chat_id}", language_code="zh")
            u.send(f"/start {token}")
            screen = await u.wait_for_async(lambda m: bool(m.buttons), TIMEOUT, new=True)
            while True:
                decision = persona.decide(screen.text or "", screen.labels)
                if decision.leave:
                    tally["abandoned"] += 1
                    break
                began = time.perf_counter()
                if decision.text is not None:
                    u.send(decision.text)
                else:
                    u.tap(decision.tap, message_id=screen.message_id)
                screen = await u.wait_for_async(screen_or_thanks, TIMEOUT, new=True)
                if latencies is not None:
                    latencies.append(time.perf_counter() - began)
                if not screen.buttons:
                    tally["submitted"] += 1
                    break
            if progress is not None:
                progress.advance(task)

    await asyncio.gather(*(one(*plan) for plan in plans))
    return tally["submitted"], tally["abandoned"]


async def _run_in_telegram(engine, campaign, tokens, raters, seed, framework, limits, progress, task):  # noqa: ANN001
    from bot.devserver import BotAPIServer
    from bot.runtime import BotRuntime

    with BotAPIServer(token=DEMO_TOKEN, rate_limit=limits) as server:
        async with BotRuntime(Service(engine), framework, DEMO_TOKEN, server.base_url):
            return await simulate_in_telegram(server, campaign, tokens, raters, seed, progress=progress, task=task)


def run_demo(raters: int = 300, seed: int = 2026, console: Console | None = None,
             framework: str = "aiogram", limits: bool = False) -> DemoResult:
    console = console or Console()
    engine, campaign, tokens, db = prepare()
    console.print(f"[bold]minping demo[/]: {campaign.text(campaign.title, 'zh')} — {raters} simulated raters "
                  f"in Telegram ({framework} over HTTP, local Bot API server"
                  f"{', Telegram flood limits on' if limits else ', flood limits off for speed'})")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("raters answering", total=raters)
        submitted, abandoned = asyncio.run(
            _run_in_telegram(engine, campaign, tokens, raters, seed, framework, limits, progress, task))
    with session_scope(engine) as s:
        console.print(status_table(campaign, group_progress(s, campaign)))
        console.print(satisfaction_view(campaign, satisfaction_table(s, campaign)))
    console.print(f"{submitted} ballots submitted, {abandoned} raters left midway. Database: {db}")
    engine.dispose()
    return DemoResult(submitted, abandoned, db)


def status_table(campaign: Campaign, progress) -> Table:  # noqa: ANN001
    table = Table(title="Progress per rater group")
    for col in ("group", "enrolled", "started", "submitted", "opted out"):
        table.add_column(col, justify="right" if col != "group" else "left")
    for p in progress:
        label = campaign.text(campaign.group(p.group).label, "zh")
        table.add_row(label, str(p.enrolled), str(p.started), str(p.submitted), str(p.opted_out))
    return table


def satisfaction_view(campaign: Campaign, cells) -> Table:  # noqa: ANN001
    table = Table(title="Satisfaction rate per evaluee and dimension (valid answers; 不了解 excluded)")
    table.add_column("evaluee")
    for d in campaign.dimensions:
        table.add_column(campaign.text(d.label, "zh"), justify="right")
    for e in campaign.evaluees:
        row = [campaign.text(e.name, "zh")]
        for d in campaign.dimensions:
            cell = cells[(e.key, d.key)]
            row.append(f"{cell.rate:.1%} (n={cell.valid})" if cell.rate is not None else "— (n=0)")
        table.add_row(*row)
    return table
