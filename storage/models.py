"""Tables. Schema changes go through ``storage/migrations`` (alembic).

Secret ballot: ``ballot``, ``answer`` and ``opinion`` carry no person id, chat id or
timestamp; the person's ``membership`` keeps only ``submitted``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from storage.types import AwareDateTime, MemberStatus, OutboxStatus, PersonStatus  # noqa: F401 (re-exported)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(AwareDateTime(), nullable=False, **kw))


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"
    id: str = Field(primary_key=True, max_length=40)
    title: dict | str = Field(sa_column=Column(JSON, nullable=False))
    definition: dict = Field(sa_column=Column(JSON, nullable=False))  # Campaign.model_dump(mode="json")
    source: str  # the YAML as loaded, for the record
    opens: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    closes: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    sealed: bool = True
    closed: bool = False  # set by `minping close`
    chain_head: str  # hash of the last ballot (or the genesis hash)
    chain_count: int = 0  # ballots in the chain
    # Ballots sealed, in the chain or still in envelopes (storage/ballots.py); when the
    # oldest envelope began to wait (no time per envelope); batches appended so far.
    sealed_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    pending_since: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    chain_batches: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # How a ballot's hash is made (storage/ballots.py ``canonical``): 2 (new campaigns)
    # hashes each opinion's SHA-256, not its text; 1: chains begun before that.
    chain_version: int = Field(default=2, sa_column_kwargs={"server_default": "1"})
    # The secret key of the opinions' digests in the chain (``storage.ballots.opinion_hash``):
    # never published, so that a kit's digests cannot be matched with known texts.
    opinion_key: str = Field(default_factory=lambda: secrets.token_hex(32), max_length=64)
    loaded_at: datetime = _ts()
    # Its personal data deleted (retention, ``storage/retention.py``): no more messages.
    purged_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))


class CategoryRow(SQLModel, table=True):
    __tablename__ = "category"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=40)
    label: dict | str = Field(sa_column=Column(JSON, nullable=False))
    position: int


class EvalueeRow(SQLModel, table=True):
    __tablename__ = "evaluee"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=40)
    category_key: str = Field(max_length=40)
    kind: str = Field(max_length=10)
    unit: str | None = Field(default=None, max_length=40)
    name: dict | str = Field(sa_column=Column(JSON, nullable=False))
    position: int


class RaterGroupRow(SQLModel, table=True):
    __tablename__ = "rater_group"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=40)
    label: dict | str = Field(sa_column=Column(JSON, nullable=False))
    weight: float
    sample: int | None = None
    open: bool = False
    rates: str = Field(default="all", max_length=10)
    position: int


CHANNEL_DEFAULT = "telegram"  # the channel of everything from before there were channels (bot/channel.py)


def _channel() -> Any:
    return Field(default=CHANNEL_DEFAULT, max_length=20, sa_column_kwargs={"server_default": CHANNEL_DEFAULT})


class Person(SQLModel, table=True):
    """Someone who talked to the bot. No names are stored: the address is enough.

    A person is identified by (``channel``, ``chat_id``): ``chat_id`` is the address
    within the channel (Telegram's chat id); the same address on two channels is two
    persons."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("channel", "chat_id", name="uq_person_channel_chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = _channel()
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # the address within the channel
    locale: str = Field(default="zh", max_length=8)
    status: str = Field(default=PersonStatus.ACTIVE, max_length=12)
    current_campaign: str | None = Field(default=None, max_length=40)
    created_at: datetime = _ts()


class Membership(SQLModel, table=True):
    """A person in a campaign's rater group. At most one group per campaign."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    # None once the campaign's personal data was purged: the membership stays (counts)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    group_key: str = Field(max_length=40)
    unit: str | None = Field(default=None, max_length=40)  # for own_unit groups
    status: str = Field(default=MemberStatus.ENROLLED, max_length=12)
    submitted: bool = False  # the only trace a ballot leaves on its rater
    enrolled_at: datetime = _ts()
    # Enrolment and the draw (issue 4). In the draw's pool only after consent.
    consented: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    drawn_round: int | None = None  # 1 = the draw, 2… = replacement rounds; None = not drawn
    invited_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    reminders_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # After-service link (一事一评): this rater rates this one evaluee only, without a draw.
    only_evaluee: str | None = Field(default=None, max_length=40)
    # The chain batch that appended this rater's ballot (None while it waits in an
    # envelope); set by the batch so that the row's last write is the batch's.
    chain_batch: int | None = None
    # After-service raters rate once per service visit: the visit number (1, 2, …).
    visits: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Conversation(SQLModel, table=True):
    """A person's conversation state per campaign and flow: survives restarts."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("person_id", "campaign_id", "flow"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40)
    flow: str = Field(max_length=20)
    state: dict = Field(sa_column=Column(JSON, nullable=False))
    # Adapter bookkeeping (card key -> Telegram message id); not business state.
    cards: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts()


class Ballot(SQLModel, table=True):
    """A sealed submission: random id, rater group, place in the hash chain. No person."""

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("campaign_id", "seq"),)
    id: str = Field(primary_key=True, max_length=32)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    group_key: str = Field(max_length=40)
    seq: int  # position in the campaign's chain, 1-based
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Envelope(SQLModel, table=True):
    """A sealed ballot waiting to be appended to the chain: no person, no time, no order."""

    __tablename__ = "envelope"
    id: str = Field(primary_key=True, max_length=32)  # becomes the ballot id
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    group_key: str = Field(max_length=40)
    content: dict = Field(sa_column=Column(JSON, nullable=False))  # {"answers": …, "opinions": …}


