"""A curious operator with read access to everything cannot link a ballot to a person.

50 raters submit one after another, each with an opinion of their own (the test's ground
truth); then the campaign closes as `minping close` does (the envelopes are appended in a
shuffled batch, the files scrubbed). An attacker who knows the order in which the people
submitted (they watched) and can read every table, the PostgreSQL transaction ids and
physical row positions, the raw pages (dead tuples included, with pageinspect), the SQLite
file and its write-ahead log, and the logs at DEBUG, tries each method below. None may
pair more raters with their ballot than chance (a random pairing gets 1 right on average;
6 or more has a chance below 1 in 1,000).

Not closed, stated in the README: PostgreSQL's write-ahead log (pg_wal, and archives of it)
keeps each submit's transaction, envelope included, until it is recycled; whoever reads it
with pg_waldump can link them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.service import Service
from flows.campaign import Campaign
from reports import tally
from storage import ballots, campaigns, links
from storage.db import session_scope
from storage.models import Answer, Ballot, Opinion
from tests.bot.test_service import Rater, open_recipients

pytestmark = pytest.mark.postgres

RATERS = 50
CHANCE = 5  # at most this many right by any method (a random pairing: 1 on average)


@pytest.fixture
def submitted(engine, caplog):
    """The ground truth: chat ids in the order they submitted, and each one's opinion."""
    caplog.set_level(logging.DEBUG)
    campaign = Campaign.model_validate({**open_recipients(), "chain_batch": 1000})
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    service = Service(engine)
    order = []
    for n in range(RATERS):
        chat = 70_000_000 + n * 7919  # ids that do not sort like anything else
        r = Rater(service, chat)
        r.start(token)
        r.tap(["满意", "比较满意", "基本满意", "不满意"][n % 4])
        r.tap("满意")
        r.text(f"意见第{n:02d}号：窗口需要改进")
        r.tap("满意")
        r.tap("不了解")
        r.tap("跳过")
        r.tap("提交")
        assert r.tap("确认提交").submitted
        order.append(chat)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    ballots.scrub(engine)
    opinion_of = {chat: f"意见第{n:02d}号：窗口需要改进" for n, chat in enumerate(order)}
    return campaign, order, opinion_of


def truth(engine, opinion_of: dict[int, str]) -> dict[int, str]:
    """chat id -> its ballot id (found through the opinions, which only the test knows)."""
    with session_scope(engine) as s:
        by_text = {o.text: o.ballot_id for o in s.exec(select(Opinion))}
    return {chat: by_text[t] for chat, t in opinion_of.items()}


def right(guess: dict[int, str], real: dict[int, str]) -> int:
    return sum(1 for chat, ballot in guess.items() if real.get(chat) == ballot)


def by_order(order: list[int], ranked: list[str]) -> dict[int, str]:
    """Pair the n-th person to submit with the n-th ballot of some ordering."""
    return dict(zip(order, ranked, strict=False))


def test_no_method_links_more_ballots_than_chance(engine, submitted, caplog, capsys):
    campaign, order, opinion_of = submitted
    real = truth(engine, opinion_of)
    assert len(real) == RATERS
    tried: dict[str, int] = {}
    with session_scope(engine) as s:
        chain = [b.id for b in s.exec(select(Ballot).order_by(Ballot.seq))]
        tried["chain order = submission order"] = right(by_order(order, chain), real)
        answer_rows = [a.ballot_id for a in s.exec(select(Answer).order_by(Answer.id))]
        tried["answer row ids = submission order"] = right(by_order(order, list(dict.fromkeys(answer_rows))), real)
        opinion_rows = [o.ballot_id for o in s.exec(select(Opinion).order_by(Opinion.id))]
        tried["opinion row ids = submission order"] = right(by_order(order, opinion_rows), real)
        by_id = sorted(chain)
        tried["ballot ids sorted = submission order"] = right(by_order(order, by_id), real)
    if engine.dialect.name == "postgresql":
        tried |= postgres_methods(engine, order, real)
    else:
        tried |= sqlite_methods(engine, opinion_of)
    tried |= log_methods(caplog, opinion_of, real)
    with capsys.disabled():
        print(f"\nforensics on {engine.dialect.name}, {RATERS} raters: "
              + "; ".join(f"{k}: {v}" for k, v in tried.items()))
    assert all(v <= CHANCE for v in tried.values()), tried


