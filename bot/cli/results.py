"""Commands of the results area (filled in by its issue)."""

from __future__ import annotations

from bot.cli.common import app, console, engine, fail  # noqa: F401
