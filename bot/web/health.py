"""``/healthz``, ``/readyz`` and ``/metrics``: a web part of ``minping run`` (``bot.web``).

* ``GET /healthz``: 200 while the process serves HTTP (its event loop runs). For a
  liveness probe: restart the process when it fails.
* ``GET /readyz``: 200 when this worker can do its work now: the database answers, its
  schema is the newest (``minping migrate`` was run), and the Bot API answered at start.
  503 otherwise, with the failing check named. For a load balancer or a readiness probe:
  send no traffic while it fails. JSON: ``{"ready": bool, "checks": {...}}``.
* ``GET /metrics``: the Prometheus text format (``bot/metrics.py``). Keep it (and the two
  above) off the public proxy: scrape each worker on its own address.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.engine import Engine

from bot import metrics
from storage.health import database_status

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds: a database that takes longer is as good as down


class HealthPart:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready: bool | None = None  # last answer, to log changes only

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _database(self) -> tuple[bool, bool, str]:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(None, database_status, self.engine), CHECK_TIMEOUT)
        except asyncio.TimeoutError:
            return False, False, f"database did not answer within {CHECK_TIMEOUT:.0f} s"

    async def readyz(self, request: web.Request) -> web.Response:
        reachable, current, detail = await self._database()
        metrics.DATABASE_UP.set(1 if reachable else 0)
        bot = metrics.bot_api_was_reached()
        checks = {"database": "ok" if reachable else detail,
                  "schema": "ok" if current else (detail if reachable else "unknown"),
                  "bot_api": "ok" if bot else "not reached yet"}
        ready = reachable and current and bot
        if ready != self._ready:
            if self._ready is not None or not ready:
                log.warning("readiness: %s", "ready" if ready else
                            "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"))
            self._ready = ready
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, metrics.refresh_from_database, self.engine),
                                   CHECK_TIMEOUT)
        except asyncio.TimeoutError:
            metrics.DATABASE_UP.set(0)
        body = metrics.generate()
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})
