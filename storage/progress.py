"""Progress per rater group: the one definition of progress (issue 13), as plain SQL
and plain Python. Used both through SQLAlchemy (``storage.status.group_progress`` →
``reports.progress``: chat /status, digests and their chart) and straight on the driver
by the quick ``minping status`` (``bot.cli.quick``), which must not pay SQLAlchemy's
import time. No imports beyond the standard library.

* A sampled group's progress is the drawn raters who submitted ÷ the drawn (AAPOR RR1);
  RR2 = (submitted + partials) ÷ drawn, a partial being a drawn rater who started (has
  a questionnaire in progress) and has not submitted. Before the reveal there is no
  rate: the group shows how many enrolled.
* Ballots through after-service links (一事一评) are never drawn: counted apart, as a
  number, never against the drawn. A person rates once per service visit, each visit a
  ballot: every visit counts but one still being answered (``membership.visits``).
* An open group has no draw and no rate: it shows its number of ballots.

Only consented members count as enrolled (a submitted ballot implies consent).
Statements take one parameter, ``:cid`` (the campaign id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIELDS = ("enrolled", "submitted", "opted_out", "started", "unreachable", "drawn", "invited",
          "drawn_submitted", "drawn_partials", "after_service")

# One GROUP BY: stays fast at any number of raters (bench/tally.py).
MEMBERS = """
SELECT m.group_key,
       COUNT(*),
       SUM(CASE WHEN m.submitted THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.status = 'opted_out' THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.id IS NOT NULL AND NOT m.submitted THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.status = 'unreachable' THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.drawn_round IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.drawn_round IS NOT NULL AND m.invited_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.drawn_round IS NOT NULL AND m.submitted THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.drawn_round IS NOT NULL AND c.id IS NOT NULL AND NOT m.submitted THEN 1 ELSE 0 END),
       SUM(CASE WHEN m.only_evaluee IS NULL THEN 0 WHEN m.submitted THEN m.visits ELSE m.visits - 1 END)
FROM membership m
LEFT JOIN person p ON p.id = m.person_id  -- none after a purge (storage/retention.py)
LEFT JOIN conversation c
       ON c.person_id = m.person_id AND c.campaign_id = m.campaign_id AND c.flow = 'questionnaire'
WHERE m.campaign_id = :cid AND (m.consented OR m.submitted)
GROUP BY m.group_key
"""
# Sealed ballots: in the chain or still in their envelopes (storage/ballots.py).
BALLOTS = """
SELECT group_key, COUNT(*) FROM (
    SELECT group_key FROM ballot WHERE campaign_id = :cid
    UNION ALL SELECT group_key FROM envelope WHERE campaign_id = :cid) AS sealed
GROUP BY group_key
"""
POOLS = "SELECT group_key, COUNT(*) FROM draw_pool WHERE campaign_id = :cid GROUP BY group_key"


@dataclass(frozen=True)
class GroupProgress:
    group: str
    enrolled: int
    started: int      # has a draft in progress (a partial)
    submitted: int
    opted_out: int
    ballots: int      # ballots sealed for this group (equals submitted)
    # The draw: zero for open groups.
    pool: int = 0
    drawn: int = 0
    invited: int = 0
    unreachable: int = 0
    drawn_submitted: int = 0
    drawn_partials: int = 0
    # Ballots through after-service links (一事一评): never drawn, counted apart.
    after_service: int = 0
    open: bool = False

    @property
    def rr1(self) -> float | None:
        return self.drawn_submitted / self.drawn if self.drawn else None

    @property
    def rr2(self) -> float | None:
        return (self.drawn_submitted + self.drawn_partials) / self.drawn if self.drawn else None


def assemble(groups: Iterable[tuple[str, bool]], members: Iterable[tuple], ballots: Iterable[tuple],
             pools: Iterable[tuple]) -> list[GroupProgress]:
    """``groups``: (key, open-or-unsampled) in campaign order; the rest: rows of the
    three statements above."""
    groups = list(groups)
    counts = {k: dict.fromkeys(FIELDS, 0) for k, _ in groups}
    for key, *figures in members:
        counts[key] = {f: int(v or 0) for f, v in zip(FIELDS, figures, strict=True)}
    ballot_n = {k: int(n) for k, n in ballots}
    pool_n = {k: int(n) for k, n in pools}
    is_open = dict(groups)
    return [GroupProgress(group=k, ballots=ballot_n.get(k, 0), pool=pool_n.get(k, 0), open=is_open.get(k, False),
                          **c) for k, c in counts.items()]


@dataclass(frozen=True)
class Progress:
    """One group's progress as every surface shows it."""

    group: str
    kind: str  # sampled | open
    done: int  # sampled: drawn raters who submitted; open: ballots
    of: int | None  # sampled and drawn: the drawn; otherwise None
    after_service: int  # ballots through after-service links, apart
    enrolled: int
    sample: int | None
    raw: GroupProgress

    @property
    def rate(self) -> float | None:
        return self.done / self.of if self.of else None

    @property
    def drawn(self) -> bool:
        return self.of is not None


def figures(rows: Iterable[GroupProgress], samples: dict[str, int | None], revealed: bool) -> list[Progress]:
    """The definition: ``rows`` from ``assemble``, ``samples`` each group's sample size
    (from the campaign), ``revealed`` whether the draw is revealed."""
    out = []
    for p in rows:
        if p.open:
            out.append(Progress(p.group, "open", p.submitted, None, p.after_service, p.enrolled, None, p))
        else:
            out.append(Progress(p.group, "sampled", p.drawn_submitted, p.drawn if revealed else None,
                                p.after_service, p.enrolled, samples.get(p.group), p))
    return out


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"
