"""Persons and their rater-group memberships. A person is (channel, address): ``chat_id``
is the address within the channel (``bot/channel.py``)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import CHANNEL_DEFAULT, MemberStatus, Membership, Person


class AlreadyEnrolled(Exception):
    def __init__(self, group_key: str) -> None:
        super().__init__(group_key)
        self.group_key = group_key


def get_or_create_person(session: Session, chat_id: int, locale: str = "zh",
                         channel: str = CHANNEL_DEFAULT) -> Person:
    """The person at this address (``chat_id``) of ``channel``; made when new."""
    person = find_person(session, chat_id, channel)
    if person is None:
        person = Person(channel=channel, chat_id=chat_id, locale=locale)
        session.add(person)
        session.flush()
    return person


def find_person(session: Session, chat_id: int, channel: str = CHANNEL_DEFAULT) -> Person | None:
    return session.exec(select(Person).where(Person.channel == channel, Person.chat_id == chat_id)).first()


def membership(session: Session, campaign_id: str, person_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(Membership.campaign_id == campaign_id, Membership.person_id == person_id)
    ).first()


def enrol(session: Session, campaign_id: str, person: Person, group_key: str,
          unit: str | None = None, status: str = MemberStatus.ENROLLED, new: bool = False) -> Membership:
    """Put a person in a rater group; a person belongs to at most one group per campaign.
    ``new``: the caller found no membership in this transaction (saves a query; the unique
    constraint still refuses a second one)."""
    existing = None if new else membership(session, campaign_id, person.id)
    if existing is not None:
        if existing.group_key != group_key:
            raise AlreadyEnrolled(existing.group_key)
        return existing
    m = Membership(campaign_id=campaign_id, person_id=person.id, group_key=group_key, unit=unit, status=status)
    session.add(m)
    person.current_campaign = campaign_id
    session.add(person)
    session.flush()
    return m
