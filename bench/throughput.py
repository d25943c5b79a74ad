"""Throughput of the bot over HTTP: simulated raters vs a bare aiogram echo bot.

    .venv/bin/python bench/throughput.py [--raters 500] [--concurrency 50] [--think 2.0] [--rounds 2]

Three runs against one local Bot API server (no flood limits), after a short warm-up of
both bots (the first calls of aiogram build its pydantic models: seconds, once):

1. saturation: ``--concurrency`` raters at a time tap as fast as the bot answers; prints
   questionnaire steps per second with p50/p99 latency (tap -> updated card), the best of
   ``--rounds`` runs (new raters each time, making the same choices);
2. the same for an aiogram bot that only echoes, same number of steps, best of as many
   runs; prints our rate as a ratio of the echo bot's (target >= 0.8);
3. paced: all ``--raters`` raters, arriving over 20 s, each pausing a random ``--think``
   seconds (mean) before each tap, as people do; prints p50/p99 latency at that load
   (target p99 < 50 ms).
4. with ``--digests``: the paced run again while digests fire every ``DIGEST_EVERY``
   seconds for 3 campaigns × 10 organizers (30 requests, three digests to draw: the
   worker builds one per campaign and time), drawn by the digest worker process the bot
   starts, as ``minping run`` does; prints p99 with and without.

Every group of the example is opened (no draw), so every rater can answer at once.
The measuring side must not add latency of its own: the local server and the simulated
people share this process's event loop (with the server on a thread of its own, GIL
hand-offs of up to 5 ms showed up as bot latency and capped the echo bot's rate), and
this process's garbage collector is off during measured runs (its full collections over
the server's growing record of messages stalled everything here for 200+ ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Dispatcher  # noqa: E402
from aiogram.types import Message  # noqa: E402

from devtools.demo import prepare, walk  # noqa: E402
from devtools.devserver import BotAPIServer  # noqa: E402
from devtools.persona import Persona  # noqa: E402
from bot.runtime import BotRuntime  # noqa: E402
from bot.service import Service  # noqa: E402
from flows.i18n import t  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.db import session_scope  # noqa: E402

TOKEN = "777:bench"
TIMEOUT = 60.0
RAMP = 20.0  # seconds over which the paced run's raters arrive
DIGEST_EVERY = 5.0  # seconds between digest firings in the --digests run


@contextlib.contextmanager
def harness_gc_off():
    """No collector pauses in this (the measuring) process during a measured run."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def open_campaign(directory: Path, raters: int):  # noqa: ANN201
    """The demo's campaign with every rater group open (nobody waits for a draw)."""
    engine, campaign, tokens, _ = prepare(directory, raters=raters)
    groups = [g.model_copy(update={"open": True, "sample": None}) for g in campaign.rater_groups]
    campaign = campaign.model_copy(update={"rater_groups": groups})
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
    return engine, campaign, tokens


async def raters_walk(server: BotAPIServer, campaign, tokens, raters: int, concurrency: int,  # noqa: ANN001
                      think: float, seed: int, first_chat: int) -> list[float]:
    """Each rater opens a link, consents and answers like a person; returns the latency
    of every step (action -> the bot's next screen)."""
    rng = random.Random(seed)
    thanks = t("q.thanks", "zh")
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    keys = [k for k in tokens if tokens[k]]

    def screen(m) -> bool:  # noqa: ANN001
        return bool(m.buttons) or thanks in (m.text or "")

    async def one(n: int, prng: random.Random, token: str) -> None:
        async with gate:
            persona = Persona(campaign, prng)
            if think:  # people arrive over a while, not all in the same instant
                await asyncio.sleep(prng.uniform(0, RAMP))
            u = server.user(first_chat + n, language_code="zh")
            u.send(f"/start {token}")
            first = await u.wait_for_async(screen, TIMEOUT, new=True)
            pause = (lambda: asyncio.sleep(prng.expovariate(1 / think))) if think else None
            await walk(u, persona, first, thanks, latencies, pause)

    plans = []
    for n in range(raters):
        group = rng.choice(keys)
        plans.append((n, random.Random(rng.random()), tokens[group].pop() if len(tokens[group]) > 1
                      else tokens[group][0]))
    await asyncio.gather(*(one(*p) for p in plans))
    return latencies


