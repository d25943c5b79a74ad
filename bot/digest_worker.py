"""Digests are drawn in a worker process, never in the bot's (issue 19).

Drawing a digest's charts (matplotlib) takes ~1 s of CPU and ~80 MB; in the bot's
process it stalled every rater's tap meanwhile. So a firing or a ``/digest`` only writes
a ``digest_request`` row (``storage/digest_requests.py``), and:

* ``DigestWorker`` runs in ``minping run``'s event loop. Every ``poll_interval`` it asks
  the database (on a thread) whether a request waits; if one does, it starts
  ``python -m bot.digest_worker`` and waits for it to exit, without blocking anything.
  It imports nothing of ``reports``.
* The worker process (``main``, niced) claims the waiting requests, builds each digest
  once per (campaign, locale, time), and in one short transaction per organizer writes
  the outbox rows (text, then each chart as a photo) and deletes the request; the
  sender delivers them. It exits when no request is left, so its memory goes with it.

A crash anywhere loses nothing: the request stays until its rows are committed, and a
claim expires (``storage.digest_requests.LEASE``). The database URL reaches the worker
in its environment (``MINPING_DIGEST_DATABASE_URL``), never on its command line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from storage import digest_requests as requests
from storage.db import is_transient, read_scope, session_scope

log = logging.getLogger(__name__)
URL_ENV = "MINPING_DIGEST_DATABASE_URL"
NICE = 10  # the worker yields the CPU to the bot's process on a busy machine


def database_url(engine: Engine) -> str:
    """The URL a separate process uses for this engine's database (PostgreSQL: with the
    engine's schema on the search path when it is not ``public``)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        from urllib.parse import quote

        with engine.connect() as conn:
            schema = conn.exec_driver_sql("select current_schema()").scalar()
        if schema and schema != "public":
            url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    return url


def worker_command() -> list[str]:
    return [sys.executable, "-m", "bot.digest_worker"]


def worker_env(engine: Engine) -> dict[str, str]:
    return {**os.environ, URL_ENV: database_url(engine)}


def run_worker(engine: Engine, timeout: float = 120.0) -> int:
    """Start the worker process for ``engine``'s database and wait for it (scripts,
    tests). Returns its exit code."""
    return subprocess.run(worker_command(), env=worker_env(engine), timeout=timeout, check=False).returncode


class DigestWorker:
    """In the bot's process: starts the worker process whenever a request waits."""

    def __init__(self, engine: Engine, poll_interval: float = 1.0) -> None:
        self.engine = engine
        self.poll_interval = poll_interval
        self._proc: asyncio.subprocess.Process | None = None
        self._env: dict[str, str] | None = None
        self.runs = 0

    def _due(self) -> bool:
        with session_scope(self.engine) as s:
            return requests.any_due(s)

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                due = await loop.run_in_executor(None, self._due)
            except Exception as exc:  # noqa: BLE001 — the database is away: ask again later
                if not is_transient(exc):
                    log.exception("digest worker: cannot read the requests")
                due = False
            if due:
                await self._run_once(stop)
            try:
                await asyncio.wait_for(stop.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass

    async def _run_once(self, stop: asyncio.Event) -> None:
        if self._env is None:
            self._env = await asyncio.get_running_loop().run_in_executor(None, worker_env, self.engine)
        self._proc = await asyncio.create_subprocess_exec(*worker_command(), env=self._env,
                                                          stdin=subprocess.DEVNULL)
        self.runs += 1
        waiting = asyncio.ensure_future(self._proc.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not waiting.done():  # stopping: what the worker committed stays; the rest is claimed again later
            self._proc.terminate()
            try:
                await asyncio.wait_for(waiting, 3)
            except asyncio.TimeoutError:
                self._proc.kill()
                await waiting
        elif self._proc.returncode:
            log.error("digest worker exited with %s (its requests are tried again)", self._proc.returncode)
        self._proc = None


# --- the worker process ------------------------------------------------------------------------

def render(engine: Engine, now: datetime | None = None) -> int:
    """Draw every waiting digest and queue its outbox rows; returns how many organizers'
    digests were queued. Imports the reports (and matplotlib) here, in the worker."""
    from html import escape

    from flows.campaign import Campaign
    from reports import digest as digests
    from storage import campaigns, outbox

    queued = 0
    while True:
        with session_scope(engine) as s:
            for gone in requests.failed(s):
                log.error("digest for campaign %s could not be drawn after %d attempts: given up",
                          gone.campaign_id, gone.attempts)
        with session_scope(engine) as s:
            claimed = requests.claim(s, now)
        if not claimed:
            return queued
        groups: dict[tuple[str, str, datetime], list[requests.DigestRequest]] = {}
        for r in claimed:
            groups.setdefault((r.campaign_id, r.locale, r.as_of), []).append(r)
        for (campaign_id, locale, as_of), rows in groups.items():
            try:
                with read_scope(engine) as s:  # SQLite: no write lock while it reads
                    row = s.get(campaigns.CampaignRow, campaign_id)
                    if row is None:  # deleted meanwhile
                        campaign = None
                    else:
                        campaign = Campaign.model_validate(row.definition)
                        when = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)  # SQLite: naive UTC
                        prepared = digests.prepare(s, campaign, locale, when)
                # Drawn outside the transaction: on SQLite a transaction holds the write
                # lock, and the bot's taps would wait for the charts.
                digest = prepared.finish() if campaign is not None else None
            except Exception:
                log.exception("digest for campaign %s failed (tried again later)", campaign_id)
                continue
            for r in rows:
                with session_scope(engine) as s:
                    if not requests.done(s, r.id) or campaign is None:
                        continue
                    outbox.enqueue(s, r.chat_id, "digest", digest.text, campaign_id=campaign_id,
                                   dedupe_key=f"{r.dedupe_key}:text")
                    for chart in digest.charts:
                        outbox.enqueue(s, r.chat_id, "digest", escape(chart.title), attachment=chart.png,
                                       filename=f"{chart.name}.png", attachment_kind="photo",
                                       campaign_id=campaign_id, dedupe_key=f"{r.dedupe_key}:{chart.name}")
                    queued += 1


def main() -> int:  # pragma: no cover - the process entry (tests run it as a process)
    url = os.environ.get(URL_ENV)
    if not url:
        print(f"{URL_ENV} is not set (minping run starts this worker itself)", file=sys.stderr)
        return 2
    try:
        os.nice(NICE)
    except OSError:
        pass
    logging.basicConfig(level=os.environ.get("MINPING_LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        n = render(engine)
    finally:
        engine.dispose()
    log.info("digest worker: %d digest(s) queued", n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
