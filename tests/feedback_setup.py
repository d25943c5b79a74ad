"""A small closed campaign for the feedback and rectification tests: real ballots through
``storage.ballots``, closed with ``reports.tally.close_campaign``.

transport is rated by 3 service recipients (a visible group: min_group_size is 2) and 1
own-unit staff member (a hidden group: 1 ballot); water by the 3 recipients only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.campaign import Campaign
from flows.questionnaire import SealBallot
from reports import tally
from storage import ballots, campaigns, links, people
from storage.db import session_scope
from tests.factories import campaign_data

ORGANIZER = 5000
RECIPIENTS = (7001, 7002, 7003)
STAFF = 7101
CLOSED_AT = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai

OPINIONS = {
    7001: "窗口排队太久，我叫王小明，电话13812345678",
    7002: "希望<b>简化</b>流程 & 公开办事指南",
    7003: "13912345678",  # nothing left after scrubbing: dropped
}
STAFF_OPINION = "内部审批环节太多"


def make_campaign(**overrides) -> Campaign:
    data = campaign_data(organizers=[ORGANIZER], rectification={"deadline_days": 30, "threshold": 0.8,
                                                                  "max_rounds": 2}, **overrides)
    return Campaign.model_validate(data)


def _rate(s, campaign: Campaign, chat_id: int, group: str, option: str, opinion: str | None,
          unit: str | None = None) -> None:
    person = people.get_or_create_person(s, chat_id)
    people.enrol(s, campaign.id, person, group, unit=unit)
    rated = campaign.evaluees_for(group, unit)
    answers = {e.key: {d.key: option for d in campaign.dimensions} for e in rated}
    opinions = {"transport": opinion} if opinion else {}
    ballots.submit_ballot(s, campaign.id, person.id, SealBallot(group, answers, opinions))


def closed_campaign(engine, campaign: Campaign | None = None) -> Campaign:
    campaign = campaign or make_campaign()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
    with session_scope(engine) as s:
        for chat, option in zip(RECIPIENTS, ("satisfied", "fairly", "dissatisfied"), strict=True):
            _rate(s, campaign, chat, "recipients", option, OPINIONS[chat])
        _rate(s, campaign, STAFF, "staff", "dissatisfied", STAFF_OPINION, unit="transport")
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign, CLOSED_AT)
    return campaign


def evaluee_code(engine, campaign: Campaign, key: str) -> str:
    with session_scope(engine) as s:
        return links.issue_codes(s, campaign.id, "evaluee", 1, evaluee_key=key)[0].token