async def fire_digests(engine, campaign_id: str, stop: asyncio.Event) -> None:  # noqa: ANN001
    """Every DIGEST_EVERY s: 3 campaigns × 10 organizers ask for a digest (one campaign
    stored here, so three distinct times stand for three campaigns: three builds)."""
    from datetime import UTC, datetime, timedelta

    from storage import digest_requests

    n = 0
    while not stop.is_set():
        n += 1
        now = datetime.now(UTC)

        def write(n=n, now=now) -> None:  # noqa: ANN001
            with session_scope(engine) as s:
                for c in range(3):
                    for o in range(10):
                        digest_requests.request(s, campaign_id, 990_000 + o, "zh", now + timedelta(seconds=c),
                                                f"bench:{n}:{c}:{o}")

        await asyncio.get_running_loop().run_in_executor(None, write)
        try:
            await asyncio.wait_for(stop.wait(), DIGEST_EVERY)
        except asyncio.TimeoutError:
            pass


def serve_bot(kind: str, api_base: str, db_url: str | None, digests: bool = False):  # noqa: ANN201
    """The bot under test, in its own process (as in production, where Telegram is
    another machine): runs until its stdin closes."""
    from bot.logs import setup

    setup(level="WARNING")

    async def run() -> None:
        if kind == "ours":
            from storage.db import make_engine

            from bot.digest_worker import DigestWorker
            from bot.sender import Sender

            engine = make_engine(db_url)
            runtime = BotRuntime(Service(engine), "aiogram", TOKEN, api_base)
            await runtime.start()
            stop = asyncio.Event()
            # as minping run: the outbox sender and the digest worker launcher
            extra = [asyncio.create_task(Sender(engine, runtime.transport).run(stop)),
                     asyncio.create_task(DigestWorker(engine).run(stop))]
            if digests:
                with session_scope(engine) as s:
                    cid = campaigns.list_campaigns(s)[0].id
                extra.append(asyncio.create_task(fire_digests(engine, cid, stop)))
        else:
            # A bare aiogram bot: aiogram's own session, none of our adapter's changes.
            from aiogram import Bot
            from aiogram.client.session.aiohttp import AiohttpSession
            from aiogram.client.telegram import TelegramAPIServer

            assert "bot.telegram.aiogram_app" not in sys.modules
            bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
            dp = Dispatcher()

            @dp.message()
            async def _echo(message: Message) -> None:
                await message.answer(message.text or "?")

            task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench is done
        if kind == "ours":
            stop.set()
            await asyncio.gather(*extra, return_exceptions=True)
            await runtime.stop()
        else:
            await dp.stop_polling()
            await task
            await bot.session.close()

    return run()


class BotProcess:
    def __init__(self, server: BotAPIServer, kind: str, db_url: str | None = None, digests: bool = False) -> None:
        self.server, self.kind, self.db_url, self.digests = server, kind, db_url, digests

    async def __aenter__(self) -> BotProcess:
        import subprocess

        before = len(self.server.calls_of("getUpdates"))
        args = [sys.executable, __file__, "--serve", self.kind, "--api", self.server.base_url]
        args += ["--db", self.db_url] if self.db_url else []
        self.proc = subprocess.Popen(args + (["--digests"] if self.digests else []), stdin=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(self.server.calls_of("getUpdates")) == before:  # polling: it is up
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"the {self.kind} bot did not start")
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.proc.stdin.close()
        await asyncio.get_running_loop().run_in_executor(None, self.proc.wait, 30)


Run = tuple[float, list[float]]  # (steps per second, latencies) of one saturation run


