"""Evaluee feedback and rectification through the service and the jobs, on a real
database (SQLite and PostgreSQL): what contacts, raters, strangers and organizers see,
and what is queued in the outbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from bot.app import audience, notice
from bot.jobs.rectification import rectification_followup, rectification_reminders
from bot.service import Service
from flows.scrub import PLACEHOLDER_ZH
from storage import rectification as rs
from storage.db import session_scope
from storage.models import Outbox
from tests.chat_user import ChatUser
from tests.feedback_setup import (
    CLOSED_AT, ORGANIZER, RECIPIENTS, STAFF, closed_campaign, evaluee_code, make_campaign,
)

pytestmark = pytest.mark.postgres

CONTACT = 8001


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sent_to(engine, chat_id, kind=None) -> list[Outbox]:
    with session_scope(engine) as s:
        stmt = select(Outbox).where(Outbox.chat_id == chat_id).order_by(Outbox.id)
        if kind:
            stmt = stmt.where(Outbox.kind == kind)
        return list(s.exec(stmt))


@pytest.fixture
def world(engine):
    campaign = closed_campaign(engine)
    clock = Clock(CLOSED_AT + timedelta(hours=1))
    return campaign, Service(engine, clock=clock), clock


def bind(engine, svc, campaign, chat_id=CONTACT, key="transport"):
    c = ChatUser(svc, chat_id)
    c.start(evaluee_code(engine, campaign, key))
    return c


def publish(engine, campaign, now):
    with session_scope(engine) as s:
        return notice.publish(s, campaign, now)


# --- binding ---------------------------------------------------------------------------------------
def test_binding_with_a_single_use_code(engine, world):
    campaign, svc, _ = world
    code = evaluee_code(engine, campaign, "transport")
    a = ChatUser(svc, CONTACT)
    a.start(code)
    assert "交通局" in a.texts() and "联系人" in a.texts()
    a.start(code)
    assert "已经是「交通局」的联系人" in a.texts()
    b = ChatUser(svc, 8002)
    b.start(code)
    assert "已被使用" in b.texts()
    a.start(evaluee_code(engine, campaign, "water"))
    assert "不能再登记为其他对象" in a.texts()
    with session_scope(engine) as s:
        assert [p.chat_id for p in rs.contacts(s, campaign.id, "transport")] == [CONTACT]
        assert rs.contacts(s, campaign.id, "water") == []


def test_several_contacts_and_unbinding(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign, 8001)
    bind(engine, svc, campaign, 8002)
    with session_scope(engine) as s:
        assert rs.unbind(s, campaign.id, "transport", 8001, clock())
        assert not rs.unbind(s, campaign.id, "transport", 8001, clock())
        assert [p.chat_id for p in rs.contacts(s, campaign.id, "transport")] == [8002]
    gone = ChatUser(svc, 8001)
    gone.command("notice")
    assert "此功能仅对被评议对象的联系人开放" in gone.texts()


# --- publishing ------------------------------------------------------------------------------------
def test_publish_refused_before_close(engine):
    campaign = make_campaign()
    from storage import campaigns

    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
    with session_scope(engine) as s, pytest.raises(notice.NotClosed, match="minping close"):
        notice.publish(s, campaign, CLOSED_AT)


def test_publish_sends_the_notice_once_scrubbed_numbered_escaped(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign)
    out = publish(engine, campaign, clock())
    assert (out.evaluees, out.items, out.dropped) == (2, 3, 1)  # 4 opinions on transport, one all personal data
    rows = sent_to(engine, CONTACT, "feedback")
    text = "\n".join(r.text for r in rows)
    assert "整改通知书" in text and "交通局" in text
    assert "在「政府部门」2 个对象中排第" in text
    assert "13812345678" not in text and "王小明" not in text and PLACEHOLDER_ZH in text
    assert "希望&lt;b&gt;简化&lt;/b&gt;流程 &amp; 公开办事指南" in text
    assert "内部审批环节太多" in text  # the staff member's opinion is returned, with no group named
    numbers = re.findall(r"^(\d+)\. ", text, re.M)
    assert numbers == ["1", "2", "3"]
    assert "2027-02-09" in text  # 30 days after publication, in the campaign's time zone
    assert rows[-1].buttons and rows[-1].buttons[0][0][0] == "制定整改方案"
    assert all(len(r.text) <= 4096 for r in rows)
    # Publishing again sends nothing twice; a contact bound later gets it.
    assert publish(engine, campaign, clock()).messages == 0
    late = bind(engine, svc, campaign, 8003)
    assert "随后发送" in late.texts()
    assert len(sent_to(engine, 8003, "feedback")) == len(rows)


def test_an_opinion_from_a_group_too_small_to_hide_in_is_scrubbed_strictly(engine, monkeypatch):
    """The only staff ballot for transport said who wrote it; the contact must not learn it
    (issue 13). A service recipient (a group of 3) saying where they live keeps it."""
    import tests.feedback_setup as setup

    monkeypatch.setattr(setup, "STAFF_OPINION", "我是办公室的李四，内部审批环节太多，我在财务科干了十二年")
    monkeypatch.setitem(setup.OPINIONS, 7002, "我是附近的商户，排队太久")
    campaign = closed_campaign(engine)
    clock = Clock(CLOSED_AT + timedelta(hours=1))
    svc = Service(engine, clock=clock)
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    text = "\n".join(r.text for r in sent_to(engine, CONTACT, "feedback"))
    assert "李四" not in text and "办公室" not in text and "财务科" not in text
    assert f"我是{PLACEHOLDER_ZH}，内部审批环节太多，我在{PLACEHOLDER_ZH}" in text
    assert "我是附近的商户，排队太久" in text


def test_the_water_contact_sees_only_water(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign, 8005, "water")
    publish(engine, campaign, clock())
    text = "\n".join(r.text for r in sent_to(engine, 8005))
    assert "水利局" in text and "交通局" not in text
    assert "没有收到针对您的意见建议" in text
    c = ChatUser(svc, 8005)
    c.command("notice")
    assert "水利局" in c.texts() and "交通局" not in c.texts()


def test_long_notices_split_under_the_telegram_limit(engine):
    from reports import tally
    from reports.notice import notice_messages

    campaign = closed_campaign(engine, make_campaign())
    with session_scope(engine) as s:
        result = tally.stored(s, campaign.id)
    # 40 opinions of 360 characters, each growing on escaping
    items = [(i, ("<意见>&" * 120)) for i in range(1, 41)]
    msgs = notice_messages(campaign, result.evaluees["transport"], result.evaluees, items,
                           CLOSED_AT.date(), "zh", "Rm1.")
    assert len(msgs) > 5 and all(len(m.text) <= 4096 for m in msgs)
    assert sum(m.text.count("&lt;意见&gt;&amp;") for m in msgs) == 40 * 120
    assert [bool(m.buttons) for m in msgs] == [False] * (len(msgs) - 1) + [True]


# --- anonymity ------------------------------------------------------------------------------------------
def test_a_group_below_min_group_size_is_in_no_figure(engine, world):
    """staff has 1 ballot for transport (min 2): no label, no count, and the pooled rates are the
    recipients' only, so nothing can be subtracted out."""
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    text = "\n".join(r.text for r in sent_to(engine, CONTACT))
    c.command("notice")
    shown = text + c.texts()
    assert "所在单位" not in shown  # the staff group's label
    assert "服务对象 " in shown and "（3 份）" in shown
    # recipients: satisfied, fairly, dissatisfied -> 2/3 on each dimension; with staff it would be 2/4.
    assert "工作作风：66.7%（有效 3" in shown
    assert "50.0%" not in shown and "（有效 4" not in shown
    # The category average pools visible groups only: (2 + 2) / 6 over both bureaus' recipients;
    # with the staff ballot it would be 4/7 = 57.1%, and transport minus it would give staff away.
    assert "同类 66.7%" in shown and "57.1%" not in shown
    assert "不足 2 份的层面不单列，也不计入以上任何数字" in shown


