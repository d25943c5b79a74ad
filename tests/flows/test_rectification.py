"""The evaluee's plan-filing conversation, as pure steps: what the evaluee sees and
what gets stored for each thing they send."""

from __future__ import annotations

from datetime import date

import pytest

from flows import rectification as r

TODAY = date(2027, 1, 10)
DEADLINE = date(2027, 2, 9)


def ctx(plans=(), items=(1, 2, 3, 4), locale="zh", today=TODAY) -> r.Ctx:
    return r.Ctx(round_id=7, round_number=1, evaluee_name="交通局", locale=locale, today=today,
                 round_deadline=DEADLINE, items=tuple(items), plans=tuple(plans))


def button(msg, label):
    return next(b.action for b in msg.all_buttons() if b.label == label)


def test_menu_lists_unplanned_items_and_offers_the_next():
    res = r.step(ctx(), r.start(7), r.Show())
    m = res.outcome.messages[-1]
    assert "通知书共 4 项意见" in m.text and "尚未安排：第 1-4 项" in m.text
    assert [b.label for b in m.all_buttons()] == ["为第 1 项制定方案", "多项合并制定", "其余各项一并制定", "标记无需整改"]


def test_file_a_plan_for_one_item_measure_owner_deadline():
    c = ctx()
    st = r.start(7)
    res = r.step(c, st, r.Tap(r.action("n", 7, 1)))
    assert "第 1 项：请发送整改措施" in res.outcome.messages[0].text
    res = r.step(c, res.state, r.Text("增设周末窗口"))
    assert "责任人" in res.outcome.messages[0].text
    res = r.step(c, res.state, r.Text("行政审批科 王科长"))
    assert "完成时限" in res.outcome.messages[0].text and "2027-02-09" in res.outcome.messages[0].text
    res = r.step(c, res.state, r.Text("2027-01-31"))
    assert res.effects == (r.SavePlan((1,), "增设周末窗口", "行政审批科 王科长", date(2027, 1, 31)),)
    assert res.state.step == "menu"
    assert "已保存方案1" in res.outcome.messages[0].text and "增设周末窗口" in res.outcome.messages[-1].text


def test_group_items_by_typing_numbers():
    c = ctx(plans=[r.PlanView(1, (1,), "m", "o", date(2027, 1, 20))])
    res = r.step(c, r.start(7), r.Tap(r.action("g", 7)))
    assert res.state.step == "items"
    bad = r.step(c, res.state, r.Text("一二三"))
    assert "没看懂序号" in bad.outcome.messages[0].text and bad.state.step == "items"
    missing = r.step(c, res.state, r.Text("2,9"))
    assert "没有第 9 项" in missing.outcome.messages[0].text
    taken = r.step(c, res.state, r.Text("1、2"))
    assert "第 1 项已有整改方案" in taken.outcome.messages[0].text
    ok = r.step(c, res.state, r.Text("2，3-4"))
    assert ok.state.step == "measure" and ok.state.items == [2, 3, 4]
    assert "第 2-4 项" in ok.outcome.messages[0].text


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-01-31", date(2027, 1, 31)), ("2027/2/1", date(2027, 2, 1)), ("2027年1月15日", date(2027, 1, 15)),
    ("1月20日", date(2027, 1, 20)), ("15天", date(2027, 1, 25)), ("in 3 days", date(2027, 1, 13)),
    ("今天", TODAY), ("tomorrow", date(2027, 1, 11)),
])
def test_dates_as_people_type_them(text, expected):
    assert r.parse_date(text, TODAY) == expected


@pytest.mark.parametrize(("text", "error"), [
    ("下个月吧", "没看懂这个日期"), ("2027-02-30", "没有 2027-02-30 这一天"), ("2027-01-09", "已经过去了"),
    ("2026-12-31", "已经过去了"), ("2027-03-01", "晚于本轮整改截止日 2027-02-09"), ("99天", "晚于本轮整改截止日"),
])
def test_bad_deadlines_get_a_clear_error_and_lose_nothing(text, error):
    c = ctx()
    st = r.RState(round_id=7, step="deadline", items=[2], measure="m", owner="o")
    res = r.step(c, st, r.Text(text))
    assert error in res.outcome.messages[0].text
    assert res.effects == () and res.state == st


def test_english_and_escaping():
    c = ctx(locale="en", plans=[r.PlanView(3, (1, 2), "<b>fix</b> & go", "A&B", date(2027, 1, 5),
                                           progress="half <done>")])
    m = r.step(c, r.start(7), r.Show()).outcome.messages[-1]
    assert "Plan 1 (items 1-2): &lt;b&gt;fix&lt;/b&gt; &amp; go" in m.text
    assert "overdue" in m.text and "half &lt;done&gt;" in m.text
    assert "Not yet planned: items 3-4" in m.text


