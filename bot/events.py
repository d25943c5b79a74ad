"""What a channel hands the service and gets back: channel-neutral, plain data.

An adapter (``bot/telegram``, the Mini App, the demo) turns its input into an
``Incoming`` and renders the ``Reply``; nothing here knows Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from flows.messages import Message


@dataclass(frozen=True)
class Incoming:
    chat_id: int
    kind: Literal["start", "text", "tap", "command", "media", "blocked", "app"]
    update_id: int | None = None
    text: str = ""  # message text; the payload for "start"; the arguments of a command
    command: str = ""  # help | resume | lang | cancel | stop | a feature's command
    data: str = ""  # callback data of a tap; the request of the Mini App (JSON)
    language_code: str | None = None
    # Who: the address ``chat_id`` within this channel (bot/channel.py); update ids are per channel.
    channel: str = "telegram"


@dataclass
class Reply:
    messages: list[Message] = field(default_factory=list)
    toast: str | None = None
    # Message ids of cards already on screen, so adapters edit them in place.
    cards: dict[str, int] = field(default_factory=dict)
    campaign_id: str | None = None
    duplicate: bool = False
    submitted: bool = False  # this event sealed the rater's ballot
