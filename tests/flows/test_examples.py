"""The example campaign files in examples/ load and say what the seeds say."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.campaign import Campaign
from flows.loader import load_campaign

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> Campaign:
    return load_campaign(EXAMPLES / name)


def zh(c: Campaign, text) -> str:
    return c.text(text, "zh")


@pytest.mark.parametrize("name", ["county-2026.yaml", "cadres-2026.yaml", "windows-2026.yaml", "thousand-2026.yaml"])
def test_example_loads_with_chinese_and_english(name):
    c = load(name)
    assert c.id == name.removesuffix(".yaml")
    assert c.locales == ["zh", "en"]
    # every evaluee and group has its own English name, not the Chinese fallback
    for e in c.evaluees:
        assert c.text(e.name, "en") != c.text(e.name, "zh"), e.key
    for g in c.rater_groups:
        assert c.text(g.label, "en") != c.text(g.label, "zh"), g.key
    # the seeds' four-level scale; the top two count as satisfied
    assert [zh(c, o.label) for o in c.scale] == ["满意", "比较满意", "基本满意", "不满意"]
    assert [o.satisfied for o in c.scale] == [True, True, False, False]
    assert zh(c, c.dont_know) == "不了解"
    assert c.opens < c.closes


def test_county_review_of_the_four_bureaus():
    c = load("county-2026.yaml")
    assert [zh(c, e.name) for e in c.evaluees] == ["交通局", "水利局", "监察局", "财政局"]
    assert {e.category for e in c.evaluees} == {"gov"}
    assert zh(c, c.categories[0].label) == "政府部门"
    assert [zh(c, d.label) for d in c.dimensions] == [
        "工作作风", "依法行政", "工作效能", "工作实绩", "廉洁自律",
    ]  # fmt: skip
    assert all(d.hint for d in c.dimensions)
    assert [s.points for s in c.scale] == [100, 80, 60, 0]
    groups = {g.key: (g.weight, g.sample, g.rates, g.open) for g in c.rater_groups}
    assert groups == {
        "recipients": (35, 400, "all", False),
        "staff": (15, 60, "own_unit", False),
        "deputies": (20, 100, "all", False),
        "public": (10, None, "all", True),
    }
    for e in c.evaluees:
        assert e.duties and len(e.commitments) >= 2, e.key
    # staff of the water bureau rate only the water bureau
    assert [e.key for e in c.evaluees_for("staff", "water")] == ["water"]
    assert (c.opens.isoformat(), c.closes.isoformat()) == (
        "2026-12-01T09:00:00+08:00",
        "2026-12-20T18:00:00+08:00",
    )
    assert c.sealed and c.min_group_size == 5 and c.organizers == []
    assert c.schedule.reminders_after_hours == [48, 120]
    assert c.schedule.digest_cron == "0 18 * * *"
    assert c.scoring.daily_base == 20
    assert c.scoring.bonus == {"county": 1, "city": 2, "province": 5, "national": 10}


def test_cadres_scoring_is_80_plus_20_plus_bonus():
    c = load("cadres-2026.yaml")
    weights = {g.key: g.weight for g in c.rater_groups}
    assert weights == {"recipients": 35, "staff": 15, "deputies": 20, "public": 10}
    assert sum(weights.values()) == 80
    assert c.scoring.daily_base == 20
    assert c.scoring.deductions == {
        "verified_complaint": 5,
        "unresolved_complaint": 5,
        "accountability": 5,
        "litigation": 10,
        "staff_accountability": 2,
        "staff_discipline": 10,
    }
    assert c.scoring.bonus == {"county": 1, "city": 2, "province": 5, "national": 10}


def test_cadres_are_persons_rated_by_their_own_units_staff():
    c = load("cadres-2026.yaml")
    assert len(c.evaluees) >= 8
    assert all(e.kind == "person" and e.unit for e in c.evaluees)
    assert len(c.units) >= 3
    assert c.group("staff").rates == "own_unit"
    for unit in c.units:
        mine = c.evaluees_for("staff", unit)
        assert mine and all(e.unit == unit for e in mine)
    assert {zh(c, cat.label) for cat in c.categories} == {"党政部门正职", "党政部门副职"}


def test_windows_thousand_people_review():
    c = load("windows-2026.yaml")
    assert len(c.evaluees) >= 20
    cats = {e.category for e in c.evaluees}
    assert len(cats) >= 3
    assert {zh(c, cat.label) for cat in c.categories} >= {"窗口服务单位", "政府部门", "法检机关"}
    assert len(c.rater_groups) >= 6
    drawn = sum(g.sample for g in c.rater_groups if not g.open)
    assert 900 <= drawn <= 1100  # "选定评议人 1000 人左右"
    assert any(g.open for g in c.rater_groups)
    assert all(g.rates == "all" for g in c.rater_groups)


def test_thousand_at_seed_002s_scale():
    from flows.questionnaire import start, uses_preselection

    c = load("thousand-2026.yaml")
    assert len(c.evaluees) == 100 and len({e.key for e in c.evaluees}) == 100
    by_category = {cat.key: sum(e.category == cat.key for e in c.evaluees) for cat in c.categories}
    assert by_category == {"party": 20, "gov": 40, "judicial": 12, "windows": 28}
    assert [zh(c, cat.label) for cat in c.categories] == ["党政机关", "政府部门", "法检机关", "窗口服务单位"]
    assert [zh(c, d.label) for d in c.dimensions] == ["科学发展", "服务意识", "行政效能", "依法行政", "勤政廉洁", "自身建设"]
    assert len(c.rater_groups) == 10
    assert sum(g.sample or 0 for g in c.rater_groups) == 980  # "1000 人左右", plus the open online group
    # the democratic part is 80 of 100 points, the daily assessment the other 20
    assert sum(g.weight for g in c.rater_groups) + c.scoring.daily_base == 100
    for e in c.evaluees:  # every text in both languages
        assert c.text(e.duties, "en") != c.text(e.duties, "zh") and isinstance(e.duties, dict), e.key
    # every rater picks the offices they know first
    assert all(uses_preselection(c, g.key, 100) for g in c.rater_groups)
    assert start(c, "residents", "zh").phase == "picking"
