"""Runtime settings from the environment and ``.env`` (see ``.env.example``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = "sqlite:///var/minping.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DB, alias="DATABASE_URL")
    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_BASE")
    bot_framework: Literal["aiogram", "ptb"] = Field(default="aiogram", alias="BOT_FRAMEWORK")
    log_level: str = Field(default="INFO", alias="MINPING_LOG_LEVEL")
    webhook_url: str | None = Field(default=None, alias="MINPING_WEBHOOK_URL")
    webhook_secret: str | None = Field(default=None, alias="MINPING_WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1:8080", alias="MINPING_WEBHOOK_LISTEN")


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
        # Relative SQLite paths live under the working directory; make sure var/ exists.
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return settings
