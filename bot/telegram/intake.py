"""Taking updates from Telegram: nothing is acknowledged before it is applied.

Long polling (``Poller``) and the webhook (``bot/telegram/webhook.py``) hand every update
to ``Intake.take``, which feeds it to the framework's own dispatch (aiogram or PTB) and
learns from the service how its transaction ended:

* **One chat at a time.** A chat's updates are applied one after another, in the order
  they came (polling: ``update_id`` order within a batch); different chats in parallel.
  Across processes the service's chat lock (``storage.db.lock_chat``) does the same.
* **Transient failures are retried.** Database unreachable, lock timeout, serialization
  failure: the update is tried again with back-off, and the chat's later updates wait
  behind it. Polling does not move the offset meanwhile; the webhook answers 503 after a
  few tries, so that Telegram delivers the update again.
* **Poison updates are parked.** A failure that is not transient, or one that repeats
  ``POISON_TRIES`` times while the database answers, parks the update with its error
  (``storage/parked.py``, logged once); the chat goes on with its next update.

* **Flooders are dropped cheaply.** Every update is first shown to the per-chat flood
  control (``bot/telegram/flood.py``) as it arrives: a chat with too many updates in
  hand or too many a second gets one "slow down" reply, and its updates are acknowledged
  without being applied until it has been quiet for a while.

Polling takes a batch with ``getUpdates`` and asks for the next one (which confirms the
batch to Telegram) only once every update of it is committed, parked or dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot import metrics
from bot.outage import Outage, database
from bot.channel import RetryAfter
from bot.telegram.flood import FloodControl
from storage import parked
from storage.db import is_transient, reachable, session_scope

log = logging.getLogger(__name__)

POISON_TRIES = 5  # failures of one update while the database answers, then it is parked
BACKOFF = (0.2, 0.5, 1.0, 2.0)  # seconds between tries; the last repeats (a chat answers ≤ 2 s after a recovery)
WEBHOOK_TRIES = 3  # tries within one webhook request before answering 503
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for news
REPLAY_EVERY = 3.0  # seconds between looks for parked updates to replay
BATCH = 100  # getUpdates limit
WARN_PATIENCE = 60.0  # seconds in all a flood warning waits out Telegram's flood limit (each retry_after)


@dataclass
class Receipt:
    """How the update being fed fared; the service's failure lands here (``note_failure``)."""

    error: BaseException | None = None


_receipt: contextvars.ContextVar[Receipt | None] = contextvars.ContextVar("minping_receipt", default=None)


def note_failure(exc: BaseException) -> bool:
    """Called where handling an update failed. True when an intake is feeding this update:
    it retries or parks it, so the caller need not raise."""
    receipt = _receipt.get()
    if receipt is None:
        return False
    receipt.error = exc
    return True


