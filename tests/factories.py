"""Builders of test data shared across test folders."""

from __future__ import annotations

from datetime import datetime


def campaign_data(**overrides) -> dict:
    data = {
        "id": "test-2026",
        "title": {"zh": "测试评议", "en": "Test review"},
        "timezone": "Asia/Shanghai",
        "locales": ["zh", "en"],
        "opens": datetime(2026, 1, 1, 9, 0),
        "closes": datetime(2030, 1, 1, 18, 0),
        "sealed": True,
        "min_group_size": 2,
        "scale": [
            {"key": "satisfied", "label": {"zh": "满意", "en": "Satisfied"}, "points": 100, "satisfied": True},
            {"key": "fairly", "label": {"zh": "比较满意", "en": "Fairly satisfied"}, "points": 80, "satisfied": True},
            {"key": "basically", "label": {"zh": "基本满意", "en": "Basically satisfied"}, "points": 60},
            {"key": "dissatisfied", "label": {"zh": "不满意", "en": "Dissatisfied"}, "points": 0},
        ],
        "dimensions": [
            {"key": "style", "label": {"zh": "工作作风", "en": "Work style"}},
            {"key": "efficiency", "label": {"zh": "工作效能", "en": "Efficiency"}},
        ],
        "categories": [{"key": "gov", "label": {"zh": "政府部门", "en": "Government"}}],
        "evaluees": [
            {"key": "transport", "name": {"zh": "交通局", "en": "Transport Bureau"}, "category": "gov"},
            {"key": "water", "name": {"zh": "水利局", "en": "Water Bureau"}, "category": "gov"},
        ],
        "rater_groups": [
            {"key": "recipients", "label": {"zh": "服务对象"}, "weight": 35, "sample": 10},
            {"key": "staff", "label": {"zh": "所在单位"}, "weight": 15, "sample": 5, "rates": "own_unit"},
            {"key": "public", "label": {"zh": "社会群众"}, "weight": 10, "open": True},
        ],
        # The weights above add up to 60 (the loader checks this total for files).
        "scoring": {"democratic_total": 60},
    }
    data.update(overrides)
    return data


def chain_pending(engine, campaign_id: str = "test-2026") -> int:  # noqa: ANN001
    """Append the ballots still waiting in envelopes to the chain, as the scheduler's
    batch (or ``minping close``) does; how many."""
    from storage import ballots
    from storage.db import session_scope

    with session_scope(engine) as s:
        return ballots.append_envelopes(s, campaign_id)
