"""Enrolment, consent, the draw's gate, invitations and reminders, through the service
on a real database (SQLite and PostgreSQL): what a person sees and what an organizer gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.jobs import reminders
from bot.service import Service
from flows.campaign import Campaign
from storage import campaigns, draw, links, outbox
from storage.db import session_scope
from storage.models import Ballot, Link, Membership, Outbox
from storage.status import group_progress
from tests.chat_user import ChatUser
from tests.factories import campaign_data, chain_pending

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


Person = ChatUser


@pytest.fixture
def setup(engine):
    campaign = Campaign.model_validate(campaign_data(schedule={"reminders_after_hours": [24, 72]}))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        tokens = {g: links.group_link(s, campaign.id, g).token for g in ("recipients", "public")}
    return Service(engine, clock=lambda: NOW), campaign, tokens


def _members(engine) -> list[Membership]:
    with session_scope(engine) as s:
        return list(s.exec(select(Membership).order_by(Membership.id)))


def _outbox(engine, kind: str) -> list[Outbox]:
    with session_scope(engine) as s:
        return list(s.exec(select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id)))


def test_consent_comes_first_and_explains_anonymity(engine, setup):
    service, _, tokens = setup
    p = Person(service, 601)
    p.start(tokens["public"])
    assert "匿名" in p.texts() and "同意参加" in [b.label for b in p.screen.all_buttons()]
    assert "交通局" not in p.texts()  # no question before consent
    p.tap("English")  # the consent screen in the other language
    assert "Do you agree" in p.texts()
    p.tap("I agree")
    assert "Transport Bureau" in p.screen.text  # open group: the questionnaire at once
    assert _members(engine)[0].consented


def test_declining_leaves_nothing_behind(engine, setup):
    service, _, tokens = setup
    p = Person(service, 602)
    p.start(tokens["public"])
    p.tap("不同意")
    assert "没有加入" in p.texts()
    assert _members(engine) == []
    p.start(tokens["recipients"])  # free to join another group later
    assert "服务对象" in p.texts()


def test_sampled_group_waits_for_the_draw_and_only_the_drawn_answer(engine, setup):
    service, campaign, tokens = setup
    people = [Person(service, 700 + i) for i in range(12)]
    for p in people:
        p.start(tokens["recipients"])
        p.tap("同意参加")
        assert "抽签" in p.texts() and "邀请" in p.texts()
    people[0].command("resume")
    assert "进入抽签名单" in people[0].texts()  # no questionnaire before the draw
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
    late = Person(service, 799)
    late.start(tokens["recipients"])
    late.tap("同意参加")
    assert "已经冻结" in late.texts()
    with session_scope(engine) as s:
        result = draw.reveal(s, campaign, NOW)
        assert len(result.drawn["recipients"]) == 10
        assert reminders.invite(s, campaign, NOW) == 10
    drawn = {m.person_id for m in _members(engine) if m.drawn_round == 1}
    invitations = _outbox(engine, "invitation")
    assert len(invitations) == 10 and all(o.buttons == [[["开始评议", "Cs"]]] for o in invitations)
    invited_chats = {o.chat_id for o in invitations}
    assert 799 not in invited_chats
    not_drawn = [p for p in people if p.chat_id not in invited_chats]
    assert len(not_drawn) == 2 and len(drawn) == 10
    not_drawn[0].command("resume")
    assert "未被抽中" in not_drawn[0].texts()
    assert not_drawn[0].tap_data("Cs").messages[0].text.count("未被抽中") == 1
    winner = next(p for p in people if p.chat_id in invited_chats)
    winner.tap_data("Cs")  # the invitation's button
    assert "交通局" in winner.screen.text and "工作作风" in winner.screen.text


def test_used_code_is_refused_and_not_wasted_on_the_wrong_person(engine, setup):
    service, campaign, tokens = setup
    with session_scope(engine) as s:
        code, spare = (c.token for c in links.issue_codes(s, campaign.id, "code", 2, group_key="staff", unit="water"))
    a, b, c = Person(service, 801), Person(service, 802), Person(service, 803)
    a.start(code)
    a.tap("同意参加")
    b.start(code)
    assert "已经使用过" in b.texts()
    a.start(code)  # its holder re-opening it is not refused
    assert "已经使用过" not in a.texts()
    c.start(tokens["public"])
    c.start(spare)  # enrolled elsewhere: refused, and the code stays unused
    assert "不能再加入" in c.texts()
    with session_scope(engine) as s:
        assert s.get(Link, spare).used_at is None
        staff = s.exec(select(Membership).where(Membership.group_key == "staff")).one()
        assert staff.unit == "water"  # bound to the unit of the code


def test_codes_only_group_refuses_its_reusable_link(engine, setup):
    service, campaign, _ = setup
    with session_scope(engine) as s:
        token = links.group_link(s, campaign.id, "staff", "water").token
    p = Person(service, 804)
    p.start(token)
    assert "邀请码" in p.texts() and _members(engine) == []


def test_tampered_link_closed_campaign_and_second_group(engine, setup):
    service, campaign, tokens = setup
    p = Person(service, 805)
    p.start(tokens["public"][:-1] + ("A" if tokens["public"][-1] != "A" else "B"))
    assert "链接无效" in p.texts()
    p.start("x" * 300)
    assert "链接无效" in p.texts()
    late = Person(Service(engine, clock=lambda: datetime(2031, 1, 1, tzinfo=UTC)), 806)
    late.start(tokens["public"])
    assert "已结束" in late.texts() and _members(engine) == []
    p.start(tokens["public"])
    p.tap("同意参加")
    p.start(tokens["recipients"])
    assert "社会群众" in p.texts() and "不能再加入" in p.texts()


def test_enrolment_is_open_before_the_campaign_opens(engine, setup):
    service, campaign, tokens = setup
    early = Service(engine, clock=lambda: campaign.opens - timedelta(days=3))
    p = Person(early, 807)
    p.start(tokens["public"])
    p.tap("同意参加")
    assert "将于" in p.texts()  # enrolled, and told when it opens
    assert _members(engine)[0].consented


def test_after_service_link_rates_one_evaluee_without_a_draw(engine, setup):
    service, campaign, _ = setup
    with session_scope(engine) as s:
        token = Link(token="svc-water-token", campaign_id=campaign.id, kind="service", group_key="recipients",
                     evaluee_key="water")
        s.add(token)
    p = Person(service, 808)
    p.start("svc-water-token")
    assert "水利局" in p.texts()
    p.tap("同意参加")
    assert "水利局" in p.screen.text
    assert "您将对 1 个对象进行评议" in p.texts()  # the welcome counts the one evaluee
    for label in ("满意", "满意", "跳过"):
        p.tap(label)
    assert "提交" in [b.label for b in p.screen.all_buttons()]  # one evaluee only: straight to the review
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
        assert draw.pools(s, campaign.id) == {}  # not in the pool


def _enrol_and_draw(engine, service, campaign, tokens, n: int) -> list[Person]:
    people = [Person(service, 900 + i) for i in range(n)]
    for p in people:
        p.start(tokens["recipients"])
        p.tap("同意参加")
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
        draw.reveal(s, campaign, NOW)
        reminders.invite(s, campaign, NOW)
    return people


def _answer_all(p: Person) -> None:
    p.tap_data("Cs")
    for label in ("满意", "不了解", "跳过", "满意", "满意", "跳过", "提交", "确认提交"):
        p.tap(label)
    assert p.last.submitted


def test_reminders_once_each_and_none_after_submit_or_stop(engine, setup):
    service, campaign, tokens = setup
    people = _enrol_and_draw(engine, service, campaign, tokens, 4)
    _answer_all(people[0])
    people[1].command("stop")
    with session_scope(engine) as s:
        assert reminders.remind(s, campaign, NOW + timedelta(hours=23)) == 0
        assert reminders.remind(s, campaign, NOW + timedelta(hours=25)) == 2
        assert reminders.remind(s, campaign, NOW + timedelta(hours=30)) == 0  # once each
    _answer_all(people[2])
    with session_scope(engine) as s:
        assert reminders.remind(s, campaign, NOW + timedelta(hours=73)) == 1
        assert reminders.remind(s, campaign, NOW + timedelta(hours=200)) == 0
    sent = [o.chat_id for o in _outbox(engine, "reminder")]
    assert sorted(sent) == [902, 903, 903]
    # and nothing after the campaign closed
    assert reminders.reminders_job(engine, datetime(2031, 1, 1, tzinfo=UTC)) == 0


def test_stop_drops_a_waiting_invitation_and_blocks_new_ones(engine, setup):
    service, campaign, tokens = setup
    people = _enrol_and_draw(engine, service, campaign, tokens, 3)
    with session_scope(engine) as s:  # the same person's message about another campaign stays
        other = outbox.enqueue(s, 900, "invitation", "另一次评议", campaign_id="other-2026").id
    people[0].command("stop")
    assert "退出" in people[0].texts()
    statuses = {o.id if o.id == other else o.chat_id: o.status for o in _outbox(engine, "invitation")}
    assert statuses[900] == "failed" and statuses[901] == "pending"
    assert statuses[other] == "pending"
    with session_scope(engine) as s:
        assert reminders.remind(s, campaign, NOW + timedelta(days=5)) == 2
    assert 900 not in [o.chat_id for o in _outbox(engine, "reminder")]


def test_invite_is_idempotent_and_skips_unreachable(engine, setup):
    service, campaign, tokens = setup
    people = _enrol_and_draw(engine, service, campaign, tokens, 3)
    service.mark_unreachable(people[0].chat_id)
    with session_scope(engine) as s:
        assert reminders.invite(s, campaign, NOW) == 0  # everyone was invited already
        assert reminders.remind(s, campaign, NOW + timedelta(days=1)) == 2  # not to the unreachable
    assert len(_outbox(engine, "invitation")) == 3


def test_invite_on_open_job(engine):
    campaign = Campaign.model_validate(campaign_data(schedule={"invite_on_open": True}))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    early = campaign.opens - timedelta(days=2)
    service = Service(engine, clock=lambda: early)
    for i in range(3):
        p = Person(service, 950 + i)
        p.start(token)
        p.tap("同意参加")
    with session_scope(engine) as s:
        draw.commit(s, campaign, early)
        draw.reveal(s, campaign, early)
    assert reminders.invite_on_open_job(engine, early) == 0  # not open yet
    assert reminders.invite_on_open_job(engine, NOW) == 3
    assert reminders.invite_on_open_job(engine, NOW) == 0


def test_status_figures(engine, setup):
    service, campaign, tokens = setup
    people = _enrol_and_draw(engine, service, campaign, tokens, 6)
    _answer_all(people[0])
    people[1].tap_data("Cs")
    people[1].tap("满意")  # a partial
    people[2].command("stop")
    service.mark_unreachable(people[3].chat_id)
    with session_scope(engine) as s:
        rec = next(p for p in group_progress(s, campaign) if p.group == "recipients")
    assert (rec.pool, rec.drawn, rec.invited, rec.submitted, rec.started, rec.opted_out, rec.unreachable) == \
        (6, 6, 6, 1, 1, 1, 1)
    assert rec.rr1 == pytest.approx(1 / 6) and rec.rr2 == pytest.approx(2 / 6)


def test_replacement_round_draws_the_next_in_order(engine, setup):
    service, campaign, tokens = setup
    people = [Person(service, 1000 + i) for i in range(14)]
    for p in people:
        p.start(tokens["recipients"])
        p.tap("同意参加")
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
        draw.reveal(s, campaign, NOW)
        reminders.invite(s, campaign, NOW)
    drawn_chats = {o.chat_id for o in _outbox(engine, "invitation")}
    for p in people:
        if p.chat_id in drawn_chats and len([x for x in people if x.last.submitted]) < 8:
            _answer_all(p)
    with session_scope(engine) as s:
        [(stratum, round_no, chosen)] = draw.replace(s, campaign, "recipients")
        assert (stratum, round_no, len(chosen)) == ("recipients", 2, 2)  # 10 drawn, 8 answered: 2 replacements
        with pytest.raises(draw.DrawError, match="not been invited"):
            draw.replace(s, campaign, "recipients")
        assert reminders.invite(s, campaign, NOW) == 2
        published = draw.drawn_file(s, campaign)
        pool = draw.pool_file(s, campaign)
    from flows import sampling
    assert sampling.verify(pool, published["seed"], pool["commitment"], published["drawn"]).ok
    assert [len(r) for r in published["drawn"]["recipients"]] == [10, 2]


def test_reminders_run_from_the_scheduler(engine, setup):
    from bot.scheduler import Scheduler

    service, campaign, tokens = setup
    _enrol_and_draw(engine, service, campaign, tokens, 2)
    later = NOW + timedelta(hours=25)
    ticks = Scheduler(engine, clock=lambda: later, jobs=reminders.JOBS, holder="a")
    assert ticks.tick()["reminders"] == 2
    assert Scheduler(engine, clock=lambda: later, jobs=reminders.JOBS, holder="a").tick()["reminders"] == 0
    assert sorted(o.chat_id for o in _outbox(engine, "reminder")) == [900, 901]


def test_declining_a_code_keeps_it_for_its_holder(engine, setup):
    service, campaign, _ = setup
    with session_scope(engine) as s:
        code = links.issue_codes(s, campaign.id, "code", 1, group_key="staff", unit="transport")[0].token
    p = Person(service, 611)
    p.start(code)
    p.tap("不同意")
    assert "没有加入" in p.texts()
    p.start(code)  # changed their mind: the code is still theirs
    assert "同意参加" in [b.label for b in p.screen.all_buttons()]
    p.tap("同意参加")
    [member] = _members(engine)
    assert member.consented and member.status == "enrolled" and member.unit == "transport"  # in the pool
    assert "已经使用过" in Person(service, 612).start(code).messages[0].text  # nobody else


def test_declining_after_stop_in_a_frozen_pool_keeps_the_pool(engine, setup):
    service, campaign, tokens = setup
    p = Person(service, 613)
    p.start(tokens["recipients"])
    p.tap("同意参加")
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
    p.command("stop")
    p.start(tokens["recipients"])  # reopened: consent is asked again
    p.tap("不同意")
    assert "没有加入" in p.texts()
    [member] = _members(engine)
    assert member.status == "opted_out" and not member.consented
    with session_scope(engine) as s:
        assert len(draw.pools(s, campaign.id)["recipients"]) == 1  # the published pool is unchanged


def test_stop_after_submit_opts_out_and_keeps_the_ballot(engine, setup):
    service, campaign, tokens = setup
    [p] = _enrol_and_draw(engine, service, campaign, tokens, 1)
    _answer_all(p)
    p.command("stop")
    assert "退出" in p.texts()
    [member] = _members(engine)
    assert member.status == "opted_out" and member.submitted
    chain_pending(engine)
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == 1
