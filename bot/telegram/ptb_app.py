"""python-telegram-bot 22 adapter (``BOT_FRAMEWORK=ptb``): the same product, the same
service; only the translation of updates and Bot API errors differs."""

from __future__ import annotations

import logging

import httpx
from telegram import BotCommand, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update, WebAppInfo
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.service import Incoming, Service
from bot.telegram import commands
from bot.telegram.delivery import elsewhere, handle
from bot.telegram.intake import note_failure
from bot.telegram.transport import CHANNEL, Keyboard, Transient, classify
from bot.telegram.uploads import Uploads

log = logging.getLogger(__name__)


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, web_app=WebAppInfo(b.web_app)) if b.web_app
                                  else InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
                                 for row in buttons])


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 is moving retry_after from int to timedelta; accept both without warnings.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ra = exc.retry_after
    return ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)


class _Client(httpx.AsyncClient):
    """httpx binds each response's body stream back to the response: every Bot API
    answer is a reference cycle, freed only by the cycle collector. Under load many
    survive into its oldest generation, collected rarely, and the memory they held
    stays with the process (bench/memory.py, PTB at 1,000 conversations: +48 -> +43 MB).
    Once the body is read, the stream is swapped for a plain one holding the same bytes:
    the answer is freed as soon as PTB is done with it."""

    async def send(self, request: httpx.Request, **kwargs) -> httpx.Response:  # noqa: ANN003
        response = await super().send(request, **kwargs)
        if not kwargs.get("stream") and response.is_closed:
            response.stream = httpx.ByteStream(response.content)
        return response


class _Request(HTTPXRequest):
    def _build_client(self) -> httpx.AsyncClient:
        return _Client(**self._client_kwargs)


class PTBTransport:
    channel = CHANNEL  # bot.channel.Transport: the outbox rows this transport sends
    detached = None  # webhook mode: a delivery.Detached (replies shown after the answer)

    def __init__(self, bot) -> None:  # noqa: ANN001
        self.bot = bot
        self.uploads = Uploads()

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
        async def send(photo):  # noqa: ANN001, ANN202 — an upload or a file id
            return await self._call(self.bot.send_photo(chat_id, photo, caption=caption or None,
                                                        parse_mode=ParseMode.HTML))

        async def upload() -> tuple[int, str | None]:
            m = await send(InputFile(data, filename=filename))
            return m.message_id, m.photo[-1].file_id if m.photo else None

        return await self.uploads.send("photo", filename, data, upload, lambda file_id: _message_id(send(file_id)))

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        async def send(document):  # noqa: ANN001, ANN202 — an upload or a file id
            return await self._call(self.bot.send_document(chat_id, document, caption=caption or None,
                                                           parse_mode=ParseMode.HTML))

        async def upload() -> tuple[int, str | None]:
            m = await send(InputFile(data, filename=filename))
            return m.message_id, m.document.file_id if m.document else None

        return await self.uploads.send("document", filename, data, upload, lambda file_id: _message_id(send(file_id)))


async def _message_id(sent) -> int:  # noqa: ANN001
    return (await sent).message_id


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
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:  # a button under a group's message
        await elsewhere(context.bot_data["transport"], chat.id if chat else query.from_user.id, _lang(update),
                        callback_id=query.id)
        return
    inc = Incoming(chat.id, "tap", update.update_id, data=query.data or "", language_code=_lang(update))
    await _handle(context, inc, callback_id=query.id)


async def on_blocked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change.chat.type == ChatType.PRIVATE and change.new_chat_member.status == ChatMember.BANNED:
        await _handle(context, Incoming(change.chat.id, "blocked", update.update_id))


async def on_elsewhere(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await elsewhere(context.bot_data["transport"], update.effective_chat.id, _lang(update))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler's failure goes to the intake that fed the update (retried or parked)."""
    if not note_failure(context.error):
        log.error("update handling failed", exc_info=context.error)


def make_application(service: Service, token: str, api_base: str | None = None) -> Application:
    # Replies of many chats go out at once (older PTBs gave one connection: every call
    # waited for the previous one); getUpdates is one long poll at a time.
    builder = (ApplicationBuilder().token(token).request(_Request(connection_pool_size=64, pool_timeout=30.0))
               .get_updates_request(_Request(connection_pool_size=1)))
    if api_base:
        builder = builder.base_url(api_base.rstrip("/") + "/bot").base_file_url(api_base.rstrip("/") + "/file/bot")
    app = builder.build()
    app.bot_data["service"] = service
    app.bot_data["transport"] = PTBTransport(app.bot)
    # Private chats only, new messages only (an edited message is not a new answer).
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", on_start, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, on_command))
    app.add_handler(MessageHandler(private & filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_handler(MessageHandler(private, on_other))
    app.add_handler(MessageHandler(~filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.COMMAND,
                                   on_elsewhere))
    app.add_handler(ChatMemberHandler(on_blocked, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
    return app


def make_feed(app: Application):  # noqa: ANN201
    """Telegram's JSON of one update -> PTB's dispatch (``bot/telegram/intake.py``)."""
    async def feed(update: dict) -> None:
        await app.process_update(Update.de_json(update, app.bot))

    return feed


def make_fetch(app: Application):  # noqa: ANN201
    """One getUpdates call, answered as Telegram's JSON."""
    async def fetch(offset: int | None, timeout: int) -> list[dict]:
        # PTB's get_updates would parse every update into objects, which ``feed`` does
        # (once); the raw answer is what the intake needs.
        data: dict = {"timeout": timeout, "limit": 100, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            data["offset"] = offset
        result = await app.bot._post("getUpdates", data, read_timeout=timeout + 10.0)  # noqa: SLF001
        return [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]

    return fetch


async def set_commands(app: Application) -> None:
    for locale, listing in commands.LISTINGS.items():
        items = [BotCommand(c, d) for c, d in listing]
        await app.bot.set_my_commands(items, language_code=locale)
        if locale == commands.DEFAULT:
            await app.bot.set_my_commands(items)


ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
