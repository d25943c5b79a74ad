"""Time estimates in the chat follow the rater's real workload (issue 14)."""

from __future__ import annotations

from html import unescape

from flows import chat
from flows.loader import load_campaign
from tests.flows.conftest import categorized_evaluees, category_list, make_campaign


def test_a_small_campaign_is_estimated_whole():
    county = load_campaign("examples/county-2026.yaml")
    text = unescape(chat.welcome(county, "zh", 4).text)
    assert "您将对 4 个对象进行评议，约需 2 分钟" in text
    assert "约需 2 分钟" in unescape(chat.invitation(county, "zh", "recipients", 4).text)


def test_with_preselection_the_estimate_is_per_known_evaluee():
    windows = load_campaign("examples/windows-2026.yaml")
    welcome = unescape(chat.welcome(windows, "zh", 24).text)
    assert "共有 24 个被评议对象" in welcome and "每个约需 36 秒" in welcome and "分钟" not in welcome
    invitation = unescape(chat.invitation(windows, "en", "residents", 24).text)
    assert "There are 24 evaluees; you pick and rate only the ones you know, about 36 seconds each" in invitation
    assert "minutes" not in invitation  # not the 14 minutes of all 24


def test_own_unit_staff_get_the_estimate_of_their_own_unit():
    campaign = make_campaign(categorized_evaluees(30, 3), dimensions=5, categories=category_list(3))
    text = unescape(chat.invitation(campaign, "zh", "staff", 1).text)
    assert "约需 1 分钟" in text and "勾选" not in text
    assert "勾选" in unescape(chat.invitation(campaign, "zh", "recipients", 30).text)
