"""Retention: purging a finished campaign's personal data (``minping purge``, the
scheduler's ``retention`` job). After a purge no chat id of that campaign's people is in
any table (every column of every table is searched), ``verify`` is still OK, and a
person who is in another running campaign keeps their chat id for that one."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import SQLModel, func, select
from typer.testing import CliRunner

import storage.tables  # noqa: F401  (every table registered in the metadata)
from bot.app import followup, notice
from bot.cli import app
from bot.jobs.retention import purge_due
from bot.settings import get_settings
from flows.campaign import Campaign
from flows.questionnaire import SealBallot
from reports import tally
from reports.verify import verify
from storage import ballots, campaigns, conversations, outbox, parked, people, retention, status, updates
from storage import rectification as rs
from storage import tally as store
from storage.db import session_scope
from storage.models import Attachment, Ballot, CampaignRow, Conversation, Membership, Person
from tests.factories import campaign_data
from tests.run_process import database_url

pytestmark = pytest.mark.postgres

# Telegram-sized chat ids, distinctive enough to search every stored value for them.
ORG_FILE, ORG_BOUND = 7_311_000_900, 7_311_000_901
RATERS = (7_311_000_001, 7_311_000_002, 7_311_000_003)
STAFF = 7_311_000_004
DRAFTING = 7_311_000_005  # enrolled, a draft, never submitted
B_ORGANIZER = 7_311_000_950  # B's, untouched by A's purge
A_CHART, B_CHART = b"\x89PNG A" * 100, b"\x89PNG B" * 100
SHARED = 7_311_000_006  # rated in A and is enrolled in B, which is still open
CONTACT = 7_311_000_007  # transport's contact
GONE = (ORG_FILE, ORG_BOUND, *RATERS, STAFF, DRAFTING, CONTACT)
CLOSED_AT = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
SOURCE = "id: a-2026\norganizers: [7311000900]   # 7311000900 is 王主任\n"


def campaign_a() -> Campaign:
    return Campaign.model_validate(campaign_data(
        id="a-2026", organizers=[ORG_FILE], retention_days=30,
        rectification={"deadline_days": 30, "threshold": 0.8, "max_rounds": 2}))


def rate(s, campaign: Campaign, chat_id: int, group: str, option: str, unit: str | None = None) -> None:  # noqa: ANN001
    person = people.get_or_create_person(s, chat_id)
    people.enrol(s, campaign.id, person, group, unit=unit)
    answers = {e.key: {d.key: option for d in campaign.dimensions} for e in campaign.evaluees_for(group, unit)}
    ballots.submit_ballot(s, campaign.id, person.id, SealBallot(group, answers, {"transport": "排队太久"}))


def finished_campaign(engine) -> tuple[Campaign, datetime]:  # noqa: ANN001
    """Campaign A through its whole life: ratings, a draft, close, notices published,
    one rectification round whose follow-up closed. Campaign B is still open."""
    a = campaign_a()
    b = Campaign.model_validate(campaign_data(id="b-2026"))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, a, SOURCE)
        campaigns.store_campaign(s, b, "")
        for chat, option in zip((*RATERS, SHARED), ("satisfied", "fairly", "satisfied", "satisfied"), strict=True):
            rate(s, a, chat, "recipients", option)
        rate(s, a, STAFF, "staff", "dissatisfied", unit="transport")
        drafting = people.get_or_create_person(s, DRAFTING)
        people.enrol(s, a.id, drafting, "public")
        conversations.save(s, drafting.id, a.id, "questionnaire", {"draft": "半截答案"}, {})
        store.bind_organizer(s, a.id, ORG_BOUND)
        rs.bind(s, a.id, "transport", people.get_or_create_person(s, CONTACT).id)
        shared = people.find_person(s, SHARED)
        people.enrol(s, b.id, shared, "public")  # B is their current campaign now
        conversations.save(s, shared.id, b.id, "questionnaire", {"draft": "B 的草稿"}, {})
        parked.park(s, {"update_id": 90001, "message": {"chat": {"id": RATERS[1]}, "from": {"id": RATERS[1]},
                                                        "text": "卡住的消息"}}, "ValueError: x", 5)
        parked.park(s, {"update_id": 90002, "message": {"chat": {"id": SHARED}, "text": "B 的消息"}}, "x", 5)
    with session_scope(engine) as s:
        tally.close_campaign(s, a, CLOSED_AT)
    now = CLOSED_AT + timedelta(hours=1)
    with session_scope(engine) as s:
        published = notice.publish(s, a, now)
        assert published.messages >= 1  # the notice to the contact
        outbox.enqueue(s, RATERS[0], "reminder", "请评议", campaign_id=a.id)  # an old, sent reminder
        outbox.enqueue(s, ORG_FILE, "digest", "进度", attachment=A_CHART, campaign_id=a.id)  # a digest's chart
        outbox.enqueue(s, B_ORGANIZER, "digest", "进度", attachment=B_CHART, campaign_id="b-2026")
    rounds = []
    with session_scope(engine) as s:
        rounds = list(s.exec(select(rs.RectRound).where(rs.RectRound.campaign_id == a.id)))
        transport = next(r for r in rounds if r.evaluee_key == "transport")
        survey_at = rs.end_of(transport.deadline, a.timezone).astimezone(UTC)  # the jobs run in UTC
        for rnd in rounds:
            followup.start_survey(s, a, rnd, survey_at)
        for chat in RATERS[:2]:
            rs.answer(s, transport.id, people.find_person(s, chat).id, "satisfied")
    closed_at = survey_at + timedelta(days=7)
    with session_scope(engine) as s:
        for rnd in rounds:
            followup.close_survey(s, a, s.get(rs.RectRound, rnd.id), closed_at)
        for chat in RATERS:
            updates.first_time(s, chat % 100_000)  # processed update ids
    return a, closed_at


def stored_values(engine) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """Every value of every column of every table, as text: (table, column, value)."""
    out = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa_select(table)).mappings():
                for column, v in row.items():
                    if v is None:
                        continue
                    if isinstance(v, bytes):
                        v = v.decode("latin-1")
                    elif isinstance(v, dict | list):
                        v = json.dumps(v, ensure_ascii=False)
                    out.append((table.name, column, str(v)))
    return out


def where_found(engine, chat_id: int) -> list[tuple[str, str]]:  # noqa: ANN001
    pattern = re.compile(rf"(?<!\d){chat_id}(?!\d)")
    return [(t, c) for t, c, v in stored_values(engine) if pattern.search(v)]


def snapshot(s, campaign: Campaign) -> dict:  # noqa: ANN001
    row = campaigns.get_row(s, campaign.id)
    rounds = s.exec(select(rs.RectRound).where(rs.RectRound.campaign_id == campaign.id).order_by(rs.RectRound.id))
    return {"ballots": s.exec(select(func.count()).select_from(Ballot)).one(),
            "chain": (row.chain_head, row.chain_count),
            "tally": store.load(s, campaign.id).data,
            "by_group": ballots.counts_by_group(s, campaign.id),
            "followups": [rs.followup_counts(s, r.id) + (r.rate,) for r in rounds],
            "plans_and_items": [len(rs.items(s, campaign.id, e.key)) for e in campaign.evaluees],
            "progress": [(g.group, g.submitted, g.ballots) for g in status.group_progress(s, campaign)]}


def test_purge_leaves_no_chat_id_of_the_campaign_and_verify_ok(engine):
    a, finished = finished_campaign(engine)
    with session_scope(engine) as s:
        assert retention.finished_at(s, a.id) == finished
        assert retention.due_at(s, a.id) == finished + timedelta(days=30)
        assert retention.due_campaigns(s, finished + timedelta(days=29)) == []
        before = snapshot(s, a)
        assert verify(s, a).ok
    for chat in (*GONE, SHARED):  # the test's premise: each is stored somewhere now
        assert where_found(engine, chat), chat
    assert ("campaign", "source") in where_found(engine, ORG_FILE)

    with session_scope(engine) as s:  # the charts were last named long ago
        s.execute(update(Attachment).values(used_at=datetime.now(UTC) - timedelta(days=2)))
    # The scheduler's job purges it once its retention days have passed.
    assert purge_due(engine, finished + timedelta(days=29)) == 0
    assert purge_due(engine, finished + timedelta(days=30, minutes=1)) == 1

    for chat in GONE:
        assert where_found(engine, chat) == [], chat
    # The person in B keeps their chat id, for B only.
    assert sorted(where_found(engine, SHARED)) == [("parked_update", "payload"), ("person", "chat_id")]
    with session_scope(engine) as s:
        shared = people.find_person(s, SHARED)
        assert shared.current_campaign == "b-2026"
        assert people.membership(s, "b-2026", shared.id) is not None
        assert people.membership(s, a.id, shared.id) is None
        assert conversations.load(s, shared.id, "b-2026", "questionnaire").state == {"draft": "B 的草稿"}
        assert s.exec(select(Conversation).where(Conversation.campaign_id == a.id)).all() == []
        assert s.exec(select(func.count()).select_from(Membership).where(
            Membership.campaign_id == a.id, Membership.person_id.is_not(None))).one() == 0
        assert s.exec(select(Person.chat_id)).all() == [SHARED]
        assert [p.update_id for p in parked.listing(s)] == [90002]
        # A's chart went with its message; B's is still there.
        assert s.exec(select(Attachment.data)).all() == [B_CHART]
        # Kept: ballots, chain, tally, counts per group, follow-up figures, notices, progress.
        assert snapshot(s, a) == before
        result = verify(s, a)
        assert result.ok and result.recounted, (result.chain, result.counts, result.differences)
        row = s.get(CampaignRow, a.id)
        assert row.purged_at is not None and row.definition["organizers"] == []
        assert "王主任" not in row.source and "7311000900" not in row.source  # nor a name beside it
        # Nothing is due any more; a second purge has nothing to do.
        assert retention.due_campaigns(s, finished + timedelta(days=400)) == []
        assert retention.purge(s, a.id, finished + timedelta(days=31)).already
        with pytest.raises(retention.NotFinished):  # B is open: its data is still needed
            retention.purge(s, "b-2026", finished)


def test_a_campaign_with_an_open_round_or_without_retention_days_is_not_purged_by_the_job(engine):
    a = Campaign.model_validate(campaign_data(id="keep-2026"))  # no retention_days
    with session_scope(engine) as s:
        campaigns.store_campaign(s, a, "")
        rate(s, a, RATERS[0], "recipients", "satisfied")
    with session_scope(engine) as s:
        tally.close_campaign(s, a, CLOSED_AT)
    assert purge_due(engine, CLOSED_AT + timedelta(days=9999)) == 0
    b = campaign_a()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, b, "")
        rate(s, b, RATERS[1], "recipients", "satisfied")
    with session_scope(engine) as s:
        tally.close_campaign(s, b, CLOSED_AT)
        rs.open_round(s, b.id, "transport", 1, date(2027, 2, 9), CLOSED_AT)  # published, rectifying
    with session_scope(engine) as s:
        assert retention.finished_at(s, b.id) is None
    assert purge_due(engine, CLOSED_AT + timedelta(days=9999)) == 0
    assert where_found(engine, RATERS[0]) and where_found(engine, RATERS[1])


@pytest.fixture
def cli(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_minping_purge_asks_first_and_refuses_an_open_campaign(engine, cli):
    a, _ = finished_campaign(engine)
    refused = cli.invoke(app, ["purge", "b-2026", "--yes"])
    assert refused.exit_code == 1 and "still open" in refused.output
    unknown = cli.invoke(app, ["purge", "nope", "--yes"])
    assert unknown.exit_code == 1 and "nope" in unknown.output

    declined = cli.invoke(app, ["purge", a.id], input="n\n")
    assert declined.exit_code == 1 and "nothing deleted" in declined.output
    assert "people whose chat id is deleted" in declined.output and "Delete this personal data" in declined.output
    assert where_found(engine, RATERS[0])  # still there

    done = cli.invoke(app, ["purge", a.id], input="y\n")
    assert done.exit_code == 0, done.output
    assert "purged" in done.output and "OK" in done.output  # verify after the purge
    for chat in GONE:
        assert where_found(engine, chat) == [], chat
    again = cli.invoke(app, ["purge", a.id, "--yes"])
    assert again.exit_code == 0 and "nothing left to delete" in again.output
    verified = cli.invoke(app, ["verify", a.id])
    assert verified.exit_code == 0 and "OK" in verified.output
