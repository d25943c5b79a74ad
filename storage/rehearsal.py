"""Where a rehearsal's clock is kept (``flows.clock``): one row in ``minping_meta``.

A database with this row is a rehearsal database: every command reads campaign time
from it, and ``minping run`` on the real clock refuses it (its ballots are not real). A
rehearsal cannot begin on a database that already holds ballots: they would be real.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, select

from flows.clock import Clock, from_stored, parse

KEY = "rehearsal"


class MetaRow(SQLModel, table=True):
    """Facts about the database itself (key -> JSON text)."""

    __tablename__ = "minping_meta"
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))


class RehearsalRefused(Exception):
    """Rehearsing here would mix rehearsal and real data (the message says why)."""


def stored(session: Session) -> Clock | None:
    row = session.get(MetaRow, KEY)
    if row is None:
        return None
    data = json.loads(row.value)
    return from_stored(data["spec"], datetime.fromisoformat(data["anchor"]))


def begin(session: Session, spec: str, real_now: datetime | None = None) -> Clock:
    """The rehearsal clock for ``spec`` (MINPING_CLOCK), anchored now the first time
    (or when ``spec`` changed). Refused where campaigns already hold real ballots."""
    parse(spec)  # a malformed spec is refused before anything is written
    row = session.get(MetaRow, KEY)
    if row is not None and json.loads(row.value)["spec"] == spec:
        return stored(session)  # type: ignore[return-value]
    if row is None:
        from storage.models import CampaignRow

        real = session.exec(select(CampaignRow.id, CampaignRow.chain_count)
                            .where(CampaignRow.chain_count > 0).order_by(CampaignRow.id)).all()
        if real:
            listed = ", ".join(f"{cid} ({n} ballots)" for cid, n in real)
            raise RehearsalRefused(
                f"this database holds real ballots ({listed}): a rehearsal would mix with them. "
                "Rehearse on a fresh database: set DATABASE_URL to a new file, run `minping migrate`, "
                "load the campaign there")
        row = MetaRow(key=KEY, value="")
    anchor = real_now or datetime.now(UTC)
    row.value = json.dumps({"spec": spec, "anchor": anchor.isoformat()})
    session.add(row)
    session.flush()
    return from_stored(spec, anchor)