def postgres_methods(engine, order: list[int], real: dict[int, str]) -> dict[str, int]:
    found = {}
    with engine.connect() as conn:
        xmin_ballot = dict(conn.execute(text("SELECT id, xmin::text::bigint FROM ballot")).all())
        xmin_member = dict(conn.execute(text(
            "SELECT p.chat_id, m.xmin::text::bigint FROM membership m JOIN person p ON p.id = m.person_id")).all())
        # Pair each person with the ballot whose transaction id is nearest to their row's.
        guess = {chat: min(xmin_ballot, key=lambda b, x=x: (abs(xmin_ballot[b] - x), b))
                 for chat, x in xmin_member.items()}
        found["same or nearest transaction id (xmin)"] = right(guess, real)
        found["distinct transaction ids among ballots"] = len(set(xmin_ballot.values())) - 1  # 1 batch: 0
        ctid = [r[0] for r in conn.execute(text("SELECT id FROM ballot ORDER BY ctid"))]
        found["physical row order (ctid) = submission order"] = right(by_order(order, ctid), real)
        by_xmin_member = [chat for chat, _ in sorted(xmin_member.items(), key=lambda kv: (kv[1], kv[0]))]
        found["members by xmin paired with ballots by ctid"] = right(dict(zip(by_xmin_member, ctid)), real)
        # Dead rows: every page of the tables that held drafts and envelopes, raw.
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        leaked = 0
        for table in ("envelope", "conversation", "membership", "person", "processed_update", "outbox"):
            pages = conn.execute(text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")).scalar()
            raw = b"".join(conn.execute(text(f"SELECT get_raw_page('{table}', {n})")).scalar() for n in range(pages))
            leaked += sum(1 for t in _texts(real, engine) for form in _forms(t) if form in raw)
        found["opinions readable in raw pages of person-side tables (dead rows)"] = leaked
        conn.commit()
    return found


def _forms(t: str) -> tuple[bytes, bytes]:
    """A text as stored: UTF-8 in a text column, \\u-escaped inside JSON (drafts, envelopes)."""
    return t.encode(), json.dumps(t)[1:-1].encode()


def _texts(real, engine) -> set[str]:  # noqa: ANN001
    with session_scope(engine) as s:
        return {o.text for o in s.exec(select(Opinion))}


def sqlite_methods(engine, opinion_of: dict[int, str]) -> dict[str, int]:
    path = Path(engine.url.database)
    raw = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
    # Each opinion must be in the file once: its row in the opinion table. A second copy
    # (a draft, an envelope in a free page or in the log) could sit beside a person.
    extra = sum(max(0, raw.count(t.encode()) - 1) + raw.count(json.dumps(t)[1:-1].encode())
                for t in opinion_of.values())
    return {"second copies of opinions in the database file and its WAL": extra}


def log_methods(caplog, opinion_of: dict[int, str], real: dict[int, str]) -> dict[str, int]:
    linked = 0
    for record in caplog.records:
        line = record.getMessage()
        for chat, t in opinion_of.items():
            if str(chat) in line and (t in line or real[chat] in line):
                linked += 1
    return {"log records naming a chat beside its opinion or ballot (DEBUG)": linked}


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # transaction ids are PostgreSQL's
def test_the_batch_rewrites_what_the_submits_wrote(engine, submitted):
    """On PostgreSQL every ballot, answer and membership row was last written by the
    batch's transaction: no row keeps the transaction id of a submit."""
    with engine.connect() as conn:
        ballot_tx = {r[0] for r in conn.execute(text("SELECT DISTINCT xmin::text FROM ballot"))}
        answer_tx = {r[0] for r in conn.execute(text("SELECT DISTINCT xmin::text FROM answer"))}
        member_tx = {r[0] for r in conn.execute(text("SELECT DISTINCT xmin::text FROM membership WHERE submitted"))}
        envelopes = conn.execute(text("SELECT count(*) FROM envelope")).scalar()
    assert len(ballot_tx) == 1 and ballot_tx == answer_tx == member_tx
    assert envelopes == 0
