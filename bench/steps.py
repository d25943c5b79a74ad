"""What each kind of chat step costs the service, in process (no Telegram, no HTTP).

    .venv/bin/python bench/steps.py [--raters 300] [--profile start|consent|tap|text|submit]

The campaign and raters of bench/throughput.py (every group open), on SQLite: each rater
opens their link, consents and answers like a person (``devtools.persona``), one after
the other, through ``Service.handle`` as the adapters call it. Prints, per kind of step,
how many, the mean and p99 time, the share of all the service's time, and the SQL
statements the driver ran per step (BEGIN and COMMIT included). ``--profile KIND`` also
prints where that kind's time goes, by package (cProfile, which inflates Python-heavy
code). bench/throughput.py measures the whole bot over HTTP; this shows which steps to
make cheaper.
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import dataclasses
import pstats
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from bench.throughput import open_campaign  # noqa: E402
from bot.events import Incoming, Reply  # noqa: E402
from bot.service import Service  # noqa: E402
from devtools.persona import Persona  # noqa: E402

KINDS = ("start", "consent", "tap", "text", "submit")


class Steps:
    """Runs events through the service, timing and counting each by kind."""

    def __init__(self, svc: Service, profile: str | None) -> None:
        self.svc, self.profile = svc, profile
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.statements: collections.Counter = collections.Counter()
        self.profiler = cProfile.Profile() if profile else None
        self._update_id = 0
        self._kind: str | None = None

        @event.listens_for(svc.engine, "connect")
        def _trace(dbapi_conn, _record) -> None:  # noqa: ANN001 — every statement the driver runs
            dbapi_conn.set_trace_callback(lambda _sql: self.statements.update([self._kind]))

        svc.engine.dispose()  # connections opened before this listener are not traced

    def __call__(self, inc: Incoming, kind: str) -> Reply:
        self._update_id += 1
        inc = dataclasses.replace(inc, update_id=self._update_id)
        self._kind = kind
        profiling = self.profiler is not None and kind == self.profile
        if profiling:
            self.profiler.enable()
        began = time.perf_counter()
        reply = self.svc.handle(inc)
        self.times[kind].append(time.perf_counter() - began)
        if profiling:
            self.profiler.disable()
        self._kind = None
        return reply


def rater(steps: Steps, campaign, chat_id: int, token: str, rng: random.Random) -> None:  # noqa: ANN001
    persona = Persona(campaign, rng)
    reply = steps(Incoming(chat_id, "start", text=token, language_code="zh"), "start")
    while True:
        card = next((m for m in reversed(reply.messages) if m.buttons), None)
        if card is None:
            return
        buttons = {b.label: b.action for row in card.buttons for b in row}
        decision = persona.decide(card.text or "", list(buttons))
        if decision.leave:
            return
        if decision.text is not None:
            reply = steps(Incoming(chat_id, "text", text=decision.text, language_code="zh"), "text")
        else:
            kind = ("consent" if decision.tap == persona.labels["enrol.agree"] else
                    "submit" if decision.tap in (persona.labels["q.submit"], persona.labels["q.confirm"]) else "tap")
            reply = steps(Incoming(chat_id, "tap", data=buttons[decision.tap], language_code="zh"), kind)
        if reply.campaign_id and reply.cards:  # as the adapters do once a card is shown
            steps.svc.remember_cards(chat_id, reply.campaign_id, dict(reply.cards))


def by_package(profiler: cProfile.Profile, top: int = 12) -> list[tuple[str, float]]:
    """Own time per package (or file) of a profile, as shares."""
    own: collections.Counter = collections.Counter()
    for (path, _line, name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(profiler).stats.items():
        parts = Path(path).parts
        if "site-packages" in parts:
            key = parts[parts.index("site-packages") + 1]
        elif any(p in parts for p in ("flows", "storage", "bot", "reports")):
            key = next(p for p in ("flows", "storage", "bot", "reports") if p in parts) + "/ (ours)"
        elif path == "~":
            key = name.strip("<>")
        else:
            key = parts[-1] if parts else path
        own[key] += tottime
    total = sum(own.values()) or 1.0
    return [(k, v / total) for k, v in own.most_common(top)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raters", type=int, default=300)
    ap.add_argument("--profile", choices=KINDS, help="also show where this kind's time goes")
    args = ap.parse_args()
    work = Path("var/bench/steps")
    shutil.rmtree(work, ignore_errors=True)
    engine, campaign, tokens = open_campaign(work, args.raters + 10)
    steps = Steps(Service(engine), args.profile)
    rng = random.Random(7)
    keys = [k for k in tokens if tokens[k]]
    began = time.perf_counter()
    for n in range(args.raters):
        group = rng.choice(keys)
        token = tokens[group].pop() if len(tokens[group]) > 1 else tokens[group][0]
        rater(steps, campaign, 10_000 + n, token, random.Random(rng.random()))
    wall = time.perf_counter() - began
    total = sum(sum(v) for v in steps.times.values())
    count = sum(len(v) for v in steps.times.values())
    print(f"{args.raters} raters, {count} steps in {wall:.1f} s (SQLite, in process):")
    for kind in KINDS:
        t = steps.times.get(kind)
        if not t:
            continue
        p99 = statistics.quantiles(t, n=100)[98] if len(t) > 1 else t[0]
        print(f"  {kind:8s} {len(t):6d} steps, mean {1000 * statistics.fmean(t):6.2f} ms, p99 {1000 * p99:6.2f} ms, "
              f"{100 * sum(t) / total:5.1f}% of the time, {steps.statements[kind] / len(t):5.1f} statements each"
              + ("  (profiled: slower)" if kind == args.profile else ""))
    print(f"  all      {count:6d} steps, mean {1000 * total / count:6.2f} ms")
    if steps.profiler is not None:
        print(f"where a {args.profile} step's time goes (own time by package, cProfile):")
        for key, share in by_package(steps.profiler):
            print(f"  {100 * share:5.1f}% {key}")


if __name__ == "__main__":
    main()