def test_no_message_to_an_evaluee_names_a_rater(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    c = ChatUser(svc, CONTACT)
    c.command("plan")
    texts = "\n".join(r.text for r in sent_to(engine, CONTACT)) + c.texts()
    for chat_id in (*RECIPIENTS, STAFF):
        assert str(chat_id) not in texts


def test_answers_and_items_carry_no_person():
    cols = {c.name for c in inspect(rs.FollowupAnswer).columns}
    assert cols == {"id", "round_id", "option_key"}
    assert {c.name for c in inspect(rs.NoticeItem).columns} == {"campaign_id", "evaluee_key", "number", "text"}


# --- who may use what -----------------------------------------------------------------------------------
def test_raters_and_strangers_get_not_available(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    rater, stranger = ChatUser(svc, RECIPIENTS[0]), ChatUser(svc, 9999, "en")
    for who in (rater, stranger):
        for cmd in ("notice", "plan", "rectification"):
            who.command(cmd)
            assert "仅对" in who.texts() or "not available" in who.texts()
            assert "交通局" not in who.texts() and "Transport" not in who.texts()
    with session_scope(engine) as s:
        rnd = rs.current_round(s, campaign.id, "transport")
    stranger.tap_data(f"Rn{rnd.id}.1")
    assert "not available" in stranger.texts()
    with session_scope(engine) as s:
        assert rs.plans(s, rnd.id) == []


def test_organizer_board_in_chat(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    org = ChatUser(svc, ORGANIZER)
    org.command("rectification")
    assert "整改台账" in org.texts() and "交通局：第 1 轮，截止 2027-02-09；意见 3 项，已安排 0，已完成 0，逾期 0" in org.texts()
    assert "水利局" in org.texts() and "尚无联系人" in org.texts()


# --- filing a plan --------------------------------------------------------------------------------------
def test_file_plans_progress_and_done_in_chat(engine, world):
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    c.command("plan")
    assert "尚未安排：第 1-3 项" in c.texts()
    c.tap("为第 1 项制定方案")
    c.text("增设周末窗口")
    c.text("行政审批科")
    c.text("昨天")  # nonsense
    assert "没看懂这个日期" in c.texts()
    c.text("2027-01-09")
    assert "已经过去了" in c.texts()
    c.text("2027-01-20")
    assert "已保存方案1" in c.texts()
    c.tap("其余各项一并制定")
    c.text("公开办事指南并精简环节")
    c.text("办公室")
    c.text("2027年2月1日")
    assert "每一项意见都已有整改方案" in c.texts()
    c.tap("报告进展")
    c.tap("方案1")
    c.text("周末窗口已开放")
    c.tap("标记完成")
    c.tap("方案1")
    assert "✅ 已完成" in c.texts()
    with session_scope(engine) as s:
        rnd = rs.current_round(s, campaign.id, "transport")
        plans = rs.plans(s, rnd.id)
    assert [(p.items, p.status, p.progress) for p in plans] == [
        ([1], "done", "周末窗口已开放"), ([2, 3], "planned", None)]
    # Free text outside a plan step is not claimed (it goes to the questionnaire / help).
    c.text("你好")
    assert "整改" not in c.texts()


# --- reminders, overdue, follow-up, further round ------------------------------------------------------------
def _file(c: ChatUser, measure: str, deadline: str, label: str):
    c.command("plan")
    c.tap(label)
    c.text(measure)
    c.text("责任科室")
    c.text(deadline)


def test_reminders_overdue_escalation_followup_and_second_round(engine, world):
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "措施一", "2027-01-20", "为第 1 项制定方案")
    _file(c, "措施二", "2027-02-05", "其余各项一并制定")
    # Two days before plan 1's deadline: a reminder, once.
    now = datetime(2027, 1, 18, 1, 0, tzinfo=UTC)
    assert rectification_reminders(engine, now) == 1
    assert rectification_reminders(engine, now) == 0
    assert "将于 2027-01-20 到期" in sent_to(engine, CONTACT, "reminder")[-1].text
    # The day after: overdue to the contact, escalated to the organizer, once each.
    now = datetime(2027, 1, 20, 16, 1, tzinfo=UTC)  # 00:01 on the 21st in Shanghai
    assert rectification_reminders(engine, now) == 2
    assert rectification_reminders(engine, now + timedelta(hours=1)) == 0
    assert "已于 2027-01-20 到期仍未完成" in sent_to(engine, CONTACT, "reminder")[-1].text
    esc = sent_to(engine, ORGANIZER, "notice")[-1].text
    assert "整改逾期" in esc and "交通局" in esc and "措施一" in esc
    with session_scope(engine) as s:
        from reports.rectification import overdue_items

        assert [(o.evaluee, o.items) for o in overdue_items(s, campaign, now)] == [("transport", (1,))]
    # Before the round's deadline nothing is asked.
    assert rectification_followup(engine, now) == 0
    # After 2027-02-09 ends: the follow-up survey goes to the 3 recipients and the staff member.
    end = datetime(2027, 2, 9, 16, 0, tzinfo=UTC)
    rectification_followup(engine, end)
    asked = {chat: sent_to(engine, chat, "notice") for chat in (*RECIPIENTS, STAFF)}
    # (water had no opinions, so nothing to rectify and nobody is asked about it)
    assert all(len(v) == 1 and "交通局" in v[0].text and "您对其整改情况满意吗" in v[0].text for v in asked.values())
    assert sent_to(engine, CONTACT, "notice") == []  # the contact is not a rater
    answers = {RECIPIENTS[0]: "满意", RECIPIENTS[1]: "不满意", RECIPIENTS[2]: "基本满意", STAFF: "不了解"}
    for chat, label in answers.items():
        rater = ChatUser(svc, chat)
        row = asked[chat][0]
        data = next(a for row_ in row.buttons for lab, a in row_ if lab == label)
        rater.tap_data(data)
        assert "感谢" in rater.texts()
        rater.tap_data(data)
        assert "已经回答过了" in rater.texts()
    ChatUser(svc, 9999).tap_data(next(a for r_ in asked[STAFF][0].buttons for _, a in r_))
    # Everyone answered: the next tick closes the survey, reports 1/3 and opens round 2.
    rectification_followup(engine, end + timedelta(minutes=1))
    with session_scope(engine) as s:
        rounds = rs.rounds(s, campaign.id, "transport")
        assert [(r.number, r.valid, r.satisfied) for r in rounds] == [(1, 3, 1), (2, None, None)]
        assert rounds[1].deadline.isoformat() == "2027-03-12"  # 30 days from the 10th (Shanghai)
    report = sent_to(engine, CONTACT, "feedback")[-1]
    assert "满意度 33.3%" in report.text and "第 2 轮整改" in report.text and report.buttons
    assert "满意度 33.3%" in sent_to(engine, ORGANIZER, "notice")[-1].text
    org = ChatUser(svc, ORGANIZER)
    org.command("rectification")
    assert "第 1 轮整改满意度 33.3%（有效 3）" in org.texts() and "第 2 轮" in org.texts()
    # Round 2 is the last (max_rounds 2): below the threshold again, no round 3.
    c.command("plan")
    assert "第 2 轮" in c.texts() and "尚未安排：第 1-3 项" in c.texts()
    end2 = datetime(2027, 3, 12, 16, 0, tzinfo=UTC)
    rectification_followup(engine, end2)
    for chat in RECIPIENTS:
        rnd2 = [r for r in sent_to(engine, chat, "notice") if "第 2 轮" in r.text][0]
        ChatUser(svc, chat).tap_data(next(a for r_ in rnd2.buttons for lab, a in r_ if lab == "不满意"))
    rectification_followup(engine, end2 + timedelta(days=6))  # the staff member has not answered: still open
    with session_scope(engine) as s:
        assert rs.current_round(s, campaign.id, "transport").survey_closed_at is None
    rectification_followup(engine, end2 + timedelta(days=7))  # the window closes
    with session_scope(engine) as s:
        assert [r.number for r in rs.rounds(s, campaign.id, "transport")] == [1, 2]
    assert "最多 2 轮" in sent_to(engine, CONTACT, "feedback")[-1].text


# --- follow-up: anonymity, language, honest question ---------------------------------------------------
ROUND1_END = datetime(2027, 2, 9, 16, 0, tzinfo=UTC)  # round 1's deadline day has ended (Shanghai)


def _set_locale(engine, chat_id, locale):
    from storage import people

    with session_scope(engine) as s:
        p = people.get_or_create_person(s, chat_id)
        p.locale = locale
        s.add(p)


def _answer_all(engine, svc, answers: dict[int, str]):
    """Start the follow-up, give each answer by tapping the queued question, close it."""
    rectification_followup(engine, ROUND1_END)
    for chat, label in answers.items():
        q = [m for m in sent_to(engine, chat, "notice") if m.buttons][-1]
        ChatUser(svc, chat).tap_data(next(a for row in q.buttons for lab, a in row if lab == label))
    rectification_followup(engine, ROUND1_END + timedelta(days=7))


def test_contacts_see_no_followup_figure_from_too_few_answers(engine, world):
    campaign, svc, clock = world  # min_group_size is 2
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    # One valid answer only: a rate would tell the contact what that rater thinks.
    _answer_all(engine, svc, {RECIPIENTS[0]: "不满意", RECIPIENTS[1]: "不了解", RECIPIENTS[2]: "不了解",
                              STAFF: "不了解"})
    report = sent_to(engine, CONTACT, "feedback")[-1].text
    assert "有效回答太少" in report and "不显示满意度" in report
    assert "%" not in report and "有效回答 1" not in report and "低于" not in report
    # The further round is decided as before, and announced without the threshold.
    assert "请开展第 2 轮整改" in report
    with session_scope(engine) as s:
        assert [r.number for r in rs.rounds(s, campaign.id, "transport")] == [1, 2]
    # The organizers keep the figure.
    org = sent_to(engine, ORGANIZER, "notice")[-1].text
    assert "满意度 0.0%（有效回答 1，满意 0）" in org


def test_contacts_see_the_figure_from_enough_answers(engine, world):
    campaign, svc, clock = world
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _answer_all(engine, svc, {RECIPIENTS[0]: "满意", RECIPIENTS[1]: "满意", RECIPIENTS[2]: "不了解",
                              STAFF: "不了解"})
    report = sent_to(engine, CONTACT, "feedback")[-1].text
    assert "满意度 100.0%（有效回答 2，满意 2）" in report


def test_organizers_get_escalations_and_rates_in_their_own_language(engine, world):
    campaign, svc, clock = world
    _set_locale(engine, ORGANIZER, "en")
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "措施一", "2027-01-20", "为第 1 项制定方案")
    rectification_reminders(engine, datetime(2027, 1, 20, 16, 1, tzinfo=UTC))
    esc = sent_to(engine, ORGANIZER, "notice")[-1].text
    assert esc.startswith("Overdue rectification") and "整改逾期" not in esc
    _answer_all(engine, svc, {chat: "满意" for chat in RECIPIENTS} | {STAFF: "满意"})
    rate = sent_to(engine, ORGANIZER, "notice")[-1].text
    assert "satisfaction with" in rate and "100.0%" in rate
    with session_scope(engine) as s:  # a language the campaign does not speak: its default
        from storage import people

        people.find_person(s, ORGANIZER).locale = "fr"
        assert audience.locale_for(s, campaign, ORGANIZER) == "zh"
        assert audience.locale_for(s, campaign, 424242) == "zh"  # never wrote to the bot


def test_followup_question_is_honest_when_no_plan_was_filed(engine, world):
    campaign, svc, clock = world
    _set_locale(engine, RECIPIENTS[0], "en")
    bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    rectification_followup(engine, ROUND1_END)
    zh = sent_to(engine, RECIPIENTS[1], "notice")[-1].text
    assert "第 1 轮没有提交整改方案" in zh and "已完成" not in zh and "0 项" not in zh
    en = sent_to(engine, RECIPIENTS[0], "notice")[-1].text
    assert "filed no rectification plan for round 1" in en and "0 measures" not in en


def test_followup_measures_are_listed_in_the_rater_language(engine, world):
    campaign, svc, clock = world
    _set_locale(engine, RECIPIENTS[0], "en")
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "措施一", "2027-01-20", "为第 1 项制定方案")
    _file(c, "措施二", "2027-02-05", "其余各项一并制定")
    rectification_followup(engine, ROUND1_END)
    assert "Main measures: 措施一; 措施二" in sent_to(engine, RECIPIENTS[0], "notice")[-1].text
    assert "主要整改措施：措施一；措施二" in sent_to(engine, RECIPIENTS[1], "notice")[-1].text


