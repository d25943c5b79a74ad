"""``minping run`` in webhook mode serves the Mini App on the webhook's own server, and
the chat's /resume points at it."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.devserver import BotAPIServer
from tests.e2e.rater import open_campaign
from tests.run_process import MinpingRun, database_url

pytestmark = pytest.mark.postgres
TOKEN = "4444:served"


def wait(u, predicate, timeout: float = 15):  # noqa: ANN001, ANN201
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(u.wait_for, predicate, timeout).result()


def test_webhook_and_mini_app_share_one_server(engine, tmp_path):
    _, token = open_campaign(engine)
    with BotAPIServer(token=TOKEN, rate_limit=False) as srv:
        run = MinpingRun(tmp_path, srv, database_url(engine), mode="webhook")
        run.env["MINPING_PUBLIC_URL"] = f"http://127.0.0.1:{run.port}"
        with run:
            run.start()
            base = f"http://127.0.0.1:{run.port}"
            with urllib.request.urlopen(base + "/app/", timeout=10) as resp:
                assert resp.status == 200 and "Content-Security-Policy" in resp.headers
                assert 'id="app"' in resp.read().decode()
            u = srv.user(9701, "周", language_code="zh")
            u.send(f"/start {token}")  # through the webhook
            wait(u, lambda m: "同意参加" in m.labels)
            u.tap("同意参加")
            wait(u, lambda m: "交通局" in (m.text or "") and m.buttons)
            u.send("/resume")
            wait(u, lambda m: "也可以在一个页面中填写" in (m.text or ""))
            url = u.open_web_app()
            assert url.startswith(base + "/app/#tgWebAppData=")
            init = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).fragment))["tgWebAppData"]
            body = json.dumps({"init": init, "op": "save", "answers": {"water": {"style": "satisfied"}}}).encode()
            req = urllib.request.Request(base + "/app/api", data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                answer = json.loads(resp.read())
            assert answer["status"] == "ok" and answer["done"] == 0 and answer["total"] == 2
