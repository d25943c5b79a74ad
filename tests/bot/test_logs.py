"""The log filter itself (bot/logs.py): secrets redacted wherever they hide in a record,
conversation content shown as kind and size, quiet third-party loggers, JSON lines, and
the unsafe development switch refused on PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import httpx
import pytest
from typer.testing import CliRunner

from bot import logs
from bot.cli import app
from bot.settings import Settings, get_settings

TOKEN = "987654:AAH-unit-test-token_Secret"
PG = "postgresql+psycopg://minping:Db-Pass-w0rd@127.0.0.1:5432/minping"


@pytest.fixture
def restore():
    """Every test leaves logging as it found it (setup changes process-wide state)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in logs.THIRD_PARTY + logs.ALWAYS_QUIET}
    factory, hooks = logging.getLogRecordFactory(), (sys.excepthook, threading.excepthook)
    filters = {h: list(h.filters) for h in handlers}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    for h, f in filters.items():
        h.filters[:] = f
    root.setLevel(level)
    for n, lv in levels.items():
        logging.getLogger(n).setLevel(lv)
    logging.setLogRecordFactory(factory)
    logging.captureWarnings(False)
    sys.excepthook, threading.excepthook = hooks
    logs._forget_secrets()
    logs._unsafe = False


def settings(tmp_path, monkeypatch, **env: str) -> Settings:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in [k for k in os.environ if k.startswith(("MINPING_", "TELEGRAM_", "DATABASE_URL"))]:
        monkeypatch.delenv(name)
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env}.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def text_logs(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch, MINPING_WEBHOOK_SECRET="webhook-Secret_123"))
    capsys.readouterr()
    return lambda: capsys.readouterr().err


def test_token_in_the_message_and_in_the_arguments(text_logs):
    log = logging.getLogger("bot.somewhere")
    log.warning(f"calling https://api.telegram.org/bot{TOKEN}/getMe")
    log.warning("token %s and %r", TOKEN, {"token": TOKEN})
    out = text_logs()
    assert TOKEN not in out and "unit-test-token_Secret" not in out
    assert "https://api.telegram.org/bot[redacted]/getMe" in out


def test_httpx_request_line_at_debug_shows_the_url_without_the_token(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_LEVEL="DEBUG"))
    url = httpx.URL(f"http://127.0.0.1:8081/bot{TOKEN}/getUpdates")
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK")
    out = capsys.readouterr().err
    assert "HTTP Request: POST http://127.0.0.1:8081/bot[redacted]/getUpdates" in out and TOKEN not in out


def test_token_and_secret_in_an_exception_and_its_cause(text_logs):
    try:
        try:
            raise ConnectionError(f"POST http://x/bot{TOKEN}/setWebhook failed")
        except ConnectionError as inner:
            raise RuntimeError("secret_token=webhook-Secret_123 refused") from inner
    except RuntimeError:
        logging.getLogger("aiogram.dispatcher").exception("failed")
    out = text_logs()
    assert "Traceback" in out and "ConnectionError" in out and "RuntimeError" in out
    assert TOKEN not in out and "webhook-Secret_123" not in out


def test_a_generated_webhook_secret_is_redacted_too(text_logs):
    from bot.telegram.webhook import WebhookConfig

    config = WebhookConfig.from_settings("https://bot.example.org/hook", None, "127.0.0.1:8080")
    logging.getLogger("x").error("header X-Telegram-Bot-Api-Secret-Token was %s", config.secret)
    out = text_logs()
    assert config.secret not in out and "[redacted]" in out


def test_database_password_in_a_url_and_alone(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch, DATABASE_URL=PG))
    log = logging.getLogger("storage.db")
    log.error("cannot connect to %s", PG)
    log.error("password was Db-Pass-w0rd; dsn host=h password=other-Pass")
    log.error("another url postgresql://someone:unknown-Pass@db/x")  # not configured: the pattern
    out = capsys.readouterr().err
    assert "Db-Pass-w0rd" not in out and "other-Pass" not in out and "unknown-Pass" not in out
    assert "postgresql+psycopg://minping:[redacted]@127.0.0.1:5432/minping" in out
    assert "postgresql://someone:[redacted]@db/x" in out


def test_a_record_made_before_setup_is_cleaned_by_the_handler(text_logs):
    record = logging.makeLogRecord({"name": "x", "levelno": logging.ERROR, "levelname": "ERROR",
                                    "msg": "leak %s", "args": (TOKEN,)})
    logging.getLogger().handle(record)
    assert TOKEN not in text_logs()
    assert record.getMessage() == "leak [redacted]"  # the record itself, for every other handler too


