"""python-telegram-bot 22 adapter (``BOT_FRAMEWORK=ptb``): the same product, the same
service; only the translation of updates and Bot API errors differs."""

from __future__ import annotations

import logging

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.service import Incoming, Service
from bot.telegram import commands
from bot.telegram.delivery import handle
from bot.telegram.transport import Keyboard, Transient, classify

log = logging.getLogger(__name__)


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
                                 for row in buttons])


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 is moving retry_after from int to timedelta; accept both without warnings.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ra = exc.retry_after
    return ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)


class PTBTransport:
    detached = None  # webhook mode: a delivery.Detached (replies shown after the answer)

    def __init__(self, bot) -> None:  # noqa: ANN001
        self.bot = bot

    async def _call(self, coro):  # noqa: ANN001, ANN202
        try:
            return await coro
        except RetryAfter as exc:
            raise classify(429, str(exc), _seconds(exc)) from exc
        except Forbidden as exc:
            raise classify(403, exc.message) from exc
        except BadRequest as exc:
            raise classify(400, exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise Transient(str(exc)) from exc
        except TelegramError as exc:
            raise classify(None, exc.message) from exc

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard = ()) -> int:
        m = await self._call(self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                                   reply_markup=_markup(buttons)))
        return m.message_id

    async def edit_message(self, chat_id: int, message_id: int, text: str, buttons: Keyboard = ()) -> None:
        await self._call(self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                    parse_mode=ParseMode.HTML, reply_markup=_markup(buttons)))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        await self._call(self.bot.answer_callback_query(callback_id, text=text))

    async def send_photo(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        m = await self._call(self.bot.send_photo(chat_id, InputFile(data, filename=filename),
                                                 caption=caption or None, parse_mode=ParseMode.HTML))
        return m.message_id

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        m = await self._call(self.bot.send_document(chat_id, InputFile(data, filename=filename),
                                                    caption=caption or None, parse_mode=ParseMode.HTML))
        return m.message_id


def _lang(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


async def _handle(context: ContextTypes.DEFAULT_TYPE, inc: Incoming, callback_id: str | None = None) -> None:
    await handle(context.bot_data["service"], context.bot_data["transport"], inc, callback_id)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    payload = context.args[0] if context.args else ""
    await _handle(context, Incoming(update.effective_chat.id, "start", update.update_id, text=payload,
                                    language_code=_lang(update)))


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    name, args = commands.parse(update.effective_message.text or "")
    await _handle(context, Incoming(update.effective_chat.id, "command", update.update_id, command=name,
                                    text=args, language_code=_lang(update)))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _handle(context, Incoming(update.effective_chat.id, "text", update.update_id,
                                    text=update.effective_message.text or "", language_code=_lang(update)))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _handle(context, Incoming(update.effective_chat.id, "media", update.update_id,
                                    language_code=_lang(update)))


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    chat_id = update.effective_chat.id if update.effective_chat else query.from_user.id
    inc = Incoming(chat_id, "tap", update.update_id, data=query.data or "", language_code=_lang(update))
    await _handle(context, inc, callback_id=query.id)


def make_application(service: Service, token: str, api_base: str | None = None) -> Application:
    builder = ApplicationBuilder().token(token).concurrent_updates(True)
    if api_base:
        builder = builder.base_url(api_base.rstrip("/") + "/bot").base_file_url(api_base.rstrip("/") + "/file/bot")
    app = builder.build()
    app.bot_data["service"] = service
    app.bot_data["transport"] = PTBTransport(app.bot)
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.COMMAND, on_command))
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_handler(MessageHandler(filters.ALL, on_other))
    return app


async def set_commands(app: Application) -> None:
    for locale, listing in commands.LISTINGS.items():
        items = [BotCommand(c, d) for c, d in listing]
        await app.bot.set_my_commands(items, language_code=locale)
        if locale == commands.DEFAULT:
            await app.bot.set_my_commands(items)


ALLOWED_UPDATES = ["message", "callback_query"]
