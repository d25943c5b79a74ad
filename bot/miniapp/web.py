"""The Mini App's HTTP side: a web part of ``minping run``'s one server (``bot.web``).

``GET /app/`` is the page (one HTML document: styles and script inline, nothing from
elsewhere); the page posts every action to ``POST /app/api`` with Telegram's signed
launch data. Each request is checked (``bot.miniapp.auth``) before the service sees it,
then runs as one service event (``bot.miniapp.actions``). Answers come back as JSON with
server-rendered HTML (Jinja2, autoescaped) for the page to show.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.miniapp import actions, auth
from bot.miniapp.links import PATH
from bot.miniapp.texts import t
from bot.service import Service

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # a whole questionnaire's edits with long opinions fit easily
_ENV = Environment(loader=PackageLoader("bot.miniapp", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_SHELL_KEYS = ("loading", "open_in_telegram", "error", "saved", "saving", "complete", "incomplete")
_NOT_STORED = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# Auth failures: HTTP status and the page's words.
_REFUSALS = {"missing": (401, "app.open_in_telegram"), "forged": (403, "app.forged"), "stale": (403, "app.stale")}


def _lang(value: object) -> str:
    return "en" if isinstance(value, str) and value.lower().startswith("en") else "zh"


class MiniApp:
    """``mount(app)`` adds the page and its API. ``token`` signs the launch data
    (the bot's token); launch data older than ``max_age`` seconds is refused."""

    def __init__(self, service: Service, token: str, max_age: float = 86_400,
                 clock: Callable[[], float] = time.time) -> None:
        self.service, self.token, self.max_age, self.clock = service, token, max_age, clock

    @classmethod
    def from_settings(cls, settings, service: Service) -> MiniApp:  # noqa: ANN001
        from bot.miniapp.links import check

        if (warning := check(settings)) is not None:
            log.warning(warning)
        return cls(service, settings.telegram_bot_token or "", settings.app_max_age)

    def mount(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.page)
        app.router.add_get(PATH.rstrip("/"), self.redirect)
        app.router.add_post(PATH + "api", self.api)

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(PATH)

    async def page(self, request: web.Request) -> web.Response:
        nonce = secrets.token_urlsafe(18)
        texts = {loc: {k: t(f"app.{k}", loc) for k in _SHELL_KEYS} for loc in ("zh", "en")}
        body = _ENV.get_template("page.html").render(nonce=nonce, texts=texts)
        # Nothing but this page's own inline style and script, and requests to itself;
        # framing stays allowed (Telegram's web clients show Mini Apps in a frame).
        csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")
        return web.Response(text=body, content_type="text/html", charset="utf-8",
                            headers={**_NOT_STORED, "Content-Security-Policy": csp})

    async def api(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._notice(413, "invalid", "zh", t("app.invalid", "zh"), error=True)
        try:
            raw = await request.content.read(MAX_BODY + 1)
            body = json.loads(raw) if len(raw) <= MAX_BODY else None
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return self._notice(400, "invalid", "zh", t("app.invalid", "zh"), error=True)
        lang = _lang(body.get("lang"))
        try:
            user = auth.verify(body.get("init"), self.token, self.max_age, self.clock())
        except auth.InitDataError as exc:
            status, key = _REFUSALS[exc.kind]
            return self._notice(status, exc.kind, lang, t(key, lang), title=t("app.problem", lang), error=True)
        op = body.get("op")
        locale = body.get("locale") if body.get("locale") in ("zh", "en") else None
        inc = actions.request(user.id, op if isinstance(op, str) else "", locale=locale, answers=body.get("answers"),
                              picks=body.get("picks"), opinions=body.get("opinions"),
                              language_code=user.language_code)
        try:
            reply = await self.service.run(self.service.handle, inc)
        except Exception:  # database down or the like: the page keeps the edits and retries
            log.exception("Mini App request failed")
            return self._notice(503, "error", lang, t("app.error", lang), error=True)
        return self._answer(reply, op)

    def _answer(self, reply: actions.AppReply, op: object) -> web.Response:
        loc = reply.locale
        if reply.status == "submitted":
            return self._notice(200, "submitted", loc, t("app.thanks", loc), title=t("app.thanks_title", loc))
        if reply.status == "done":
            return self._notice(409, "done", loc, reply.notice or "", title=t("app.done_title", loc))
        if reply.status == "refused":
            return self._notice(403, "refused", loc, reply.notice or "", title=t("app.problem", loc),
                                hint=t("app.back_to_chat", loc), error=True)
        if reply.status != "ok" or reply.view is None:
            return self._notice(400, "invalid", loc, reply.notice or t("app.invalid", loc), error=True)
        v = reply.view
        out = {"status": "ok", "notice": reply.notice, "done": v["done"], "total": v["total"],
               "progress_text": t("app.progress", loc, done=v["done"], total=v["total"]),
               "complete": {u["key"]: u["complete"] for c in v["categories"] for u in c["units"]},
               "rated": {u["key"]: u["picked"] for c in v["categories"] for u in c["units"]}}
        if op != "save":
            out["html"] = _ENV.get_template("questionnaire.html").render(v=v, T=lambda key, **kw: t(key, loc, **kw))
        return web.json_response(out, headers=_NOT_STORED)

    def _notice(self, http: int, status: str, loc: str, text: str, *, title: str | None = None,
                hint: str | None = None, error: bool = False) -> web.Response:
        html = _ENV.get_template("notice.html").render(status=status, text=text, title=title, hint=hint, error=error)
        return web.json_response({"status": status, "html": html}, status=http, headers=_NOT_STORED)