async def ours(server: BotAPIServer, directory: Path, raters: int, concurrency: int,
               think: float, rounds: int, digests: bool = False) -> tuple[list[Run], list[float], list[float]]:
    """``rounds`` saturation runs (new raters each, same decisions), then the paced run,
    one bot process; with ``digests`` the paced run again in a process firing digests."""
    engine, campaign, tokens = open_campaign(directory, (rounds + 2) * raters + 20)
    engine.dispose()
    runs = []
    async with BotProcess(server, "ours", f"sqlite:///{directory / 'demo.db'}"):
        await raters_walk(server, campaign, tokens, 10, 10, 0, 1, 900_000)  # warm-up
        for r in range(rounds):
            with harness_gc_off():
                began = time.perf_counter()
                lat = await raters_walk(server, campaign, tokens, raters, concurrency, 0, 7, 10_000 + r * 100_000)
                runs.append((len(lat) / (time.perf_counter() - began), lat))
        with harness_gc_off():
            paced = await raters_walk(server, campaign, tokens, raters, raters, think, 8, 500_000)
    firing: list[float] = []
    if digests:
        for o in range(10):  # the organizers exist: their digests are really delivered
            server.user(990_000 + o, language_code="zh")
        async with BotProcess(server, "ours", f"sqlite:///{directory / 'demo.db'}", digests=True):
            await raters_walk(server, campaign, tokens, 10, 10, 0, 1, 910_000)  # warm-up
            with harness_gc_off():
                firing = await raters_walk(server, campaign, tokens, raters, raters, think, 8, 700_000)
    return runs, paced, firing


async def echo(server: BotAPIServer, users: int, steps: int, concurrency: int, rounds: int) -> list[Run]:
    gate = asyncio.Semaphore(concurrency)

    async def one(uid: int, steps: int, latencies: list[float] | None) -> None:
        async with gate:
            u = server.user(uid)
            for i in range(steps):
                began = time.perf_counter()
                u.send(f"ping {i}")
                await u.wait_for_async(f"ping {i}", TIMEOUT, new=True)
                if latencies is not None:
                    latencies.append(time.perf_counter() - began)

    runs = []
    async with BotProcess(server, "echo"):
        await asyncio.gather(*(one(950_000 + n, 5, None) for n in range(10)))  # warm-up
        for r in range(rounds):
            latencies: list[float] = []
            with harness_gc_off():
                began = time.perf_counter()
                await asyncio.gather(*(one(50_000 + r * 100_000 + n, steps, latencies) for n in range(users)))
                runs.append((len(latencies) / (time.perf_counter() - began), latencies))
    return runs


def line(name: str, lat: list[float], rate: float | None = None) -> str:
    ms = 1000
    r = f"{rate:7.1f} steps/s, " if rate is not None else ""
    return f"{name}: {len(lat):6d} steps, {r}p50 {pct(lat, 50) * ms:6.1f} ms, p99 {pct(lat, 99) * ms:6.1f} ms"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raters", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=50, help="raters at a time in the saturation run")
    ap.add_argument("--think", type=float, default=2.0, help="mean pause before each tap in the paced run (s)")
    ap.add_argument("--rounds", type=int, default=2, help="saturation runs of each bot; the best counts")
    ap.add_argument("--digests", action="store_true", help="also the paced run while digests fire")
    ap.add_argument("--serve", choices=["ours", "echo"], help=argparse.SUPPRESS)
    ap.add_argument("--api", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        await serve_bot(args.serve, args.api, args.db, args.digests)
        return
    work = Path("var/bench/throughput")
    async with BotAPIServer(token=TOKEN, rate_limit=False) as server:
        runs, paced, firing = await ours(server, work, args.raters, args.concurrency, args.think, args.rounds,
                                         args.digests)
        steps_per_rater = max(1, round(len(runs[0][1]) / args.raters))
        echo_runs = await echo(server, args.raters, steps_per_rater, args.concurrency, args.rounds)
    print(f"saturation, {args.concurrency} raters at a time, best of {args.rounds} runs each "
          "(noise on a shared machine only ever slows a run down):")
    rate, lat = max(runs, key=lambda r: r[0])
    echo_rate, echo_lat = max(echo_runs, key=lambda r: r[0])
    print("  " + line("minping ", lat, rate) + f"  (runs: {', '.join(f'{r:.0f}' for r, _ in runs)})")
    print("  " + line("echo bot", echo_lat, echo_rate) + f"  (runs: {', '.join(f'{r:.0f}' for r, _ in echo_runs)})")
    print(f"  ratio   : {rate / echo_rate:.2f} (target >= 0.8)")
    offered = args.raters / (args.think + 0.001)
    print(f"paced, {args.raters} raters arriving over {RAMP:g} s, {args.think:g} s mean think time "
          f"(≈{offered:.0f} taps/s offered):")
    print("  " + line("minping ", paced) + " (target p99 < 50 ms)")
    if firing:
        print(f"  while digests fire every {DIGEST_EVERY:g} s for 3 campaigns x 10 organizers:")
        print("  " + line("minping ", firing) + " (target p99 < 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
