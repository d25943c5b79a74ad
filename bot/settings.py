"""Runtime settings from the environment and ``.env`` (see ``.env.example``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import default_database_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Default: an absolute path (bot/config.py), the same from any working directory.
    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")
    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_BASE")
    bot_framework: Literal["aiogram", "ptb"] = Field(default="aiogram", alias="BOT_FRAMEWORK")
    # Logging (bot/logs.py): level, text or json lines, and a development-only switch
    # that shows update content in DEBUG logs (refused with PostgreSQL).
    log_level: str = Field(default="INFO", alias="MINPING_LOG_LEVEL")
    log_format: str = Field(default="text", alias="MINPING_LOG_FORMAT")
    log_update_content_unsafe: bool = Field(default=False, alias="MINPING_LOG_UPDATE_CONTENT_UNSAFE")
    webhook_url: str | None = Field(default=None, alias="MINPING_WEBHOOK_URL")
    webhook_secret: str | None = Field(default=None, alias="MINPING_WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1:8080", alias="MINPING_WEBHOOK_LISTEN")
    # The one web server (webhook, Mini App, public board, health): where it listens.
    # Unset: it runs only in webhook mode, on MINPING_WEBHOOK_LISTEN.
    listen: str | None = Field(default=None, alias="MINPING_LISTEN")
    # The public HTTPS base URL of that server behind the proxy (Mini App and board links).
    public_url: str | None = Field(default=None, alias="MINPING_PUBLIC_URL")
    # Where `minping run` serves the public board (五公开); '' or off: not served.
    board_path: str = Field(default="/board", alias="MINPING_BOARD_PATH")
    # The Mini App refuses Telegram's signed launch data older than this (seconds).
    app_max_age: int = Field(default=86_400, ge=60, alias="MINPING_APP_MAX_AGE")
    # Rehearsal on a compressed clock (bot/clock.py): rehearse:<start>:<factor>.
    clock: str | None = Field(default=None, alias="MINPING_CLOCK")


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
        # Relative SQLite paths live under the working directory; make sure var/ exists.
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return settings
