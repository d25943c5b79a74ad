"""Outbox throughput against the local Bot API server with Telegram's default limits.

    python bench/outbox.py [--messages 5000] [--chats 500] [--kill N]

Enqueues N messages round-robin over the chats in a fresh SQLite database under
var/bench/, drains them with the Sender and the aiogram transport, and prints the
achieved rate against the server's limit (target ≥ 0.95), messages lost and duplicated
(both must be 0), the 429s the server had to answer, and the total time.

``--kill N``: the sender runs in a child process, is killed with SIGKILL N times at
random moments of the drain and started again; a last sender drains what is left once
the interrupted rows' lease has passed. Printed per crash: the rows that were in flight
(``sending``: their one HTTP call may or may not have reached Telegram) and, at the end,
messages lost (must be 0) and sent twice (at most the rows in flight at the crashes).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.devserver import BotAPIServer, RateLimitConfig  # noqa: E402
from bot.sender import Sender  # noqa: E402
from bot.telegram.aiogram_app import AiogramTransport, make_bot  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402

FIRST_CHAT = 10_000


async def drain(srv: BotAPIServer, engine, per_second: float) -> tuple[dict, float]:
    bot = make_bot(srv.token, srv.base_url)
    try:
        sender = Sender(engine, AiogramTransport(bot), per_second=per_second)
        t0 = time.perf_counter()
        stats = await sender.drain()
        return stats, time.perf_counter() - t0
    finally:
        await bot.session.close()


LEASE = 3.0  # seconds before a killed sender's in-flight rows are taken back (--kill)


def worker(db: str, base_url: str, token: str, per_second: float) -> None:
    """The child process of --kill: one sender draining the outbox until killed."""
    engine = make_engine(f"sqlite:///{db}")

    async def run() -> None:
        bot = make_bot(token, base_url)
        try:
            await Sender(engine, AiogramTransport(bot), per_second=per_second, lease_seconds=LEASE).drain()
        finally:
            await bot.session.close()

    asyncio.run(run())


def killing(srv: BotAPIServer, engine, args) -> tuple[list[int], float]:  # noqa: ANN001
    """Drain with a sender process killed ``args.kill`` times; the rows in flight at each
    kill, and the time taken."""
    import random
    import signal
    import subprocess

    from sqlmodel import func, select

    from storage.models import Outbox

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, __file__, "--worker", "--db", args.db, "--api", srv.base_url,
                                 "--token", srv.token, "--per-second", str(args.per_second)])

    rnd = random.Random(args.seed)
    t0 = time.perf_counter()
    in_flight = []
    share = args.messages // (args.kill + 1)
    for _ in range(args.kill):
        child = spawn()
        # Killed after a random number of its own sends: mid-drain, whatever it is doing.
        until = srv.stats.get("sendMessage", 0) + rnd.randint(share // 4, share)
        while srv.stats.get("sendMessage", 0) < until and child.poll() is None:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        with session_scope(engine) as s:
            in_flight.append(s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "sending")).one())
    time.sleep(LEASE + 0.5)  # the interrupted rows' lease passes: the last sender takes them back
    child = spawn()
    child.wait()
    return in_flight, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--chats", type=int, default=500)
    ap.add_argument("--per-second", type=float, default=30.0, help="the sender's global pace")
    ap.add_argument("--db", default=str(ROOT / "var" / "bench" / "outbox.db"))
    ap.add_argument("--kill", type=int, default=0, help="kill the sender process N times during the drain")
    ap.add_argument("--seed", type=int, default=1, help="when the kills happen (--kill)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--api", help=argparse.SUPPRESS)
    ap.add_argument("--token", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from bot.logs import setup

    setup(level="WARNING")
    if args.worker:
        worker(args.db, args.api, args.token, args.per_second)
        return 0

    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)

    limits = RateLimitConfig()  # Telegram's: 30/s overall, 1/s per chat (burst 2)
    chats = [FIRST_CHAT + i for i in range(args.chats)]
    expected: dict[int, list[str]] = {c: [] for c in chats}
    t_enqueue = time.perf_counter()
    with session_scope(engine) as s:
        for i in range(args.messages):
            chat = chats[i % len(chats)]
            text = f"message {i}"
            outbox.enqueue(s, chat, "notice", text)
            expected[chat].append(text)
    t_enqueue = time.perf_counter() - t_enqueue

    with BotAPIServer("123456:BENCH", rate_limit=limits, calls_maxlen=args.messages * 2 + 100) as srv:
        for c in chats:
            srv.user(c)
        in_flight: list[int] = []
        if args.kill:
            in_flight, elapsed = killing(srv, engine, args)
            stats = {}
        else:
            stats, elapsed = asyncio.run(drain(srv, engine, args.per_second))
        received = {c: [m.text for m in srv.user(c).messages()] for c in chats}
        sends = sorted(call.at for call in srv.calls if call.method == "sendMessage" and call.ok)
        rate_limited = srv.rate_limited_count

    lost = duplicated = out_of_order = 0
    for c in chats:
        got, want = Counter(received[c]), Counter(expected[c])
        lost += sum((want - got).values())
        duplicated += sum((got - want).values())
        if received[c] != expected[c] and not (want - got) and not (got - want):
            out_of_order += 1
    limit = min(limits.global_per_second, len(chats) * limits.per_chat_per_second)
    rate = args.messages / elapsed
    span = (sends[-1] - sends[0]) if len(sends) > 1 else 0.0
    server_rate = (len(sends) - 1) / span if span > 0 else float("nan")
    with session_scope(engine) as s:
        counts = outbox.counts(s)

    print(f"messages        {args.messages} to {len(chats)} chats (enqueued in {t_enqueue:.2f}s)")
    print(f"server limit    {limit:g} msg/s (global {limits.global_per_second:g}/s, per chat "
          f"{limits.per_chat_per_second:g}/s)")
    print(f"achieved rate   {rate:.2f} msg/s over the whole drain = {rate / limit:.3f} of the limit "
          f"(target >= 0.95)")
    print(f"server-side     {server_rate:.2f} msg/s first to last send = {server_rate / limit:.3f}")
    print(f"lost            {lost}")
    print(f"duplicated      {duplicated}")
    print(f"out of order    {out_of_order} chat(s)")
    print(f"429 answered    {rate_limited}")
    print(f"outbox          {', '.join(f'{k} {v}' for k, v in counts.items() if v)}")
    if stats:
        print(f"sender          {', '.join(f'{k} {v}' for k, v in sorted(stats.items()))}")
    print(f"total time      {elapsed:.1f}s")
    if args.kill:
        print(f"kills           {args.kill}; rows in flight at each: {in_flight} (these alone may be sent twice)")
        print(f"per crash       lost {lost / args.kill:.1f}, sent twice {duplicated / args.kill:.1f}")
        return 0 if lost == 0 and duplicated <= sum(in_flight) else 1
    ok = lost == 0 and duplicated == 0 and out_of_order == 0 and rate / limit >= 0.95
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
