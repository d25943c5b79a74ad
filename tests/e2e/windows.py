"""The 24-unit windows example (seed 002's 千人评议), open now, with the residents group
open to all: for the end-to-end tests of pre-selection and the Mini App."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.campaign import Campaign
from flows.loader import load_campaign
from storage import campaigns, links
from storage.db import session_scope

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "windows-2026.yaml"
NAMES = {  # the units the tests pick, by key
    "tax-hall": "市税务局办税服务厅", "education": "市教育局", "civil-affairs": "市民政局",
    "court": "市中级人民法院", "water-supply": "市自来水公司", "power": "市供电公司",
}


def open_windows(engine) -> tuple[Campaign, str]:  # noqa: ANN001
    campaign = load_campaign(EXAMPLE)
    groups = [g.model_copy(update={"open": True, "sample": None}) if g.key == "residents" else g
              for g in campaign.rater_groups]
    now = datetime.now(UTC)
    campaign = campaign.model_copy(update={"rater_groups": groups, "opens": now - timedelta(hours=1),
                                           "closes": now + timedelta(days=20)})
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "residents").token
    return campaign, token
