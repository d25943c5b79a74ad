"""Using up a single-use code (``flows.codes.RedeemCode``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.app import effects
from flows.codes import CodeUsed, RedeemCode
from storage import links
from storage.models import Link


@effects.applies(RedeemCode)
def _redeem(session: Session, eff: RedeemCode, now: datetime, **_: object) -> None:
    link = session.get(Link, eff.token)
    if link is None or not links.redeem(session, link, now):
        raise CodeUsed(eff.token)
