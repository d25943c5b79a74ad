"""A closed campaign with everything a verification kit holds, made through the real code:
a draw committed to a named public draw and revealed with its result, ballots of the
drawn (with opinions) and of the open group sealed in envelopes and appended in two
shuffled batches, deductions and bonuses (one voided before close, one recorded after),
``close``, then a rectification round whose follow-up survey is answered and closed."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from ruamel.yaml import YAML
from sqlmodel import select

from flows.campaign import Campaign
from flows.questionnaire import SealBallot
from reports import tally
from storage import ballots, campaigns, draw, people
from storage import rectification as rs
from storage import tally as store
from storage.db import session_scope
from storage.models import Membership
from tests.factories import campaign_data

LOTTERY = "中国福利彩票双色球 2026-12-03 开奖号码 [6+1]"
LOTTERY_RESULT = "03 07 12 19 25 31 + 09"
COMMITTED_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
REVEALED_AT = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
CLOSED_AT = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
ORGANIZER = 931_000_777
CHAT = 931_000_000  # raters' chat ids: CHAT + i
OPINION = "窗口排队太久，建议增加周末值班（第{}号意见）"


def campaign_file(**overrides) -> dict:
    data = campaign_data(organizers=[ORGANIZER],
                         scoring={"democratic_total": 60, "daily_base": 20, "deductions": {"complaint": 5},
                                  "bonus": {"county": 1, "city": 2}},
                         rectification={"deadline_days": 30, "threshold": 0.8, "max_rounds": 2})
    return data | overrides


def source(data: dict) -> str:
    """The campaign file as an organizer writes it (YAML, a comment in it)."""
    buf = io.StringIO()
    yaml = YAML()
    yaml.dump(data, buf)
    return "# 测试评议 (the campaign file as written)\n" + buf.getvalue()


def make_campaign(**overrides) -> Campaign:
    return Campaign.model_validate(campaign_file(**overrides))


def _consented(s, campaign: Campaign, chat_id: int, group: str, unit: str | None = None) -> Membership:
    m = people.enrol(s, campaign.id, people.get_or_create_person(s, chat_id), group, unit=unit)
    m.consented = True
    s.add(m)
    return m


def _answers(campaign: Campaign, group: str, unit: str | None, i: int) -> dict:
    options = [o.key for o in campaign.scale] + [None]
    return {e.key: {d.key: options[(i * 3 + j + len(e.key)) % len(options)] for j, d in enumerate(campaign.dimensions)}
            for e in campaign.evaluees_for(group, unit)}


def closed_with_kit_data(engine, *, close: bool = True, **overrides) -> Campaign:
    """``overrides``: keys of the campaign file replaced (``rater_groups=[...]``)."""
    campaign = make_campaign(**overrides)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, source(campaign_file(**overrides)))
    with session_scope(engine) as s:  # 14 recipients, 3 staff of each unit enrol and agree
        for i in range(14):
            _consented(s, campaign, CHAT + i, "recipients")
        for i, unit in enumerate(["transport"] * 3 + ["water"] * 3):
            _consented(s, campaign, CHAT + 100 + i, "staff", unit)
    with session_scope(engine) as s:
        draw.commit(s, campaign, COMMITTED_AT, beacon=LOTTERY)
    with session_scope(engine) as s:
        draw.reveal(s, campaign, REVEALED_AT, beacon_value=LOTTERY_RESULT)
    with session_scope(engine) as s:
        drawn = [(m.person_id, m.group_key, m.unit) for m in s.exec(
            select(Membership).where(Membership.campaign_id == campaign.id, Membership.drawn_round.is_not(None))
            .order_by(Membership.id))]
    for i, (person_id, group, unit) in enumerate(drawn[:-1]):  # all but one drawn rater answer
        with session_scope(engine) as s:
            opinions = {"transport": OPINION.format(i)} if i % 3 == 0 else {}
            ballots.submit_ballot(s, campaign.id, person_id,
                                  SealBallot(group, _answers(campaign, group, unit, i), opinions), now=REVEALED_AT)
        if i == 6:
            with session_scope(engine) as s:  # a batch, as the scheduler appends them
                ballots.append_envelopes(s, campaign.id)
    with session_scope(engine) as s:  # the open public group
        for i in range(3):
            m = _consented(s, campaign, CHAT + 200 + i, "public")
            ballots.submit_ballot(s, campaign.id, m.person_id, SealBallot("public", _answers(campaign, "public", None, i),
                                                                          {}), now=REVEALED_AT)
    with session_scope(engine) as s:
        store.record_event(s, campaign, "transport", "deduction", "complaint", "office", now=CLOSED_AT - timedelta(days=3))
        store.record_event(s, campaign, "water", "bonus", "city", "office", now=CLOSED_AT - timedelta(days=3))
        wrong = store.record_event(s, campaign, "water", "deduction", "complaint", "office",
                                   now=CLOSED_AT - timedelta(days=3))
        store.void_event(s, campaign.id, wrong.id, "entered for the wrong bureau", "office",
                         now=CLOSED_AT - timedelta(days=2))
    if not close:
        return campaign
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign, CLOSED_AT)
    ballots.scrub(engine)
    with session_scope(engine) as s:  # recorded after close: not in the tally, not in the kit's events
        store.record_event(s, campaign, "transport", "bonus", "county", "office", now=CLOSED_AT + timedelta(days=1))
    with session_scope(engine) as s:  # rectification: a round whose follow-up survey 3 recipients answer
        rnd = rs.open_round(s, campaign.id, "transport", 1, date(2027, 1, 31), CLOSED_AT + timedelta(days=1))
        rnd.survey_started_at = CLOSED_AT + timedelta(days=30)
        asked = [m.person_id for m in s.exec(select(Membership).where(
            Membership.campaign_id == campaign.id, Membership.group_key == "recipients",
            Membership.submitted).order_by(Membership.id))][:3]
        for person_id, option in zip(asked, ("satisfied", "fairly", None), strict=True):
            rs.ask(s, rnd.id, person_id)
            rs.answer(s, rnd.id, person_id, option)
        _, _, per = rs.followup_counts(s, rnd.id)
        good = {o.key for o in campaign.scale if o.satisfied}
        rs.close_survey(s, rnd, sum(n for o, n in per.items() if o in good),
                        sum(n for o, n in per.items() if o is not None), CLOSED_AT + timedelta(days=31))
    return campaign
