"""The one HTTP server of ``minping run`` (DESIGN.md §7).

One aiohttp application serves every web part of the product: the Telegram webhook
(``bot/telegram/webhook.py``), and later the Mini App, the public board and the health
and metrics endpoints. Each part is an object with ``mount(app)`` that adds its routes;
parts are mounted before the server starts (aiohttp freezes the routes then).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # aiohttp is imported when a server is made: a polling PTB bot never needs it
    from aiohttp import web

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 3.0  # seconds at stop for requests in hand (then for replies)


class WebPart(Protocol):
    def mount(self, app: web.Application) -> None: ...


class ListenError(ValueError):
    """A listen address is unusable; the message names the setting."""


def parse_listen(listen: str, setting: str = "MINPING_LISTEN") -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ListenError(f"{setting} must be host:port, e.g. 127.0.0.1:8080, not '{listen}'")
    return host.strip("[]"), int(port)


class BoardPathError(ValueError):
    """MINPING_BOARD_PATH (the public board, ``bot/web/board.py``) is unusable; the message says why."""


def parse_path(value: str) -> str | None:
    """'/board' (default), any '/a/b'; '' or 'off': not served."""
    value = value.strip()
    if value in ("", "off"):
        return None
    if not re.fullmatch(r"(/[A-Za-z0-9_-]+)+/?", value):
        raise BoardPathError(f"MINPING_BOARD_PATH must be a path like /board (letters, digits, '-', '_'), "
                             f"or off; not '{value}'")
    return value.rstrip("/")


class WebServer:
    """Listens on ``host:port`` (port 0: any free port, see ``port``) and serves the
    mounted parts."""

    def __init__(self, host: str, port: int) -> None:
        from aiohttp import web

        self.host, self._port = host, port
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def started(self) -> bool:
        return self._runner is not None

    def mount(self, part: WebPart) -> None:
        if self._runner is not None:
            raise RuntimeError("mount every web part before the server starts")
        part.mount(self.app)

    async def start(self) -> None:
        from aiohttp import web

        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=SHUTDOWN_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening; requests in hand get ``SHUTDOWN_GRACE`` seconds."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
