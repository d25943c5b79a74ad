"""``minping run`` start-up: clear errors instead of tracebacks."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from devtools.devserver import BotAPIServer
from bot.settings import get_settings
from storage.db import make_engine, migrate, session_scope
from storage.models import ProcessedUpdate, SchedulerLease
from tests.run_process import MinpingRun


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["migrate"]).exit_code == 0
    get_settings.cache_clear()  # each test sets its own variables
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


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_in_time_and_hands_over_the_scheduler(tmp_path, mode, sig):
    """The real ``minping run``: answers a person and holds the scheduler lease while
    running; on SIGTERM (systemd, docker stop) or Ctrl-C it stops taking updates, exits 0
    within 10 s and hands the lease back, so a second process runs the next due job at
    once (here: housekeeping forgetting an old update id)."""
    db = tmp_path / "run.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with BotAPIServer(token="5:run") as srv, MinpingRun(tmp_path, srv, f"sqlite:///{db}", mode=mode) as run:
        run.start()
        if mode == "webhook":
            assert srv.webhook_url == f"http://127.0.0.1:{run.port}/hook" and not srv.calls_of("getUpdates")
        u = srv.user(77)
        u.send("/start")
        u.wait_for("还没有参加", 30)  # the bot answered
        held = _lease(engine, wait=True)
        assert held is not None and held.expires_at.replace(tzinfo=UTC) > datetime.now(UTC)
        started = time.monotonic()
        assert run.term(sig, timeout=15) == 0, run.output
        assert time.monotonic() - started < 10
        assert "stopped" in run.output
        assert _lease(engine).expires_at.year == 1970  # handed back
        with session_scope(engine) as s:
            s.add(ProcessedUpdate(update_id=999_999_999, handled_at=datetime.now(UTC) - timedelta(days=30)))
        run.start()  # a second process takes over at once: its first tick runs the jobs
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_scope(engine) as s:
                if s.get(ProcessedUpdate, ("telegram", 999_999_999)) is None:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the second process did not run the housekeeping job within 10 s")
        assert run.term() == 0
    engine.dispose()


def _lease(engine, wait: bool = False):  # noqa: ANN001
    for _ in range(100 if wait else 1):
        with session_scope(engine) as s:
            held = s.exec(select(SchedulerLease)).first()
        if held is not None:
            return held
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
def test_the_running_process_carries_no_cli_framework(tmp_path, framework):
    """``minping run`` answers people without loading typer, rich, click, pygments or the
    other commands' modules (memory and start-up: issue 19; with PTB, httpx would load
    its own command-line tool through them); every import it made is listed on its
    stderr by Python itself (PYTHONPROFILEIMPORTTIME)."""
    db = tmp_path / "run.db"
    migrate(make_engine(f"sqlite:///{db}"))
    with BotAPIServer(token="5:lean") as srv, MinpingRun(tmp_path, srv, f"sqlite:///{db}", stderr_apart=True,
                                                          framework=framework,
                                                          env={"PYTHONPROFILEIMPORTTIME": "1"}) as run:
        run.start()
        u = srv.user(78)
        u.send("/start")
        u.wait_for("还没有参加", 30)
        assert run.term(timeout=15) == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.err_lines if line.startswith("import time:")}
    assert "bot.service" in imported and "sqlalchemy" in imported  # the listing is complete
    assert not {"typer", "rich", "click", "pygments", "bot.cli.common", "bot.cli.campaign", "flows.loader"} & imported
    assert "stopped" in run.output


def test_a_refusal_reads_the_same_without_the_cli_framework(tmp_path, monkeypatch):
    """The console entry runs ``minping run`` outside typer: a database of an older
    minping is refused with the same sentence and exit code as typer's ``run`` gives."""
    import subprocess
    import sys
    from pathlib import Path

    from alembic import command

    from storage.db import alembic_config

    db = tmp_path / "old.db"
    eng = make_engine(f"sqlite:///{db}")
    command.upgrade(alembic_config(eng), "0011")
    eng.dispose()
    minping = Path(sys.executable).with_name("minping")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": "5:refused",
           "MINPING_LOG_LEVEL": "WARNING"}
    result = subprocess.run([str(minping), "run"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "run `minping migrate`" in result.stderr
    assert "Traceback" not in result.stderr
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        typed = CliRunner().invoke(app, ["run"])  # the same command through typer
    finally:
        get_settings.cache_clear()
    assert typed.exit_code == 2 and typed.output.strip() == result.stderr.strip()
    bad = subprocess.run([str(minping), "run"], env={**env, "MINPING_LOG_LEVEL": "LOUD"}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "error: MINPING_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in bad.stderr
