"""Memory and start-up of ``minping run`` next to a bare echo bot of the same framework.

    .venv/bin/python bench/memory.py [--frameworks aiogram,ptb] [--conversations 1000,10000] [--flood 3000]

For each framework, in the same run against one local Bot API server (no flood limits):

* **start-up**: from spawning the process to its answer to a message that waits for it;
  ``--startups`` times each, alternating (echo, minping, echo, …), the median counts (a
  single start-up varies by a second on a busy machine);
* **RSS idle**: ``VmRSS`` from ``/proc/PID/status`` 3 s after start-up;
* **RSS at N conversations**: after N new people each opened the group link and consented
  (their questionnaire is in progress: a conversation stored, the first card shown) —
  for the echo bot, N new people each sent one message and got its echo;
* **stop** (minping): SIGTERM after all that, seconds to exit and the exit code;
* **flood** (minping only): one person sends ``--flood`` messages at once; RSS right
  after the bot has confirmed them all and 5 s later (it must come back down).

``minping run`` is the real command (bot, outbox sender, scheduler, digest worker
launcher, SQLite); the echo bots are the frameworks' own polling with one handler.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN = "778:memory"
TIMEOUT = 60.0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def serve_echo(framework: str, api_base: str) -> None:
    """A bare echo bot: the framework's polling and one handler, nothing else."""
    if framework == "aiogram":
        from aiogram import Bot, Dispatcher
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
        from aiogram.types import Message

        async def run() -> None:
            bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
            dp = Dispatcher()

            @dp.message()
            async def _echo(message: Message) -> None:
                await message.answer(message.text or "?")

            await dp.start_polling(bot, handle_signals=True, polling_timeout=5)

        asyncio.run(run())
    else:
        from telegram.ext import Application, MessageHandler, filters

        async def _echo(update, context) -> None:  # noqa: ANN001
            await update.message.reply_text(update.message.text or "?")

        app = (Application.builder().token(TOKEN).base_url(f"{api_base}/bot")
               .base_file_url(f"{api_base}/file/bot").get_updates_read_timeout(15).build())
        app.add_handler(MessageHandler(filters.ALL, _echo))
        app.run_polling(poll_interval=0, timeout=5)


_first = iter(range(900_000, 901_000))


class Proc:
    """A bot process; ``start`` returns the seconds from spawn to its first answer: a
    person's message waits for it, and a long poll returns at once with it. (The server
    records a call when it is answered, so "the first getUpdates" would count the poll's
    timeout, which differs between bots: 10 s ours, 5 s the echo bots'.)"""

    def __init__(self, server, args: list[str], env: dict[str, str] | None = None) -> None:  # noqa: ANN001
        self.server, self.args, self.env = server, args, env

    async def start(self) -> float:
        person = self.server.user(next(_first), "First", language_code="zh")
        person.send("hello")
        began = time.perf_counter()
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        while not person.messages():
            if self.proc.poll() is not None or time.perf_counter() - began > 120:
                raise RuntimeError(f"{self.args} did not start")
            await asyncio.sleep(0.01)
        return time.perf_counter() - began

    def stop(self) -> tuple[float, int | None]:
        """SIGTERM; (seconds to exit, exit code), code None if it had to be killed after 15 s."""
        began = time.perf_counter()
        self.proc.terminate()
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        return time.perf_counter() - began, code


async def crowd(n: int, first: int, one, concurrency: int = 100) -> None:  # noqa: ANN001
    gate = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with gate:
            await one(first + i)

    await asyncio.gather(*(guarded(i) for i in range(n)))


def campaign_db(directory: Path) -> tuple[str, str]:
    """The demo's campaign, open now, its public group's link: (database URL, token)."""
    from devtools.demo import prepare
    from storage import campaigns, links
    from storage.db import session_scope

    engine, campaign, _, db = prepare(directory, raters=50)
    group = next(g for g in campaign.rater_groups if g.open)
    with session_scope(engine) as s:
        token = links.group_link(s, campaign.id, group.key).token
        assert campaigns.get_row(s, campaign.id) is not None
    engine.dispose()
    return f"sqlite:///{db}", token


async def startups(framework: str, times: int, work: Path) -> tuple[list[float], list[float]]:
    """Start-up seconds of the echo bot and of ``minping run``, ``times`` each, alternating;
    each process is stopped right after its first answer."""
    from devtools.devserver import BotAPIServer

    echo_s: list[float] = []
    ours_s: list[float] = []
    for n in range(times):
        # A database of its own each time: each server numbers its updates from 1, and
        # minping would take a second update 1 for Telegram's repeat of the first.
        url, _ = campaign_db(work / f"{framework}-startup-{n}")
        for which, into in (("echo", echo_s), ("minping", ours_s)):
            server = await BotAPIServer(token=TOKEN, rate_limit=False).__aenter__()
            if which == "echo":
                proc = Proc(server, [sys.executable, __file__, "--serve-echo", framework, "--api", server.base_url])
            else:
                proc = Proc(server, [str(Path(sys.executable).with_name("minping")), "run"],
                            minping_env(url, server.base_url, framework))
            into.append(await proc.start())
            await asyncio.to_thread(proc.stop)  # the server answers the bot's last calls meanwhile
            await server.__aexit__(None, None, None)
    return echo_s, ours_s


def minping_env(url: str, api_base: str, framework: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": api_base,
            "BOT_FRAMEWORK": framework, "MINPING_LOG_LEVEL": "WARNING"}


