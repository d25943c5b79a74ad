"""What re-loading a campaign file changes: the review an organizer confirms before a
running campaign is rewritten (``minping campaign load`` / ``check``). Pure.

Fields are compared one by one; lists of keyed items (scale, dimensions, categories,
evaluees, rater groups) are matched by key, so a reordering or one added evaluee reads
as such, not as every later item changing. Texts compare per locale. Times are shown in
the campaign's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.campaign import Campaign

KEYED = ("scale", "dimensions", "categories", "evaluees", "rater_groups")
ABSENT = object()


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "rater_groups[recipients].weight", "title.en", "evaluees[finance]"
    before: Any  # ABSENT when added
    after: Any  # ABSENT when removed

    def line(self) -> str:
        if self.before is ABSENT:
            return f"{self.path}: added {_show(self.after)}"
        if self.after is ABSENT:
            return f"{self.path}: removed (was {_show(self.before)})"
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


def _show(v: Any) -> str:
    if isinstance(v, dict) and "key" in v:
        return f"'{v['key']}'"
    if isinstance(v, str):
        s = v if len(v) <= 60 else v[:57] + "…"
        return repr(s)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _flat(value: Any, path: str, out: dict[str, Any], top: bool = False) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            key = f"{path}.{k}" if path else str(k)
            if top and k in KEYED and isinstance(v, list):
                for item in v:
                    item_path = f"{k}[{item.get('key')}]"
                    out[item_path] = {"key": item.get("key")}  # presence of the item itself
                    _flat({f: x for f, x in item.items() if f != "key"}, item_path, out)
            else:
                _flat(v, key, out)
    else:
        out[path] = value


def _times(c: Campaign) -> dict[str, str]:
    tz = ZoneInfo(c.timezone)
    return {name: getattr(c, name).astimezone(tz).strftime("%Y-%m-%d %H:%M") + f" ({c.timezone})"
            for name in ("opens", "closes")}


def diff(old: Campaign, new: Campaign) -> list[Change]:
    """Every field that differs, in the new file's order (removed ones after)."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flat(old.model_dump(mode="json"), "", a, top=True)
    _flat(new.model_dump(mode="json"), "", b, top=True)
    a.update(_times(old))
    b.update(_times(new))
    out = [Change(p, a.get(p, ABSENT), v) for p, v in b.items() if a.get(p, ABSENT) != v]
    out += [Change(p, v, ABSENT) for p, v in a.items() if p not in b]
    # An added or removed item says it once, not once per field.
    whole = {c.path for c in out if "[" in c.path and c.path.endswith("]") and ABSENT in (c.before, c.after)}
    return [c for c in out if not any(c.path.startswith(w + ".") for w in whole)]


def phase_at(opens: datetime, closes: datetime, closed: bool, now: datetime) -> str:
    """upcoming | open | closed, as ``storage.campaigns.phase`` computes it."""
    if closed or now >= closes:
        return "closed"
    if now < opens:
        return "upcoming"
    return "open"