# --- rectification for people (issue 13) -------------------------------------------------------------------
def test_praise_needs_no_plan_and_the_organizer_reads_every_plan(engine, world):
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "增设周末窗口", "2027-01-20", "为第 1 项制定方案")
    c.command("plan")
    c.tap("标记无需整改")
    c.text("2")
    c.tap("表扬、肯定")
    c.text("群众对窗口服务的肯定，继续保持")
    assert "已记录：第 2 项无需整改" in c.texts() and "另有 1 项经说明无需整改" in c.texts()
    org = ChatUser(svc, ORGANIZER)
    org.command("rectification")
    shown = org.texts()
    assert "已安排 1，已完成 0，逾期 0，无需整改 1" in shown
    assert "整改方案 · 交通局" in shown and "增设周末窗口" in shown and "责任人：责任科室" in shown
    assert "第 2 项：无需整改（表扬、肯定）。说明：群众对窗口服务的肯定，继续保持" in shown
    # A day after its deadline the plan is overdue, the praise item never is.
    now = datetime(2027, 1, 20, 16, 1, tzinfo=UTC)
    rectification_reminders(engine, now)
    with session_scope(engine) as s:
        from reports.rectification import overdue_items

        assert [o.items for o in overdue_items(s, campaign, now)] == [(1,)]


