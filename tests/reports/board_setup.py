"""A sealed campaign with a draw, open and answered, for the public board's tests (unit
and browser): evaluees with duties and commitments, a sampled group, an own-unit group
drawn per unit (transport's staff below min_group_size), an open group.

Progress at NOW: recipients 3 of 4 drawn submitted, staff 5 of 6, public 2 ballots."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlmodel import select

from flows.campaign import Campaign
from storage import ballots, campaigns, draw, people
from storage.db import session_scope
from storage.models import Membership
from tests.reports.handworked import handworked_data

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai; the campaign is open
S, F, B, D = "satisfied", "fairly", "basically", "dissatisfied"
DUTIES = "负责全县公路建设、养护和道路运输管理。"
COMMITMENT = "群众办事“最多跑一次”"
OPINION = "窗口排队太久，希望增加人手"

EVALUEES = [
    {"key": "transport", "name": {"zh": "交通局", "en": "Transport Bureau"}, "category": "gov",
     "duties": {"zh": DUTIES, "en": "Builds and maintains the county's roads."},
     "commitments": [{"zh": COMMITMENT, "en": "One visit is enough"}, "办件超时率低于1%"]},
    {"key": "water", "name": {"zh": "水利局", "en": "Water Bureau"}, "category": "gov"},
    {"key": "finance", "name": {"zh": "财政局", "en": "Finance Bureau"}, "category": "gov"},
]
GROUPS = [
    {"key": "recipients", "label": {"zh": "服务对象", "en": "Service recipients"}, "weight": 35, "sample": 4},
    {"key": "staff", "label": {"zh": "所在单位", "en": "Own staff"}, "weight": 15, "sample": 6, "rates": "own_unit"},
    {"key": "public", "label": {"zh": "社会群众", "en": "The public"}, "weight": 10, "open": True},
]

BEACON, BEACON_VALUE = "中国福利彩票双色球 2026-12-03 开奖号码", "03 07 12 19 25 31 + 09"


def board_campaign(**overrides) -> Campaign:
    return Campaign.model_validate(handworked_data(evaluees=EVALUEES, rater_groups=GROUPS, **overrides))


def _submit(s, campaign: Campaign, m: Membership, option: str, opinion: str | None = None) -> None:
    rated = campaign.evaluees_for(m.group_key, m.unit)
    answers = {e.key: {d.key: option for d in campaign.dimensions} for e in rated}
    ballots.submit_ballot(s, campaign.id, m.person_id,
                          SimpleNamespace(answers=answers, opinions={"transport": opinion} if opinion else {}))


def answered_campaign(engine, **overrides) -> Campaign:
    """Stored, enrolled, drawn (a fixed seed), partly answered; ballots chained."""
    campaign = board_campaign(**overrides)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        chat = 9000
        for group, unit, n in [("recipients", None, 6), ("staff", "transport", 3), ("staff", "water", 3),
                               ("staff", "finance", 3), ("public", None, 2)]:
            for _ in range(n):
                chat += 1
                m = people.enrol(s, campaign.id, people.get_or_create_person(s, chat), group, unit=unit)
                m.consented = True
                s.add(m)
        draw.commit(s, campaign, NOW, fixed=b"board", beacon=BEACON)
        draw.reveal(s, campaign, NOW, beacon_value=BEACON_VALUE)
    with session_scope(engine) as s:
        members = s.exec(select(Membership).where(Membership.campaign_id == campaign.id)
                         .order_by(Membership.id)).all()
        drawn = [m for m in members if m.drawn_round is not None]
        rec = [m for m in drawn if m.group_key == "recipients"]
        for m, option in zip(rec[:3], (S, F, D), strict=True):
            _submit(s, campaign, m, option, OPINION if option == D else None)
        for unit, options in (("transport", (S,)), ("water", (F, F)), ("finance", (S, B))):
            for m, option in zip([m for m in drawn if m.unit == unit], options, strict=False):
                _submit(s, campaign, m, option)
        for m, option in zip([m for m in members if m.group_key == "public"], (F, B), strict=True):
            _submit(s, campaign, m, option)
        ballots.append_envelopes(s, campaign.id)
    return campaign


def close_with_plan(engine, campaign: Campaign, measure: str = "增加窗口人手", deadline: str = "2026-06-20") -> None:
    """Close the campaign, publish the notices and let transport's contact file a plan
    answering opinion 1 (through the chat, as a contact does)."""
    from datetime import timedelta

    from bot.service import Service
    from reports import tally
    from tests.bot.test_evaluee import Clock, _file, bind, publish

    with session_scope(engine) as s:
        tally.close_campaign(s, campaign, NOW)
    clock = Clock(NOW + timedelta(hours=1))
    contact = bind(engine, Service(engine, clock=clock), campaign)
    publish(engine, campaign, clock())
    _file(contact, measure, deadline, "为第 1 项制定方案")
