"""Full framework loops (aiogram Dispatcher, PTB Application) and webhook delivery."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiohttp import web
from telegram import InlineKeyboardButton as PtbButton
from telegram import InlineKeyboardMarkup as PtbKeyboard
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from devtools.devserver.testing import aiogram_bot


def kb(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=x, callback_data=f"pick:{x}")
                                                  for x in labels]])


def aiogram_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"欢迎 {command.args}，请选择", reply_markup=kb("满意", "不满意"))

    @router.callback_query(F.data.startswith("pick:"))
    async def pick(query: CallbackQuery) -> None:
        await query.answer("已记录")
        await query.message.edit_text(f"你选择了 {query.data[5:]}")

    return router


async def test_aiogram_dispatcher_polling(srv):
    bot = aiogram_bot(srv)
    dp = Dispatcher()
    dp.include_router(aiogram_router())
    task = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    try:
        u = srv.user(100, "Ann", language_code="zh")
        u.send("/start abc")
        first = await u.wait_for_async("请选择")
        assert first.text == "欢迎 abc，请选择" and first.labels == ["满意", "不满意"]
        u.tap("满意")
        done = await u.wait_for_async(lambda m: m.edited)
        assert done.text == "你选择了 满意" and done.message_id == first.message_id
        await srv.wait_idle_async(timeout=5)
        assert [a.text for a in u.answers()] == ["已记录"]
        assert srv.pending_updates == 0
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)
        await bot.session.close()


async def test_ptb_application_polling(srv):
    async def start(update, context):
        markup = PtbKeyboard([[PtbButton(x, callback_data=f"pick:{x}") for x in ("A", "B")]])
        await update.message.reply_text("hi " + " ".join(context.args), reply_markup=markup)

    async def pick(update, context):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("picked " + update.callback_query.data)

    app = Application.builder().token(srv.token).base_url(srv.ptb_base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pick))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        try:
            u = srv.user(300)
            u.send("/start x1")
            await u.wait_for_async("hi x1")
            u.tap("B")
            msg = await u.wait_for_async(lambda m: m.edited)
            assert msg.text == "picked pick:B"
            await srv.wait_idle_async()
        finally:
            await app.updater.stop()
            await app.stop()
    assert srv.calls_of("deleteWebhook")  # PTB's start_polling clears any webhook first


async def test_webhook_delivery_with_secret_and_retry(srv):
    received: list[tuple[dict, str | None]] = []
    failures = [1]  # the first POST fails: the server must retry

    async def hook(request: web.Request) -> web.Response:
        if failures:
            failures.pop()
            return web.Response(status=500)
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = aiogram_bot(srv)
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="tok-123")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        u = srv.user(100)
        u.send("/start")
        u.send("second")
        for _ in range(300):
            if len(received) == 2:
                break
            await asyncio.sleep(0.01)
        assert [r[0]["message"]["text"] for r in received] == ["/start", "second"]
        assert all(secret == "tok-123" for _, secret in received)
        assert received[0][0]["update_id"] < received[1][0]["update_id"]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and "500" in (info.last_error_message or "")
        await srv.wait_idle_async()
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_aiogram_webhook_reply_is_executed(srv):
    """A method returned in the webhook response (aiogram's handle_in_background=False)."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    bot = aiogram_bot(srv)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message):
        return message.answer("echo: " + message.text)

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="abc", handle_in_background=False).register(app, path="/wh")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/wh", secret_token="abc")
        u = srv.user(5)
        u.send("ping")
        assert (await u.wait_for_async("echo:")).text == "echo: ping"
    finally:
        await bot.session.close()
        await runner.cleanup()
