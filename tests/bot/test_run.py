"""``minping run`` start-up: clear errors instead of tracebacks."""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.devserver import BotAPIServer
from bot.settings import get_settings


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_missing_token_is_named(env):
    env.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.output


def test_wrong_token_or_api_base_is_named(env):
    with BotAPIServer(token="1:right") as srv:
        env.setenv("TELEGRAM_BOT_TOKEN", "1:wrong")
        env.setenv("TELEGRAM_API_BASE", srv.base_url)
        result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert "cannot reach the Bot API" in result.output and "TELEGRAM_API_BASE" in result.output


def test_unreachable_database_is_named(env, tmp_path):
    env.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    env.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and "cannot open the database" in result.output


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MINPING_WEBHOOK_LISTEN", "localhost", "MINPING_WEBHOOK_LISTEN must be host:port"),
    ("MINPING_WEBHOOK_SECRET", "has spaces!", "MINPING_WEBHOOK_SECRET may only contain"),
    ("MINPING_WEBHOOK_URL", "bot.example.org/hook", "MINPING_WEBHOOK_URL must be a full URL"),
])
def test_bad_webhook_settings_are_named(env, name, value, message):
    env.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    env.setenv("MINPING_WEBHOOK_URL", "https://bot.example.org/hook")
    env.setenv(name, value)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and message in result.output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_run_serves_schedules_and_stops_cleanly(tmp_path, mode):
    """The real ``minping run`` process: answers a person, holds the scheduler lease while
    running, and on Ctrl-C stops and hands the lease back."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from sqlmodel import select

    from storage.db import make_engine, session_scope
    from storage.models import SchedulerLease

    db = tmp_path / "run.db"
    with BotAPIServer(token="5:run") as srv:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": "5:run",
               "TELEGRAM_API_BASE": srv.base_url, "MINPING_LOG_LEVEL": "WARNING"}
        if mode == "webhook":
            port = _free_port()
            env |= {"MINPING_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "MINPING_WEBHOOK_LISTEN": f"127.0.0.1:{port}"}
        minping = Path(sys.executable).with_name("minping")
        proc = subprocess.Popen([str(minping), "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            u = srv.user(77)
            deadline = time.monotonic() + 60
            while not srv.calls_of("setMyCommands") and time.monotonic() < deadline:
                time.sleep(0.1)
            u.send("/start")
            u.wait_for("还没有参加", 30)  # the bot answered
            if mode == "webhook":
                assert srv.webhook_url == f"http://127.0.0.1:{port}/hook"
                assert not srv.calls_of("getUpdates")
            engine = make_engine(f"sqlite:///{db}")
            for _ in range(100):
                with session_scope(engine) as s:
                    held = s.exec(select(SchedulerLease)).first()
                if held is not None:
                    break
                time.sleep(0.1)
            assert held is not None and held.expires_at.replace(tzinfo=None) > datetime.utcnow()
        finally:
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "stopped" in out
        with session_scope(engine) as s:  # handed back: another process may take over at once
            assert s.exec(select(SchedulerLease)).one().expires_at.year == 1970
        engine.dispose()
