"""Deep-link tokens for ``https://t.me/<bot>?start=<token>``."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from storage.models import Link


def group_link(session: Session, campaign_id: str, group_key: str, unit: str | None = None) -> Link:
    """The (reusable) enrolment link of a rater group (and unit, for ``own_unit``
    groups), created on first use."""
    link = session.exec(
        select(Link).where(Link.campaign_id == campaign_id, Link.kind == "group", Link.group_key == group_key,
                           Link.unit == unit if unit else Link.unit.is_(None))
    ).first()
    if link is None:
        # 128 random bits, URL-safe: nobody can guess another group's link.
        link = Link(token=secrets.token_urlsafe(16), campaign_id=campaign_id, kind="group", group_key=group_key,
                    unit=unit)
        session.add(link)
        session.flush()
    return link


def resolve(session: Session, token: str) -> Link | None:
    if not token or len(token) > 40:
        return None
    return session.get(Link, token)
