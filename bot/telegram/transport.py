"""What the product needs from a Bot API client, whichever framework provides it.

Both adapters implement ``Transport`` (the channel-neutral ``bot.channel.Transport`` with
``channel = "telegram"``, plus edits and tap answers) and translate their library's
exceptions into the errors of ``bot.channel`` (``classify``), so the delivery code and
the outbox sender are written once.
"""

from __future__ import annotations

from typing import Protocol

from bot.channel import BadRequest, Blocked, Keyboard, RetryAfter, SendError, Transient
from bot.channel import Transport as ChannelTransport

__all__ = ["BadRequest", "Blocked", "Keyboard", "MessageGone", "NotModified", "RetryAfter", "SendError",
           "Transient", "Transport", "classify"]

CHANNEL = "telegram"


class NotModified(SendError):
    """An edit that would change nothing (harmless)."""


class MessageGone(SendError):
    """The message to edit no longer exists."""


class Transport(ChannelTransport, Protocol):
    """A Telegram transport: the channel's sends (``bot.channel.Transport``, ``channel``
    is ``"telegram"``) plus what a chat's replies need (edit a card, answer a tap)."""

    async def edit_message(self, chat_id: int, message_id: int, text: str, buttons: Keyboard = ()) -> None: ...

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None: ...


def classify(status: int | None, description: str, retry_after: float | None = None) -> SendError:
    """Map a Bot API error to one of the errors above."""
    text = description.lower()
    if retry_after is not None or status == 429:
        return RetryAfter(retry_after or 1, description)
    if status == 403 or "forbidden" in text or "blocked" in text:
        return Blocked(description)
    if "not modified" in text:
        return NotModified(description)
    if "message to edit not found" in text or "message can't be edited" in text:
        return MessageGone(description)
    if status is not None and 400 <= status < 500:
        return BadRequest(description)
    return Transient(description)
