"""What the product needs from a Bot API client, whichever framework provides it.

Both adapters implement ``Transport`` and translate their library's exceptions into the
errors below, so the delivery code and the outbox sender are written once.
"""

from __future__ import annotations

from typing import Protocol

from flows.messages import Button

Keyboard = tuple[tuple[Button, ...], ...]


class SendError(Exception):
    """A Bot API call failed."""


class Blocked(SendError):
    """403: the person blocked the bot (or deleted their account)."""


class RetryAfter(SendError):
    """429: flood control; wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"retry after {retry_after}s")
        self.retry_after = retry_after


class NotModified(SendError):
    """An edit that would change nothing (harmless)."""


class MessageGone(SendError):
    """The message to edit no longer exists."""


class BadRequest(SendError):
    """Telegram refused the request itself; retrying the same request will not help."""


class Transient(SendError):
    """Network trouble or a 5xx: worth retrying."""


class Transport(Protocol):
    async def send_message(self, chat_id: int, text: str, buttons: Keyboard = ()) -> int: ...

    async def edit_message(self, chat_id: int, message_id: int, text: str, buttons: Keyboard = ()) -> None: ...

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None: ...

    async def send_photo(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int: ...

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int: ...


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
