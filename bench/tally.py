"""Tally speed: progress digest at 10k and 1M answers, close + verify at 1M, on SQLite
and PostgreSQL.

    python bench/tally.py [--small 10000] [--large 1000000] [--backends sqlite,postgresql]
                          [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Generates ballots for examples/county-2026.yaml with bulk inserts (a valid hash chain,
persons and memberships included) in fresh SQLite files under var/bench/ and in fresh
PostgreSQL databases (``minping_bench_<pid>_<size>``, created through ``--pg-url`` and
dropped at the end), then prints per backend: the time to build the sealed-campaign
progress digest (text + progress chart) at each size and their ratio (target ≤ 2:
progress must not grow with the answers), and the time of ``close`` (compute + store
the tally) and ``verify`` (chain walk + independent recount) at the large size (target
together: < 2 s on SQLite, < 4 s on PostgreSQL).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text, update  # noqa: E402

from flows.campaign import Campaign  # noqa: E402
from flows.loader import load_campaign  # noqa: E402
from reports import digest, tally  # noqa: E402
from reports.verify import verify  # noqa: E402
from storage import ballots, campaigns  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import Answer, Ballot, CampaignRow, Membership, Person  # noqa: E402
from storage.status import group_progress  # noqa: E402

EXAMPLE = ROOT / "examples" / "county-2026.yaml"
OUT = ROOT / "var" / "bench"
TARGET = {"sqlite": 2.0, "postgresql": 4.0}  # close + verify at 1M answers, seconds


def open_campaign() -> Campaign:
    c = load_campaign(EXAMPLE)
    opens = datetime.now(UTC) - timedelta(days=1)
    return c.model_copy(update={"opens": opens, "closes": opens + timedelta(days=30)})


def generate(engine, campaign: Campaign, answers: int, seed: int = 1) -> int:  # noqa: ANN001
    """Bulk-insert ballots until about ``answers`` answers exist; returns ballots made."""
    rng = random.Random(seed)
    options = [o.key for o in campaign.scale] + [None]
    weights = [40, 30, 15, 5, 10][: len(options)] if len(options) == 5 else None
    groups = campaign.rater_groups
    head = campaigns.genesis_hash(campaign.id)
    b_rows, a_rows, p_rows, m_rows = [], [], [], []
    made = total = 0
    while total < answers:
        g = rng.choice(groups)
        unit = rng.choice(campaign.units) if g.rates == "own_unit" else None
        evs = campaign.evaluees_for(g.key, unit)
        content = {e.key: {d.key: rng.choices(options, weights)[0] for d in campaign.dimensions} for e in evs}
        made += 1
        bid = f"{made:032x}"
        digest_ = ballots.chain_hash(head, ballots.canonical(bid, campaign.id, g.key, content, {}))
        b_rows.append({"id": bid, "campaign_id": campaign.id, "group_key": g.key, "seq": made,
                       "prev_hash": head, "hash": digest_})
        head = digest_
        for e, dims in content.items():
            for d, o in dims.items():
                a_rows.append({"ballot_id": bid, "evaluee_key": e, "dimension_key": d, "option_key": o})
        total += len(evs) * len(campaign.dimensions)
        p_rows.append({"id": made, "chat_id": 1_000_000 + made, "locale": "zh", "status": "active",
                       "created_at": datetime.now(UTC)})
        m_rows.append({"campaign_id": campaign.id, "person_id": made, "group_key": g.key, "unit": unit,
                       "status": "submitted", "submitted": True, "enrolled_at": datetime.now(UTC)})
    with session_scope(engine) as s:
        for table, rows in ((Person, p_rows), (Membership, m_rows), (Ballot, b_rows), (Answer, a_rows)):
            for i in range(0, len(rows), 50_000):
                s.execute(insert(table), rows[i:i + 50_000])
        s.execute(update(CampaignRow).where(CampaignRow.id == campaign.id).values(chain_head=head, chain_count=made))
    return made


def setup(backend: str, answers: int, pg_url: str, made: list[str]):  # noqa: ANN201
    if backend == "sqlite":
        path = OUT / f"tally-{answers}.db"
        path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
    else:
        name = f"minping_bench_{os.getpid()}_{answers}"
        with make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        made.append(name)
        engine = make_engine(pg_url.rsplit("/", 1)[0] + "/" + name)
    migrate(engine)
    campaign = open_campaign()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
    t0 = time.perf_counter()
    n = generate(engine, campaign, answers)
    if backend == "postgresql":
        with engine.connect() as conn:  # fresh planner statistics, as autovacuum would give
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"  {answers:>9,} answers: {n:,} ballots generated in {time.perf_counter() - t0:.1f} s")
    return engine, campaign


def drop(pg_url: str, names: list[str]) -> None:
    with make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        for name in names:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def progress_digest_time(engine, campaign: Campaign, repeats: int = 5) -> tuple[float, float]:  # noqa: ANN001
    """Best of ``repeats``: (whole digest, of which storage.status.group_progress)."""
    best = best_progress = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            d = digest.build(s, campaign, "zh")
        best = min(best, time.perf_counter() - t0)
        assert not d.results and len(d.charts) == 1
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            group_progress(s, campaign)
        best_progress = min(best_progress, time.perf_counter() - t0)
    return best, best_progress


def run(backend: str, args: argparse.Namespace, made: list[str]) -> None:
    print(f"{backend}: generating (bulk inserts)")
    small_engine, campaign = setup(backend, args.small, args.pg_url, made)
    large_engine, _ = setup(backend, args.large, args.pg_url, made)
    small, small_p = progress_digest_time(small_engine, campaign)
    large, large_p = progress_digest_time(large_engine, campaign)
    print(f"{backend}: progress digest (sealed, text + chart): {args.small:,} answers {small * 1000:.0f} ms; "
          f"{args.large:,} answers {large * 1000:.0f} ms; ratio {large / small:.2f} (target ≤ 2)")
    print(f"  of which storage.status.group_progress: {small_p * 1000:.0f} ms and {large_p * 1000:.0f} ms; "
          f"the rest: ratio {(large - large_p) / (small - small_p):.2f}")
    t0, c0 = time.perf_counter(), time.process_time()
    with session_scope(large_engine) as s:
        tally.close_campaign(s, campaign)
    closed, closed_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    with session_scope(large_engine) as s:
        check = verify(s, campaign)
    verified, verified_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert check.ok and check.recounted, (check.chain[:3], check.differences[:3])
    target = TARGET[backend]
    print(f"{backend}: close {closed:.2f} s + verify {verified:.2f} s = {closed + verified:.2f} s at "
          f"{args.large:,} answers (target < {target:g} s: {'met' if closed + verified < target else 'NOT met'}); "
          "verify OK")
    # On a machine shared with other work the wall times vary; this process's CPU time
    # (all of the work on SQLite; without the server's on PostgreSQL) varies less.
    print(f"  this process's CPU time: close {closed_cpu:.2f} s, verify {verified_cpu:.2f} s")
    small_engine.dispose()
    large_engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("MINPING_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                    help="a PostgreSQL server's database to create the bench databases from")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := [b for b in backends if b not in TARGET]:
        ap.error(f"unknown backend(s): {', '.join(unknown)} (sqlite, postgresql)")
    logging.disable(logging.INFO)
    shutil.rmtree(OUT / "tally", ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    try:
        for backend in backends:
            run(backend, args, made)
    finally:
        if made:
            drop(args.pg_url, made)


if __name__ == "__main__":
    main()
