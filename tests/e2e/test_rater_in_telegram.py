"""A rater in Telegram, for both frameworks and both databases: everything goes over
HTTP through the local Bot API server, exactly as with Telegram."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from storage.db import session_scope
from storage.models import Answer, Ballot, Opinion, Person
from tests.e2e.rater import T, card_with, enrol, say, tap
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres



async def test_enrol_answer_back_submit_and_done(engine, api_server, running_bot, loaded):
    _, token = loaded
    u = api_server.user(9001, "李", language_code="zh")
    await enrol(u, token)
    assert any("匿名" in (m.text or "") for m in u.messages())
    card = u.last()
    await tap(u, "比较满意", card_with("交通局", "工作效能"))
    await tap(u, "← 上一题", card_with("交通局", "工作作风"))
    assert "✓ 比较满意" in u.last().labels  # the earlier answer is marked
    await tap(u, "满意", card_with("交通局", "工作效能"))  # and changed
    await tap(u, "不了解", lambda m: "跳过" in m.labels)
    await say(u, "希望<b>缩短</b>办事时间 & 简化流程", card_with("水利局"))
    # The card was edited in place, not re-sent for every tap.
    assert next(m for m in u.messages() if m.message_id == card.message_id).edit_count >= 3
    await tap(u, "满意", card_with("水利局", "工作效能"))
    await tap(u, "基本满意", lambda m: "跳过" in m.labels)
    await tap(u, "跳过", lambda m: "提交" in m.labels)
    review = u.last()
    # The opinion's HTML is shown as typed, not interpreted.
    assert "希望<b>缩短</b>办事时间 & 简化流程" in review.text and "&lt;b&gt;缩短" in review.html
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""))
    chain_pending(engine)
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == 1
        answers = {(a.evaluee_key, a.dimension_key): a.option_key for a in s.exec(select(Answer))}
        assert answers[("transport", "style")] == "satisfied"  # changed after going back
        assert answers[("transport", "efficiency")] is None  # 不了解
        assert answers[("water", "efficiency")] == "basically"
        assert [o.text for o in s.exec(select(Opinion))] == ["希望<b>缩短</b>办事时间 & 简化流程"]
    await say(u, f"/start {token}", "已经提交")
    # Every button press was answered, so no spinner kept turning.
    taps = len([c for c in api_server.calls if c.method == "answerCallbackQuery"])
    assert taps >= 8


async def test_duplicate_update_has_no_second_effect(engine, api_server, running_bot, loaded):
    _, token = loaded
    u = api_server.user(9002)
    await enrol(u, token)
    card = u.last()
    data = card.button_data("满意")
    update = {"update_id": 700_000, "callback_query": {
        "id": "dup-1", "from": {"id": 9002, "is_bot": False, "first_name": "U"}, "chat_instance": "1",
        "data": data, "message": card.raw}}
    api_server.inject_update(update)
    await u.wait_for_async(card_with("工作效能"), T, new=True)
    api_server.inject_update({**update, "callback_query": {**update["callback_query"], "id": "dup-2"}})
    await say(u, "/lang", "选择语言")
    # The duplicate did not answer the next question with 满意 as well.
    assert "工作效能" in next(m for m in u.messages() if m.message_id == card.message_id).text
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Answer)).one() == 0


async def test_stale_and_forged_taps_are_refused(engine, api_server, running_bot, loaded):
    _, token = loaded
    u = api_server.user(9003)
    await enrol(u, token)
    card = u.last()
    old = card.button_data("满意")
    await tap(u, "满意", card_with("工作效能"))
    before = u.last().text
    await api_server.wait_idle_async(T)  # that tap's own answer may land just after its card
    n = len(api_server.callback_answers)
    u.tap_data(card.message_id, old)
    u.tap_data(card.message_id, "x" * 64)
    await say(u, "/lang", "选择语言")
    answers = api_server.callback_answers[n:]
    assert len(answers) == 2 and all("过期" in (a.text or "") for a in answers)
    assert next(m for m in u.messages() if m.message_id == card.message_id).text == before


async def test_long_opinion_html_and_sticker(engine, api_server, running_bot, loaded):
    _, token = loaded
    u = api_server.user(9004)
    await enrol(u, token)
    u.send_sticker()
    await u.wait_for_async(card_with("交通局", "工作作风"), T, new=True)
    assert any("请使用卡片下方的按钮" in (m.text or "") for m in u.messages())
    await tap(u, "满意", card_with("工作效能"))
    await tap(u, "满意", lambda m: "跳过" in m.labels)
    await say(u, "长" * 5000, "5000")
    shown = await say(u, "<script>alert(1)</script>", card_with("水利局"))
    assert shown is not None
    assert any("<script>alert(1)</script>" in (m.text or "") for m in u.messages())
    with session_scope(engine) as s:  # the draft survived the refused opinion
        assert s.exec(select(func.count()).select_from(Ballot)).one() == 0


async def test_blocked_bot_marks_the_person_unreachable(engine, api_server, running_bot, loaded):
    _, token = loaded
    u = api_server.user(9005)
    await enrol(u, token)
    u.block()
    u.send("/help")
    for _ in range(200):
        with session_scope(engine) as s:
            person = s.exec(select(Person).where(Person.chat_id == 9005)).one()
            if person.status == "unreachable":
                break
        await asyncio.sleep(0.02)
    assert person.status == "unreachable"


async def test_commands_menu_in_both_languages(api_server, running_bot):
    zh = [c["command"] for c in api_server.commands("zh")]
    en = {c["command"]: c["description"] for c in api_server.commands("en")}
    assert {"start", "help", "resume", "lang", "cancel", "stop"} <= set(zh)
    assert en["resume"] == "Continue where you left off"


async def test_a_tap_or_command_in_a_group_gets_one_short_answer_and_stores_nothing(
        engine, api_server, running_bot, loaded):
    """Evaluations are private: a button pressed or a command sent in a group is answered
    with where to go; nobody is enrolled and nothing is stored."""
    _, token = loaded
    group = {"id": -100_777, "type": "supergroup", "title": "机关群"}
    api_server.state.ensure_chat(group["id"], type="supergroup", title=group["title"])
    member = {"id": 9010, "is_bot": False, "first_name": "G", "language_code": "zh"}
    query = api_server.state.new_callback_query(9010, group["id"], 5, "q:a:1")
    api_server.inject_update({"callback_query": {
        "id": query.id, "from": member, "chat_instance": "g", "data": "q:a:1",
        "message": {"message_id": 5, "date": 1_700_000_000, "chat": group, "text": "card"}}})
    api_server.inject_update({"message": {
        "message_id": 6, "date": 1_700_000_000, "chat": group, "from": member, "text": f"/start {token}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}})
    await api_server.wait_idle_async(T)
    for _ in range(100):  # the command's answer comes after the tap's
        sent = [c for c in api_server.calls_of("sendMessage") if str(c.params.get("chat_id")) == str(group["id"])]
        if sent:
            break
        await asyncio.sleep(0.05)
    answers = [a for a in api_server.callback_answers if a.query_id == query.id]
    assert len(answers) == 1 and "私聊" in answers[0].text
    assert len(sent) == 1 and "私聊" in sent[0].params["text"]
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == 0
