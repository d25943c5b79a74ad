"""Column types and stored values shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from flows.clock import aware


class AwareDateTime(TypeDecorator):
    """A UTC instant in and out on every backend: SQLite keeps no offset and returns naive
    values, so the offset is normalised on the way in and restored on the way out, and
    no caller needs to patch what it reads."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001, ARG002
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001, ARG002
        return aware(value)


# Statuses are stored as their text; an enum member equals its text, so rows read back
# as plain strings compare equal to these.
class PersonStatus(StrEnum):
    ACTIVE = "active"
    UNREACHABLE = "unreachable"  # blocked the bot, or left the chat


class MemberStatus(StrEnum):
    ENROLLED = "enrolled"
    DRAWN = "drawn"
    INVITED = "invited"
    STARTED = "started"
    SUBMITTED = "submitted"
    OPTED_OUT = "opted_out"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class PlanStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
