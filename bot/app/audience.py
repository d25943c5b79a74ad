"""Who may be messaged about a campaign, and in which language."""

from __future__ import annotations

from sqlmodel import Session

from flows.campaign import Campaign
from storage import people
from storage import tally as tally_store
from storage.models import PersonStatus


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def may_message(session: Session, chat_id: int) -> bool:
    """Only people whose status is active (an organizer from the campaign file may have
    never written to the bot: no row, no reason to hold back)."""
    person = people.find_person(session, chat_id)  # organizers are Telegram chats
    return person is None or person.status == PersonStatus.ACTIVE


def locale_for(session: Session, campaign: Campaign, chat_id: int) -> str:
    """The person's own language when they have written to the bot and the campaign
    speaks it; otherwise the campaign's default."""
    person = people.find_person(session, chat_id)
    if person is not None and person.locale in campaign.locales:
        return person.locale
    return campaign.default_locale


def organizers(session: Session, campaign: Campaign) -> list[int]:
    return [c for c in tally_store.organizers(session, campaign) if may_message(session, c)]


def name_of(campaign: Campaign, evaluee_key: str, locale: str) -> str:
    return campaign.text(campaign.evaluee(evaluee_key).name, locale)
