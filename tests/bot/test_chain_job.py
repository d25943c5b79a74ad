"""The scheduler appends sealed ballots to the chain in batches: once ``chain_batch``
envelopes wait or the oldest has waited ``chain_batch_minutes``; ``close`` appends the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import func, select

from bot.jobs.chain import append_batches
from flows.campaign import Campaign
from reports import tally
from storage import ballots, campaigns, people
from storage.db import session_scope
from storage.models import Ballot
from tests.factories import campaign_data

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def submit(engine, campaign, chat: int, at: datetime) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        p = people.get_or_create_person(s, chat)
        people.enrol(s, campaign.id, p, "recipients")
        ballots.submit_ballot(s, campaign.id, p.id, SimpleNamespace(
            answers={"transport": {"style": "satisfied", "efficiency": None}}, opinions={}), now=at)


def chained(engine) -> int:  # noqa: ANN001
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Ballot)).one()


def test_batches_by_size_then_by_age_then_at_close(engine):
    campaign = Campaign.model_validate(campaign_data(chain_batch=3, chain_batch_minutes=30))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
    submit(engine, campaign, 1, T0)
    submit(engine, campaign, 2, T0 + timedelta(minutes=1))
    assert append_batches(engine, T0 + timedelta(minutes=2)) == 0 and chained(engine) == 0
    submit(engine, campaign, 3, T0 + timedelta(minutes=3))
    assert append_batches(engine, T0 + timedelta(minutes=3)) == 3 and chained(engine) == 3
    submit(engine, campaign, 4, T0 + timedelta(minutes=10))  # alone: waits for its 30 minutes
    assert append_batches(engine, T0 + timedelta(minutes=39)) == 0
    assert append_batches(engine, T0 + timedelta(minutes=40)) == 1 and chained(engine) == 4
    submit(engine, campaign, 5, T0 + timedelta(minutes=41))
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    ballots.scrub(engine)
    assert chained(engine) == 5
    with session_scope(engine) as s:
        assert ballots.verify_chain(s, campaign.id) == []
        row = campaigns.get_row(s, campaign.id)
        assert (row.sealed_count, row.chain_count, row.chain_batches) == (5, 5, 3)
