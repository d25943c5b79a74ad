"""Starting and stopping the bot on either framework, inside a running event loop.

``minping run``, the demo and the end-to-end tests all use ``BotRuntime``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING, Literal

from bot import metrics
from bot.service import Service
from bot.telegram.delivery import Detached
from bot.telegram.intake import Intake, Poller
from bot.web import SHUTDOWN_GRACE, WebServer

if TYPE_CHECKING:
    from bot.telegram.webhook import WebhookConfig, WebhookEndpoint

log = logging.getLogger(__name__)

Framework = Literal["aiogram", "ptb"]


def _settle_gc() -> None:
    """Once the bot is up, move everything allocated so far (modules, pydantic and
    SQLAlchemy machinery: long-lived) out of the collector's sight, and collect the young
    generation less often. Each tap allocates many short-lived objects; with the default
    threshold, full collections over the whole heap took ~10% of a tap's CPU
    (py-spy during bench/throughput.py). Memory is still reclaimed: only the cadence
    changes. Once per process (tests start many runtimes)."""
    global _gc_settled
    if _gc_settled:
        return
    _gc_settled = True
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, GC_YOUNG), gen1, gen2)


GC_YOUNG = 20_000  # allocations between young collections (CPython's default: 700)
_gc_settled = False


class StartupError(RuntimeError):
    """The bot cannot start; the message says why in plain words."""


class BotRuntime:
    def __init__(self, service: Service, framework: Framework, token: str | None, api_base: str | None,
                 webhook: WebhookConfig | None = None, web: WebServer | None = None) -> None:
        if not token:
            raise StartupError("TELEGRAM_BOT_TOKEN is not set (put the token from @BotFather in .env)")
        if framework not in ("aiogram", "ptb"):
            raise StartupError(f"BOT_FRAMEWORK must be 'aiogram' or 'ptb', not '{framework}'")
        self.service, self.framework, self.token = service, framework, token
        self.api_base = api_base.rstrip("/") if api_base and "api.telegram.org" not in api_base else None
        self.transport = None
        self.username: str | None = None
        self._app = None
        self._bot = None
        self.intake: Intake | None = None
        self.poller: Poller | None = None
        self._replayer: asyncio.Task | None = None
        self.webhook = webhook  # None: long polling
        self.webhook_endpoint: WebhookEndpoint | None = None
        # The one web server (webhook, Mini App, board, health). Given by the caller with
        # its other parts mounted; made here for a webhook if not given. Started by start().
        self.web = web

    async def start(self) -> None:
        if self.framework == "aiogram":
            feed, fetch, set_webhook = await self._start_aiogram()
        else:
            feed, fetch, set_webhook = await self._start_ptb()
        metrics.bot_api_reached()  # getMe answered (readiness)
        # Replies are shown after their update committed, in order per chat (delivery).
        self.transport.detached = Detached()
        self.intake = Intake(self.service.engine, feed, warn=self._slow_down)
        self._stopping = asyncio.Event()
        self._replayer = asyncio.create_task(self.intake.replay_forever(self._stopping))
        if self.webhook is not None:
            await self._serve_webhook(set_webhook)
        else:
            if self.web is not None:  # polling, with other web parts
                await self._listen()
            await self._delete_webhook()  # back from webhook mode: getUpdates works again
            self.poller = Poller(self.intake, fetch)
            self.poller.start()
        _settle_gc()
        mode = f"webhook {self.webhook.url}" if self.webhook else "long polling"
        log.info("bot @%s running on %s (%s)", self.username, self.framework, mode)

    async def _slow_down(self, update: dict) -> None:
        """The one reply a flooding chat gets (``bot/telegram/flood.py``), in its
        Telegram language (no database read: flooding must stay cheap)."""
        from html import escape

        from bot.telegram.intake import chat_of
        from flows.i18n import t

        sender = next((v.get("from") for v in update.values() if isinstance(v, dict) and "from" in v), None) or {}
        locale = "en" if str(sender.get("language_code") or "").startswith("en") else "zh"
        await self.transport.send_message(chat_of(update), escape(t("flood.slow_down", locale)))

    async def stop(self) -> None:
        """Stop taking updates and finish those in hand (``SHUTDOWN_GRACE`` each step):
        the poller's batch commits or stays with Telegram, the webhook's requests in hand
        are answered, replies already committed are shown, card ids are stored."""
        # The webhook stays registered on purpose: Telegram keeps the updates that come
        # meanwhile and delivers them when we are back.
        if self._replayer is not None:
            self._stopping.set()
            await asyncio.gather(self._replayer, return_exceptions=True)
            self._replayer = None
        if self.poller is not None:
            await self.poller.close(SHUTDOWN_GRACE)
            self.poller = None
        if self.web is not None:
            await self.web.stop()
        detached = getattr(self.transport, "detached", None)
        if detached is not None:  # replies of committed updates still on their way
            await detached.drain(SHUTDOWN_GRACE)
        await asyncio.to_thread(self.service.flush_cards)  # off the loop: the stop deadline still fires
        if self.framework == "aiogram":
            if self._bot is not None:
                await self._bot.session.close()
        elif self._app is not None:
            if self._app.running:
                await self._app.stop()
            await self._app.shutdown()
        log.info("bot @%s stopped", self.username)

    async def __aenter__(self) -> BotRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _unreachable(self, exc: Exception) -> StartupError:
        where = self.api_base or "https://api.telegram.org"
        return StartupError(f"cannot reach the Bot API at {where} with this token: {exc} "
                            "(check TELEGRAM_API_BASE and TELEGRAM_BOT_TOKEN)")

    async def _start_aiogram(self):  # noqa: ANN202
        from bot.telegram import aiogram_app as a

        self._bot = a.make_bot(self.token, self.api_base)
        self.transport = a.AiogramTransport(self._bot)
        self._dp = a.make_dispatcher(self.service, self.transport)
        try:
            me = await self._bot.get_me()
            await a.set_commands(self._bot)
        except Exception as exc:
            await self._bot.session.close()
            raise self._unreachable(exc) from exc
        self.username = me.username
        bot = self._bot
        self._delete_webhook = bot.delete_webhook
        return (a.make_feed(self._dp, bot, self.service, self.transport), a.make_fetch(self.transport),
                lambda **kw: bot.set_webhook(allowed_updates=a.ALLOWED_UPDATES, **kw))

    async def _start_ptb(self):  # noqa: ANN202
        from bot.telegram import ptb_app as p

        self._app = p.make_application(self.service, self.token, self.api_base)
        self.transport = self._app.bot_data["transport"]
        try:
            await self._app.initialize()
            await p.set_commands(self._app)
        except Exception as exc:
            raise self._unreachable(exc) from exc
        self.username = self._app.bot.username
        await self._app.start()
        app = self._app
        self._delete_webhook = app.bot.delete_webhook
        return (p.make_feed(app), p.make_fetch(app),
                lambda **kw: app.bot.set_webhook(allowed_updates=p.ALLOWED_UPDATES, **kw))

    async def _serve_webhook(self, set_webhook) -> None:  # noqa: ANN001
        """Listen first, then tell Telegram where to post (and with which secret)."""
        cfg = self.webhook
        if self.web is None:
            self.web = WebServer(cfg.host, cfg.port)
        from bot.telegram.webhook import WebhookEndpoint

        self.webhook_endpoint = WebhookEndpoint(cfg, self.intake.take_webhook)
        self.web.mount(self.webhook_endpoint)
        await self._listen()
        try:
            await set_webhook(url=cfg.url, secret_token=cfg.secret)
        except Exception as exc:
            await self.stop()
            raise StartupError(f"setWebhook to {cfg.url} failed: {exc} (check MINPING_WEBHOOK_URL)") from exc

    async def _listen(self) -> None:
        try:
            await self.web.start()
        except OSError as exc:
            await self.stop()
            raise StartupError(f"cannot listen on {self.web.host}:{self.web._port} "
                               f"(MINPING_LISTEN / MINPING_WEBHOOK_LISTEN): {exc}") from exc