def test_warnings_and_uncaught_exceptions_go_through_the_same_filter(tmp_path):
    code = (
        "import warnings\n"
        "from bot import logs\n"
        "logs.setup()\n"
        f"warnings.warn('slow call to /bot{TOKEN}/getMe')\n"
        f"raise RuntimeError('crashed at https://api.telegram.org/bot{TOKEN}/getUpdates')\n")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "RuntimeError: crashed at https://api.telegram.org/bot[redacted]/getUpdates" in done.stderr
    assert "slow call to /bot[redacted]/getMe" in done.stderr
    assert TOKEN not in done.stderr + done.stdout


def test_updates_and_api_calls_show_kind_and_size_not_content(tmp_path, monkeypatch, restore, capsys):
    from aiogram.types import Update as AiogramUpdate
    from telegram import Update as PtbUpdate

    logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_LEVEL="DEBUG"))
    tap = {"update_id": 41, "callback_query": {"id": "7", "chat_instance": "1", "data": "q:transport:style:fairly",
                                                "from": {"id": 55501, "is_bot": False, "first_name": "张"}}}
    text = {"update_id": 42, "message": {"message_id": 3, "date": 0, "text": "窗口排队太久希望增加人手",
                                         "chat": {"id": 55501, "type": "private"}}}
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", PtbUpdate.de_json(tap, None))
    logging.getLogger("aiogram.event").debug("update %s", AiogramUpdate.model_validate(text))
    logging.getLogger("telegram.ext.ExtBot").debug(
        "Calling Bot API endpoint `%s` with parameters `%s`", "editMessageText",
        {"chat_id": 55501, "text": "您的意见：窗口排队太久", "reply_markup": {"inline_keyboard": [[{"text": "满意",
                                                                                          "callback_data": "q:a:1"}]]}})
    logging.getLogger("telegram.ext.ExtBot").debug("Call finished with return value `%s`", [tap, text])
    logging.getLogger("telegram.ext._utils.webhookhandler").debug("Webhook received data: %s", json.dumps(text))
    out = capsys.readouterr().err
    assert "Processing update <update 41: callback_query," in out and "update <update 42: message," in out
    assert "`editMessageText` with parameters `<dict of chat_id, text, reply_markup," in out
    assert "return value `<2 update(s): callback_query/message," in out
    for content in ("q:transport:style:fairly", "窗口排队", "满意", "q:a:1", "55501", "张"):
        assert content not in out, content


def test_a_validation_error_does_not_quote_the_rejected_update(text_logs):
    from aiogram.types import Update

    forged = {"update_id": "x", "message": {"text": "我的意见很长", "chat": {"id": 55502}}}
    try:
        Update.model_validate(forged)  # (a traceback shows this source line: no literal here)
    except Exception:
        logging.getLogger("bot.telegram.webhook").exception("webhook update failed")
    out = text_logs()
    assert "validation error(s) for Update" in out and "update_id" in out
    assert "我的意见很长" not in out and "55502" not in out


def test_third_party_loggers_are_quiet_unless_debug(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch))
    for name in ("httpx", "httpcore", "aiogram.event", "telegram.ext.Application", "apscheduler.scheduler",
                 "alembic.runtime.migration", "aiohttp.access"):
        logging.getLogger(name).info("per-request noise from %s", name)
    logging.getLogger("bot.runtime").info("bot @x running")
    out = capsys.readouterr().err
    assert "noise" not in out and "bot @x running" in out
    logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_LEVEL="DEBUG"))
    logging.getLogger("aiogram.event").info("Update id=%s is handled", 5)
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT INTO answer VALUES (%s)", "satisfied")
    out = capsys.readouterr().err
    assert "Update id=5 is handled" in out
    assert "INSERT" not in out  # SQL parameters are answers: never logged


