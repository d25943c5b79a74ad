"""The channel seam: what the product needs from a messaging channel (Telegram today; a
web page or another messenger tomorrow), whichever channel provides it.

A channel is a folder ``bot/<channel>/`` with

* an **intake** that turns the channel's events into ``bot.service.Incoming(channel=…,
  chat_id=<the address within the channel>, …)`` and shows the returned ``Reply``;
* a **Transport** (below) that the outbox sender (``bot/sender.py``) drains that
  channel's outbox rows with — a sender only ever claims rows of its transport's
  ``channel``;
* its wiring in the runner (``bot/runtime.py``: start the intake, one ``Sender`` per
  transport).

Persons are identified by (channel, address): ``storage.models.Person.channel`` and
``chat_id``; the same address on two channels is two persons. Update ids are
deduplicated per channel (``storage.updates.first_time``).

A transport raises the errors below (translating its client library's own), so that
the sender is written once.
"""

from __future__ import annotations

from typing import Protocol

from flows.messages import Button

DEFAULT = "telegram"  # the channel of rows and persons from before there were channels

Keyboard = tuple[tuple[Button, ...], ...]


class SendError(Exception):
    """A call to the channel failed."""


class Blocked(SendError):
    """The person blocked the bot (Telegram's 403) or is gone: nothing more reaches them."""


class RetryAfter(SendError):
    """Flood control (Telegram's 429); wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"retry after {retry_after}s")
        self.retry_after = retry_after


class BadRequest(SendError):
    """The channel refused the request itself; retrying the same request will not help."""


class Transient(SendError):
    """Network trouble or a server error: worth retrying."""


class Transport(Protocol):
    """What the outbox sender needs: send a text (with buttons), a photo, a document to
    an address of ``channel``. Returns the channel's message id (0 if it has none)."""

    channel: str

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard = ()) -> int: ...

    async def send_photo(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int: ...

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int: ...
