"""Logging for every entry point: ``setup(settings)`` once, then plain ``logging``.

Three promises, whatever the level and whichever library logs (README, "Logs"):

- **No secret**: the bot token (Bot API URLs carry ``/bot<token>/``), the webhook secret
  and database passwords are replaced by ``[redacted]`` in every record's message,
  arguments, extra fields, traceback and stack.
- **No conversation content**: an update, a Bot API call's parameters or answer, any
  dict, list, bytes, Telegram or pydantic object passed to a log call is shown as its
  kind and size (``<update 17: callback_query, 402 bytes>``), never its content, so no
  record puts a chat id beside an answer, an opinion or callback data. Only
  ``MINPING_LOG_UPDATE_CONTENT_UNSAFE=1`` shows content, for local development, and it
  is refused with a PostgreSQL database.
- **Quiet**: third-party loggers at WARNING unless ``MINPING_LOG_LEVEL=DEBUG``; our INFO
  lines are start, stop, phase changes, jobs that did something, and errors.

The work is done where nothing can go around it: the log record factory (every record
of every logger is cleaned when it is made, before any handler sees it), again on the
one handler (records made before ``setup``), and the formatters redact their output.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import date, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ValidationError

REDACTED = "[redacted]"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO is per request or per update (httpx's INFO line carries the URL,
# and so the token): WARNING unless MINPING_LOG_LEVEL=DEBUG.
THIRD_PARTY = ("aiogram", "telegram", "httpx", "httpcore", "hpack", "apscheduler", "alembic", "aiohttp",
               "asyncio", "urllib3", "multipart")
# Never below WARNING: SQLAlchemy's INFO is every statement with its parameters (chat
# ids, answers, opinions); matplotlib's DEBUG is font scanning.
ALWAYS_QUIET = ("sqlalchemy", "matplotlib", "PIL", "fontTools")
SHORT = 200  # an object's text longer than this is shown as its kind and size

log = logging.getLogger(__name__)


class LogSettingsError(ValueError):
    """A logging setting is unusable or refused; the message names it."""


# --------------------------------------------------------------------------- secrets
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
# Second nets for secrets nobody registered: /bot<token>/ in Bot API URLs, real-shaped
# tokens, passwords in URLs and DSNs, and Telegram's secret-token parameter and header.
_GENERIC = [
    (re.compile(r"/bot\d+(?::|%3A)[^/\s'\"]+"), "/bot" + REDACTED),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), REDACTED),
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(\bpassword\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s'\"]+)", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(secret[_-]?token['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9_-]+", re.IGNORECASE), r"\1" + REDACTED),
]


def redact_also(*values: str | None) -> None:
    """Add secrets to redact (e.g. a webhook secret made at start-up). Values shorter than
    4 characters are left to the patterns: they would blank out ordinary words."""
    global _pattern
    with _lock:
        for value in values:
            if value and len(value) >= 4:
                _secrets.update({value, quote(value, safe=""), unquote(value)})
        ordered = sorted((s for s in _secrets if len(s) >= 4), key=len, reverse=True)
        _pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None


def _forget_secrets() -> None:
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def redact(text: str) -> str:
    """``text`` with every known secret and anything shaped like one replaced."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _GENERIC:
        text = regex.sub(replacement, text)
    return text


def _settings_secrets(settings: Any) -> list[str]:
    found = [settings.telegram_bot_token, settings.webhook_secret]
    try:
        from sqlalchemy.engine import make_url

        found.append(make_url(settings.database_url).password)
    except Exception:  # noqa: BLE001  (an unparsable URL is reported by the database code)
        pass
    return [s for s in found if s]


# --------------------------------------------------------------------------- content
_unsafe = False  # MINPING_LOG_UPDATE_CONTENT_UNSAFE: show content (development only)
_SCALARS = (int, float, bool, type(None), Enum, date, time, timedelta, PurePath, type)
_HOLDS = re.compile(r"\{|\[\s*['\"]")


