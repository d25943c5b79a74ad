"""A campaign whose ballots are chosen so that every figure of the tally is known by
hand (worked out in the comments of tests/reports/test_tally.py)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from flows.campaign import Campaign
from storage import ballots, campaigns, people
from storage import tally as store
from storage.db import session_scope
from tests.factories import campaign_data

S, F, B, D, X = "satisfied", "fairly", "basically", "dissatisfied", None  # X = 不了解


def handworked_data(**overrides) -> dict:
    data = campaign_data(
        min_group_size=2,
        evaluees=[
            {"key": "transport", "name": {"zh": "交通局", "en": "Transport Bureau"}, "category": "gov"},
            {"key": "water", "name": {"zh": "水利局", "en": "Water Bureau"}, "category": "gov"},
            {"key": "finance", "name": {"zh": "财政局", "en": "Finance Bureau"}, "category": "gov"},
        ],
        scoring={"daily_base": 20, "deductions": {"complaint": 5, "litigation": 10},
                 "bonus": {"county": 1, "city": 2, "province": 5}},
        organizers=[777],
        schedule={"digest_cron": "0 18 * * *"},
    )
    data.update(overrides)
    return data


# (group, unit, {evaluee: (style, efficiency)})
BALLOTS = [
    ("recipients", None, {"transport": (S, S), "water": (S, S), "finance": (S, S)}),
    ("recipients", None, {"transport": (S, F), "water": (S, S), "finance": (S, S)}),
    ("recipients", None, {"transport": (F, B), "water": (S, S), "finance": (S, S)}),
    ("recipients", None, {"transport": (D, X), "water": (S, S), "finance": (S, S)}),
    ("staff", "transport", {"transport": (S, S)}),
    ("staff", "water", {"water": (F, F)}),
    ("staff", "water", {"water": (F, F)}),
    ("staff", "finance", {"finance": (F, F)}),
    ("staff", "finance", {"finance": (F, F)}),
    ("public", None, {"transport": (F, F), "water": (X, X), "finance": (X, X)}),
    ("public", None, {"transport": (B, X), "water": (X, X), "finance": (X, X)}),
]

EVENTS = [
    ("transport", "deduction", "complaint"),
    ("transport", "deduction", "litigation"),
    ("transport", "deduction", "litigation"),  # 25 off a base of 20: floor 0
    ("transport", "bonus", "county"),
    ("transport", "bonus", "province"),  # highest award only: 5
    ("water", "deduction", "complaint"),  # daily 15, bonus 0 -> +15
    ("finance", "deduction", "litigation"),  # daily 10, bonus 5 -> +15: tied with water
    ("finance", "bonus", "province"),
]


def submit(s, campaign: Campaign, chat_id: int, group: str, unit: str | None, answers: dict,
           opinions: dict | None = None) -> str:
    person = people.get_or_create_person(s, chat_id)
    people.enrol(s, campaign.id, person, group, unit=unit)
    answers = {e: {"style": a, "efficiency": b} for e, (a, b) in answers.items()}
    return ballots.submit_ballot(s, campaign.id, person.id,
                                 SimpleNamespace(answers=answers, opinions=opinions or {}))


def load_handworked(engine, *, events: bool = True, **overrides) -> Campaign:
    campaign = Campaign.model_validate(handworked_data(**overrides))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        for i, (group, unit, answers) in enumerate(BALLOTS):
            submit(s, campaign, 5000 + i, group, unit, answers)
        ballots.append_envelopes(s, campaign.id)  # as the chain's batches would have by now
        if events:
            for ev, kind, item in EVENTS:
                store.record_event(s, campaign, ev, kind, item, recorded_by="test", now=datetime(2026, 6, 1))
    return campaign
