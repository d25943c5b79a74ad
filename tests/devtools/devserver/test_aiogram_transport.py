"""The aiogram transport's direct calls (send, edit, answer a tap) against the dev server:
what the person sees, and that every refusal maps to the same error as before."""

from __future__ import annotations

import pytest

from bot.telegram.aiogram_app import AiogramTransport, make_bot
from bot.telegram.transport import BadRequest, Blocked, MessageGone, NotModified
from flows.messages import Button


@pytest.fixture
async def transport(srv):
    bot = make_bot(srv.token, srv.base_url)
    yield AiogramTransport(bot)
    await bot.session.close()


async def test_a_card_is_sent_in_html_edited_in_place_and_its_tap_answered(srv, transport):
    u = srv.user(300, language_code="zh")
    keyboard = ((Button("好", "a1"), Button("差", "a2")),)
    mid = await transport.send_message(300, "<b>问题</b> 1 &amp; 2", keyboard)
    first = u.last()
    assert first.message_id == mid and first.text == "问题 1 & 2" and first.entities[0]["type"] == "bold"
    assert first.buttons == [[("好", "a1"), ("差", "a2")]]

    query_id = u.tap("差")
    await transport.answer_callback(query_id, "已记录")
    await transport.edit_message(300, mid, "<i>问题</i> 2")
    edited = u.last()
    assert edited.message_id == mid and edited.edit_count == 1
    assert edited.text == "问题 2" and edited.buttons == []
    assert [(a.query_id, a.text, a.data) for a in u.answers()] == [(query_id, "已记录", "a2")]


async def test_refusals_raise_the_transport_errors(srv, transport):
    u = srv.user(301)
    mid = await transport.send_message(301, "same", ((Button("x", "a1"),),))
    with pytest.raises(NotModified):
        await transport.edit_message(301, mid, "same", ((Button("x", "a1"),),))
    with pytest.raises(MessageGone):
        await transport.edit_message(301, mid + 99, "gone")
    with pytest.raises(BadRequest):  # an unknown (or already answered) button press
        await transport.answer_callback("no-such-query")
    with pytest.raises(BadRequest):  # Telegram refuses unbalanced HTML
        await transport.send_message(301, "<b>open")
    u.block()
    with pytest.raises(Blocked):
        await transport.send_message(301, "hello?")
    assert [m.text for m in u.messages()] == ["same"]
