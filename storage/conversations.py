"""Conversation state per person, campaign and flow (JSON), kept across restarts."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Conversation, utcnow


def load(session: Session, person_id: int, campaign_id: str, flow: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.person_id == person_id, Conversation.campaign_id == campaign_id, Conversation.flow == flow
        )
    ).first()


def save(session: Session, person_id: int, campaign_id: str, flow: str, state: dict,
         cards: dict | None = None) -> Conversation:
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
