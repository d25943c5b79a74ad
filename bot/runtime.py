"""Starting and stopping the bot on either framework, inside a running event loop.

``minping run``, the demo and the end-to-end tests all use ``BotRuntime``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Literal

from bot.service import Service
from bot.telegram.delivery import Detached
from bot.telegram.webhook import SHUTDOWN_GRACE, WebhookConfig, WebhookServer

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
                 webhook: WebhookConfig | None = None) -> None:
        if not token:
            raise StartupError("TELEGRAM_BOT_TOKEN is not set (put the token from @BotFather in .env)")
        if framework not in ("aiogram", "ptb"):
            raise StartupError(f"BOT_FRAMEWORK must be 'aiogram' or 'ptb', not '{framework}'")
        self.service, self.framework, self.token = service, framework, token
        self.api_base = api_base.rstrip("/") if api_base and "api.telegram.org" not in api_base else None
        self.transport = None
        self.username: str | None = None
        self._task: asyncio.Task | None = None
        self._app = None
        self.webhook = webhook  # None: long polling
        self.webhook_server: WebhookServer | None = None

    async def start(self) -> None:
        if self.framework == "aiogram":
            await self._start_aiogram()
        else:
            await self._start_ptb()
        _settle_gc()
        mode = f"webhook {self.webhook.url}" if self.webhook else "long polling"
        log.info("bot @%s running on %s (%s)", self.username, self.framework, mode)

    async def stop(self) -> None:
        # The webhook stays registered on purpose: Telegram keeps the updates that come
        # meanwhile and delivers them when we are back.
        if self.webhook_server is not None:
            await self.webhook_server.stop()
            self.webhook_server = None
        detached = getattr(self.transport, "detached", None)
        if detached is not None:  # replies of acknowledged updates still on their way
            await detached.drain(SHUTDOWN_GRACE)
        self.service.flush_cards()
        if self.framework == "aiogram":
            with contextlib.suppress(RuntimeError):
                await self._dp.stop_polling()
            if self._task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            await self._bot.session.close()
        elif self._app is not None:
            if self._app.updater.running:
                await self._app.updater.stop()
            await self._app.stop()
            await self._app.shutdown()

    async def __aenter__(self) -> BotRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _unreachable(self, exc: Exception) -> StartupError:
        where = self.api_base or "https://api.telegram.org"
        return StartupError(f"cannot reach the Bot API at {where} with this token: {exc} "
                            "(check TELEGRAM_API_BASE and TELEGRAM_BOT_TOKEN)")

    async def _start_aiogram(self) -> None:
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
        if self.webhook is not None:
            bot, dp = self._bot, self._dp

            async def feed(update: dict) -> None:
                await dp.feed_webhook_update(bot, update)

            await self._serve_webhook(feed, lambda **kw: bot.set_webhook(allowed_updates=a.ALLOWED_UPDATES, **kw))
            return
        await self._bot.delete_webhook()  # back from webhook mode: getUpdates works again
        self._task = asyncio.create_task(self._dp.start_polling(
            self._bot, allowed_updates=a.ALLOWED_UPDATES, handle_signals=False, close_bot_session=False,
            polling_timeout=5,
        ))

    async def _start_ptb(self) -> None:
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
        if self.webhook is not None:
            app = self._app
            from telegram import Update

            async def feed(update: dict) -> None:
                # Handled now, not queued: the webhook answers Telegram once it is committed.
                await app.process_update(Update.de_json(update, app.bot))

            await self._serve_webhook(feed, lambda **kw: app.bot.set_webhook(allowed_updates=p.ALLOWED_UPDATES, **kw))
            return
        await self._app.updater.start_polling(allowed_updates=p.ALLOWED_UPDATES, poll_interval=0, timeout=5)

    async def _serve_webhook(self, feed, set_webhook) -> None:  # noqa: ANN001
        """Listen first, then tell Telegram where to post (and with which secret)."""
        cfg = self.webhook
        self.transport.detached = Detached()
        self.webhook_server = WebhookServer(cfg, feed)
        try:
            await self.webhook_server.start()
        except OSError as exc:
            await self.stop()
            raise StartupError(f"cannot listen on {cfg.host}:{cfg.port} (MINPING_WEBHOOK_LISTEN): {exc}") from exc
        try:
            await set_webhook(url=cfg.url, secret_token=cfg.secret)
        except Exception as exc:
            await self.stop()
            raise StartupError(f"setWebhook to {cfg.url} failed: {exc} (check MINPING_WEBHOOK_URL)") from exc
