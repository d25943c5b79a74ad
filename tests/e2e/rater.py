"""Shared steps for end-to-end tests that walk a rater through the questionnaire."""

from __future__ import annotations

from flows.campaign import Campaign
from storage import campaigns, links
from storage.db import session_scope
from tests.factories import campaign_data

T = 8.0  # seconds to wait for the bot; flood control may delay a reply by ~1 s


def open_campaign(engine) -> tuple[Campaign, str]:  # noqa: ANN001
    """The test campaign with the recipients group open to all (no draw; the draw has its
    own tests), stored, with that group's enrolment token."""
    data = campaign_data()
    for g in data["rater_groups"]:
        if g["key"] == "recipients":
            g.pop("sample", None)
            g["open"] = True
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    return campaign, token


def card_with(*words):
    return lambda m: m.buttons and all(w in (m.text or "") for w in words)


async def tap(u, label, expect):  # noqa: ANN001
    u.tap(label)
    return await u.wait_for_async(expect, T, new=True)


async def say(u, text, expect):  # noqa: ANN001
    u.send(text)
    return await u.wait_for_async(expect, T, new=True)


async def enrol(u, token, expect=None):  # noqa: ANN001
    """Open the enrolment link, consent, and wait for the first card."""
    await say(u, f"/start {token}", lambda m: "同意参加" in m.labels)
    return await tap(u, "同意参加", expect or card_with("交通局", "工作作风"))
