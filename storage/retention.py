"""Retention: deleting a finished campaign's personal data (PIPL Art. 19, 47).

When a campaign's purpose is fulfilled — ``retention_days`` after its last rectification
round closed (after ``minping close`` when nothing was published) — ``purge`` deletes,
in one transaction, everything that names or reaches a person through it:

* the chat ids of its raters, evaluee contacts and organizers: a person row goes
  entirely unless the person is still in another campaign that is not purged (then
  only this campaign's links to them go);
* memberships' links to persons (``person_id`` becomes NULL: the membership's group,
  status and "submitted" stay, so ``verify`` still finds one ballot per rater who
  submitted, and the draw can still be checked against its pseudonyms);
* who was asked the follow-up question (kept as counts on the round);
* drafts and conversation states, evaluee contacts, organizer bindings, the organizers'
  chat ids in the stored campaign file;
* its outbox messages (texts, charts, chat ids), whatever their status;
* parked updates of the people whose chat ids go, and processed update ids older than a
  day (they carry no chat id; Telegram redelivers for 24 hours at most).

Kept: ballots, answers, opinions (anonymous), the hash chain, the tally, score records,
notices with their scrubbed items, rectification rounds and plans, follow-up answers
(anonymous) and rates, the draw's commitment, seed and pseudonymous pool.

Functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, select

from flows.campaign import Campaign
from storage import updates
from storage.rectification import EvalueeContact, FollowupAsked, RectRound
from storage import digest_requests, outbox
from storage.models import CHANNEL_DEFAULT, CampaignRow, Conversation, Membership, Outbox, Person
from storage.parked import ParkedUpdate
from storage.tally import OrganizerBinding, StoredTally

REDELIVERY = timedelta(days=1)  # Telegram redelivers an unconfirmed update for 24 hours at most


class NotFinished(Exception):
    """The campaign is still open: its people's data is still needed."""


@dataclass
class Purged:
    campaign_id: str
    persons_deleted: int = 0  # person rows (chat ids) gone
    persons_kept: int = 0  # still in another campaign: only this campaign's links went
    memberships_cut: int = 0
    conversations: int = 0
    contacts: int = 0
    organizers: int = 0
    followups_forgotten: int = 0
    messages: int = 0  # outbox rows
    parked: int = 0
    update_ids: int = 0
    already: bool = False  # purged before: nothing to do
    chat_ids: set[int] = field(default_factory=set, repr=False)  # the ones deleted (for tests)


def finished_at(session: Session, campaign_id: str) -> datetime | None:
    """When the campaign's purpose was fulfilled: the latest of its close and its
    rectification rounds' closing; None while it is open or a round is still open."""
    row = session.get(CampaignRow, campaign_id)
    if row is None or not row.closed:
        return None
    rounds = list(session.exec(select(RectRound).where(RectRound.campaign_id == campaign_id)))
    if any(r.survey_closed_at is None for r in rounds):
        return None
    tally = session.get(StoredTally, campaign_id)  # stored by `minping close`, maybe before `closes`
    closed = tally.computed_at if tally is not None else row.closes
    return max([closed, *(r.survey_closed_at for r in rounds)])


def due_at(session: Session, campaign_id: str) -> datetime | None:
    """When the scheduler purges the campaign; None: not (yet) set or not finished."""
    row = session.get(CampaignRow, campaign_id)
    if row is None or row.purged_at is not None:
        return None
    days = Campaign.model_validate(row.definition).retention_days
    done = finished_at(session, campaign_id) if days is not None else None
    return done + timedelta(days=days) if done is not None else None


def due_campaigns(session: Session, now: datetime) -> list[str]:
    ids = session.exec(select(CampaignRow.id).where(CampaignRow.closed.is_(True), CampaignRow.purged_at.is_(None)))
    return [cid for cid in ids if (due := due_at(session, cid)) is not None and due <= now]


def _organizer_chats(session: Session, row: CampaignRow) -> set[int]:
    bound = session.exec(select(OrganizerBinding.chat_id).where(OrganizerBinding.campaign_id == row.id))
    return set(row.definition.get("organizers") or []) | set(bound)


def _people_of(session: Session, row: CampaignRow) -> set[int]:
    """Person ids this campaign reaches: raters, contacts, people asked, organizers, anyone
    with a conversation in it or who last talked about it."""
    rounds = select(RectRound.id).where(RectRound.campaign_id == row.id)
    ids = set(session.exec(select(Membership.person_id).where(Membership.campaign_id == row.id,
                                                              Membership.person_id.is_not(None))))
    ids |= set(session.exec(select(EvalueeContact.person_id).where(EvalueeContact.campaign_id == row.id)))
    ids |= set(session.exec(select(FollowupAsked.person_id).where(FollowupAsked.round_id.in_(rounds))))
    ids |= set(session.exec(select(Conversation.person_id).where(Conversation.campaign_id == row.id)))
    ids |= set(session.exec(select(Person.id).where(Person.current_campaign == row.id)))
    chats = _organizer_chats(session, row)
    if chats:
        # Organizers are bound by their Telegram chat (``storage.tally.OrganizerBinding``).
        ids |= set(session.exec(select(Person.id).where(Person.channel == CHANNEL_DEFAULT, Person.chat_id.in_(chats))))
    return ids


