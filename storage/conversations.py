"""Conversation state per person, campaign and flow (JSON), kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, update
from sqlmodel import Session, select

from storage.direct import Direct
from storage.models import CHANNEL_DEFAULT, CampaignRow, Conversation, Membership, Person, utcnow


def load(session: Session, person_id: int, campaign_id: str, flow: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.person_id == person_id, Conversation.campaign_id == campaign_id, Conversation.flow == flow
        )
    ).first()


def save(session: Session, person_id: int, campaign_id: str, flow: str, state: dict,
         cards: dict | None = None, conv: Conversation | None = None, new: bool = False) -> Conversation:
    """Store the state; pass ``conv`` when it is already loaded, or ``new`` when the caller
    found none in this transaction (each saves a query; a conversation created meanwhile
    would still be refused by the unique constraint)."""
    if conv is not None and conv.id is not None:
        # One UPDATE statement, without the ORM's unit of work (the hot path of a tap).
        params = {"conv_id": conv.id, "state": state, "updated_at": utcnow()}
        if cards is None:
            session.connection().execute(_UPDATE_STATE, params)
        else:
            session.connection().execute(_UPDATE_STATE_CARDS, {**params, "cards": cards})
        session.expire(conv)  # reread if anyone looks at it again in this transaction
        return conv
    if conv is None and not new:
        conv = load(session, person_id, campaign_id, flow)
    if conv is None:
        conv = Conversation(person_id=person_id, campaign_id=campaign_id, flow=flow, state=state, cards=cards or {})
    else:
        conv.state = state
        if cards is not None:
            conv.cards = cards
        conv.updated_at = utcnow()
    session.add(conv)
    session.flush()
    return conv


@dataclass(frozen=True)
class Phase:
    """The campaign columns that decide its phase (``storage.campaigns.phase``)."""

    opens: datetime
    closes: datetime
    closed: bool


@dataclass
class Context:
    """Everything a chat step needs about one person, read in one round trip."""

    person: Person
    campaign_id: str | None  # the person's current campaign when loaded
    member: Membership | None
    conv: Conversation | None
    phase: Phase | None


# Statements of the hot path, built once: building one and its cache key costs more
# than running it on SQLite.
_table = Conversation.__table__
_UPDATE_STATE = update(_table).where(_table.c.id == bindparam("conv_id")).values(
    state=bindparam("state"), updated_at=bindparam("updated_at"))
_UPDATE_STATE_CARDS = update(_table).where(_table.c.id == bindparam("conv_id")).values(
    state=bindparam("state"), updated_at=bindparam("updated_at"), cards=bindparam("cards"))
_current = Person.current_campaign
_CONTEXT = (
    select(Person, Membership, Conversation, CampaignRow.opens, CampaignRow.closes, CampaignRow.closed)
    .outerjoin(Membership, and_(Membership.person_id == Person.id, Membership.campaign_id == _current))
    .outerjoin(Conversation, and_(Conversation.person_id == Person.id, Conversation.campaign_id == _current,
                                  Conversation.flow == bindparam("flow")))
    .outerjoin(CampaignRow, CampaignRow.id == _current)
    .where(Person.channel == bindparam("channel"), Person.chat_id == bindparam("chat_id"))
)


def load_context(session: Session, chat_id: int, flow: str, channel: str = CHANNEL_DEFAULT) -> Context | None:
    """The person at this address of ``channel``, their membership, ``flow`` conversation
    and the phase columns of their current campaign, in one query; None for a new person."""
    row = session.exec(_CONTEXT, params={"channel": channel, "chat_id": chat_id, "flow": flow}).first()
    if row is None:
        return None
    person, member, conv, opens, closes, closed = row
    phase = Phase(opens, closes, bool(closed)) if opens is not None else None
    return Context(person, person.current_campaign, member, conv, phase)


# --- the tap's fast path ----------------------------------------------------------------
# A questionnaire tap by a rater already answering is most of a campaign's traffic. Its
# read and write run as ``Direct`` statements into plain records (no ORM identity map,
# no unit of work); anything else goes the ORM way (``load_context``).


@dataclass(frozen=True)
class PersonRecord:
    id: int
    chat_id: int
    locale: str
    status: str
    current_campaign: str
    channel: str = CHANNEL_DEFAULT  # with chat_id, who this is (``Person.channel``)


@dataclass(frozen=True)
class MemberRecord:
    id: int
    campaign_id: str
    group_key: str
    unit: str | None
    status: str
    submitted: bool
    consented: bool
    drawn_round: int | None
    only_evaluee: str | None


@dataclass(frozen=True)
class AnsweringContext:
    """A person answering a questionnaire: person, membership and conversation all exist."""

    person: PersonRecord
    member: MemberRecord
    conv_id: int
    state: dict
    cards: dict
    phase: Phase


_P, _M, _C, _R = Person.__table__.c, Membership.__table__.c, Conversation.__table__.c, CampaignRow.__table__.c
_ANSWERING = Direct(
    select(_P.id, _P.locale, _P.status, _P.current_campaign,
           _M.id, _M.group_key, _M.unit, _M.status, _M.submitted, _M.consented, _M.drawn_round, _M.only_evaluee,
           _C.id, _C.state, _C.cards, _R.opens, _R.closes, _R.closed)
    .select_from(Person.__table__)
    .join(Membership.__table__, and_(_M.person_id == _P.id, _M.campaign_id == _P.current_campaign))
    .join(Conversation.__table__, and_(_C.person_id == _P.id, _C.campaign_id == _P.current_campaign,
                                       _C.flow == bindparam("flow")))
    .join(CampaignRow.__table__, _R.id == _P.current_campaign)
    .where(_P.channel == bindparam("channel"), _P.chat_id == bindparam("chat_id"))
)
_SAVE_ANSWERING = Direct(_UPDATE_STATE_CARDS)


def load_answering(session: Session, chat_id: int, flow: str, channel: str = CHANNEL_DEFAULT) -> AnsweringContext | None:
    """The context of a person with a ``flow`` conversation in their current campaign,
    in one statement; None otherwise (then use ``load_context``)."""
    rows = _ANSWERING.rows(session, channel=channel, chat_id=chat_id, flow=flow)
    if not rows:
        return None
    (pid, locale, pstatus, current, mid, group, unit, mstatus, submitted, consented, drawn, only,
     conv_id, state, cards, opens, closes, closed) = rows[0]
    return AnsweringContext(
        PersonRecord(pid, chat_id, locale, pstatus, current, channel),
        MemberRecord(mid, current, group, unit, mstatus, bool(submitted), bool(consented), drawn, only),
        conv_id, state, cards or {}, Phase(opens, closes, bool(closed)))


def save_answering(session: Session, conv_id: int, state: dict, cards: dict) -> None:
    _SAVE_ANSWERING.run(session, conv_id=conv_id, state=state, cards=cards, updated_at=utcnow())


_SAVE_CARDS = update(_table).where(_table.c.id == bindparam("conv_id")).values(cards=bindparam("new_cards"))
_BATCH = 500  # chat ids per IN (...) list


def cards_of(session: Session, chat_ids: list[int], flow: str,
             channel: str = "telegram") -> dict[tuple[int, str], tuple[int, dict]]:
    """(chat id, campaign id) -> (conversation id, stored card ids) of these chats' ``flow``
    conversations on ``channel``, a few statements for any number of chats."""
    found: dict[tuple[int, str], tuple[int, dict]] = {}
    for i in range(0, len(chat_ids), _BATCH):
        rows = session.execute(
            select(Person.chat_id, Conversation.campaign_id, Conversation.id, Conversation.cards)
            .join(Conversation, Conversation.person_id == Person.id)
            .where(Person.channel == channel, Person.chat_id.in_(chat_ids[i:i + _BATCH]), Conversation.flow == flow))
        for chat_id, campaign_id, conv_id, cards in rows:
            found[(chat_id, campaign_id)] = (conv_id, cards or {})
    return found


def save_cards(session: Session, cards: dict[int, dict]) -> None:
    """Store card ids by conversation id, one executemany."""
    if cards:
        session.connection().execute(_SAVE_CARDS, [{"conv_id": k, "new_cards": v} for k, v in cards.items()])
