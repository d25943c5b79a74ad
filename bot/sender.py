"""The outbox sender: drains ``storage.outbox`` within Telegram's flood limits.

    sender = Sender(engine, AiogramTransport(bot))
    await sender.drain()            # send everything due (and retries), then return
    await sender.run(stop_event)    # keep sending until stop_event is set

A sender drains the rows of its transport's channel only (``bot.channel.Transport``,
``transport.channel``): each channel has its own sender(s), and a row is never handed to
another channel's transport. The pacing below is Telegram's; another channel's transport
that has no such limits can simply be given a high ``per_second`` and no chat interval.

How it paces itself:

* a global token bucket (``per_second``, default 30 — Telegram's "about 30 messages a
  second overall") and, per chat, an earliest time for the next send
  (``per_chat_interval``, default 1 s; groups, negative chat ids, ``group_interval``);
* the outbox hands out only the head of each chat's queue (``outbox.claim``), so messages
  to one chat go out in id order, one at a time, and a chat that must wait never holds
  up the others;
* a 429 puts the row back with ``not_before = now + retry_after`` and pauses that chat
  for as long; when it looks global (the chat had not been sent to within the last
  second, or several chats got a 429 within a second) every chat pauses;
* 403 (blocked) marks the row, the chat's waiting rows and the person unreachable;
  a transient error retries with exponential backoff (1, 2, 4 … s, capped) up to
  ``max_attempts``; a bad request fails the row at once.

Every row is claimed before it is sent and marked ``sending`` in its own commit right
before its HTTP call; no DB transaction stays open across an HTTP call. On start the
sender recovers what a crashed sender left (see ``storage/outbox.py`` for the one
at-least-once corner). The log carries counts and row ids, never texts or chat ids.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from bot import metrics
from bot.outage import database
from bot.channel import Blocked, Keyboard, RetryAfter, SendError, Transient, Transport
from flows.messages import Button
from storage import outbox
from storage.db import is_transient, read_scope, session_scope
from storage.models import Outbox, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

CAPTION_LIMIT = 1024  # Telegram's caption limit; a longer text goes as its own message
CLAIM_GAP = 0.05  # at most ~20 claims a second while busy
CHAT_LIMIT_WINDOW = 1.0  # a chat sent to less often than this cannot be over its own limit


class _Bucket:
    """Token bucket on the event loop's clock."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.stamp = now

    def delay(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


def _keyboard(rows: list) -> Keyboard:
    # Cells are [label, action], or [label, "", url] for a Mini App button.
    return tuple(tuple(Button(c[0], c[1], c[2] if len(c) > 2 else None) for c in row) for row in rows or ())


class Sender:
    def __init__(self, engine: Engine, transport: Transport, *, per_second: float = 30.0,
                 per_chat_interval: float = 1.0, group_interval: float = 3.0, batch: int = 100,
                 max_attempts: int = 5, worker: str | None = None, lease_seconds: float = 120.0,
                 poll_interval: float = 0.5, backoff_cap: float = 300.0, max_inflight: int = 50,
                 burst: float | None = None) -> None:
        if per_second <= 0 or batch <= 0 or max_attempts <= 0:
            raise ValueError("per_second, batch and max_attempts must be positive")
        self.engine = engine
        self.transport = transport
        self.channel = transport.channel  # this sender claims only this channel's rows
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval
        self.group_interval = max(group_interval, per_chat_interval)
        self.batch = batch
        self.max_attempts = max_attempts
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease_seconds = lease_seconds  # must exceed the transport's HTTP timeout
        self.poll_interval = poll_interval
        self.backoff_cap = backoff_cap
        self.max_inflight = max(1, max_inflight)
        # A small burst lets the bucket absorb late wake-ups without exceeding the rate.
        self.burst = burst if burst is not None else max(1.0, per_second / 4)
        self.stats: Counter[str] = Counter()
        self._recovered = False
        self._bucket: _Bucket | None = None
        self._chat_next: dict[int, float] = {}  # loop time before which a chat gets nothing
        self._last_call: dict[int, float] = {}  # loop time of the last HTTP call per chat
        self._pause_until = 0.0  # a global 429
        self._recent_429: deque[tuple[float, int]] = deque()

    # ------------------------------------------------------------------ public
    async def drain(self, stop_when_empty: bool = True) -> dict[str, int]:
        """Send what is due, wait for retries, return when nothing is left to send
        (or never, with ``stop_when_empty=False``). Returns this sender's counts."""
        await self._loop(None, stop_when_empty)
        return dict(self.stats)

    async def run(self, stop_event: asyncio.Event) -> dict[str, int]:
        """Keep draining until ``stop_event`` is set; polls every ``poll_interval`` when idle.
        On stop, in-flight sends finish and unstarted claims are released."""
        await self._loop(stop_event, False)
        return dict(self.stats)

    # ------------------------------------------------------------------ database
    def _tx(self, fn: Callable[..., T], *args: Any, read: bool = False, **kw: Any) -> T:
        with (read_scope if read else session_scope)(self.engine) as s:
            return fn(s, *args, **kw)

    async def _db(self, fn: Callable[..., T], *args: Any, read: bool = False, **kw: Any) -> T:
        try:
            result = await asyncio.to_thread(self._tx, fn, *args, read=read, **kw)
        except Exception as exc:
            if is_transient(exc):
                database.failed(exc)  # said once for the process; the sender pauses
            raise
        database.succeeded()
        return result

    async def _db_retrying(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> bool:
        """Record an outcome; a failing database gets a few tries before the row is left
        for ``recover``."""
        for attempt in range(4):
            try:
                await self._db(fn, *args, **kw)
                return True
            except Exception as exc:  # noqa: BLE001
                (log.debug if is_transient(exc) else log.warning)(
                    "outbox: recording %s failed (%s), try %d", fn.__name__, type(exc).__name__, attempt + 1)
                await asyncio.sleep(0.2 * 2 ** attempt)
        return False

    # ------------------------------------------------------------------ pacing
    def _interval(self, chat_id: int) -> float:
        return self.group_interval if chat_id < 0 else self.per_chat_interval

    def _global_delay(self, now: float) -> float:
        assert self._bucket is not None
        return max(self._pause_until - now, self._bucket.delay(now))

    async def _pace(self, chat_id: int) -> None:
        """Wait for this chat's turn and a global token (the second part of a message)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wait = max(self._chat_next.get(chat_id, 0.0) - now, self._global_delay(now))
            if wait <= 0:
                assert self._bucket is not None
                self._bucket.take()
                return
            await asyncio.sleep(wait)

    def _note_call(self, chat_id: int) -> float | None:
        now = asyncio.get_running_loop().time()
        prev = self._last_call.get(chat_id)
        self._last_call[chat_id] = now
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + self._interval(chat_id))
        return prev

    def _note_429(self, chat_id: int, retry_after: float, prev_call: float | None) -> None:
        now = asyncio.get_running_loop().time()
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + retry_after)
        self._recent_429.append((now, chat_id))
        while self._recent_429 and self._recent_429[0][0] < now - 1.0:
            self._recent_429.popleft()
        chats = {c for _, c in self._recent_429}
        calm_chat = prev_call is None or now - prev_call >= CHAT_LIMIT_WINDOW
        if calm_chat or len(chats) >= 3:
            self._pause_until = max(self._pause_until, now + retry_after)
            self.stats["global_pauses"] += 1

    # ------------------------------------------------------------------ one row
    def _parts(self, row: Outbox) -> list[tuple[str, str, Keyboard]]:
        """(what, text, keyboard): what is 'text', 'photo' or 'document'."""
        keyboard = _keyboard(row.buttons)
        if row.attachment_sha256 is None:
            return [("text", row.text, keyboard)]
        kind = row.attachment_kind or "photo"
        if not row.text:  # enqueue() refuses buttons without a text to carry them
            return [(kind, "", ())]
        if len(row.text) <= CAPTION_LIMIT and not keyboard:
            return [(kind, row.text, ())]
        return [(kind, "", ()), ("text", row.text, keyboard)]

    async def _call(self, row: Outbox, what: str, text: str, keyboard: Keyboard, data: bytes | None) -> None:
        if what == "text":
            await self.transport.send_message(row.chat_id, text, keyboard)
        elif what == "photo":
            await self.transport.send_photo(row.chat_id, data, row.filename or "chart.png", text)
        else:
            await self.transport.send_document(row.chat_id, data, row.filename or "document", text)

    async def _deliver(self, row: Outbox) -> None:
        try:
            # The picture's bytes are stored apart (``storage.outbox``): read them first
            # (SQLite: a read-only transaction, no write lock).
            data = await self._db(outbox.attachment_data, row, read=True) if row.attachment_sha256 else None
            started = await self._db(outbox.mark_sending, row.id, self.worker)
        except Exception as exc:  # noqa: BLE001 — the row stays claimed; recover() returns it
            (log.debug if is_transient(exc) else log.warning)("outbox: row %s not started (%s)", row.id,
                                                              type(exc).__name__)
            return
        if not started:  # taken back by recover() in another process
            self.stats["skipped"] += 1
            return
        if row.attachment_sha256 is not None and data is None and row.parts_sent == 0:  # deleted by hand
            self.stats["failed"] += 1
            metrics.SENDS.labels("failed").inc()
            log.warning("outbox: row %s (%s) failed: its attachment is missing", row.id, row.kind)
            await self._db_retrying(outbox.mark_failed, row.id, "its attachment is missing")
            return
        parts = self._parts(row)
        prev_call: float | None = None
        try:
            for i, (what, text, keyboard) in enumerate(parts):
                if i < row.parts_sent:
                    continue
                if i > row.parts_sent:  # the first part was paced by the dispatcher
                    await self._pace(row.chat_id)
                prev_call = self._note_call(row.chat_id)
                await self._call(row, what, text, keyboard, data)
                if i + 1 < len(parts):
                    await self._db_retrying(outbox.mark_part_sent, row.id, i + 1)
        except RetryAfter as exc:
            self._note_429(row.chat_id, float(exc.retry_after), prev_call)
            self.stats["rate_limited"] += 1
            metrics.SENDS.labels("rate_limited").inc()
            await self._db_retrying(outbox.retry_later, row.id,
                                    utcnow() + timedelta(seconds=float(exc.retry_after)), str(exc),
                                    count_attempt=False)
        except Blocked as exc:
            self.stats["unreachable"] += 1
            metrics.SENDS.labels("blocked").inc()
            await self._db_retrying(outbox.mark_unreachable, row.id, str(exc))
        except Transient as exc:
            await self._transient(row, str(exc))
        except SendError as exc:  # BadRequest (and the edit-only errors, which a send never gets)
            self.stats["failed"] += 1
            metrics.SENDS.labels("failed").inc()
            log.warning("outbox: row %s (%s) failed: %s", row.id, row.kind, exc)
            await self._db_retrying(outbox.mark_failed, row.id, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — an unwrapped client error: treat as transient
            await self._transient(row, f"{type(exc).__name__}: {exc}")
        else:
            self.stats["sent"] += 1
            metrics.SENDS.labels("sent").inc()
            await self._db_retrying(outbox.mark_sent, row.id)

    async def _transient(self, row: Outbox, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            self.stats["failed"] += 1
            metrics.SENDS.labels("failed").inc()
            log.warning("outbox: row %s (%s) failed after %d attempts: %s", row.id, row.kind, attempts, error)
            await self._db_retrying(outbox.mark_failed, row.id, error)
            return
        delay = min(self.backoff_cap, 2.0 ** (attempts - 1))
        self.stats["retried"] += 1
        metrics.SENDS.labels("retry").inc()
        loop = asyncio.get_running_loop()
        self._chat_next[row.chat_id] = max(self._chat_next.get(row.chat_id, 0.0), loop.time() + delay)
        await self._db_retrying(outbox.retry_later, row.id, utcnow() + timedelta(seconds=delay), error)

    # ------------------------------------------------------------------ the loop
    async def _loop(self, stop: asyncio.Event | None, stop_when_empty: bool) -> None:
        loop = asyncio.get_running_loop()
        clock = loop.time
        wake = asyncio.Event()
        if self._bucket is None:
            self._bucket = _Bucket(self.per_second, self.burst, clock())
        while not self._recovered:
            try:
                back = await self._db(outbox.recover, self.lease_seconds, channel=self.channel)
            except Exception:  # the database is not there yet: try again shortly
                if stop is None or stop.is_set():
                    raise
                await asyncio.sleep(self.poll_interval)
                continue
            self._recovered = True
            if back["claimed"] or back["sending"]:
                log.info("outbox: recovered %d claimed and %d interrupted row(s)", back["claimed"], back["sending"])
        stop_watch = None
        if stop is not None:
            stop_watch = asyncio.ensure_future(stop.wait())
            stop_watch.add_done_callback(lambda _: wake.set())
        ready: dict[int, Outbox] = {}  # claimed by us, not started (one per chat)
        inflight: dict[int, asyncio.Task] = {}  # chat id -> its send
        next_claim = 0.0
        last_recover = clock()
        last_report = time.monotonic()
        reported = Counter(self.stats)
        started = time.monotonic()

        def finished(chat_id: int) -> Callable[[asyncio.Task], None]:
            def done(task: asyncio.Task) -> None:
                if inflight.get(chat_id) is task:
                    del inflight[chat_id]
                if not task.cancelled() and task.exception() is not None:
                    log.error("outbox: send task crashed", exc_info=task.exception())
                nonlocal next_claim
                next_claim = min(next_claim, clock() + CLAIM_GAP)  # the chat's next row may be due
                wake.set()
            return done

        # Claims run in the background: a claim waiting for the database (SQLite's write
        # lock) must not stall the sends already in hand.
        claim_task: asyncio.Task | None = None
        chores: set[asyncio.Task] = set()
        try:
            while not (stop is not None and stop.is_set()):
                wake.clear()
                now = clock()
                room = self.batch - len(ready) - len(inflight)
                if claim_task is None and room > 0 and now >= next_claim:
                    claim_task = asyncio.create_task(self._db(outbox.claim, self.worker, room, channel=self.channel))
                    claim_task.add_done_callback(lambda _: wake.set())
                if claim_task is not None and claim_task.done():
                    task, claim_task = claim_task, None
                    try:
                        rows = task.result()
                        outstanding = None if rows or ready or inflight else await self._db(outbox.outstanding, self.channel)
                    except Exception as exc:  # noqa: BLE001
                        if stop is None:
                            raise
                        if not is_transient(exc):
                            log.warning("outbox: claim failed (%s); retrying", type(exc).__name__)
                        next_claim = clock() + self.poll_interval  # paused while the database is away
                        continue
                    now = clock()
                    for r in rows:
                        ready[r.id] = r
                    if rows:
                        next_claim = now + CLAIM_GAP
                    elif ready or inflight:
                        next_claim = now + self.poll_interval
                    else:
                        n, due = outstanding
                        if n == 0 and stop_when_empty:
                            break
                        wait = self.poll_interval
                        if due is not None:
                            wait = min(wait, max(0.01, (due - utcnow()).total_seconds()))
                        next_claim = clock() + wait
                    continue  # claim again at once if there is room
                if stop is not None and now - last_recover > self.lease_seconds / 2:
                    last_recover = now
                    chore = asyncio.create_task(
                        self._db(outbox.recover, self.lease_seconds, claimed_grace=self.lease_seconds,
                                 channel=self.channel))
                    chores.add(chore)
                    chore.add_done_callback(self._chore_done(chores))
                if time.monotonic() - last_report > 60:
                    last_report = time.monotonic()
                    if self.stats != reported:  # an idle minute logs nothing
                        reported = Counter(self.stats)
                        log.info("outbox: %s", self._summary())

                # Dispatch every row whose chat and the global bucket allow it now.
                now = clock()
                earliest = next_claim if room > 0 and claim_task is None else float("inf")
                for row in list(ready.values()):
                    if row.chat_id in inflight:
                        continue  # its previous message is still being recorded
                    chat_at = self._chat_next.get(row.chat_id, 0.0)
                    if chat_at > now:
                        earliest = min(earliest, chat_at)
                        continue
                    if len(inflight) >= self.max_inflight:
                        break  # a finishing send wakes us
                    g = self._global_delay(now)
                    if g > 0:
                        earliest = min(earliest, now + g)
                        break
                    self._bucket.take()
                    self._chat_next[row.chat_id] = now + self._interval(row.chat_id)
                    del ready[row.id]
                    task = asyncio.create_task(self._deliver(row))
                    inflight[row.chat_id] = task
                    task.add_done_callback(finished(row.chat_id))

                timeout = earliest - clock()
                if timeout > 0:
                    try:
                        await asyncio.wait_for(wake.wait(), timeout=min(timeout, 3600))
                    except TimeoutError:
                        pass
                else:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            # Dying: stop sending at once, like a crash would; recover() tidies up later.
            for task in [*inflight.values(), *chores] + ([claim_task] if claim_task else []):
                task.cancel()
            raise
        finally:
            if stop_watch is not None:
                stop_watch.cancel()
        if claim_task is not None:  # stopped while claiming: hand those rows back too
            try:
                for r in await claim_task:
                    ready[r.id] = r
            except Exception as exc:  # noqa: BLE001
                log.warning("outbox: claim failed (%s)", type(exc).__name__)
        if inflight or chores:
            await asyncio.gather(*inflight.values(), *chores, return_exceptions=True)
        if ready:
            n = await self._db(outbox.release, self.worker, list(ready))
            log.info("outbox: released %d unstarted row(s)", n)
        if any(self.stats.values()):  # an idle sender stops without a word
            log.info("outbox: %s in %.1fs", self._summary(), time.monotonic() - started)

    @staticmethod
    def _chore_done(chores: set[asyncio.Task]) -> Callable[[asyncio.Task], None]:
        def done(task: asyncio.Task) -> None:
            chores.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.warning("outbox: recover failed (%s)", type(task.exception()).__name__)
        return done

    def _summary(self) -> str:
        keys = ("sent", "retried", "rate_limited", "failed", "unreachable", "skipped")
        return ", ".join(f"{k} {self.stats[k]}" for k in keys)
