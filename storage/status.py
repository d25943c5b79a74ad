"""Progress figures per rater group (what organizers may see while a campaign is open).
The statements and the figures' definitions are in ``storage.progress``."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from flows.campaign import Campaign
from storage.progress import BALLOTS, MEMBERS, POOLS, GroupProgress, assemble

__all__ = ["GroupProgress", "group_progress"]


def group_progress(session: Session, campaign: Campaign) -> list[GroupProgress]:
    """Counted by the database (one GROUP BY), so a digest stays fast at any size."""
    args = {"cid": campaign.id}
    rows = [session.execute(text(sql), args).all() for sql in (MEMBERS, BALLOTS, POOLS)]
    return assemble([(g.key, g.open or not g.sample) for g in campaign.rater_groups], *rows)
