"""The real aiogram 3 Bot against the dev server."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram.exceptions import (TelegramBadRequest, TelegramConflictError, TelegramForbiddenError,
                                TelegramRetryAfter)
from aiogram.types import (BotCommand, BotCommandScopeDefault, BufferedInputFile, CallbackQuery,
                           InlineKeyboardButton, InlineKeyboardMarkup, Message)

from devtools.devserver.testing import aiogram_bot, retry_after_seconds

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000308060000009db47f"
    "6e0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def kb(*labels_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)
                                                  for t, d in labels_data]])


async def test_get_me(abot):
    me = await abot.get_me()
    assert me.id == 123456 and me.is_bot and me.username == "minping_dev_bot"
    assert me.can_join_groups is True


async def test_start_command_reaches_get_updates(srv, abot):
    srv.user(100, "Ann", language_code="zh").send("/start abc")
    updates = await abot.get_updates(timeout=1)
    assert len(updates) == 1
    msg = updates[0].message
    assert isinstance(msg, Message)
    assert msg.text == "/start abc" and msg.chat.id == 100 and msg.from_user.language_code == "zh"
    assert msg.entities[0].type == "bot_command" and msg.entities[0].length == 6
    # the offset confirms: nothing left afterwards
    assert await abot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert srv.pending_updates == 0


async def test_keyboard_tap_callback_answer_and_edit(srv, abot):
    u = srv.user(100)
    sent = await abot.send_message(100, "<b>满意吗？</b>", parse_mode="HTML",
                                   reply_markup=kb(("满意", "r:1"), ("不满意", "r:0")))
    view = u.last()
    assert view.text == "满意吗？" and view.html == "<b>满意吗？</b>"
    assert view.buttons == [[("满意", "r:1"), ("不满意", "r:0")]]

    u.tap("不满意")
    [update] = await abot.get_updates(timeout=1)
    cq = update.callback_query
    assert isinstance(cq, CallbackQuery) and cq.data == "r:0" and cq.from_user.id == 100
    assert isinstance(cq.message, Message) and cq.message.message_id == sent.message_id
    assert cq.message.reply_markup.inline_keyboard[0][0].text == "满意"

    assert await abot.answer_callback_query(cq.id, text="收到") is True
    assert srv.callback_answers[-1].text == "收到" and srv.callback_answers[-1].data == "r:0"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await abot.answer_callback_query(cq.id)

    edited = await abot.edit_message_text("谢谢", chat_id=100, message_id=sent.message_id)
    assert edited.text == "谢谢" and edited.edit_date is not None
    [only] = u.messages()
    assert only.text == "谢谢" and only.edited and only.edit_count == 1 and only.buttons == []
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new message content"):
        await abot.edit_message_text("谢谢", chat_id=100, message_id=sent.message_id)
    # markup-only edit
    await abot.edit_message_reply_markup(chat_id=100, message_id=sent.message_id, reply_markup=kb(("x", "y")))
    assert u.last().buttons == [[("x", "y")]]
    assert await abot.delete_message(100, sent.message_id)
    assert u.last() is None and u.messages()[0].deleted


async def test_limits_and_errors(srv, abot):
    u = srv.user(100)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await abot.send_message(100, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await abot.send_message(100, "字" * 4097)
    await abot.send_message(100, "字" * 4096)  # exactly the limit is fine
    # the limit applies to the visible text, after entity parsing
    await abot.send_message(100, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await abot.send_message(100, "q", reply_markup=kb(("a", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await abot.send_message(100, "q", reply_markup=kb(("a", "数" * 22)))  # 66 bytes
    await abot.send_message(100, "q", reply_markup=kb(("a", "数" * 21)))  # 63 bytes
    with pytest.raises(TelegramBadRequest, match='can\'t parse entities: Unsupported start tag "br"'):
        await abot.send_message(100, "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Can\'t find end tag corresponding to start tag "b"'):
        await abot.send_message(100, "<b>a", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await abot.send_message(999, "hi")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await abot.edit_message_text("x", chat_id=100, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await abot.delete_message(100, 999)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await abot.send_photo(100, BufferedInputFile(PNG, "a.png"), caption="c" * 1025)
    u.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await abot.send_message(100, "hi")
    u.unblock()
    await abot.send_message(100, "back")
    assert u.last().text == "back"


async def test_rate_limit_429(limited_srv):
    srv = limited_srv
    srv.user(100)
    bot = aiogram_bot(srv)
    try:
        await bot.send_message(100, "1")
        await bot.send_message(100, "2")
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(100, "3")
        assert info.value.retry_after == 1 and retry_after_seconds(info.value) == 1
        assert "Too Many Requests: retry after 1" in str(info.value)
        assert srv.rate_limited_count == 1
        # edits are not counted by default
        await bot.edit_message_text("1!", chat_id=100, message_id=1)
        srv.rate_limit = False
        await bot.send_message(100, "3")
    finally:
        await bot.session.close()


async def test_long_poll_returns_early(srv, abot):
    u = srv.user(100)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, u.send, "hello")
    t0 = time.monotonic()
    updates = await abot.get_updates(timeout=10)
    elapsed = time.monotonic() - t0
    assert [x.message.text for x in updates] == ["hello"]
    assert 0.2 < elapsed < 3


async def test_send_photo_and_document_upload(srv, abot):
    u = srv.user(100)
    msg = await abot.send_photo(100, BufferedInputFile(PNG, "chart.png"), caption="<i>图</i>", parse_mode="HTML")
    assert msg.photo[-1].width == 2 and msg.photo[-1].height == 3
    view = u.last()
    assert view.kind == "photo" and view.photo.data == PNG and view.photo.filename == "chart.png"
    assert view.text == "图" and view.html == "<i>图</i>"
    # re-send by file_id
    again = await abot.send_photo(100, msg.photo[-1].file_id)
    assert again.photo[-1].file_id == msg.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await abot.send_photo(100, BufferedInputFile(b"not an image", "x.png"))
    doc = await abot.send_document(100, BufferedInputFile(b"a,b\n1,2\n", "report.csv"))
    assert doc.document.file_name == "report.csv" and doc.document.mime_type == "text/csv"
    assert u.last().document.data == b"a,b\n1,2\n"
    assert srv.file_bytes(doc.document.file_id) == b"a,b\n1,2\n"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await abot.send_document(100, "no-such-file-id")
    f = await abot.get_file(doc.document.file_id)
    assert (await abot.download_file(f.file_path)).read() == b"a,b\n1,2\n"


async def test_commands_per_language(srv, abot):
    await abot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh")
    await abot.set_my_commands([BotCommand(command="start", description="Start")])
    zh = await abot.get_my_commands(language_code="zh")
    assert [c.description for c in zh] == ["开始"]
    assert [c.description for c in await abot.get_my_commands(scope=BotCommandScopeDefault())] == ["Start"]
    assert srv.commands("zh")[0]["description"] == "开始"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await abot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    srv.user(100)
    assert await abot.send_chat_action(100, "typing")
    chat = await abot.get_chat(100)
    assert chat.id == 100 and chat.type == "private"


async def test_webhook_conflict(srv, abot):
    assert await abot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await abot.get_updates()
    info = await abot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert await abot.delete_webhook(drop_pending_updates=True)
    assert await abot.get_updates(timeout=0) == []
