"""Outgoing messages as plain data; ``bot/`` renders them for Telegram.

Texts are HTML (Telegram's HTML parse mode): every campaign or user text inside them
has already been escaped by the flow that built them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    # Opaque to adapters; the flow that made it decodes it. ASCII, at most 48 bytes so
    # an adapter's routing prefix still fits Telegram's 64-byte callback_data.
    action: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # Messages with the same card key replace one another in place (the adapter edits
    # the earlier message); None means a new message every time.
    card: str | None = None

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True)
class Outcome:
    """What a flow step returns besides the new state."""

    messages: list[Message] = field(default_factory=list)
    # A short notice for the tapped button (Telegram's answerCallbackQuery text).
    toast: str | None = None
