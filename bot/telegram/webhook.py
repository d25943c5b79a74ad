"""Webhook mode: a small aiohttp server that Telegram POSTs updates to.

Shared by both frameworks, mounted on the one web server (``bot.web``): it checks the secret Telegram sends in
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

from typing import TYPE_CHECKING

from bot.logs import redact_also
from bot.web import ListenError, parse_listen

if TYPE_CHECKING:  # imported when a webhook is served: a polling bot does without aiohttp
    from aiohttp import web

log = logging.getLogger(__name__)

HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts


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
            redact_also(secret)  # never in a log line (bot/logs.py)
            log.warning("MINPING_WEBHOOK_SECRET is not set: using a new random secret for this run "
                        "(set it in .env to keep one across restarts)")
        elif not _SECRET.fullmatch(secret):
            raise WebhookConfigError("MINPING_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - "
                                     "(1 to 256 characters)")
        try:
            host, port = parse_listen(listen, "MINPING_WEBHOOK_LISTEN")
        except ListenError as exc:
            raise WebhookConfigError(str(exc)) from None
        return cls(url, secret, host, port)


class WebhookEndpoint:
    """Receives updates at ``config.path`` and passes each (a dict) to ``feed``; a part of
    the one web server (``bot.web.WebServer``)."""

    def __init__(self, config: WebhookConfig, take: Callable[[dict], Awaitable[bool]]) -> None:
        self.config = config
        self.take = take  # True once applied or parked (``bot/telegram/intake.py``)
        self.refused = 0

    def mount(self, app: web.Application) -> None:
        app.router.add_post(self.config.path, self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        from aiohttp import web

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
        log.debug("webhook %s", update)  # kind and size only (bot/logs.py), unless the unsafe switch
        if not await self.take(update):
            # Not applied (the database is unreachable): Telegram delivers it again later.
            return web.Response(status=503, text="Service Unavailable: try again")
        return web.Response(text="ok")
