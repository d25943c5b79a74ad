"""Two workers on one database (two processes' worth: two engines, two services, two
threads) get the same person's updates at the same instant. The chat's lock and the
conditional seal must hold on every backend: one ballot, one step, no error."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlmodel import func, select

from bot.service import Incoming, Service
from flows.campaign import Campaign
from storage import campaigns, links
from storage.db import make_engine, session_scope
from storage.models import Ballot, Conversation, Membership, Person
from tests.bot.test_service import Rater, open_recipients
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres

ROUNDS = 8
_ids = itertools.count(500_000)


@pytest.fixture
def workers(engine):
    """The test campaign stored, and two services, each on its own engine."""
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    url = engine.url
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("select current_schema()").scalar()
        second = make_engine(url.render_as_string(hide_password=False), schema=schema)
    else:
        second = make_engine(url.render_as_string(hide_password=False))
    yield Service(engine), Service(second), token
    second.dispose()


def at_once(*calls):
    """Run the calls on threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def tap(service: Service, chat_id: int, action: str):
    return lambda: service.handle(Incoming(chat_id, "tap", next(_ids), data=action, language_code="zh"))


def to_confirmation(first: Service, chat_id: int, token: str) -> Rater:
    r = Rater(first, chat_id)
    r.start(token)
    for _ in range(2):
        r.tap("满意")
        r.tap("比较满意")
        r.tap("跳过")
    r.tap("提交")
    return r


def test_two_confirms_at_once_seal_one_ballot(engine, workers):
    first, second, token = workers
    for n in range(ROUNDS):
        r = to_confirmation(first, 9100 + n, token)
        confirm = next(b.action for b in r.screen.all_buttons() if b.label == "确认提交")
        results = at_once(tap(first, r.chat_id, confirm), tap(second, r.chat_id, confirm))
        assert not [x for x in results if isinstance(x, BaseException)], results
        assert sum(1 for x in results if x.submitted) == 1
    assert chain_pending(engine) == ROUNDS
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == ROUNDS
        assert s.exec(select(func.count()).select_from(Membership).where(Membership.submitted)).one() == ROUNDS
        assert s.exec(select(func.count()).select_from(Conversation)).one() == 0  # no draft left behind


def test_two_answers_at_once_apply_one_step(engine, workers):
    """Two different answers to one question, pressed together: one is applied and
    moves the card on, the other is refused as out of date; never both, never a mix."""
    first, second, token = workers
    for n in range(ROUNDS):
        r = Rater(first, 9200 + n)
        r.start(token)
        yes = next(b.action for b in r.screen.all_buttons() if b.label == "满意")
        no = next(b.action for b in r.screen.all_buttons() if b.label == "不满意")
        results = at_once(tap(first, r.chat_id, yes), tap(second, r.chat_id, no))
        assert not [x for x in results if isinstance(x, BaseException)], results
        applied = [x for x in results if x.messages]
        refused = [x for x in results if not x.messages and x.toast]
        assert len(applied) == 1 and len(refused) == 1, results
        with session_scope(engine) as s:
            person = s.exec(select(Person).where(Person.chat_id == r.chat_id)).one()
            state = s.exec(select(Conversation).where(Conversation.person_id == person.id)).one().state
        assert state["step"] == 1 and state["answers"]["transport"]["style"] in ("satisfied", "dissatisfied")


def test_a_new_persons_first_two_updates_at_once(engine, workers):
    first, second, token = workers
    for n in range(ROUNDS):
        chat = 9300 + n
        results = at_once(
            lambda c=chat: first.handle(Incoming(c, "start", next(_ids), text=token, language_code="zh")),
            lambda c=chat: second.handle(Incoming(c, "text", next(_ids), text="你好", language_code="zh")))
        assert not [x for x in results if isinstance(x, BaseException)], results
        assert all(x.messages for x in results)  # both answered
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == ROUNDS
        assert s.exec(select(func.count()).select_from(Membership)).one() == ROUNDS