def _plain(value: Any) -> Any:
    """A JSON-able view of a structured value, only to measure it and name its kind."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    to_dict = getattr(value, "to_dict", None)  # python-telegram-bot's TelegramObject
    if callable(to_dict) and type(value).__module__.startswith("telegram"):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return json.loads(bytes(value))
        except ValueError:
            return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return value


def _size(value: Any, data: Any) -> int:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    try:
        return len(json.dumps(data, ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError):
        return len(str(value).encode())


def _names(keys: Iterable[Any]) -> str:
    # Field names say what a thing is; a key that is not a name (a chat id) is counted only.
    named = [k for k in keys if isinstance(k, str) and k.isidentifier()]
    return ", ".join(named[:12]) + (", …" if len(named) > 12 else "")


def _update_kind(data: Mapping) -> str:
    return f"update {data.get('update_id')}: " + "/".join(k for k in data if k != "update_id")


def summary(value: Any) -> str:
    """The kind and size of ``value``, none of its content."""
    data = _plain(value)
    size = _size(value, data)
    if isinstance(data, Mapping):
        names = _names(data)
        kind = _update_kind(data) if "update_id" in data else \
            f"{type(value).__name__} of {names}" if names else f"empty {type(value).__name__}" if not data \
            else f"{type(value).__name__} of {len(data)}"
    elif isinstance(data, list):
        updates = [d for d in data if isinstance(d, Mapping) and "update_id" in d]
        if updates and len(updates) == len(data):
            kinds = sorted({k for d in updates for k in d if k != "update_id"})
            kind = f"{len(data)} update(s): " + "/".join(kinds)
        else:
            kind = f"{type(value).__name__} of {len(data)}"
    else:
        kind = type(value).__name__
    return f"<{kind}, {size} bytes>"


def _validation_text(exc: ValidationError) -> str:
    """pydantic's message quotes the rejected input (for an update: who and what)."""
    where = "; ".join(".".join(map(str, e["loc"])) + f" ({e['type']})" for e in exc.errors(include_input=False)[:5])
    return f"{exc.error_count()} validation error(s) for {exc.title}: {where}"


def _shown(value: Any) -> Any:
    """What a log record may show of one argument."""
    if _unsafe:
        return value
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return summary(value) if value.lstrip()[:1] in ("{", "[") else value
    if isinstance(value, ValidationError):
        return _validation_text(value)
    if isinstance(value, (BaseException, *_SCALARS)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, int | float) for v in value):
        return value  # ids and counts
    if isinstance(value, (Mapping, list, tuple, set, frozenset, bytes, bytearray, memoryview, BaseModel)) \
            or dataclasses.is_dataclass(value) or type(value).__module__.split(".")[0] in ("telegram", "aiogram"):
        return summary(value)
    text = str(value)  # an unknown object: its text, unless long or holding a mapping or strings
    return text if len(text) <= SHORT and not _HOLDS.search(text) else summary(value)


def _format_exception(exc_info: Any) -> str:
    text = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    if not _unsafe:
        exc, seen = exc_info[1], set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if isinstance(exc, ValidationError):
                text = text.replace(str(exc), _validation_text(exc))
            exc = exc.__cause__ or exc.__context__
    return text


# --------------------------------------------------------------------------- records
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _message(record: logging.LogRecord) -> str:
    msg = record.msg if isinstance(record.msg, str) else _shown(record.msg)
    msg = msg if isinstance(msg, str) else str(msg)
    args = record.args
    if not args:
        return msg
    if isinstance(args, Mapping):  # logging's one-dict argument: named fields, or just a dict
        args = {k: _shown(v) for k, v in args.items()} if "%(" in msg else (_shown(args),)
    else:
        args = tuple(_shown(a) for a in args)
    try:
        return msg % args
    except (TypeError, ValueError, KeyError):
        return f"{msg} {args!r}"