async def measure(framework: str, sizes: list[int], flood: int, work: Path, times: int = 3) -> dict:
    """Each bot gets a server of its own: its first getUpdates is its own."""
    from devtools.devserver import BotAPIServer

    out: dict[str, dict] = {}
    echo_s, ours_s = await startups(framework, times, work)
    server = await BotAPIServer(token=TOKEN, rate_limit=False).__aenter__()
    # The bare echo bot.
    echo = Proc(server, [sys.executable, __file__, "--serve-echo", framework, "--api", server.base_url])
    await echo.start()
    out["echo"] = {"startup": echo_s}
    await asyncio.sleep(3)
    out["echo"]["idle"] = rss_mb(echo.proc.pid)
    done = 0
    base = 1_000_000 if framework == "aiogram" else 2_000_000

    async def ping(uid: int) -> None:
        u = server.user(uid)
        u.send("ping")
        await u.wait_for_async("ping", TIMEOUT, new=True)

    for n in sizes:
        await crowd(n - done, base + done, ping)
        done = n
        await asyncio.sleep(1)
        out["echo"][n] = rss_mb(echo.proc.pid)
    await asyncio.to_thread(echo.stop)
    await server.__aexit__(None, None, None)

    # minping run, the real command.
    server = await BotAPIServer(token=TOKEN, rate_limit=False).__aenter__()
    url, token = campaign_db(work / framework)
    minping = Path(sys.executable).with_name("minping")
    ours = Proc(server, [str(minping), "run"], minping_env(url, server.base_url, framework))
    await ours.start()
    out["minping"] = {"startup": ours_s}
    await asyncio.sleep(3)
    out["minping"]["idle"] = rss_mb(ours.proc.pid)
    consent = "同意参加"
    base += 500_000
    done = 0

    async def enrol(uid: int) -> None:
        u = server.user(uid, language_code="zh")
        u.send(f"/start {token}")
        await u.wait_for_async(lambda m: consent in m.labels, TIMEOUT, new=True)
        u.tap(consent)
        await u.wait_for_async(lambda m: bool(m.buttons) and consent not in m.labels, TIMEOUT, new=True)

    for n in sizes:
        began = time.perf_counter()
        await crowd(n - done, base + done, enrol)
        print(f"  ({framework}: {n - done} people enrolled in {time.perf_counter() - began:.0f} s)", flush=True)
        done = n
        await asyncio.sleep(1)
        out["minping"][n] = rss_mb(ours.proc.pid)
    if flood:
        u = server.user(base - 1, language_code="zh")
        for i in range(flood):
            u.send(f"spam {i}")
        began = time.perf_counter()
        while server.state.queue:
            await asyncio.sleep(0.05)
        out["minping"]["flood_s"] = time.perf_counter() - began
        out["minping"]["flood_after"] = rss_mb(ours.proc.pid)
        await asyncio.sleep(5)
        out["minping"]["flood_later"] = rss_mb(ours.proc.pid)
    out["minping"]["stop"] = await asyncio.to_thread(ours.stop)
    await server.__aexit__(None, None, None)
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frameworks", default="aiogram,ptb")
    ap.add_argument("--conversations", default="1000,10000")
    ap.add_argument("--flood", type=int, default=3000)
    ap.add_argument("--startups", type=lambda v: max(1, int(v)), default=3,
                    help="start-ups of each bot (at least 1); the median counts")
    ap.add_argument("--serve-echo", choices=["aiogram", "ptb"], help=argparse.SUPPRESS)
    ap.add_argument("--api", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = [int(x) for x in args.conversations.split(",")]
    work = Path("var/bench/memory")
    results = {}
    for fw in args.frameworks.split(","):
        results[fw] = await measure(fw, sizes, args.flood, work, args.startups)
    for fw, r in results.items():
        e, m = r["echo"], r["minping"]
        print(f"{fw}:")
        ours_s, echo_s = statistics.median(m["startup"]), statistics.median(e["startup"])
        print(f"  start-up (spawn -> first answer), median of {len(m['startup'])}: minping {ours_s:.2f} s, "
              f"echo {echo_s:.2f} s, difference {ours_s - echo_s:+.2f} s (target <= +1 s)")
        print(f"    each: minping {', '.join(f'{x:.2f}' for x in m['startup'])}; "
              f"echo {', '.join(f'{x:.2f}' for x in e['startup'])}")
        print(f"  RSS idle: minping {m['idle']:.0f} MB, echo {e['idle']:.0f} MB, "
              f"difference {m['idle'] - e['idle']:+.0f} MB (target <= +40 MB)")
        for n in sizes:
            print(f"  RSS at {n:,} conversations: minping {m[n]:.0f} MB, echo {e[n]:.0f} MB, "
                  f"difference {m[n] - e[n]:+.0f} MB" + (" (target <= +50 MB)" if n == sizes[-1] else ""))
        took, code = m["stop"]
        print(f"  SIGTERM at {sizes[-1]:,} conversations: exited in {took:.1f} s with code "
              f"{'(killed after 15 s)' if code is None else code}")
        if "flood_s" in m:
            print(f"  flood of {args.flood:,} messages from one person: confirmed in {m['flood_s']:.1f} s; "
                  f"RSS {m[sizes[-1]]:.0f} MB before, {m['flood_after']:.0f} MB after, "
                  f"{m['flood_later']:.0f} MB 5 s later")


if __name__ == "__main__":
    if "--serve-echo" in sys.argv:  # the echo bot's own process (outside any event loop)
        serve_echo(sys.argv[sys.argv.index("--serve-echo") + 1], sys.argv[sys.argv.index("--api") + 1])
    else:
        asyncio.run(main())
