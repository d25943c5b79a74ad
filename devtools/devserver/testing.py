"""Helpers to point the real client libraries at a :class:`BotAPIServer`.

Imports aiogram / PTB lazily so the dev server itself needs neither.
"""

from __future__ import annotations

import datetime as dtm
import warnings
from typing import Any

from .server import BotAPIServer

__all__ = ["aiogram_session", "aiogram_bot", "ptb_bot", "retry_after_seconds"]


def aiogram_session(srv: BotAPIServer, **kwargs: Any):
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    return AiohttpSession(api=TelegramAPIServer.from_base(srv.base_url), **kwargs)


def aiogram_bot(srv: BotAPIServer, **kwargs: Any):
    """aiogram.Bot using the dev server; close with ``await bot.session.close()``."""
    from aiogram import Bot

    return Bot(srv.token, session=aiogram_session(srv), **kwargs)


def ptb_bot(srv: BotAPIServer, **kwargs: Any):
    """telegram.Bot using the dev server; ``async with`` it (or initialize/shutdown)."""
    from telegram import Bot

    return Bot(srv.token, base_url=srv.ptb_base_url, base_file_url=srv.base_url + "/file/bot", **kwargs)


def retry_after_seconds(exc: Any) -> float:
    """retry_after of aiogram's TelegramRetryAfter or PTB's RetryAfter, in seconds
    (PTB returns an int or a timedelta depending on its settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
