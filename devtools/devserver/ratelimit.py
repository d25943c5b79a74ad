"""Telegram-like flood limits for the sending methods, as token buckets.

Defaults (``RateLimitConfig()``):

* all chats together: 30 messages a second, burst 30;
* one chat: 1 message a second with a burst of 2 — two messages back to back pass, a
  third within the same second gets 429 (Telegram itself tolerates short bursts, but
  a sender that keeps sending faster than 1/s to one chat is throttled);
* a group or channel (negative chat id): in addition 20 messages a minute, burst 20.

Only sends count (sendMessage, sendPhoto, sendDocument); edits count too when
``count_edits=True``.  A refused request consumes nothing.  ``retry_after`` is the
time until every bucket involved has a token again, rounded up to whole seconds (≥ 1).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["RateLimitConfig", "RateLimiter", "TokenBucket"]


@dataclass(frozen=True)
class RateLimitConfig:
    enabled: bool = True
    global_per_second: float = 30.0
    global_burst: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: float = 2.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    count_edits: bool = False


class TokenBucket:
    __slots__ = ("rate", "capacity", "tokens", "stamp")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if available now)."""
        self.refill(now)
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimiter:
    """Not thread-safe by itself: the server calls it under its state lock."""

    def __init__(self, config: RateLimitConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or RateLimitConfig()
        self.clock = clock
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}

    def reconfigure(self, config: RateLimitConfig) -> None:
        self.config = config
        self._global = None
        self._chats.clear()
        self._groups.clear()

    def applies(self, kind: str) -> bool:
        """kind is "send" or "edit"."""
        return self.config.enabled and (kind == "send" or self.config.count_edits)

    def acquire(self, chat_id: int, kind: str = "send") -> int | None:
        """Take a token for chat_id; None if allowed, else retry_after (whole seconds ≥ 1)."""
        if not self.applies(kind):
            return None
        cfg = self.config
        now = self.clock()
        if self._global is None:
            self._global = TokenBucket(cfg.global_per_second, cfg.global_burst, now)
        buckets = [self._global]
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = TokenBucket(cfg.per_chat_per_second, cfg.per_chat_burst, now)
        buckets.append(chat)
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = TokenBucket(cfg.group_per_minute / 60.0, cfg.group_burst, now)
            buckets.append(group)
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait - 1e-9)) if math.isfinite(wait) else 3600
        for b in buckets:
            b.take()
        return None
