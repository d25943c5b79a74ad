"""Outgoing messages as plain data; ``bot/`` renders them for Telegram.

Texts are HTML (Telegram's HTML parse mode): every campaign or user text inside them
has already been escaped by the flow that built them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flows import actions


@dataclass(frozen=True)
class Button:
    label: str
    # Opaque to adapters; the flow that made it decodes it. ASCII, at most 48 bytes so
    # an adapter's routing prefix still fits Telegram's 64-byte callback_data.
    action: str = ""
    # Instead of an action: the HTTPS URL of a Telegram Mini App this button opens
    # (Telegram's ``web_app`` button, private chats only).
    web_app: str | None = None

    def __post_init__(self) -> None:
        if self.action:
            actions.check(self.action)


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
    # The event was out of date (a button of another round, a plan gone): nothing
    # changes, the runtime stores no state and answers with ``toast`` alone.
    stale: bool = False


S = TypeVar("S")


@dataclass(frozen=True)
class Step(Generic[S]):
    """What every conversation step in ``flows/`` returns:
    ``step(context, state, event) -> Step``. ``context`` is what the database says now
    (read by the runtime), ``state`` where the conversation is; the step decides the new
    state, the replies, and the *effects*: plain data (``SealBallot``, ``Enrol``, …) that
    the runtime applies inside the event's transaction, one applier per effect type
    (``bot/app/effects.py``). A step never writes anything itself."""

    state: S
    outcome: Outcome = field(default_factory=Outcome)
    effects: tuple[object, ...] = ()
