"""``minping run`` start-up: clear errors instead of tracebacks."""

from __future__ import annotations

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