def clean(record: logging.LogRecord) -> logging.LogRecord:
    """Make ``record`` safe in place: message formatted and redacted, arguments gone,
    traceback rendered and redacted, extra fields redacted. Idempotent; never raises."""
    try:
        # Cleaned already, unless someone changed it since (``makeLogRecord`` fills a
        # record the factory made empty).
        if record.__dict__.get("_minping_clean") is not record.msg or record.args or record.exc_info:
            record.msg = redact(_message(record))
            record.args = None
            if record.exc_info:
                if record.exc_info is not True:
                    record.exc_text = _format_exception(record.exc_info)
                record.exc_info = None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        # Every time: ``extra=`` fields are set after the factory made the record.
        for key in [k for k in record.__dict__ if k not in _STANDARD and not k.startswith("_")]:
            shown = _shown(record.__dict__[key])
            record.__dict__[key] = redact(shown) if isinstance(shown, str) else shown
    except Exception as exc:  # noqa: BLE001  (a log call must never fail, nor leak)
        record.msg, record.args, record.exc_info, record.exc_text = (
            f"<log record not shown: {type(exc).__name__} while cleaning it>", None, None, None)
    record._minping_clean = record.msg
    return record


_base_factory = logging.getLogRecordFactory()


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    return clean(_base_factory(*args, **kwargs))


class CleanFilter(logging.Filter):
    """On the handler: records made before ``setup`` or by ``makeLogRecord``."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean(record)
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(clean(record)))


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class Formatter(JsonFormatter):
        def format(self, record: logging.LogRecord) -> str:
            return super().format(clean(record))

        def process_log_record(self, log_data: dict) -> dict:
            return {k: redact(v) if isinstance(v, str) else v for k, v in log_data.items()}

    return Formatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                     rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it)."""

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        pass


# --------------------------------------------------------------------------- setup
def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() in ("postgresql", "postgres")


def setup(settings: Any = None, *, level: str | None = None, secrets: Iterable[str] = ()) -> None:
    """Configure logging for this process from ``settings`` (default: the environment);
    ``level`` overrides ``MINPING_LOG_LEVEL``; ``secrets`` are redacted too. Safe to call
    again (tests do). Raises ``LogSettingsError`` for a bad or refused setting."""
    global _unsafe
    if settings is None:
        from bot.settings import get_settings

        settings = get_settings()
    name = (level or settings.log_level or "INFO").strip().upper()
    if name not in LEVELS:
        raise LogSettingsError(f"MINPING_LOG_LEVEL must be one of {', '.join(LEVELS)}, not '{settings.log_level}'")
    fmt = (settings.log_format or "text").strip().lower()
    if fmt not in FORMATS:
        raise LogSettingsError(f"MINPING_LOG_FORMAT must be text or json, not '{settings.log_format}'")
    unsafe = bool(settings.log_update_content_unsafe)
    if unsafe and _is_postgres(settings.database_url):
        raise LogSettingsError(
            "MINPING_LOG_UPDATE_CONTENT_UNSAFE is for local development and is refused with a PostgreSQL "
            "DATABASE_URL: it writes what people answer, next to who they are, into the log. Unset it.")

    _forget_secrets()
    redact_also(*_settings_secrets(settings), *secrets)
    _unsafe = unsafe
    if logging.getLogRecordFactory() is not _factory:
        global _base_factory
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_minping", False)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler._minping = True
    handler.addFilter(CleanFilter())
    handler.setFormatter(_json_formatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    for other in root.handlers:  # e.g. a test runner's capture: it gets clean records too
        if not any(isinstance(f, CleanFilter) for f in other.filters):
            other.addFilter(CleanFilter())
    root.setLevel(name)
    for lib in THIRD_PARTY:
        logging.getLogger(lib).setLevel(logging.DEBUG if name == "DEBUG" else logging.WARNING)
    for lib in ALWAYS_QUIET:
        logging.getLogger(lib).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings go through the same cleaning
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    if unsafe:
        log.warning("MINPING_LOG_UPDATE_CONTENT_UNSAFE is on: logs show what people answer, next to who "
                    "they are. For local development only; never with real raters.")


def _excepthook(exc_type, exc, tb) -> None:  # noqa: ANN001
    # An uncaught traceback goes to the same log, redacted (an HTTP error quotes its URL).
    logging.getLogger("minping").critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _thread_excepthook(args) -> None:  # noqa: ANN001
    if args.exc_type is not SystemExit:
        logging.getLogger("minping").critical("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                                              exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