def chat_of(update: dict) -> int | None:
    """The chat an update belongs to (its person's private chat), from Telegram's JSON."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member"):
        chat = (update.get(kind) or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat = (query.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
        sender = query.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
    return None


class ChatLocks:
    """One asyncio lock per chat, FIFO, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(self, chat: int | None, fn: Callable[[], Awaitable[Any]]) -> Any:
        if chat is None:
            return await fn()
        lock, users = self._locks.get(chat, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                return await fn()
        finally:
            lock, users = self._locks[chat]
            if users == 1:
                del self._locks[chat]
            else:
                self._locks[chat] = (lock, users - 1)


@dataclass
class Intake:
    """Feeds updates to the framework (``feed``), one chat at a time, retrying and parking."""

    engine: Engine
    feed: Callable[[dict], Awaitable[None]]
    locks: ChatLocks = field(default_factory=ChatLocks)
    outage: Outage = field(default_factory=lambda: database)
    parked: int = 0  # updates parked by this process
    _webhook_tries: dict[int, int] = field(default_factory=dict)
    flood: FloodControl = field(default_factory=FloodControl)
    # Says "slow down" to a flooding chat (the runtime sets it; given the update).
    warn: Callable[[dict], Awaitable[None]] | None = None
    _warnings: set = field(default_factory=set)

    def arrive(self, update: dict) -> bool:
        """An update has arrived: True to take it (then ``done`` when finished); False
        when the flood control dropped it (it counts as taken: acknowledge it)."""
        verdict = self.flood.admit(chat_of(update))
        if verdict == "take":
            return True
        metrics.UPDATES.labels(metrics.update_kind(update), "dropped").inc()
        if verdict == "warn":
            metrics.FLOOD_SPELLS.inc()
            log.warning("a chat is flooding: its updates are dropped until it is quiet for %.0f s",
                        self.flood.quiet)
            if self.warn is not None:
                task = asyncio.get_running_loop().create_task(self._warn(update))
                self._warnings.add(task)
                task.add_done_callback(self._warnings.discard)
        return False

    def done(self, update: dict) -> None:
        self.flood.finished(chat_of(update))

    async def _warn(self, update: dict) -> None:
        # The warning often meets Telegram's per-chat limit, hit by the answers to the
        # flood's first updates, which may win the chat's next slots again and again
        # (three short waits were lost that way on a loaded machine): it waits its turn,
        # up to WARN_PATIENCE in all, instead of being lost.
        waited = 0.0
        while True:
            try:
                await self.warn(update)
                return
            except RetryAfter as exc:
                pause = min(max(float(exc.retry_after), 0.1), 30.0)
                if waited + pause > WARN_PATIENCE:
                    break
                waited += pause
                await asyncio.sleep(pause)
            except Exception as exc:  # noqa: BLE001 — the flooder may have blocked us meanwhile
                log.info("flood warning not sent: %s", type(exc).__name__)
                return
        log.info("flood warning not sent: still rate-limited after %.0f s", waited)

    async def _try(self, update: dict) -> BaseException | None:
        receipt = Receipt()
        token = _receipt.set(receipt)
        try:
            await self.feed(update)
        except Exception as exc:  # the framework's own failure, e.g. an update it cannot parse
            receipt.error = exc
        finally:
            _receipt.reset(token)
        return receipt.error

    async def take(self, update: dict, *, tries: int | None = None, stop: asyncio.Event | None = None) -> bool:
        """Apply ``update`` (committed) or park it: True. False when it failed transiently
        ``tries`` times (or ``stop`` was set): it is NOT taken, the caller must not
        acknowledge it to Telegram."""
        taken, _ = await self._take_counted(update, tries, stop, 0)
        return taken

    async def _take_counted(self, update: dict, tries: int | None, stop: asyncio.Event | None,
                            failures: int) -> tuple[bool, int]:
        """``take``, starting from ``failures`` earlier failures while the database answered;
        also returns that count when it gives up."""
        log.debug("taking %s", update)  # its kind and size only (bot/logs.py)
        taken, failures = await self.locks(chat_of(update), lambda: self._take(update, tries, stop, failures))
        if not taken:
            metrics.UPDATES.labels(metrics.update_kind(update), "deferred").inc()
        return taken, failures

    async def _take(self, update: dict, tries: int | None, stop: asyncio.Event | None,
                    failures: int) -> tuple[bool, int]:
        attempt = 0
        while True:
            error = await self._try(update)
            if error is None:
                self.outage.succeeded()
                metrics.UPDATES.labels(metrics.update_kind(update), "applied").inc()
                return True, failures
            attempt += 1
            if not is_transient(error):
                return await self._park(update, error, attempt), failures
            up = await asyncio.get_running_loop().run_in_executor(None, reachable, self.engine)
            if up:  # only failures while the database answers make an update poison
                failures += 1
                if failures >= POISON_TRIES:
                    return await self._park(update, error, failures), failures
            else:
                self.outage.failed(error)
            if (tries is not None and attempt >= tries) or (stop is not None and stop.is_set()):
                return False, failures
            metrics.UPDATE_RETRIES.inc()
            await _sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)], stop)

    async def take_webhook(self, update: dict) -> bool:
        """The webhook's way: a few tries now; False asks Telegram to deliver it again.
        Failures while the database answers are counted per update across deliveries, so
        a poison update is parked even if each delivery fails only once or twice, and an
        outage, however many deliveries it spans, parks nothing."""
        update_id = update.get("update_id")
        if not self.arrive(update):
            return True  # dropped (flood): acknowledged, never applied
        key = update_id if isinstance(update_id, int) else None
        try:
            done, failures = await self._take_counted(update, WEBHOOK_TRIES, None, self._webhook_tries.get(key, 0))
        finally:
            self.done(update)
        if done or key is None:
            self._webhook_tries.pop(key, None)
        else:
            self._webhook_tries[key] = failures
        return done

    async def _park(self, update: dict, error: BaseException, attempts: int) -> bool:
        # The error's first line only: further lines (pydantic's, a driver's) may quote
        # the values they refused, which can be what someone typed.
        first = (str(error).strip().splitlines() or [""])[0][:200]
        text = f"{type(error).__name__}: {first}"
        try:
            def write() -> None:
                with session_scope(self.engine) as s:
                    parked.park(s, update, text, attempts)

            await asyncio.get_running_loop().run_in_executor(None, write)
        except Exception as exc:  # the database is gone again: not taken, tried later
            log.warning("could not park update %s: %s", update.get("update_id"), type(exc).__name__)
            return False
        self.parked += 1
        metrics.PARKED_HERE.inc()
        metrics.UPDATES.labels(metrics.update_kind(update), "parked").inc()
        # The error's type and the update's kind only: its text may quote what was typed.
        log.error("update %s (%s) parked after %d tries: %s", update.get("update_id"), parked.update_kind(update),
                  attempts, type(error).__name__, exc_info=(type(error), error, error.__traceback__))
        return True

    async def replay_parked(self) -> int:
        """Feed the parked updates whose replay was asked for (``minping updates --retry``)."""
        def claim() -> list[dict]:
            with session_scope(self.engine) as s:
                return parked.claim_retries(s)

        try:
            payloads = await asyncio.get_running_loop().run_in_executor(None, claim)
        except Exception:
            return 0
        for update in payloads:
            await self.take(update, tries=1)
        return len(payloads)

    async def replay_forever(self, stop: asyncio.Event, every: float = REPLAY_EVERY) -> None:
        """Every few seconds, replay what ``minping updates --retry`` asked for."""
        while not stop.is_set():
            await _sleep(every, stop)
            if not stop.is_set():
                await self.replay_parked()


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


