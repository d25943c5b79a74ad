"""The Mini App through the service (SQLite and PostgreSQL): one conversation state with
the chat, the chat's gates, one ballot on the hash chain. The HTTP side and its
authentication are in test_miniapp_web.py, the page itself in tests/e2e."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.miniapp.actions import request
from bot.service import Service
from flows.campaign import Campaign
from flows.loader import load_campaign
from storage import ballots, campaigns, conversations, draw, links, people
from storage.db import session_scope
from storage.models import Answer, Ballot, Conversation, Membership, Opinion
from tests.bot.test_service import Rater, open_recipients
from tests.factories import campaign_data, chain_pending

pytestmark = pytest.mark.postgres
WINDOWS = "examples/windows-2026.yaml"


@pytest.fixture
def setup(engine):
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    return Service(engine), campaign, token


def app(service: Service, chat_id: int, op: str = "view", **kw):
    return service.handle(request(chat_id, op, **kw))


def sealed(engine) -> int:
    """Ballots sealed: in the chain or still in their envelopes."""
    from storage.ballots import Envelope

    return count(engine, Ballot) + count(engine, Envelope)


def count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def draft(engine, chat_id: int) -> dict | None:
    with session_scope(engine) as s:
        person = people.find_person(s, chat_id)
        conv = conversations.load(s, person.id, "test-2026", "questionnaire") if person else None
        return conv.state if conv else None


def units(view: dict) -> dict[str, dict]:
    return {u["key"]: u for c in view["categories"] for u in c["units"]}


def test_chat_and_app_share_one_draft_and_one_submit(engine, setup):
    service, campaign, token = setup
    r = Rater(service, 901)
    r.start(token)
    r.tap("满意")  # transport, work style, in the chat
    # the app sees the chat's answer
    seen = app(service, 901)
    assert seen.status == "ok" and not seen.view["preselect"]
    assert units(seen.view)["transport"]["answers"] == {"style": "satisfied"}
    assert (seen.view["done"], seen.view["total"]) == (0, 2)
    # answers and an opinion given in the app …
    saved = app(service, 901, "save", answers={"water": {"style": "satisfied", "efficiency": "dissatisfied"}},
                opinions={"water": "窗口<排队>太久 & 没人管"})
    assert saved.status == "ok" and (saved.view["done"], saved.view["total"]) == (1, 2)
    # … appear in the chat: /resume shows the card where the chat was, the review the app's answers
    r.command("resume")
    assert "交通局" in r.screen.text and "✔ 工作作风：满意" in r.screen.text
    r.tap("不了解")
    r.tap("跳过")
    assert "提交" in [b.label for b in r.screen.all_buttons()]
    assert "水利局</b>：满意×1 不满意×1 · 意见✓" in r.screen.text
    # the app submits what the chat and the app gave together: one ballot, on the chain
    done = app(service, 901, "submit")
    assert done.status == "submitted" and done.submitted
    assert sealed(engine) == 1 and draft(engine, 901) is None
    chain_pending(engine)
    with session_scope(engine) as s:
        given = {(a.evaluee_key, a.dimension_key): a.option_key for a in s.exec(select(Answer))}
        assert given == {("transport", "style"): "satisfied", ("transport", "efficiency"): None,
                         ("water", "style"): "satisfied", ("water", "efficiency"): "dissatisfied"}
        assert [o.text for o in s.exec(select(Opinion))] == ["窗口<排队>太久 & 没人管"]
        assert ballots.verify_chain(s, campaign.id) == []
        assert people.membership(s, campaign.id, people.find_person(s, 901).id).submitted
    # and the chat knows
    r.command("resume")
    assert "已经提交" in r.texts()
    reply = r.tap("确认提交") if "确认提交" in [b.label for b in r.screen.all_buttons()] else None
    assert reply is None or "已经提交" in (reply.toast or "")
    again = app(service, 901, "submit")
    assert again.status == "done" and "已经提交" in again.notice
    assert sealed(engine) == 1


def test_an_incomplete_submit_keeps_the_edits_and_says_what_is_missing(engine, setup):
    service, _, token = setup
    Rater(service, 902).start(token)
    reply = app(service, 902, "submit", answers={"transport": {"style": "fairly", "efficiency": "fairly"}})
    assert reply.status == "ok" and "未作答" in reply.notice
    assert sealed(engine) == 0
    assert draft(engine, 902)["answers"] == {"transport": {"style": "fairly", "efficiency": "fairly"}}


@pytest.mark.parametrize("edit", [
    {"answers": {"nowhere": {"style": "satisfied"}}},
    {"answers": {"transport": {"style": "superb"}}},
    {"answers": {"transport": ["style"]}},
    {"answers": {"transport": {"style": ["satisfied"]}}},
    {"picks": {"transport": True}},  # 2 evaluees: this rater does not pick
    {"opinions": {"water": "长" * 1001}},
])
def test_forged_or_bad_edits_change_nothing(engine, setup, edit):
    service, _, token = setup
    r = Rater(service, 903)
    r.start(token)
    r.tap("满意")
    before = draft(engine, 903)
    reply = app(service, 903, "save", **edit)
    assert reply.status == "ok" and reply.notice  # said why; the page keeps what it had
    assert draft(engine, 903) == before


def test_a_malformed_request_is_refused(engine, setup):
    from bot.service import Incoming

    service, _, token = setup
    Rater(service, 904).start(token)
    before = draft(engine, 904)
    for data in ["", "not json", "[1, 2]", '{"op": "drop tables"}', '{"op": "save", "answers": 5}']:
        reply = service.handle(Incoming(904, "app", data=data))
        assert reply.status in ("invalid", "ok") and reply.notice, data
        assert draft(engine, 904) == before


def test_the_chat_gates_apply_to_the_app(engine, setup):
    service, campaign, token = setup
    # not taking part at all
    nobody = app(service, 910)
    assert nobody.status == "refused" and "还没有参加" in nobody.notice
    # enrolled without consent
    r = Rater(service, 911)
    super(Rater, r).start(token)  # the consent screen, not agreed
    refused = app(service, 911)
    assert refused.status == "refused" and "同意参加" in refused.notice
    assert count(engine, Conversation) == 0
    # after /stop
    r2 = Rater(service, 912)
    r2.start(token)
    r2.command("stop")
    assert app(service, 912).status == "refused"
    # before opening and after closing
    r3 = Rater(service, 913)
    r3.start(token)
    r3.tap("满意")
    before = draft(engine, 913)
    early = Service(engine, clock=lambda: campaign.opens - timedelta(days=1))
    reply = early.handle(request(913, "save", answers={"water": {"style": "satisfied"}}))
    assert reply.status == "refused" and "将于" in reply.notice and draft(engine, 913) == before
    with session_scope(engine) as s:
        campaigns.close(s, campaign.id)
    reply = app(service, 913, "submit", answers={"water": {"style": "satisfied"}})
    assert reply.status == "refused" and "已结束" in reply.notice
    assert draft(engine, 913) == before and sealed(engine) == 0


def test_only_the_drawn_may_answer_in_the_app(engine):
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    campaign = Campaign.model_validate(campaign_data())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    service = Service(engine, clock=lambda: now)
    raters = [Rater(service, 920 + i) for i in range(12)]
    for r in raters:
        r.start(token)
    assert app(service, 920).status == "refused"  # before the draw
    with session_scope(engine) as s:
        draw.commit(s, campaign, now)
        draw.reveal(s, campaign, now)
        drawn = {m.person_id for m in s.exec(select(Membership).where(Membership.drawn_round == 1))}
        chats = {p: people.find_person(s, p).id for p in range(920, 932)}
    lucky = next(c for c, pid in chats.items() if pid in drawn)
    unlucky = next(c for c, pid in chats.items() if pid not in drawn)
    refused = app(service, unlucky, "save", answers={"water": {"style": "satisfied"}})
    assert refused.status == "refused" and "未被抽中" in refused.notice
    assert app(service, lucky).status == "ok"


def test_preselection_in_the_app_unpicked_are_dont_know(engine):
    campaign = load_campaign(WINDOWS)
    groups = [g.model_copy(update={"open": True, "sample": None}) if g.key == "residents" else g
              for g in campaign.rater_groups]
    campaign = campaign.model_copy(update={"rater_groups": groups, "opens": datetime(2026, 1, 1, tzinfo=UTC),
                                           "closes": datetime(2030, 1, 1, tzinfo=UTC)})
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "residents").token
    service = Service(engine)
    r = Rater(service, 940)
    r.start(token)
    assert "请勾选您了解的对象" in r.screen.text  # the chat offers the pick list first
    view = app(service, 940).view
    assert view["preselect"] and view["all"] == 24 and (view["done"], view["total"]) == (0, 0)
    assert [c["label"] for c in view["categories"]] == ["窗口服务单位", "政府部门", "法检机关", "公用事业单位"]
    dims = [d.key for d in campaign.dimensions]
    reply = app(service, 940, "save", picks={"tax-hall": True, "court": True, "gas": True},
                answers={"tax-hall": dict.fromkeys(dims, "satisfied"), "court": dict.fromkeys(dims, "basically")})
    assert (reply.view["done"], reply.view["total"]) == (2, 3)
    reply = app(service, 940, "submit", picks={"gas": False})
    assert reply.status == "submitted"
    chain_pending(engine, campaign.id)
    with session_scope(engine) as s:
        given = list(s.exec(select(Answer)))
    assert len(given) == 24 * 6
    rated = {a.evaluee_key for a in given if a.option_key is not None}
    assert rated == {"tax-hall", "court"}  # the other 22 are 不了解 on every aspect


def test_two_submits_at_once_make_one_ballot(engine, setup):
    service, _, token = setup
    Rater(service, 950).start(token)
    full = {"transport": {"style": "satisfied", "efficiency": "satisfied"},
            "water": {"style": "fairly", "efficiency": "fairly"}}
    app(service, 950, "save", answers=full)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def submit() -> None:
        barrier.wait()
        try:
            results.append(Service(engine).handle(request(950, "submit")).status)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sealed(engine) == 1
    assert sorted(results) == ["done", "submitted"] and errors == []
