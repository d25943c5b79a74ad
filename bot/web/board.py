"""The public board served live: a web part of ``minping run`` (``bot.web``).

``GET {path}/`` lists the campaigns; ``GET {path}/CAMPAIGN/`` and below serve the same
files ``minping site`` writes (``reports/board.py``), built from the database at each
request by a renderer process of its own (spawned on the first request; charts and the
font cached there): matplotlib never enters the bot's process and a chart being drawn
never stalls its event loop. ``?lang=en`` (or ``zh``) leads to the page in that
language (``en/`` paths). Nothing is loaded from elsewhere, and the Content-Security-
Policy says so to the browser. The path is ``MINPING_BOARD_PATH`` (default ``/board``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.web import BoardPathError, parse_path  # noqa: F401  (re-exported)
from flows.campaign import KEY_PATTERN
from reports import board_texts as board  # languages and paths only: the pages render in the renderer process
from storage import campaigns
from storage.db import session_scope

log = logging.getLogger(__name__)

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-cache"}
_KEY = re.compile(KEY_PATTERN)
_PATH = re.compile(r"^(?:[A-Za-z0-9_-]+/)*(?:[A-Za-z0-9_.-]+)?$")  # relative, no '..', no '//'


_renderer: ProcessPoolExecutor | None = None


def renderer() -> ProcessPoolExecutor:
    """The board's renderer process, one per bot process, started on first use."""
    global _renderer  # noqa: PLW0603
    if _renderer is None:
        _renderer = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _renderer


def _live_file_at(url: str, campaign_id: str, tail: str, now: datetime):  # noqa: ANN202
    """In the renderer process: the page, chart or file (``reports.board``, Jinja2, charts
    and all are imported there, never in the bot's process)."""
    from reports import board as pages

    return pages.live_file_at(url, campaign_id, tail, now)


class BoardPart:
    def __init__(self, engine: Engine, path: str = "/board",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine, self.path, self.clock = engine, path, clock
        self.url = engine.url.render_as_string(hide_password=False)

    def mount(self, app: web.Application) -> None:
        app.router.add_get(self.path, self.to_list)
        app.router.add_get(self.path + "/", self.campaign_list)
        app.router.add_get(self.path + "/{campaign}", self.to_campaign)
        app.router.add_get(self.path + "/{campaign}/{tail:.*}", self.file)

    async def to_list(self, request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(self.path + "/")

    async def to_campaign(self, request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(f"{self.path}/{request.match_info['campaign']}/")

    async def campaign_list(self, request: web.Request) -> web.Response:
        def rows() -> list[tuple[str, str]]:
            with session_scope(self.engine) as s:
                return [(r.id, r.title if isinstance(r.title, str) else r.title.get("zh") or next(iter(r.title.values())))
                        for r in campaigns.list_campaigns(s)]

        found = await asyncio.get_running_loop().run_in_executor(None, rows)
        items = "".join(f'<li><a href="{escape(cid)}/">{escape(title)}</a></li>' for cid, title in found)
        return self._html(200, "评议公开栏 · Public board", f"<ul>{items}</ul>" if items else "<p>（无）</p>")

    async def file(self, request: web.Request) -> web.Response:
        cid, tail = request.match_info["campaign"], request.match_info["tail"]
        if not _KEY.fullmatch(cid) or not _PATH.fullmatch(tail):
            return self._not_found()
        lang = request.query.get("lang")
        if lang in board.LOCALES:
            bare = next((tail[len(board.prefix(loc)):] for loc in board.LOCALES[1:]
                         if tail.startswith(board.prefix(loc))), tail)
            raise web.HTTPFound(f"{self.path}/{cid}/{board.prefix(lang)}{bare}")
        global _renderer  # noqa: PLW0603
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(renderer(), _live_file_at, self.url, cid, tail, self.clock())
        except BrokenProcessPool:  # the renderer died (killed, out of memory): a new one next time
            log.warning("the public board's renderer process died; starting a new one on the next request")
            _renderer = None
            return self._html(503, "请稍后再试 · Try again", "<p>请稍后再试。</p><p lang=\"en\">Please try again.</p>")
        if found is None:
            return self._not_found()
        return web.Response(body=found.body, content_type=found.content_type,
                            charset="utf-8" if found.content_type.startswith(("text/", "application/json")) else None,
                            headers=HEADERS)

    def _not_found(self) -> web.Response:
        return self._html(404, "没有这个页面 · Not found", "<p>没有这个页面。</p><p lang=\"en\">No such page.</p>")

    def _html(self, status: int, title: str, body: str) -> web.Response:
        page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
                f'content="width=device-width, initial-scale=1"><title>{title}</title></head><body><h1>{title}</h1>'
                f"{body}</body></html>")
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)
