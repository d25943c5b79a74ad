"""An evaluee's contact and the raters' follow-up answers as pure steps: binding with a
code, the notice, the plan (routed into the rectification flow), and the answers."""

from __future__ import annotations

from datetime import date

from flows import evaluee as ev
from flows import rectification as rf
from flows.codes import RedeemCode
from flows.messages import Message


def texts(step) -> list[str]:
    return [m.text for m in step.outcome.messages]


# --- binding -----------------------------------------------------------------------------------------
def code_ctx(campaign, current=None, used=False, published=False, locale="zh") -> ev.CodeCtx:
    return ev.CodeCtx(locale=locale, person_id=5, campaign=campaign, current=current, used=used, published=published)


def test_a_code_binds_the_contact_and_is_used_up(small_campaign):
    step = ev.step(code_ctx(small_campaign), None, ev.Code("tok", "water"))
    assert step.effects == (RedeemCode("tok"), ev.BindContact("test-campaign", "water", 5))
    assert texts(step) == ["您已登记为「测试评议」中「水利局」的联系人。评议结束并发布后，整改通知书将发送到这里。"]


def test_bound_after_publication_the_notice_follows_through_the_outbox(small_campaign):
    step = ev.step(code_ctx(small_campaign, published=True, locale="en"), None, ev.Code("tok", "water"))
    assert step.effects == (RedeemCode("tok"), ev.BindContact("test-campaign", "water", 5),
                            ev.EnqueueNotice("test-campaign", "water", 5))
    assert texts(step) == ["You are now the contact of “Water Bureau” in “Test review”. The rectification notice follows."]


def test_a_code_for_no_evaluee_of_the_campaign_is_a_bad_link(small_campaign):
    for key in ("nope", None):
        step = ev.step(code_ctx(small_campaign), None, ev.Code("tok", key))
        assert "这个链接无效或已过期" in texts(step)[0] and step.effects == ()


def test_a_contact_already_keeps_the_code_unused(small_campaign):
    same = ev.step(code_ctx(small_campaign, current="water"), None, ev.Code("tok", "water"))
    assert "您已经是「水利局」的联系人" in texts(same)[0] and same.effects == ()
    other = ev.step(code_ctx(small_campaign, current="transport"), None, ev.Code("tok", "water"))
    assert "您已经是本次评议中「交通局」的联系人，不能再登记为其他对象的联系人" in texts(other)[0]
    assert other.effects == ()


def test_a_used_code_binds_nothing(small_campaign):
    step = ev.step(code_ctx(small_campaign, used=True), None, ev.Code("tok", "water"))
    assert "这个联系人码已被使用" in texts(step)[0] and step.effects == ()


# --- notice and plan ----------------------------------------------------------------------------------
ROUND = rf.Ctx(round_id=7, round_number=1, evaluee_name="水利局", locale="zh", today=date(2027, 1, 10),
               round_deadline=date(2027, 2, 9), items=(1, 2))


def contact(**kw) -> ev.ContactCtx:
    return ev.ContactCtx(**{"locale": "zh", "contact": True, "title": "测试评议", **kw})


def test_strangers_get_not_available_as_a_message_or_on_a_tap_as_a_toast():
    stranger = ev.ContactCtx("zh", contact=False)
    for event in (ev.Notice(), ev.Plan()):
        step = ev.step(stranger, None, event)
        assert texts(step) == ["此功能仅对被评议对象的联系人开放。"] and step.state is None
    tap = ev.step(stranger, None, ev.PlanTap(rf.action("m", 7)))
    assert tap.outcome.toast == "此功能仅对被评议对象的联系人开放。" and tap.outcome.messages == []


def test_before_publication_notice_and_plan_say_not_published():
    for event in (ev.Notice(), ev.Plan()):
        assert texts(ev.step(contact(), None, event)) == ["「测试评议」的整改通知书尚未发布，发布后会发送给您。"]


