"""A rater's effort in the chat: taps from the first card to the confirmed submit.

    python bench/effort.py [--raters 100] [--seed 14]

For the county (4 units), windows (24) and thousand (100) examples, raters who know 0, 5
and 10 of the units (county: 0 and all 4; chosen at random, ``--raters`` per row; the
figure is the mean and the worst) walk the questionnaire through the real engine
(``flows.questionnaire``), by the buttons on each card, as a person would:

* without pre-selection: every unit's card; a known unit answered aspect by aspect (or
  with the all-aspects shortcut), an unknown one skipped with 跳过此对象;
* with pre-selection: the pick list, page by page, ticking the known units, then only
  their cards.

Every known unit gets an answer on each aspect, no opinion (one tap on 跳过), then the
review's 提交 and 确认提交. Simulated time is at one tap a second (reading not counted).
Each walk's ballot is checked: the known units rated, every other unit 不了解.
Target: ≤ 90 taps for a rater who knows 10 of 100 units. The pre-selection columns
force it on (by default it is on above 12 units: windows and thousand, not county).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows import questionnaire as q  # noqa: E402
from flows.campaign import Campaign  # noqa: E402
from flows.loader import load_campaign  # noqa: E402

EXAMPLES = [("county", "county-2026.yaml"), ("windows", "windows-2026.yaml"), ("thousand", "thousand-2026.yaml")]
KNOWN = (0, 5, 10)
GROUP = "residents"
TARGET = 90


def _button(message, op: str, test=lambda nums: True):  # noqa: ANN001, ANN202
    for b in message.all_buttons():
        decoded = q._decode(b.action)
        if decoded and decoded[0] == op and test(decoded[1]):
            return b.action
    return None


def walk(campaign: Campaign, known: set[str], shortcut: bool, rnd: random.Random) -> int:
    """Taps of one rater who knows ``known``; raises if the ballot is not what they meant."""
    group = next((g.key for g in campaign.rater_groups if g.rates == "all"), campaign.rater_groups[0].key)
    state = q.start(campaign, group, "zh")
    r = q.step(campaign, state, q.Show())
    card = r.outcome.messages[-1]
    taps = 0

    def tap(action: str) -> None:
        nonlocal r, card, taps
        taps += 1
        r = q.step(campaign, r.state, q.Tap(action))
        for m in r.outcome.messages:
            if m.card == f"q{r.state.card}":
                card = m

    while r.state.phase != "submitted":
        s = r.state
        if s.phase == "picking":
            toggle = _button(card, "t", lambda n: s.evaluees[n[2]] in known and s.evaluees[n[2]] not in s.picked)
            if toggle:
                tap(toggle)
            elif len(s.picked) < len(known):  # the rest are further on
                tap(_button(card, "g", lambda n: n[2] == s.page + 1))
            else:
                tap(_button(card, "d"))
        elif s.phase == "answering":
            key = s.evaluees[s.index]
            if s.step == len(campaign.dimensions):
                tap(_button(card, "o"))
            elif key not in known:
                tap(_button(card, "k"))
            elif shortcut and s.step == 0 and _button(card, "w"):
                option = rnd.randrange(len(campaign.scale))
                tap(_button(card, "w", lambda n: n[3] == option))
            else:
                # 不了解 now and then, but not on the first aspect: they know the unit
                option = rnd.randrange(len(campaign.scale) + (s.step > 0))
                tap(_button(card, "a", lambda n: n[3] == option))
        elif s.phase == "review":
            tap(_button(card, "s"))
        else:
            tap(_button(card, "c"))
        if taps > 10_000:
            raise RuntimeError("the walk does not end")
    ballot = r.submission
    for e, dims in ballot.answers.items():
        rated = any(v is not None for v in dims.values())
        if rated != (e in known):
            raise AssertionError(f"{e}: rated {rated}, known {e in known}")
    return taps


def row(campaign: Campaign, k: int, preselect: bool, shortcut: bool, raters: int, rnd: random.Random) -> list[int]:
    c = campaign.model_copy(update={"preselect": preselect})
    keys = [e.key for e in campaign.evaluees]
    return [walk(c, set(rnd.sample(keys, min(k, len(keys)))), shortcut, rnd) for _ in range(raters)]


def cell(taps: list[int]) -> str:
    """Mean taps (the range when raters differ) = mean time at one tap a second."""
    mean, low, high = statistics.mean(taps), min(taps), max(taps)
    m, s = divmod(round(mean), 60)
    spread = f" ({low}–{high})" if low != high else ""
    return f"{mean:.0f}{spread} = {m}:{s:02d}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raters", type=int, default=100, help="random raters per row")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    modes = [("chat", False, False), ("chat + shortcut", False, True),
             ("pre-selection", True, False), ("pre-selection + shortcut", True, True)]
    print(f"taps per rater: mean (range) over {args.raters} random raters = m:ss at 1 tap/s")
    head = ["campaign", "units", "known"] + [m[0] for m in modes]
    lines = [head]
    target = None
    for name, file in EXAMPLES:
        campaign = load_campaign(ROOT / "examples" / file)
        n = len(campaign.evaluees)
        for k in dict.fromkeys(min(k, n) for k in KNOWN):
            results = [row(campaign, k, pre, short, args.raters, rnd) for _, pre, short in modes]
            lines.append([name, str(n), f"{k} (all)" if k == n else str(k)] + [cell(r) for r in results])
            if name == "thousand" and k == 10:
                target = max(results[2])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths)))
    verdict = "OK" if target is not None and target <= TARGET else "MISSED"
    print(f"\n10 known of 100, pre-selection, aspect by aspect: at most {target} taps "
          f"(target <= {TARGET}): {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
