"""Every Prometheus metric of ``minping run``, defined here and nowhere else.

``GET /metrics`` (``bot/web/health.py``) serves them in the Prometheus text format. Each
worker counts what it did itself; figures read from the database at scrape time (the
outbox backlog, parked updates) are the same on every worker.

No label ever carries personal data: labels are fixed words (an update's kind, an
outcome, a job's name, a module), never a chat id, a name, a text or a campaign's answer.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of this process
PlatformCollector(registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- taking updates (bot/telegram/intake.py) ---------------------------------------------------
UPDATES = Counter("minping_updates", "Telegram updates taken, by kind (message, callback_query, …) and outcome: "
                  "applied (committed), parked (poison, set aside), deferred (not taken: Telegram delivers it "
                  "again), dropped (flood control: acknowledged, not applied)", ["kind", "outcome"], registry=REGISTRY)
UPDATE_RETRIES = Counter("minping_update_retries", "Transient failures of an update that was tried again "
                         "(database unreachable, lock timeout)", registry=REGISTRY)
FLOOD_SPELLS = Counter("minping_flood_spells", "Times a chat sent too much too fast: it got one \"slow down\" "
                       "and its updates were dropped (counted as minping_updates{outcome=\"dropped\"}) until quiet",
                       registry=REGISTRY)
DATABASE_OUTAGES = Counter("minping_database_outages", "Times the database was found unreachable while "
                           "updates waited", registry=REGISTRY)

# --- conversation steps (bot/service.py) ---------------------------------------------------------
STEPS = Counter("minping_steps", "Chat events handled in one transaction each, by event (start, text, tap, "
                "command, media, blocked) and outcome (ok, duplicate, error)", ["event", "outcome"], registry=REGISTRY)
STEP_SECONDS = Histogram("minping_step_seconds", "Time to handle one chat event (its transaction included)",
                         ["event"], registry=REGISTRY,
                         buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0))
BALLOTS = Counter("minping_ballots_sealed", "Ballots sealed (committed) by this process", registry=REGISTRY)

# --- the outbox sender (bot/sender.py) ---------------------------------------------------------
SENDS = Counter("minping_outbox_sends", "Outbox send attempts by outcome: sent, rate_limited (429), "
                "blocked (403), retry (transient error, tried again later), failed", ["outcome"], registry=REGISTRY)
OUTBOX_ROWS = Gauge("minping_outbox_messages", "Outbox rows by status (read from the database at scrape time)",
                    ["status"], registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("minping_outbox_backlog", "Outbox rows still to send (pending, claimed or sending)",
                       registry=REGISTRY)
PARKED = Gauge("minping_parked_updates", "Updates parked as poison, waiting for an operator (from the database)",
               registry=REGISTRY)
PARKED_HERE = Counter("minping_updates_parked", "Updates this process parked as poison", registry=REGISTRY)

# --- the scheduler (bot/scheduler.py) ------------------------------------------------------------
LEASE_HELD = Gauge("minping_scheduler_lease_held", "1 while this process holds the scheduler lease (runs the "
                   "jobs), else 0", registry=REGISTRY)
JOB_RUNS = Counter("minping_scheduler_job_runs", "Scheduled job runs by job and outcome (ok, error)",
                   ["job", "outcome"], registry=REGISTRY)
JOB_ITEMS = Counter("minping_scheduler_job_items", "Items a scheduled job handled (messages queued, rows pruned…)",
                    ["job"], registry=REGISTRY)

# --- the event loop (minping run) -------------------------------------------------------------
LOOP_LAG = Histogram("minping_event_loop_lag_seconds", "How late the event loop woke a timer (sampled every "
                     "50 ms): the time a tap would have waited for the loop", registry=REGISTRY,
                     buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0))
DIGEST_REQUESTS = Gauge("minping_digest_requests", "Digests waiting for the worker process to draw them "
                        "(from the database)", registry=REGISTRY)

# --- health ------------------------------------------------------------------------------------
DATABASE_UP = Gauge("minping_database_up", "1 when the database answered the last check (readiness, scrape)",
                    registry=REGISTRY)
BOT_API_UP = Gauge("minping_bot_api_reached", "1 once the Bot API answered getMe at start", registry=REGISTRY)
ERRORS = Counter("minping_errors", "Error log records by component (the module that logged them)", ["component"],
                 registry=REGISTRY)


def update_kind(update: dict) -> str:
    """Telegram's name for what an update holds; anything unexpected is 'other'."""
    kind = next((k for k in update if k != "update_id"), "other")
    return kind if kind in KNOWN_KINDS else "other"


KNOWN_KINDS = frozenset({"message", "edited_message", "callback_query", "my_chat_member", "chat_member",
                         "channel_post", "edited_channel_post", "inline_query", "pre_checkout_query"})

_bot_api_reached = False


def bot_api_reached() -> None:
    global _bot_api_reached
    _bot_api_reached = True
    BOT_API_UP.set(1)


def bot_api_was_reached() -> bool:
    return _bot_api_reached


class ErrorCounter(logging.Handler):
    """Counts ERROR and CRITICAL log records by the component that logged them (the
    logger's name, e.g. ``bot.sender``; a library's top-level name). Never the message."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        name = record.name
        component = name if name.startswith(("bot.", "storage.", "reports.", "flows.")) else name.split(".")[0]
        ERRORS.labels(component[:60]).inc()


def count_errors() -> None:
    """Count error records from now on (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(h, ErrorCounter) for h in root.handlers):
        root.addHandler(ErrorCounter())


def refresh_from_database(engine) -> bool:  # noqa: ANN001
    """Read the figures that live in the database (outbox rows by status, parked updates)
    into their gauges. False, and ``minping_database_up`` 0, when the database does not
    answer."""
    from sqlalchemy import func, select

    from storage import digest_requests, outbox
    from storage.db import session_scope
    from storage.parked import ParkedUpdate

    try:
        with session_scope(engine) as s:
            rows = outbox.counts(s)
            parked = s.execute(select(func.count()).select_from(ParkedUpdate)).scalar_one()
            waiting = digest_requests.pending(s)
    except Exception:  # noqa: BLE001 — the scrape still answers, with the database marked down
        DATABASE_UP.set(0)
        return False
    for status, n in rows.items():
        OUTBOX_ROWS.labels(status).set(n)
    OUTBOX_BACKLOG.set(sum(rows[s] for s in outbox.ACTIVE))
    PARKED.set(parked)
    DIGEST_REQUESTS.set(waiting)
    DATABASE_UP.set(1)
    return True


async def watch_loop_lag(stop, interval: float = 0.05) -> None:  # noqa: ANN001
    """Sample the event loop's lag until ``stop`` (an ``asyncio.Event``) is set: sleep
    ``interval`` and record how much later than asked the loop woke us."""
    import asyncio

    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time() + interval
        await asyncio.sleep(interval)
        LOOP_LAG.observe(max(0.0, loop.time() - asked))


def generate() -> bytes:
    return _generate(REGISTRY)
