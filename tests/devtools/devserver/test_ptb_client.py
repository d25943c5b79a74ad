"""The real python-telegram-bot 22 Bot against the dev server."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from devtools.devserver.testing import ptb_bot, retry_after_seconds

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000308060000009db47f"
    "6e0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def kb(*labels_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in labels_data]])


async def test_initialize_get_me(pbot):
    assert pbot.id == 123456 and pbot.username == "minping_dev_bot"
    me = await pbot.get_me()
    assert me.can_join_groups is True and me.is_bot


async def test_start_and_tap_flow(srv, pbot):
    u = srv.user(200, "Bo", language_code="en")
    u.send("/start tok_1")
    [up] = await pbot.get_updates(timeout=1)
    assert isinstance(up.message, Message) and up.message.text == "/start tok_1"
    assert up.message.parse_entities(["bot_command"]) and up.message.chat.type == "private"

    sent = await pbot.send_message(200, "Rate <b>us</b>", parse_mode="HTML",
                                   reply_markup=kb(("Good", "g"), ("Bad", "b")))
    assert sent.text == "Rate us" and sent.entities[0].type == "bold"
    u.tap("Good")
    [cb] = await pbot.get_updates(offset=up.update_id + 1, timeout=1)
    cq = cb.callback_query
    assert isinstance(cq, CallbackQuery) and cq.data == "g" and cq.chat_instance
    assert isinstance(cq.message, Message) and cq.message.message_id == sent.message_id
    assert await cq.answer("ok", show_alert=True) is True
    assert srv.callback_answers[-1].show_alert is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await pbot.answer_callback_query(cq.id)

    edited = await pbot.edit_message_text("Thanks", chat_id=200, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Thanks"
    assert u.last().text == "Thanks" and u.last().edit_count == 1
    with pytest.raises(BadRequest, match="Message is not modified"):
        await pbot.edit_message_text("Thanks", chat_id=200, message_id=sent.message_id)


async def test_forged_tap_on_missing_message_parses(srv, pbot):
    u = srv.user(200)
    u.tap_data(77, "forged")
    [up] = await pbot.get_updates(timeout=1)
    assert up.callback_query.data == "forged"
    assert up.callback_query.message.message_id == 77  # an InaccessibleMessage


async def test_errors(srv, pbot):
    u = srv.user(200)
    with pytest.raises(BadRequest, match="Message is too long"):
        await pbot.send_message(200, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await pbot.send_message(200, "q", reply_markup=kb(("a", "d" * 65)))
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag \"foo\""):
        await pbot.send_message(200, "<foo>x</foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Chat not found"):
        await pbot.send_message(4242, "x")
    u.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await pbot.send_message(200, "x")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_rate_limit_429(limited_srv):
    limited_srv.user(200)
    async with ptb_bot(limited_srv) as bot:
        await bot.send_message(200, "1")
        await bot.send_message(200, "2")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(200, "3")
        assert retry_after_seconds(info.value) == 1
        # another chat is not affected by chat 200's limit
        limited_srv.user(201)
        await bot.send_message(201, "1")


async def test_long_poll_returns_early(srv, pbot):
    u = srv.user(200)
    asyncio.get_running_loop().call_later(0.3, u.send_sticker)
    t0 = time.monotonic()
    [up] = await pbot.get_updates(timeout=10)
    assert up.message.sticker is not None and 0.2 < time.monotonic() - t0 < 3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_media_updates_parse(srv, pbot):
    u = srv.user(200)
    u.send_photo("evidence")
    u.send_voice()
    u.send_contact("+861234")
    u.send_location()
    ups = await pbot.get_updates(timeout=1)
    photo, voice, contact, loc = (x.message for x in ups)
    assert photo.photo[-1].file_id and photo.caption == "evidence"
    assert voice.voice.duration == 3
    assert contact.contact.phone_number == "+861234" and contact.contact.user_id == 200
    assert loc.location.latitude > 0


async def test_upload_photo_and_document(srv, pbot):
    u = srv.user(200)
    msg = await pbot.send_photo(200, io.BytesIO(PNG), caption="c", filename="p.png")
    assert msg.photo[-1].width == 2
    assert u.last().photo.data == PNG
    doc = await pbot.send_document(200, io.BytesIO(b"%PDF-1.4"), filename="r.pdf")
    assert doc.document.file_name == "r.pdf"
    assert u.last().document.data == b"%PDF-1.4" and u.last().document.mime_type == "application/pdf"


async def test_webhook_blocks_polling(srv, pbot):
    await pbot.set_webhook("http://127.0.0.1:9/x")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await pbot.get_updates()
    assert (await pbot.get_webhook_info()).url == "http://127.0.0.1:9/x"
    await pbot.delete_webhook()
    assert await pbot.get_updates() == ()
