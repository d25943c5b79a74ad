"""The clock of a rehearsal: a campaign run on compressed time, so that its deadlines,
reminders and follow-ups can be watched in minutes (README, "Rehearsal").

    MINPING_CLOCK=rehearse:<start>:<factor>      e.g. rehearse:2026-12-01T08:55+08:00:60

Campaign time = ``start`` + (real time − anchor) × ``factor``, where the anchor is the
real time the rehearsal began on this database. The anchor is stored in the database
(``storage.rehearsal``), so ``minping run`` and every command read one and the same
clock, and a database that was rehearsed on keeps it: its ballots are not real.

Pure and light (no database, no pydantic): the quick ``minping status`` uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

ENV = "MINPING_CLOCK"
PREFIX = "rehearse:"
TICK = 30.0  # the scheduler's tick in real seconds on the real clock


class ClockError(ValueError):
    """MINPING_CLOCK is malformed (the message shows the expected form)."""


@dataclass(frozen=True)
class Clock:
    start: datetime | None = None  # None: the real clock
    factor: float = 1.0
    anchor: datetime | None = None  # real time at which campaign time was ``start``

    @property
    def rehearsal(self) -> bool:
        return self.start is not None

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self.start is None:
            return real
        return self.start + (real - (self.anchor or real)) * self.factor

    @property
    def tick_seconds(self) -> float:
        """Scheduler ticks keep ~30 s of campaign time apart (at least 1 s real)."""
        return max(1.0, TICK / self.factor) if self.rehearsal else TICK

    def describe(self) -> str:
        if not self.rehearsal:
            return "real clock"
        return (f"rehearsal clock ×{self.factor:g}: campaign time {self.now():%Y-%m-%d %H:%M} UTC "
                f"(started at {self.start:%Y-%m-%d %H:%M} UTC)")


REAL = Clock()


def aware(t: datetime | str | None) -> datetime | None:
    """A stored instant as an aware UTC datetime: SQLite and raw SQL give naive values
    (or ISO text), which are UTC by our convention."""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


def parse(spec: str) -> tuple[datetime, float]:
    """``rehearse:<start>:<factor>`` -> (start as UTC, factor)."""
    form = f"expected {ENV}=rehearse:<start>:<factor>, e.g. rehearse:2026-12-01T08:55+08:00:60"
    if not spec.startswith(PREFIX) or spec.count(":") < 2:
        raise ClockError(f"{ENV}={spec!r}: {form}")
    start_text, _, factor_text = spec[len(PREFIX):].rpartition(":")
    try:
        start = datetime.fromisoformat(start_text)
        factor = float(factor_text)
    except ValueError:
        raise ClockError(f"{ENV}={spec!r}: {form}") from None
    if start.tzinfo is None:
        raise ClockError(f"{ENV}={spec!r}: the start needs a UTC offset, e.g. 2026-12-01T08:55+08:00")
    if not 1 <= factor <= 100_000:
        raise ClockError(f"{ENV}={spec!r}: the factor must be between 1 and 100000 (got {factor_text})")
    return start.astimezone(UTC), factor


def from_stored(spec: str, anchor: datetime) -> Clock:
    start, factor = parse(spec)
    return Clock(start, factor, anchor if anchor.tzinfo else anchor.replace(tzinfo=UTC))