def test_progress_and_done():
    plan = r.PlanView(11, (1,), "measure", "owner", date(2027, 1, 30))
    c = ctx(plans=[plan])
    pick = r.step(c, r.start(7), r.Tap(r.action("P", 7)))
    res = r.step(c, pick.state, r.Tap(button(pick.outcome.messages[0], "方案1")))
    assert res.state.step == "progress"
    res = r.step(c, res.state, r.Text("已设两个周末窗口，运行良好"))
    assert res.effects == (r.SaveProgress(11, "已设两个周末窗口，运行良好"),)
    pick = r.step(c, res.state, r.Tap(r.action("D", 7)))
    res = r.step(c, pick.state, r.Tap(button(pick.outcome.messages[0], "方案1")))
    assert res.effects == (r.MarkDone(11),) and "✅ 已完成" in res.outcome.messages[-1].text


def test_buttons_of_another_round_or_forged_are_stale():
    c = ctx()
    assert r.step(c, r.start(7), r.Tap(r.action("n", 6, 1))).outcome.stale
    assert r.step(c, r.start(7), r.Tap("Rn7.99")).outcome.stale  # no item 99
    assert r.step(c, r.start(7), r.Tap("R" + "x" * 60)).outcome.stale
    stale = r.step(c, r.start(7), r.Tap(r.action("n", 6, 1)))
    assert stale.outcome.toast == "此按钮已失效。" and stale.effects == () and stale.outcome.messages == []


def test_long_or_empty_texts_are_refused():
    st = r.RState(round_id=7, step="measure", items=[1])
    assert "不能为空" in r.step(ctx(), st, r.Text("   ")).outcome.messages[0].text
    res = r.step(ctx(), st, r.Text("长" * 1001))
    assert "1001" in res.outcome.messages[0].text and res.state == st


def test_round_over_refuses_new_plans():
    res = r.step(ctx(today=date(2027, 2, 10)), r.start(7), r.Tap(r.action("n", 7, 1)))
    assert "已于 2027-02-09 截止" in res.outcome.messages[0].text and res.state.step == "menu"


def test_actions_fit_telegram():
    assert len(r.action("p", 10**12 - 1, 10**12 - 1).encode()) <= 48


def test_an_item_that_needs_no_rectification_is_marked_with_a_reason():
    """A praise ("服务态度好，点赞！") needs no plan: marked with a reason, counted apart,
    with no deadline to miss and no progress to report."""
    c = ctx(items=(1, 2, 3))
    res = r.step(c, r.start(7), r.Tap(button(r.menu(c), "标记无需整改")))
    assert res.state.step == "exempt_items" and "无需整改" in res.outcome.messages[0].text
    res = r.step(c, res.state, r.Text("2"))
    assert res.state.step == "exempt_kind" and "第 2 项为什么无需整改" in res.outcome.messages[0].text
    assert not res.state.wants_text  # a button is expected
    res = r.step(c, res.state, r.Tap(button(res.outcome.messages[0], "表扬、肯定")))
    assert res.state.step == "exempt_reason" and "请简要说明理由" in res.outcome.messages[0].text
    res = r.step(c, res.state, r.Text("群众表扬服务态度，无需整改"))
    assert res.effects == (r.SavePlan((2,), "群众表扬服务态度，无需整改", "", TODAY, "praise"),)
    menu = res.outcome.messages[-1].text
    assert "已记录：第 2 项无需整改" in res.outcome.messages[0].text
    assert "第 2 项：无需整改（表扬、肯定）。说明：群众表扬服务态度，无需整改" in menu
    assert "尚未安排 2 项" in menu and "另有 1 项经说明无需整改" in menu


def test_no_rectification_items_are_neither_progress_nor_done_nor_overdue():
    exempt = r.PlanView(5, (1,), "不属于本单位职责", "", date(2027, 1, 1), kind="remit")
    c = ctx(plans=[exempt], items=(1, 2))
    m = r.menu(c)
    assert "已逾期" not in m.text and "不属于本单位职责" in m.text
    assert "报告进展" not in [b.label for b in m.all_buttons()]
    assert r.step(c, r.start(7), r.Tap(r.action("d", 7, 5))).outcome.stale
    taken = r.step(c, r.RState(round_id=7, step="items"), r.Text("1"))
    assert "第 1 项已有整改方案" in taken.outcome.messages[0].text


def test_a_forged_kind_or_a_kind_out_of_step_is_stale():
    c = ctx()
    assert r.step(c, r.start(7), r.Tap(r.action("k", 7, 1))).outcome.stale
    assert r.step(c, r.RState(round_id=7, step="exempt_kind", items=[1]), r.Tap(r.action("k", 7, 3))).outcome.stale


def test_round_two_shows_the_plans_of_round_one():
    earlier = (1, (r.PlanView(1, (1,), "增设周末窗口", "王科长", date(2027, 1, 31), done=True),
                   r.PlanView(2, (2,), "公开办事指南", "李股长", date(2027, 2, 5))))
    c = r.Ctx(round_id=9, round_number=2, evaluee_name="交通局", locale="zh", today=date(2027, 2, 20),
              round_deadline=date(2027, 3, 20), items=(1, 2), earlier=(earlier,))
    text = r.menu(c).text
    assert "第 1 轮的整改方案（供对照）" in text
    assert "增设周末窗口" in text and "✅ 已完成" in text and "公开办事指南" in text
    assert "尚未安排：第 1-2 项" in text  # round 2 asks for plans again