def test_the_followup_says_how_many_measures_are_not_done(engine, world):
    """Not "已完成第 1 轮整改" when measures are open: the question gives the facts."""
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "措施一", "2027-01-20", "为第 1 项制定方案")
    _file(c, "措施二", "2027-02-05", "为第 2 项制定方案")
    _file(c, "措施三", "2027-02-05", "为第 3 项制定方案")
    c.command("plan")
    c.tap("标记完成")
    c.tap("方案1")
    rectification_followup(engine, datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    question = sent_to(engine, RECIPIENTS[0], "notice")[0].text
    assert "已完成第" not in question
    assert "第 1 轮整改期限已到。整改措施 3 项，已完成 1 项，尚未完成 2 项。" in question


def test_round_two_shows_round_one_plans_to_the_contact(engine, world):
    campaign, svc, clock = world
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "增设周末窗口", "2027-02-05", "其余各项一并制定")
    end = datetime(2027, 2, 9, 16, 0, tzinfo=UTC)
    rectification_followup(engine, end)
    for chat in (*RECIPIENTS, STAFF):  # all dissatisfied: below the threshold, a second round opens
        row = sent_to(engine, chat, "notice")[0]
        ChatUser(svc, chat).tap_data(next(a for r in row.buttons for lab, a in r if lab == "不满意"))
    rectification_followup(engine, end + timedelta(hours=1))
    clock.now = end + timedelta(days=1)
    c.command("plan")
    shown = c.texts()
    assert "第 2 轮" in shown and "尚未安排：第 1-3 项" in shown
    assert "第 1 轮的整改方案（供对照）" in shown and "增设周末窗口" in shown
