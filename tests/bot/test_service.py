"""The conversation service end to end on a real database (SQLite and PostgreSQL),
without Telegram: what a rater sees for each thing they do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.service import Incoming, Service
from flows.campaign import Campaign
from storage import campaigns, conversations, links, people
from storage.db import session_scope
from storage.models import Answer, Ballot, Conversation, Membership, Opinion, Person

from tests.chat_user import ChatUser
from tests.factories import campaign_data, chain_pending

pytestmark = pytest.mark.postgres


class Rater(ChatUser):
    """A rater: the consent screen that comes first on enrolment is agreed to at once."""

    def start(self, payload: str = ""):
        reply = super().start(payload)
        if self.screen is not None and "同意参加" in [b.label for b in self.screen.all_buttons()]:
            reply = self.tap("同意参加")
        return reply


def open_recipients() -> dict:
    """The test campaign with the recipients group open to all (no draw): the service
    core is tested here, the draw in tests/bot/test_enrolment.py."""
    data = campaign_data()
    for g in data["rater_groups"]:
        if g["key"] == "recipients":
            g.pop("sample", None)
            g["open"] = True
    return data


@pytest.fixture
def setup(engine):
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
        public = links.group_link(s, campaign.id, "public").token
    return Service(engine), campaign, token, public


def _answer_all(r: Rater, opinion: str | None = None) -> None:
    for _ in range(2):  # two evaluees, two dimensions each
        r.tap("满意")
        r.tap("不了解")
        if opinion:
            r.text(opinion)
        else:
            r.tap("跳过")


def test_enrol_answer_go_back_and_submit(engine, setup):
    service, campaign, token, _ = setup
    r = Rater(service, 501)
    reply = r.start(token)
    assert "欢迎参加" in r.texts() and "匿名" in r.texts()
    assert "交通局" in reply.messages[-1].text
    r.tap("比较满意")
    r.tap("← 上一题")
    r.tap("满意")  # changed the first answer
    r.tap("不满意")
    r.text("窗口排队时间太长")
    r.tap("基本满意")
    r.tap("满意")
    r.tap("跳过")
    assert "提交" in [b.label for b in r.screen.all_buttons()]
    r.tap("提交")
    reply = r.tap("确认提交")
    assert reply.submitted
    chain_pending(engine)
    with session_scope(engine) as s:
        ballot = s.exec(select(Ballot)).one()
        answers = {(a.evaluee_key, a.dimension_key): a.option_key for a in s.exec(select(Answer))}
        assert ballot.group_key == "recipients"
        assert answers == {("transport", "style"): "satisfied", ("transport", "efficiency"): "dissatisfied",
                           ("water", "style"): "basically", ("water", "efficiency"): "satisfied"}
        assert [o.text for o in s.exec(select(Opinion))] == ["窗口排队时间太长"]
    r.start(token)
    assert "已经提交" in r.texts()
    r.start()
    assert "已经提交" in r.texts()


def test_redelivered_update_has_no_second_effect(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 502)
    r.start(token)
    action = next(b.action for b in r.screen.all_buttons() if b.label == "满意")
    first = service.handle(Incoming(502, "tap", 90_001, data=action))
    again = service.handle(Incoming(502, "tap", 90_001, data=action))
    assert first.messages and not again.messages and again.duplicate


def test_stale_and_forged_taps_change_nothing(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 503)
    r.start(token)
    old = next(b.action for b in r.screen.all_buttons() if b.label == "满意")
    r.tap("满意")
    before = r.screen.text
    for data in (old, "zz-not-ours", "a9.9.9.9", ""):
        reply = r.tap_data(data)
        assert reply.toast and "过期" in reply.toast and not reply.messages
    r.tap("满意")  # the real current question still works
    assert r.screen.text != before


def test_unknown_link_and_no_campaign(engine, setup):
    service, *_ = setup
    r = Rater(service, 504)
    r.start("forged-token-123")
    assert "链接无效" in r.texts()
    r.text("你好")
    assert "还没有参加" in r.texts()
    reply = r.tap_data("a1.0.0.0")
    assert reply.toast and not reply.messages


def test_one_group_per_campaign(engine, setup):
    service, _, token, public = setup
    r = Rater(service, 505)
    r.start(token)
    r.start(public)
    assert "服务对象" in r.texts() and "不能再加入" in r.texts()
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Membership)).one() == 1


def test_sticker_mid_questionnaire_gets_a_hint_and_the_card_again(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 506)
    r.start(token)
    r.tap("满意")
    reply = r._send(kind="media")
    assert "按钮" in reply.messages[0].text
    assert "交通局" in r.screen.text  # same place
    r.tap("比较满意")
    assert "意见" in r.screen.text


def test_too_long_opinion_is_refused_and_nothing_is_lost(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 507)
    r.start(token)
    r.tap("满意")
    r.tap("满意")
    r.text("长" * 5000)
    assert "5000" in r.texts() and "1000" in r.texts()
    r.text("简短的意见")
    r.tap("不了解")
    r.tap("不了解")
    r.tap("跳过")
    r.tap("提交")
    r.tap("确认提交")
    chain_pending(engine)
    with session_scope(engine) as s:
        assert [o.text for o in s.exec(select(Opinion))] == ["简短的意见"]


def test_html_in_an_opinion_is_escaped_when_echoed(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 508)
    r.start(token)
    r.tap("满意")
    r.tap("满意")
    r.text("<b>bold</b> & <script>")
    shown = "\n".join(m.text for m in r.last.messages)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in shown  # the finished card shows the opinion
    assert "<script>" not in shown and "<b>bold" not in shown


def test_pause_and_resume_where_left_off(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 509)
    r.start(token)
    r.tap("满意")
    r.command("cancel")
    assert "/resume" in r.texts()
    r.command("resume")
    assert "工作效能" in r.screen.text and "交通局" in r.screen.text


def test_stop_opts_out(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 510)
    r.start(token)
    r.command("stop")
    assert "退出" in r.texts()
    r.text("hello")
    assert "还没有参加" in r.texts()
    with session_scope(engine) as s:
        assert s.exec(select(Membership)).one().status == "opted_out"


def test_language_switch(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 511)
    r.start(token)
    r.command("lang")
    r.tap("English")
    assert "Transport Bureau" in r.screen.text
    assert "Satisfied" in [b.label for b in r.screen.all_buttons()]


def test_closed_and_upcoming_campaigns_refuse_answers(engine, setup):
    service, campaign, token, _ = setup
    later = Service(engine, clock=lambda: datetime(2031, 1, 1, tzinfo=UTC))
    r = Rater(later, 512)
    r.start(token)
    assert "已结束" in r.texts()
    earlier = Service(engine, clock=lambda: campaign.opens - timedelta(days=1))
    r = Rater(earlier, 513)
    r.start(token)
    assert "将于" in r.texts()
    with session_scope(engine) as s:
        # (enrolling ahead of the opening is allowed; answering is not)
        assert s.exec(select(func.count()).select_from(Conversation)).one() == 0
        assert s.exec(select(func.count()).select_from(Ballot)).one() == 0


def test_a_tap_after_the_campaign_closed_is_refused_and_keeps_the_draft(engine, setup):
    service, campaign, token, _ = setup
    r = Rater(service, 520)
    r.start(token)
    r.tap("满意")
    with session_scope(engine) as s:
        campaigns.close(s, campaign.id)
    reply = r.tap("满意")
    assert reply.toast and "已结束" in reply.toast and not reply.messages
    with session_scope(engine) as s:
        conv = s.exec(select(Conversation)).one()
        assert conv.state["answers"] == {"transport": {"style": "satisfied"}}


def test_a_tap_from_someone_marked_unreachable_counts_and_makes_them_reachable(engine, setup):
    service, _, token, _ = setup
    r = Rater(service, 521)
    r.start(token)
    service.mark_unreachable(521)
    before = r.screen.text
    r.tap("满意")
    assert r.screen.text != before  # the next question
    with session_scope(engine) as s:
        assert people.find_person(s, 521).status == "active"


def test_card_ids_noted_since_the_last_step_are_stored_at_shutdown(engine):
    """What a restarted bot edits in place: every card id the adapters noted, for any
    number of raters, stored by one flush (a chat without a questionnaire is skipped)."""
    campaign = Campaign.model_validate(campaign_data())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "public").token
    svc = Service(engine)
    raters = [ChatUser(svc, 7100 + i) for i in range(3)]
    for r in raters:
        r.start(token)
        if r.screen is not None and "同意参加" in [b.label for b in r.screen.all_buttons()]:
            r.tap("同意参加")
    for i, r in enumerate(raters):
        svc.remember_cards(r.chat_id, campaign.id, {"q0": 500 + i, "q1": 600 + i})
    svc.remember_cards(7999, campaign.id, {"q0": 1})  # never wrote to the bot
    assert svc.flush_cards() == 4
    with session_scope(engine) as s:
        for i, r in enumerate(raters):
            person = s.exec(select(Person).where(Person.chat_id == r.chat_id)).one()
            conv = conversations.load(s, person.id, campaign.id, "questionnaire")
            assert conv.cards["q0"] == 500 + i and conv.cards["q1"] == 600 + i
    assert svc.flush_cards() == 0  # nothing noted twice
