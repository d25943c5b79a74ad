"""End-to-end fixtures: the real bot (aiogram or python-telegram-bot) talking HTTP to
the local Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from devtools.devserver import BotAPIServer
from bot.runtime import BotRuntime
from bot.service import Service
from tests.e2e.rater import open_campaign

TOKEN = "4242:test-token"


@pytest.fixture(params=["aiogram", "ptb"])
def framework(request) -> str:
    return request.param


@pytest.fixture
def api_server():
    with BotAPIServer(token=TOKEN) as srv:
        yield srv


@pytest.fixture
def loaded(engine):
    """The small test campaign, stored, with the recipients group open to all (the draw
    has its own e2e test) and that group's enrolment token."""
    return open_campaign(engine)


@pytest.fixture
async def running_bot(engine, api_server, framework, loaded):
    runtime = BotRuntime(Service(engine), framework, TOKEN, api_server.base_url)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
