"""Deep-link tokens for ``https://t.me/<bot>?start=<token>``."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from storage.models import Link


def group_link(session: Session, campaign_id: str, group_key: str, unit: str | None = None) -> Link:
    """The (reusable) enrolment link of a rater group (and unit, for ``own_unit``
    groups), created on first use."""
    link = session.exec(
        select(Link).where(Link.campaign_id == campaign_id, Link.kind == "group", Link.group_key == group_key,
                           Link.unit == unit if unit else Link.unit.is_(None), Link.revoked_at.is_(None))
    ).first()
    if link is None:
        # 128 random bits, URL-safe: nobody can guess another group's link.
        link = Link(token=secrets.token_urlsafe(16), campaign_id=campaign_id, kind="group", group_key=group_key,
                    unit=unit)
        session.add(link)
        session.flush()
    return link


def service_link(session: Session, campaign_id: str, group_key: str, evaluee_key: str) -> Link:
    """The reusable after-service link of an evaluee (一事一评), created on first use
    (and again after a revocation)."""
    link = session.exec(select(Link).where(Link.campaign_id == campaign_id, Link.kind == "service",
                                           Link.evaluee_key == evaluee_key, Link.revoked_at.is_(None))).first()
    if link is None:
        link = Link(token=secrets.token_urlsafe(16), campaign_id=campaign_id, kind="service", group_key=group_key,
                    evaluee_key=evaluee_key)
        session.add(link)
        session.flush()
    return link


def resolve(session: Session, token: str) -> Link | None:
    """The link of ``token``; None for an unknown or revoked one (``revoke``)."""
    if not token or len(token) > 40:
        return None
    link = session.get(Link, token)
    return None if link is None or link.revoked_at is not None else link


def list_links(session: Session, campaign_id: str) -> list[Link]:
    """Every link and code ever issued for the campaign (used, unused, revoked), oldest
    first: what ``minping links --list`` shows and exports."""
    return list(session.exec(select(Link).where(Link.campaign_id == campaign_id)
                             .order_by(Link.created_at, Link.kind, Link.group_key, Link.unit)))


def revoke(session: Session, campaign_id: str, token: str, now: datetime) -> Link | None:
    """Make a link or code open nothing any more (kept, marked). None: no such token in
    this campaign. A person already enrolled through it stays enrolled; a revoked
    reusable group link is replaced by a fresh one the next time links are printed."""
    link = session.get(Link, token)
    if link is None or link.campaign_id != campaign_id:
        return None
    if link.revoked_at is None:
        link.revoked_at = now
        session.add(link)
        session.flush()
    return link


def issue_codes(session: Session, campaign_id: str, kind: str, n: int, *, group_key: str | None = None,
                unit: str | None = None, evaluee_key: str | None = None) -> list[Link]:
    """``n`` new single-use codes of ``kind`` (code | organizer | evaluee), each a fresh
    128-bit token; a code grants its holder one thing once (``redeem``)."""
    codes = [Link(token=secrets.token_urlsafe(16), campaign_id=campaign_id, kind=kind, group_key=group_key,
                  unit=unit, evaluee_key=evaluee_key, single_use=True) for _ in range(n)]
    session.add_all(codes)
    session.flush()
    return codes


def redeem(session: Session, link: Link, now: datetime) -> bool:
    """Use up a single-use code; False if it was used already (also by a concurrent
    redemption: the UPDATE is conditional). Reusable links always redeem."""
    if not link.single_use:
        return True
    res = session.execute(
        update(Link).where(Link.token == link.token, Link.used_at.is_(None)).values(used_at=now)
    )
    if res.rowcount:
        session.refresh(link)
        return True
    return False
