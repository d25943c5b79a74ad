"""The organizer chat feature (filled in by its issue)."""

from __future__ import annotations

from bot.chat import Feature

FEATURE = Feature("organizer")