def test_json_lines_parse_and_are_redacted(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_FORMAT="json", MINPING_LOG_LEVEL="DEBUG",
                        DATABASE_URL=PG))
    log = logging.getLogger("bot.runtime")
    log.info("bot @%s running (%s)", "测试_bot", f"http://x/bot{TOKEN}/")
    try:
        raise RuntimeError(f"cannot open {PG}")
    except RuntimeError:
        log.exception("database down")
    logging.getLogger("telegram.ext.ExtBot").debug("params %s", {"chat_id": 1, "text": "意见"},
                                                   extra={"update": {"update_id": 9, "message": {"text": "意见"}}})
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["level"] for r in records] == ["INFO", "ERROR", "DEBUG"]
    assert records[0]["message"] == "bot @测试_bot running (http://x/bot[redacted]/)"
    assert records[0]["logger"] == "bot.runtime" and records[0]["time"].startswith("20")
    assert "RuntimeError: cannot open postgresql+psycopg://minping:[redacted]@" in records[1]["exc_info"]
    assert records[2]["message"].startswith("params <dict of chat_id, text,") and "意见" not in lines[2]
    assert records[2]["update"].startswith("<update 9: message,")  # extra fields too
    assert "Db-Pass-w0rd" not in "".join(lines) and TOKEN not in "".join(lines)


def test_the_unsafe_switch_shows_content_on_sqlite_only(tmp_path, monkeypatch, restore, capsys):
    logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_LEVEL="DEBUG", MINPING_LOG_UPDATE_CONTENT_UNSAFE="1"))
    logging.getLogger("telegram.ext.ExtBot").debug("params %s for %s", {"chat_id": 1, "text": "意见"}, TOKEN)
    out = capsys.readouterr().err
    assert "MINPING_LOG_UPDATE_CONTENT_UNSAFE is on" in out  # said loudly
    assert "'text': '意见'" in out and TOKEN not in out  # content yes, secrets still no
    with pytest.raises(logs.LogSettingsError, match="refused with a PostgreSQL DATABASE_URL"):
        logs.setup(settings(tmp_path, monkeypatch, MINPING_LOG_UPDATE_CONTENT_UNSAFE="1", DATABASE_URL=PG))


@pytest.mark.parametrize(("env", "message"), [
    ({"MINPING_LOG_UPDATE_CONTENT_UNSAFE": "1", "DATABASE_URL": PG},
     "MINPING_LOG_UPDATE_CONTENT_UNSAFE is for local development and is refused with a PostgreSQL DATABASE_URL"),
    ({"MINPING_LOG_LEVEL": "LOUD"}, "MINPING_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ({"MINPING_LOG_FORMAT": "xml"}, "MINPING_LOG_FORMAT must be text or json, not 'xml'"),
])
@pytest.mark.parametrize("command", [["run"], ["status"], ["demo", "--raters", "3"]])
def test_bad_or_refused_log_settings_stop_every_command(tmp_path, monkeypatch, restore, env, message, command):
    settings(tmp_path, monkeypatch, **env)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, command)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "var").exists()  # refused before anything ran


def test_the_devserver_entry_point_refuses_too(tmp_path, monkeypatch, restore, capsys):
    from devtools.devserver.cli import main

    settings(tmp_path, monkeypatch, MINPING_LOG_UPDATE_CONTENT_UNSAFE="1", DATABASE_URL=PG)
    get_settings.cache_clear()
    try:
        assert main(["--port", "0"]) == 2
    finally:
        get_settings.cache_clear()
    assert "refused with a PostgreSQL DATABASE_URL" in capsys.readouterr().err


def test_a_log_call_that_cannot_be_rendered_neither_fails_nor_leaks(text_logs):
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError(TOKEN)

    logging.getLogger("x").error("value %s %d", Hostile(), "not a number")
    logging.getLogger("x").error("fine %s", 1)  # and logging goes on
    out = text_logs()
    assert "ERROR x: <log record not shown: RuntimeError while cleaning it>" in out and TOKEN not in out
    assert "fine 1" in out


def test_a_startup_error_quoting_the_token_shows_it_redacted(tmp_path, monkeypatch, restore):
    from devtools.devserver import BotAPIServer

    with BotAPIServer(token="1:right") as srv:
        settings(tmp_path, monkeypatch, TELEGRAM_BOT_TOKEN="4321:Wrong-Token-Typo", BOT_FRAMEWORK="ptb",
                 TELEGRAM_API_BASE=srv.base_url)
        get_settings.cache_clear()
        try:
            assert CliRunner().invoke(app, ["migrate"]).exit_code == 0  # the one explicit schema step
            result = CliRunner().invoke(app, ["run"])
        finally:
            get_settings.cache_clear()
    # PTB's own message is "The token `…` was rejected by the server."
    assert result.exit_code == 2 and "cannot reach the Bot API" in result.output
    assert "Wrong-Token-Typo" not in result.output and "[redacted]" in result.output
