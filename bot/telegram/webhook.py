"""Webhook mode: a small aiohttp server that Telegram POSTs updates to.

Shared by both frameworks: it checks the secret Telegram sends in
``X-Telegram-Bot-Api-Secret-Token`` (403 otherwise, and the body is not even read),
hands the update to the framework's own processing (``feed``) and answers 200 once the
update's transaction has committed; the reply is shown in the background
(``bot.telegram.delivery.Detached``), so flood-control waits never hold Telegram's
connection. A crash before the commit leaves the update with Telegram, which delivers it
again; Telegram's ``max_connections`` (40) caps how many updates are in hand at once.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts
SHUTDOWN_GRACE = 5.0  # seconds at stop for updates in hand, then for their replies


class WebhookConfigError(ValueError):
    """A webhook setting is unusable; the message says which and why."""


@dataclass(frozen=True)
class WebhookConfig:
    url: str  # the public URL Telegram posts to
    secret: str
    host: str
    port: int

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @classmethod
    def from_settings(cls, url: str, secret: str | None, listen: str) -> WebhookConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise WebhookConfigError(f"MINPING_WEBHOOK_URL must be a full URL like https://bot.example.org/telegram, "
                                     f"not '{url}'")
        if secret is None or secret == "":
            secret = secrets.token_urlsafe(32)
            log.warning("MINPING_WEBHOOK_SECRET is not set: using a new random secret for this run "
                        "(set it in .env to keep one across restarts)")
        elif not _SECRET.fullmatch(secret):
            raise WebhookConfigError("MINPING_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - "
                                     "(1 to 256 characters)")
        host, sep, port = listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise WebhookConfigError(f"MINPING_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8080, not '{listen}'")
        return cls(url, secret, host.strip("[]"), int(port))


class WebhookServer:
    """Receives updates at ``config.path`` and passes each (a dict) to ``feed``."""

    def __init__(self, config: WebhookConfig, feed: Callable[[dict], Awaitable[None]]) -> None:
        self.config = config
        self.feed = feed
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), self.config.secret.encode()):
            self.refused += 1
            log.warning("webhook request without the right secret token refused (from %s)", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            update = await request.json()
        except ValueError:
            return web.Response(status=400, text="Bad Request: not JSON")
        if not isinstance(update, dict):
            return web.Response(status=400, text="Bad Request: not an update")
        await self._process(update)
        return web.Response(text="ok")

    async def _process(self, update: dict) -> None:
        try:
            await self.feed(update)
        except Exception:  # one bad update must not stop the server
            log.exception("webhook update %s failed", update.get("update_id"))

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(self.config.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening; updates in hand get ``SHUTDOWN_GRACE`` seconds to commit."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