def test_the_notice_is_the_one_read():
    notice = (Message("<b>通知书</b>"), Message("第 1 项"))
    assert ev.step(contact(notice=notice), None, ev.Notice()).outcome.messages == list(notice)


def test_plan_goes_to_the_rectification_flow_from_its_start_or_where_it_was():
    step = ev.step(contact(round=ROUND), None, ev.Plan())
    assert step.state == rf.start(7) and "尚未安排：第 1-2 项" in texts(step)[-1]
    waiting = rf.RState(round_id=7, step="owner", items=[1], measure="m")
    text = ev.step(contact(round=ROUND), waiting, ev.PlanText("王科长"))
    assert text.state.step == "deadline" and text.state.owner == "王科长"


def test_plan_taps_out_of_date_forged_or_of_an_earlier_round():
    forged = ev.step(contact(round=ROUND), None, ev.PlanTap("Rgarbage"))
    assert forged.outcome.toast == "此按钮已失效。" and forged.state is None
    earlier = ev.step(contact(round=ROUND), None, ev.PlanTap(rf.action("n", 6, 1)))  # shows the current plan
    assert earlier.state == rf.start(7) and not earlier.outcome.stale and "第 1 轮" in texts(earlier)[-1]
    current = ev.step(contact(round=ROUND), None, ev.PlanTap(rf.action("n", 7, 2)))
    assert current.state.step == "measure" and current.state.items == [2]
    stale = ev.step(contact(round=ROUND), None, ev.PlanTap(rf.action("d", 7, 99)))  # no such plan
    assert stale.outcome.stale and stale.outcome.toast == "此按钮已失效。" and stale.effects == ()


def test_long_free_text_is_cut_before_the_plan_reads_it():
    waiting = rf.RState(round_id=7, step="measure", items=[1])
    step = ev.step(contact(round=ROUND), waiting, ev.PlanText("x" * 6000))
    assert "共 5000 字" in texts(step)[0]


# --- follow-up answers -------------------------------------------------------------------------------
SCALE = ("satisfied", "fairly", "basically", "dissatisfied")


def answer_ctx(**kw) -> ev.AnswerCtx:
    return ev.AnswerCtx(**{"locale": "zh", "person_id": 5, "round_id": 3, "open": True, "scale": SCALE,
                           "asked": True, "answered": False, **kw})


def test_an_answer_is_recorded_and_thanked():
    step = ev.step(answer_ctx(), None, ev.Answer(rf.followup_action(3, 1)))
    assert step.effects == (ev.RecordFollowupAnswer(3, 5, "fairly"),)
    assert step.outcome.toast == "感谢您的评价！您的回答是匿名的。" and texts(step) == [step.outcome.toast]
    dont_know = ev.step(answer_ctx(), None, ev.Answer(rf.followup_action(3, None)))
    assert dont_know.effects == (ev.RecordFollowupAnswer(3, 5, None),)


def test_the_answer_effect_does_not_print_the_answer_next_to_the_person():
    assert "fairly" not in repr(ev.RecordFollowupAnswer(3, 5, "fairly"))


def test_answers_refused():
    cases = [
        (answer_ctx(round_id=None), rf.followup_action(3, 1), "此按钮已失效。"),  # no such round
        (answer_ctx(), "Fgarbage", "此按钮已失效。"),
        (answer_ctx(open=False), rf.followup_action(3, 1), "这次回访已经结束。"),
        (answer_ctx(), rf.followup_action(3, 4), "此按钮已失效。"),  # no such option
        (answer_ctx(asked=False), rf.followup_action(3, 1), "此按钮已失效。"),
        (answer_ctx(answered=True), rf.followup_action(3, 1), "您已经回答过了，谢谢。"),
    ]
    for c, data, toast in cases:
        step = ev.step(c, None, ev.Answer(data))
        assert step.outcome.toast == toast and step.effects == () and step.outcome.messages == [], data
