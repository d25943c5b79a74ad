"""A local Telegram Bot API server for tests, the demo and benchmarks.

Real aiogram / python-telegram-bot clients talk HTTP to it; in-process "users"
(:meth:`BotAPIServer.user`) send messages, tap buttons and read what the bot sent.

Threaded (usable from sync code, pytest and any other event loop)::

    with BotAPIServer(rate_limit=False) as srv:          # srv.base_url == "http://127.0.0.1:PORT"
        bot = testing.aiogram_bot(srv)                    # or testing.ptb_bot(srv)
        u = srv.user(100, "Ann", language_code="zh")
        u.send("/start abc")
        u.wait_for("请选择")                               # in a coroutine: await u.wait_for_async(...)
        u.tap("满意")

In the running loop: ``await srv.start()`` / ``await srv.stop()`` or ``async with BotAPIServer()``.

aiogram: ``AiohttpSession(api=TelegramAPIServer.from_base(srv.base_url))``;
PTB: ``Application.builder().token(srv.token).base_url(srv.ptb_base_url)`` (base_url + "/bot").
Flood limits: see :mod:`devtools.devserver.ratelimit`.  CLI: ``python -m devtools.devserver``.
"""

from . import testing
from .client import FileInfo, MessageView, UserHandle
from .htmltext import EntityParseError, parse_html
from .params import ApiError
from .ratelimit import RateLimitConfig, RateLimiter
from .server import BotAPIServer
from .state import CallbackAnswer, CallRecord

__all__ = [
    "BotAPIServer", "UserHandle", "MessageView", "FileInfo", "RateLimitConfig", "RateLimiter",
    "CallbackAnswer", "CallRecord", "ApiError", "EntityParseError", "parse_html", "testing",
]
