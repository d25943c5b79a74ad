"""/healthz and /readyz of a real ``minping run``: ready while the database answers, 503
while it is gone (PostgreSQL: the link to it cut; SQLite: the file moved away), ready
again once it is back, and what a rater sent meanwhile is answered afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from devtools.devserver import BotAPIServer
from storage.db import make_engine, session_scope
from storage.health import database_status, newest_revision
from tests.e2e.rater import open_campaign
from tests.run_process import MinpingRun, database_url, free_port
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


async def get(url: str) -> tuple[int, dict | str]:
    async with aiohttp.ClientSession() as http, http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


async def until(url: str, status: int, within: float) -> dict:
    deadline = time.monotonic() + within
    while True:
        got, body = await get(url)
        if got == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} still {got} {body} after {within} s (wanted {status})")
        await asyncio.sleep(0.3)


class Outage:
    """Makes the test database unreachable for the ``minping run`` process and back."""

    def __init__(self, engine, stack: contextlib.ExitStack) -> None:  # noqa: ANN001
        self.engine = engine
        url = database_url(engine)
        if engine.dialect.name == "postgresql":
            port = engine.url.port or 5432
            self.proxy = stack.enter_context(TcpProxy("127.0.0.1", port))
            self.url = url.replace(f"@{engine.url.host}:{port}/", f"@127.0.0.1:{self.proxy.port}/")
            assert self.url != url
        else:
            self.proxy = None
            self.url = url
            self.path = Path(engine.url.database)

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            self.path.rename(self.path.with_suffix(".away"))

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        else:
            self.path.with_suffix(".away").rename(self.path)


async def test_readyz_is_503_while_the_database_is_gone_and_200_again_after(engine, tmp_path):
    _, token = open_campaign(engine)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with BotAPIServer(token="4545:health", rate_limit=False) as srv, contextlib.ExitStack() as stack:
        outage = Outage(engine, stack)
        run = stack.enter_context(MinpingRun(tmp_path, srv, outage.url, env={"MINPING_LISTEN": f"127.0.0.1:{port}"}))
        await asyncio.to_thread(run.start)
        assert (await get(f"{base}/healthz"))[0] == 200
        ready = await until(f"{base}/readyz", 200, 10)
        assert ready == {"ready": True, "checks": {"database": "ok", "schema": "ok", "bot_api": "ok"}}

        outage.cut()
        down = await until(f"{base}/readyz", 503, 15)
        assert down["ready"] is False and "unreachable" in down["checks"]["database"], down
        assert down["checks"]["bot_api"] == "ok"
        status, alive = await get(f"{base}/healthz")
        assert (status, alive) == (200, {"alive": True})  # alive: no restart for a database outage
        u = srv.user(70_001, language_code="zh")
        u.send(f"/start {token}")  # while the database is gone
        await asyncio.sleep(1.0)

        outage.restore()
        assert (await until(f"{base}/readyz", 200, 30))["ready"] is True
        await u.wait_for_async(lambda m: "同意参加" in m.labels, 30)  # answered once it was back
        assert run.term() == 0, run.output


def test_readyz_says_so_when_the_schema_is_behind(engine):
    assert database_status(engine) == (True, True, "ok")
    with session_scope(engine) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    reachable, current, detail = database_status(engine)
    assert reachable and not current
    assert "0007" in detail and newest_revision() in detail and "minping migrate" in detail


def test_readyz_says_a_missing_sqlite_file_is_unreachable(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'nothing.db'}")
    (tmp_path / "nothing.db").unlink(missing_ok=True)
    reachable, current, detail = database_status(eng)
    assert (reachable, current) == (False, False) and "unreachable" in detail
    assert not (tmp_path / "nothing.db").exists()  # the check does not create it