class Answer(SQLModel, table=True):
    __tablename__ = "answer"
    # Covering: the chain walk and the tally read a ballot's answers from the index alone.
    __table_args__ = (Index("ix_answer_ballot_content", "ballot_id", "evaluee_key", "dimension_key", "option_key"),)
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: str = Field(foreign_key="ballot.id", max_length=32)
    evaluee_key: str = Field(max_length=40)
    dimension_key: str = Field(max_length=40)
    option_key: str | None = Field(default=None, max_length=40)  # None = 不了解


class Opinion(SQLModel, table=True):
    __tablename__ = "opinion"
    __table_args__ = (Index("ix_opinion_ballot", "ballot_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: str = Field(foreign_key="ballot.id", max_length=32)
    evaluee_key: str = Field(max_length=40)
    text: str


class Link(SQLModel, table=True):
    """A deep-link payload (``/start <token>``): opaque and unguessable."""

    __tablename__ = "link"
    token: str = Field(primary_key=True, max_length=40)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    kind: str = Field(max_length=12)  # group | code | service | organizer | evaluee
    group_key: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=40)
    evaluee_key: str | None = Field(default=None, max_length=40)
    single_use: bool = False
    used_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    created_at: datetime = _ts()
    # `minping links --revoke`: the token no longer opens anything.
    revoked_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))


class ProcessedUpdate(SQLModel, table=True):
    """Update ids already handled, per channel (Telegram's update_id): a redelivered
    update has no second effect."""

    __tablename__ = "processed_update"
    channel: str = Field(default=CHANNEL_DEFAULT, max_length=20, primary_key=True,
                         sa_column_kwargs={"server_default": CHANNEL_DEFAULT})
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handled_at: datetime = _ts()


from sqlalchemy import LargeBinary, String, Text  # noqa: E402  (appended with the outbox table)


class Attachment(SQLModel, table=True):
    """The bytes of an outbox row's picture or file, once per content (``storage/outbox.py``).

    Kept apart from ``outbox``: the same chart for ten organizers is stored once, and the
    sender's queries over ``outbox`` never read through a row's bytes (on SQLite a column
    after a large value costs reading all of it)."""

    __tablename__ = "attachment"
    sha256: str = Field(primary_key=True, max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Set by every enqueue that names it: a purge drops only attachments unused for a while,
    # and on PostgreSQL waits for (then spares) one an open transaction is naming.
    used_at: datetime = _ts()


class Outbox(SQLModel, table=True):
    """A proactive message waiting to be sent (``storage/outbox.py``, ``bot/sender.py``).

    Written in the same transaction as the change that causes it; drained by the sender.
    status: ``OutboxStatus``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        # The claim's "is an earlier row of this chat still waiting?" per (channel, address):
        # with the status in the index, a chat's sent history is never read.
        Index("ix_outbox_channel_chat_status", "channel", "chat_id", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = _channel()  # only a sender whose transport is of this channel sends the row
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # the address within the channel
    campaign_id: str | None = Field(default=None, max_length=40, index=True)  # what it is about (purge)
    kind: str = Field(max_length=20)  # invitation | reminder | digest | feedback | notice …
    text: str = Field(sa_column=Column(Text, nullable=False))  # Telegram HTML
    buttons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [[[label, action], …], …]
    # The picture or file, stored once in ``attachment`` (a digest's chart goes to every
    # organizer): the SHA-256 of its bytes, hex.
    attachment_sha256: str | None = Field(default=None, max_length=64, index=True)
    filename: str | None = Field(default=None, max_length=120)
    attachment_kind: str | None = Field(default=None, max_length=10)  # photo | document
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True, unique=True))
    status: str = Field(default=OutboxStatus.PENDING, max_length=12)
    attempts: int = 0  # finished attempts that count (a 429 does not)
    parts_sent: int = 0  # an attachment plus a separate text: parts already delivered
    not_before: datetime = _ts()
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()


class JobFiring(SQLModel, table=True):
    """A scheduled firing already done (``storage/schedule.py``): exactly once per
    (job, key, firing time), across restarts and several processes."""

    __tablename__ = "job_firing"
    job: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=120)  # e.g. campaign id
    firing: datetime = Field(sa_column=Column(AwareDateTime(), primary_key=True))
    done_at: datetime = _ts()


class SchedulerLease(SQLModel, table=True):
    """Who runs the scheduler: exactly one process at a time holds the lease."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=80)
    expires_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
