"""Per-chat flood control: one person's thousands of messages must not cost the others.

A person who waits for the bot's answers never has more than one or two updates in hand
at once, and never sends hundreds a minute. A flooder (a script, a stuck key, a pasted
wall) does both. ``FloodControl.admit`` is asked for every update as it arrives (before
any lock, database or framework work):

* a chat that has ``BACKLOG`` updates arrived and not yet finished, or more than
  ``RATE`` updates within ``WINDOW`` seconds, starts a *spell*: its updates are dropped
  (acknowledged to Telegram, never applied) until it has been quiet for ``QUIET``
  seconds; each dropped update extends the spell;
* the first drop of a spell gets one reply, "slow down" (``flood.slow_down``); the rest
  are dropped silently, at the cost of a dictionary lookup.

Taps inside a questionnaire come one per answer, each waiting for the card's edit: even
the fastest finger stays far below both limits (``bench/throughput.py``'s saturating
raters tap ~10 times a second and are never stopped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flows.i18n import register

register({
    "flood.slow_down": {
        "zh": "您发送得太快了，请稍候再试。之后的消息暂不处理，安静片刻后恢复正常。",
        "en": "You are sending messages too fast. Further messages are ignored for a moment; please wait and try again.",
    },
})

BACKLOG = 20  # updates of one chat in hand (arrived, not finished)
RATE = 200  # updates of one chat within WINDOW
WINDOW = 10.0  # seconds
QUIET = 10.0  # seconds without an update that end a spell


@dataclass
class _Chat:
    in_hand: int = 0
    window_start: float = 0.0
    in_window: int = 0
    muted_until: float = 0.0  # a spell lasts until then (extended by every dropped update)


@dataclass
class FloodControl:
    backlog: int = BACKLOG
    rate: int = RATE
    window: float = WINDOW
    quiet: float = QUIET
    clock: Callable[[], float] = time.monotonic
    chats: dict[int, _Chat] = field(default_factory=dict)
    spells: int = 0
    dropped: int = 0

    def admit(self, chat_id: int | None) -> str:
        """``"take"`` (call ``finished`` when done), ``"warn"`` (dropped, the spell's
        first: say "slow down") or ``"drop"``."""
        if chat_id is None:
            return "take"
        now = self.clock()
        c = self.chats.get(chat_id)
        if c is None:
            c = self.chats[chat_id] = _Chat(window_start=now)
            self._forget_quiet(now)
        if now - c.window_start >= self.window or (c.muted_until and now >= c.muted_until):
            c.window_start, c.in_window = now, 0  # a new window; a spell that ended starts afresh
            c.muted_until = 0.0
        c.in_window += 1
        if now < c.muted_until:
            c.muted_until = now + self.quiet
            self.dropped += 1
            return "drop"
        if c.in_hand >= self.backlog or c.in_window > self.rate:
            c.muted_until = now + self.quiet
            self.spells += 1
            self.dropped += 1
            return "warn"
        c.in_hand += 1
        return "take"

    def finished(self, chat_id: int | None) -> None:
        c = self.chats.get(chat_id) if chat_id is not None else None
        if c is not None and c.in_hand > 0:
            c.in_hand -= 1

    def _forget_quiet(self, now: float) -> None:
        """Keep the table small: every few thousand chats, drop those with nothing in hand
        whose window and spell are over."""
        if len(self.chats) % 4096:
            return
        for chat_id in [k for k, c in self.chats.items()
                        if not c.in_hand and now >= c.muted_until and now - c.window_start >= self.window]:
            del self.chats[chat_id]
