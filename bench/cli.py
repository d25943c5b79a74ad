"""Command-line start-up: the wall time of ``minping status`` (target < 0.3 s).

    python bench/cli.py [--runs 15] [--raters 5000]

Builds a fresh SQLite database under var/bench/ with examples/county-2026.yaml loaded
and ``--raters`` enrolled people (memberships, some started, some submitted, a frozen
pool), then runs the installed ``minping status county-2026`` ``--runs`` times as a
separate process, as an organizer would, and prints the wall times (min, median, max).
For comparison it also times ``minping record list`` (a command on the full typer +
SQLAlchemy path).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from flows.loader import load_campaign  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import Membership, Person  # noqa: E402

OUT = ROOT / "var" / "bench" / "cli"
MINPING = Path(sys.executable).with_name("minping")


def build(raters: int) -> str:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    url = f"sqlite:///{OUT / 'cli.db'}"
    eng = make_engine(url)
    migrate(eng)
    campaign = load_campaign(ROOT / "examples" / "county-2026.yaml")
    with session_scope(eng) as s:
        campaigns.store_campaign(s, campaign, "")
        at = datetime.now(UTC)
        s.execute(insert(Person), [{"chat_id": 10_000 + i, "locale": "zh", "status": "active", "created_at": at}
                                   for i in range(raters)])
        ids = [p.id for p in s.exec(Person.__table__.select()).all()]
        groups = ["recipients", "deputies", "public", "staff"]
        s.execute(insert(Membership), [
            {"campaign_id": campaign.id, "person_id": pid, "group_key": groups[i % 4],
             "unit": "water" if groups[i % 4] == "staff" else None, "consented": True,
             "submitted": i % 3 == 0, "status": "submitted" if i % 3 == 0 else "enrolled", "enrolled_at": at,
             "reminders_sent": 0, "visits": 1}
            for i, pid in enumerate(ids)])
    eng.dispose()
    return url


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run([str(MINPING), *args], env=env, capture_output=True, text=True)
        out.append(time.perf_counter() - t)
        if done.returncode:
            raise SystemExit(f"{args}: exit {done.returncode}\n{done.stderr}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--raters", type=int, default=5000)
    a = ap.parse_args()
    url = build(a.raters)
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("MINPING_CLOCK", None)
    timed(["status", "county-2026"], env, 2)  # warm the file cache
    for label, args in (("minping status county-2026", ["status", "county-2026"]),
                        ("minping record list county-2026", ["record", "list", "county-2026"])):
        t = timed(args, env, a.runs)
        print(f"{label}: wall min {min(t):.3f} s, median {statistics.median(t):.3f} s, max {max(t):.3f} s "
              f"({a.runs} runs, {a.raters} raters)")


if __name__ == "__main__":
    main()
