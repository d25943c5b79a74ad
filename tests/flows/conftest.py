"""Campaigns built directly in Python for the flow tests (no YAML, no loader)."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.campaign import Campaign

SCALE = [
    {
        "key": "satisfied",
        "label": {"zh": "满意", "en": "Satisfied"},
        "points": 100,
        "satisfied": True,
    },
    {
        "key": "fairly",
        "label": {"zh": "比较满意", "en": "Fairly satisfied"},
        "points": 80,
        "satisfied": True,
    },
    {"key": "basically", "label": {"zh": "基本满意", "en": "Basically satisfied"}, "points": 60},
    {"key": "dissatisfied", "label": {"zh": "不满意", "en": "Dissatisfied"}, "points": 0},
]

DIMENSIONS = [
    {
        "key": "style",
        "label": {"zh": "工作作风", "en": "Work style"},
        "hint": {"zh": "有无门难进、脸难看、话难听、事难办"},
    },
    {"key": "lawful", "label": {"zh": "依法行政", "en": "Law-based administration"}},
    {"key": "efficiency", "label": {"zh": "工作效能", "en": "Efficiency"}},
    {"key": "results", "label": {"zh": "工作实绩", "en": "Results"}},
    {"key": "integrity", "label": {"zh": "廉洁自律", "en": "Integrity"}},
]

GROUPS = [
    {"key": "recipients", "label": {"zh": "服务对象"}, "weight": 35, "sample": 10},
    {"key": "staff", "label": {"zh": "所在单位"}, "weight": 15, "sample": 5, "rates": "own_unit"},
    {"key": "public", "label": {"zh": "社会群众、网络"}, "weight": 10, "open": True},
]


def make_campaign(
    evaluees: list[dict],
    dimensions: int = 2,
    max_chars: int = 1000,
    **extra: object,
) -> Campaign:
    """A valid campaign with the standard scale and groups around ``evaluees``."""
    data: dict = {
        "id": "test-campaign",
        "title": {"zh": "测试评议", "en": "Test review"},
        "locales": ["zh", "en"],
        "opens": datetime(2026, 12, 1, 9, 0),
        "closes": datetime(2026, 12, 20, 18, 0),
        "scale": SCALE,
        "dimensions": DIMENSIONS[:dimensions],
        "opinion": {"max_chars": max_chars, "prompt": {"zh": "请提出您的意见和建议（可跳过）"}},
        "categories": [{"key": "gov", "label": {"zh": "政府部门", "en": "Departments"}}],
        "evaluees": evaluees,
        "rater_groups": GROUPS,
    }
    data.update(extra)
    return Campaign(**data)


def numbered_evaluees(n: int, duties_len: int = 600) -> list[dict]:
    """``n`` unit evaluees e01, e02, …; names and duties with HTML-special characters."""
    out = []
    for i in range(1, n + 1):
        out.append(
            {
                "key": f"e{i:02d}",
                "name": {"zh": f"第{i}局 <R&D> “创新”办公室", "en": f"Bureau #{i} <R&D> & Co"},
                "category": "gov",
                "duties": {
                    "zh": ("负责全县公路建设与养护、道路运输管理 & <监督>；" * 40)[:duties_len],
                    "en": ("Road building & upkeep, <transport> licensing; " * 30)[:duties_len],
                },
                "commitments": [{"zh": "办事限时办结"}, {"zh": "首问负责"}],
            }
        )
    return out


# Campaigns are frozen, so one instance per session is safe to share (and usable from
# hypothesis tests, which refuse function-scoped fixtures).


@pytest.fixture(scope="session")
def small_campaign() -> Campaign:
    return make_campaign(
        [
            {
                "key": "transport",
                "name": {"zh": "交通局", "en": "Transport Bureau"},
                "category": "gov",
                "duties": {"zh": "负责全县公路建设与养护、道路运输管理"},
                "commitments": [{"zh": "办事限时办结"}],
            },
            {"key": "water", "name": {"zh": "水利局", "en": "Water Bureau"}, "category": "gov"},
        ],
        dimensions=2,
    )


@pytest.fixture(scope="session")
def big_campaign() -> Campaign:
    """25 evaluees walked one by one (pre-selection off)."""
    return make_campaign(numbered_evaluees(25), dimensions=5, max_chars=1000, preselect=False)


def categorized_evaluees(n: int, categories: int) -> list[dict]:
    """``n`` evaluees spread over ``categories`` categories c1, c2, … (interleaved, so that
    grouping by category must reorder them)."""
    out = numbered_evaluees(n, duties_len=80)
    for i, e in enumerate(out):
        e["category"] = f"c{i % categories + 1}"
    return out


def category_list(n: int) -> list[dict]:
    return [{"key": f"c{i}", "label": {"zh": f"第{i}类", "en": f"Category {i}"}} for i in range(1, n + 1)]


@pytest.fixture(scope="session")
def pick_campaign() -> Campaign:
    """45 evaluees in 3 categories, 3 dimensions: pre-selection on by default (> 12)."""
    return make_campaign(categorized_evaluees(45, 3), dimensions=3, categories=category_list(3))


@pytest.fixture(scope="session")
def campaign_factory():
    """``make_campaign(evaluees, dimensions=2, max_chars=1000, **fields)``."""
    return make_campaign


@pytest.fixture(scope="session")
def evaluees_factory():
    """``numbered_evaluees(n, duties_len=600)``: evaluee dicts for ``campaign_factory``."""
    return numbered_evaluees
