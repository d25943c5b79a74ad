"""Fixtures: a threaded dev server per test, and real aiogram / PTB bots pointed at it."""

from __future__ import annotations

import pytest

from devtools.devserver import BotAPIServer
from devtools.devserver.testing import aiogram_bot, ptb_bot

TOKEN = "123456:TEST-token_abc"


@pytest.fixture
def srv():
    """A server without flood limits (tests that need them use limited_srv)."""
    with BotAPIServer(TOKEN, rate_limit=False) as server:
        yield server


@pytest.fixture
def limited_srv():
    with BotAPIServer(TOKEN) as server:
        yield server


@pytest.fixture
async def abot(srv):
    bot = aiogram_bot(srv)
    yield bot
    await bot.session.close()


@pytest.fixture
async def pbot(srv):
    bot = ptb_bot(srv)
    await bot.initialize()
    yield bot
    await bot.shutdown()