def _still_needed(session: Session, row: CampaignRow, person_ids: set[int]) -> set[int]:
    """Those of ``person_ids`` that another campaign, not purged, still reaches."""
    if not person_ids:
        return set()
    others = [r for r in session.exec(select(CampaignRow).where(CampaignRow.id != row.id,
                                                                  CampaignRow.purged_at.is_(None)))]
    needed: set[int] = set()
    for other in others:
        needed |= _people_of(session, other) & person_ids
    return needed


def preview(session: Session, campaign_id: str) -> Purged:
    """What ``purge`` would delete now (counts), without deleting anything."""
    row = session.get(CampaignRow, campaign_id)
    out = Purged(campaign_id, already=row.purged_at is not None)
    if out.already:
        return out
    people = _people_of(session, row)
    kept = _still_needed(session, row, people)
    out.persons_deleted, out.persons_kept = len(people - kept), len(kept)
    out.memberships_cut = _count(session, Membership, Membership.campaign_id == campaign_id,
                                 Membership.person_id.is_not(None))
    out.conversations = _count(session, Conversation, Conversation.campaign_id == campaign_id)
    out.contacts = _count(session, EvalueeContact, EvalueeContact.campaign_id == campaign_id)
    out.organizers = len(_organizer_chats(session, row))
    out.messages = _count(session, Outbox, Outbox.campaign_id == campaign_id)
    return out


def _count(session: Session, model, *where) -> int:  # noqa: ANN001
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def purge(session: Session, campaign_id: str, now: datetime) -> Purged:
    """Delete the campaign's personal data (see the module docstring). Refused
    (``NotFinished``) while it is open; a second purge does nothing."""
    row = session.get(CampaignRow, campaign_id)
    if row is None or not row.closed:
        raise NotFinished(campaign_id)
    out = Purged(campaign_id)
    if row.purged_at is not None:
        out.already = True
        return out
    people = _people_of(session, row)
    kept = _still_needed(session, row, people)
    gone = people - kept
    out.persons_deleted, out.persons_kept = len(gone), len(kept)
    addresses = set(session.exec(select(Person.channel, Person.chat_id).where(Person.id.in_(gone)))) if gone else set()
    chats = {chat for _, chat in addresses}
    out.chat_ids = chats

    # Follow-up: who was asked becomes a count on the round.
    for rnd in session.exec(select(RectRound).where(RectRound.campaign_id == campaign_id)):
        asked = _count(session, FollowupAsked, FollowupAsked.round_id == rnd.id)
        answered = _count(session, FollowupAsked, FollowupAsked.round_id == rnd.id, FollowupAsked.answered.is_(True))
        rnd.asked_forgotten += asked
        rnd.answered_forgotten += answered
        session.add(rnd)
        out.followups_forgotten += session.execute(delete(FollowupAsked).where(FollowupAsked.round_id == rnd.id)
                                                   ).rowcount or 0
    session.flush()
    out.memberships_cut = session.execute(
        update(Membership).where(Membership.campaign_id == campaign_id, Membership.person_id.is_not(None))
        .values(person_id=None)).rowcount or 0
    out.conversations = session.execute(delete(Conversation).where(Conversation.campaign_id == campaign_id)
                                        ).rowcount or 0
    out.contacts = session.execute(delete(EvalueeContact).where(EvalueeContact.campaign_id == campaign_id)
                                   ).rowcount or 0
    organizers = _organizer_chats(session, row)
    out.organizers = len(organizers)
    session.execute(delete(OrganizerBinding).where(OrganizerBinding.campaign_id == campaign_id))
    by_channel: dict[str, set[int]] = {}
    for channel, chat in addresses:
        by_channel.setdefault(channel, set()).add(chat)
    # The requests first (they name organizers' chats): a digest worker queuing one of them
    # meanwhile holds its row (PostgreSQL), so the purge waits, then deletes its messages too.
    digest_requests.forget_campaign(session, campaign_id)
    out.messages = session.execute(delete(Outbox).where(or_(
        Outbox.campaign_id == campaign_id,
        *(and_(Outbox.channel == channel, Outbox.chat_id.in_(ids)) for channel, ids in by_channel.items())))
    ).rowcount or 0
    outbox.drop_unused_attachments(session)  # the charts of those messages
    if kept:
        session.execute(update(Person).where(Person.id.in_(kept), Person.current_campaign == campaign_id)
                        .values(current_campaign=None))
    if gone:
        session.execute(delete(Conversation).where(Conversation.person_id.in_(gone)))  # of purged campaigns
        out.parked = _drop_parked(session, chats)
        session.execute(delete(Person).where(Person.id.in_(gone)))
    out.update_ids = updates.prune(session, now - REDELIVERY)

    definition = dict(row.definition)
    if definition.get("organizers"):
        from flows.loader import without_organizers  # the YAML library, loaded only for a purge

        row.source = without_organizers(row.source, definition["organizers"])
        definition["organizers"] = []
        row.definition = definition
    row.purged_at = now
    session.add(row)
    session.flush()
    return out


def _drop_parked(session: Session, chats: set[int]) -> int:
    """Parked updates from or to these chats (their payload is Telegram's JSON)."""
    n = 0
    for p in session.exec(select(ParkedUpdate)):
        if _ids_in(p.payload) & chats:
            session.delete(p)
            n += 1
    return n


def _ids_in(payload: object) -> set[int]:
    """Every ``id`` of a ``chat`` or ``from`` object anywhere in an update."""
    found: set[int] = set()
    stack = [payload]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key in ("chat", "from", "user") and isinstance(value, dict) and isinstance(value.get("id"), int):
                    found.add(value["id"])
                stack.append(value)
        elif isinstance(obj, list):
            stack.extend(obj)
    return found
