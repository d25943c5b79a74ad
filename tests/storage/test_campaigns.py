"""Storing campaign definitions and changing them safely."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from flows.campaign import Campaign
from storage import campaigns, people
from storage.db import session_scope
from storage.models import EvalueeRow

from tests.factories import campaign_data

pytestmark = pytest.mark.postgres


def test_store_and_read_back(engine, campaign):
    with session_scope(engine) as s:
        assert campaigns.store_campaign(s, campaign, "yaml").created
    with session_scope(engine) as s:
        again = campaigns.get_campaign(s, campaign.id)
        assert again == campaign
        assert [e.key for e in s.exec(select(EvalueeRow).order_by(EvalueeRow.position))] == ["transport", "water"]


def test_reload_updates_texts_before_anyone_enrolled(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "v1")
    changed = Campaign.model_validate(campaign_data(title={"zh": "新标题"}, evaluees=campaign_data()["evaluees"][:1]))
    with session_scope(engine) as s:
        assert not campaigns.store_campaign(s, changed, "v2").created
    with session_scope(engine) as s:
        assert campaigns.get_campaign(s, campaign.id).title == {"zh": "新标题"}
        assert len(s.exec(select(EvalueeRow)).all()) == 1


def test_structure_is_locked_once_raters_enrolled(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "v1")
        people.enrol(s, campaign.id, people.get_or_create_person(s, 1), "recipients")
    fewer = Campaign.model_validate(campaign_data(evaluees=campaign_data()["evaluees"][:1]))
    with pytest.raises(campaigns.CampaignLocked, match="already has raters"):
        with session_scope(engine) as s:
            campaigns.store_campaign(s, fewer, "v2")
    with session_scope(engine) as s:  # nothing was written
        assert len(campaigns.get_campaign(s, campaign.id).evaluees) == 2


def test_unknown_campaign_says_how_to_load_one(engine):
    with session_scope(engine) as s, pytest.raises(campaigns.UnknownCampaign, match="minping campaign load"):
        campaigns.get_campaign(s, "nope")


def test_phase_follows_the_clock_and_close(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "v1")
    with session_scope(engine) as s:
        row = campaigns.get_row(s, campaign.id)
        assert campaigns.phase(row, datetime(2025, 6, 1, tzinfo=UTC)) == "upcoming"
        assert campaigns.phase(row, datetime(2027, 6, 1, tzinfo=UTC)) == "open"
        assert campaigns.phase(row, datetime(2031, 6, 1, tzinfo=UTC)) == "closed"
        row.closed = True
        assert campaigns.phase(row, datetime(2027, 6, 1, tzinfo=UTC)) == "closed"


@pytest.mark.postgres
def test_opening_hours_are_read_back_in_the_campaign_timezone(engine):
    """opens 09:00 Asia/Shanghai is 01:00 UTC: open at 01:30 UTC, upcoming at 00:30 UTC."""
    from datetime import UTC, datetime

    from storage.campaigns import get_row, phase, store_campaign

    c = Campaign.model_validate(campaign_data(opens="2026-12-01T09:00", closes="2026-12-20T18:00",
                                              timezone="Asia/Shanghai"))
    with session_scope(engine) as s:
        store_campaign(s, c, "")
    with session_scope(engine) as s:
        row = get_row(s, c.id)
        assert phase(row, datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == "upcoming"
        assert phase(row, datetime(2026, 12, 1, 1, 30, tzinfo=UTC)) == "open"
        assert phase(row, datetime(2026, 12, 20, 10, 30, tzinfo=UTC)) == "closed"


def test_a_sealed_campaign_with_raters_cannot_be_unsealed_or_loosened(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        people.enrol(s, campaign.id, people.get_or_create_person(s, 42), "recipients")
    for change, message in (({"sealed": False}, "stays sealed"), ({"min_group_size": 1}, "may rise but not fall")):
        with session_scope(engine) as s, pytest.raises(campaigns.CampaignLocked, match=message):
            campaigns.store_campaign(s, Campaign.model_validate(campaign_data(**change)), "")
    with session_scope(engine) as s:  # tightening is fine
        campaigns.store_campaign(s, Campaign.model_validate(campaign_data(min_group_size=5)), "")
        assert campaigns.get_campaign(s, campaign.id).min_group_size == 5
