"""Organizer commands: what ``flows.organizer`` reads (the campaigns a person organizes,
the reports a command shows) and the appliers of its effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.app import codes  # noqa: F401  (RedeemCode's applier)
from bot.app import effects
from flows import organizer as org
from flows.campaign import Campaign
from reports import digest as digests
from reports import rectification as boards
from storage import campaigns
from storage import tally as store
from storage.models import CHANNEL_DEFAULT, Link, Person  # organizers: Telegram, the default channel



def ctx(session: Session, load: Callable[[Session, str], Campaign], person: Person, args: str = "",
        report: str | None = None, now: datetime | None = None) -> org.Ctx:
    """The command's view: every campaign there is, the ones this person organizes
    (``load(session, id)`` parses a campaign), and for ``report`` ("status",
    "rectification") the texts of the campaigns the command names."""
    rows = campaigns.list_campaigns(session)
    existing = frozenset(r.id for r in rows)
    # A command naming an existing campaign reads that one; otherwise all (to list them).
    named = org.wanted(args)
    mine = [campaign for campaign in (load(session, cid) for cid in ([named] if named in existing else sorted(existing)))
            if _organizes(session, campaign, person)]
    reports: dict[str, tuple[str, ...]] = {}
    for c in org.chosen(tuple(mine), args) if report else ():
        if report == "status":
            reports[c.id] = (digests.status_text(session, c, org.locale_in(c, person.locale), now),)
        else:  # the board, then every plan (measure, owner, deadline, state, progress)
            rows_ = boards.board(session, c, now)
            reports[c.id] = (boards.board_text(c, rows_, person.locale),
                             *boards.plans_text(c, boards.plan_rows(session, c, now), rows_, person.locale))
    return org.Ctx(locale=person.locale, chat_id=person.chat_id, existing=existing, mine=tuple(mine), reports=reports)


def _organizes(session: Session, campaign: Campaign, person: Person) -> bool:
    """Organizers are Telegram chat ids (the campaign file's, or bound with a code)."""
    return person.channel == CHANNEL_DEFAULT and store.is_organizer(session, campaign, person.chat_id)


def code_ctx(session: Session, campaign: Campaign, person: Person, link: Link) -> org.CodeCtx:
    return org.CodeCtx(locale=person.locale, chat_id=person.chat_id, campaign=campaign,
                       organizer=_organizes(session, campaign, person),
                       used=link.single_use and link.used_at is not None, can_organize=person.channel == CHANNEL_DEFAULT)


@effects.applies(org.RequestDigest)
def _request_digest(session: Session, eff: org.RequestDigest, now: datetime, **_: object) -> None:
    from bot.jobs.digests import request_now

    request_now(session, eff.campaign_id, eff.chat_id, eff.locale, now)


@effects.applies(org.BindOrganizer)
def _bind_organizer(session: Session, eff: org.BindOrganizer, **_: object) -> None:
    store.bind_organizer(session, eff.campaign_id, eff.chat_id)
