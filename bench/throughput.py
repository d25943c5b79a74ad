"""Throughput of the bot over HTTP: simulated raters vs a bare aiogram echo bot.

    .venv/bin/python bench/throughput.py [--raters 500] [--concurrency 50]

Prints questionnaire steps per second with p50/p99 latency (tap -> updated card), then
the same for an aiogram bot that only echoes, against the same local Bot API server, and
our rate as a ratio of the echo bot's. Targets: ratio >= 0.5, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Dispatcher  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bot.demo import prepare, simulate_in_telegram  # noqa: E402
from bot.devserver import BotAPIServer  # noqa: E402
from bot.runtime import BotRuntime  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.telegram.aiogram_app import make_bot  # noqa: E402

TOKEN = "777:bench"


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


async def ours(server: BotAPIServer, raters: int, concurrency: int) -> tuple[float, list[float]]:
    engine, campaign, tokens, _ = prepare(Path("var/bench/throughput"))
    latencies: list[float] = []
    async with BotRuntime(Service(engine), "aiogram", TOKEN, server.base_url):
        began = time.perf_counter()
        await simulate_in_telegram(server, campaign, tokens, raters, 7, concurrency, latencies=latencies)
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies


async def echo(server: BotAPIServer, users: int, steps: int, concurrency: int) -> tuple[float, list[float]]:
    bot = make_bot(TOKEN, server.base_url)
    dp = Dispatcher()

    @dp.message()
    async def _echo(message: Message) -> None:
        await message.answer(message.text or "?")

    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(uid: int) -> None:
        async with gate:
            u = server.user(uid)
            for i in range(steps):
                began = time.perf_counter()
                u.send(f"ping {i}")
                await u.wait_for_async(f"ping {i}", 30, new=True)
                latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(50_000 + n) for n in range(users)))
    elapsed = time.perf_counter() - began
    await dp.stop_polling()
    await task
    await bot.session.close()
    return len(latencies) / elapsed, latencies


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raters", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    with BotAPIServer(token=TOKEN, rate_limit=False) as server:
        rate, lat = await ours(server, args.raters, args.concurrency)
        steps_per_rater = max(1, round(len(lat) / args.raters))
        echo_rate, echo_lat = await echo(server, args.raters, steps_per_rater, args.concurrency)
    ms = 1000
    print(f"minping : {len(lat)} steps, {rate:7.1f} steps/s, p50 {pct(lat, 50) * ms:6.1f} ms, p99 {pct(lat, 99) * ms:6.1f} ms")
    print(f"echo bot: {len(echo_lat)} steps, {echo_rate:7.1f} steps/s, p50 {pct(echo_lat, 50) * ms:6.1f} ms, "
          f"p99 {pct(echo_lat, 99) * ms:6.1f} ms")
    print(f"ratio   : {rate / echo_rate:.2f} (target >= 0.5); p99 target < 50 ms")


if __name__ == "__main__":
    asyncio.run(main())