class Poller:
    """Long polling that confirms a batch to Telegram only once it is applied.

    ``fetch(offset, timeout)`` is one ``getUpdates`` call returning Telegram's JSON."""

    def __init__(self, intake: Intake, fetch: Callable[[int | None, int], Awaitable[list[dict]]],
                 poll_timeout: int = POLL_TIMEOUT) -> None:
        self.intake, self.fetch, self.poll_timeout = intake, fetch, poll_timeout
        self.offset: int | None = None
        self.stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="minping-poller")

    async def close(self, grace: float) -> None:
        """Stop asking for updates; the batch in hand gets ``grace`` seconds to commit
        (what does not is left to Telegram, which delivers it again), then the offset
        confirms what was applied."""
        self.stop.set()
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        elif self._task.exception() is not None:
            log.error("polling stopped by an error", exc_info=self._task.exception())
        if self.offset is not None:
            try:  # confirm the last batch (timeout 0: returns at once)
                await asyncio.wait_for(self.fetch(self.offset, 0), 5)
            except Exception:
                pass  # Telegram delivers it again; the update ids make that harmless

    async def _run(self) -> None:
        delay = BACKOFF[0]
        failing: float | None = None  # since when getUpdates fails
        while not self.stop.is_set():
            fetching = asyncio.ensure_future(self.fetch(self.offset, self.poll_timeout))
            stopping = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():  # stopped during a long poll: nothing was taken
                fetching.cancel()
                await asyncio.gather(fetching, return_exceptions=True)
                return
            try:
                batch = fetching.result()
            except Exception as exc:  # network trouble, 409 while another process polls, …
                # Said once per spell of failures, not every few seconds.
                (log.warning if failing is None else log.debug)(
                    "getUpdates failed (%s); trying again with back-off", exc)
                failing = failing or time.monotonic()
                await _sleep(delay, self.stop)
                delay = min(delay * 2, BACKOFF[-1])
                continue
            if failing is not None:
                log.warning("getUpdates works again after %.0f s", time.monotonic() - failing)
                failing = None
            delay = BACKOFF[0]
            if batch:
                if not await self._apply(batch):
                    return  # stopped with updates not applied: they stay with Telegram
                self.offset = max(u["update_id"] for u in batch) + 1

    async def _apply(self, batch: Iterable[dict]) -> bool:
        """Every update of the batch applied or parked: True."""
        chats: dict[object, list[dict]] = {}
        seen: set[int] = set()
        for u in sorted(batch, key=lambda u: u["update_id"]):
            if u["update_id"] in seen:  # the same update twice in one batch
                continue
            seen.add(u["update_id"])
            if not self.intake.arrive(u):
                continue  # dropped (flood): confirmed with the batch, never applied
            chat = chat_of(u)
            chats.setdefault(chat if chat is not None else ("update", u["update_id"]), []).append(u)

        async def one_chat(updates: list[dict]) -> bool:
            for i, u in enumerate(updates):
                try:
                    taken = await self.intake.take(u, stop=self.stop)
                finally:
                    self.intake.done(u)
                if not taken:
                    for rest in updates[i + 1:]:
                        self.intake.done(rest)
                    return False
            return True

        return all(await asyncio.gather(*(one_chat(us) for us in chats.values())))
