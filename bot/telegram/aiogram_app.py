"""aiogram 3 adapter (the default runtime): updates -> ``Incoming`` -> service -> Bot API.

Handlers are a few lines: every rule lives in ``flows/`` and ``bot/service.py``.
``service`` and ``transport`` reach the handlers by parameter name (dispatcher data).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import aiohttp
from yarl import URL

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.filters import KICKED, ChatMemberUpdatedFilter, CommandObject, CommandStart
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    BotCommand,
    Chat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    User,
    WebAppInfo,
)
from aiogram.types import Message as TgMessage

from bot.service import Incoming, Service
from bot.telegram import commands
from bot.telegram.delivery import elsewhere, handle
from bot.telegram.transport import CHANNEL, Keyboard, Transient, classify
from bot.telegram.uploads import Uploads

log = logging.getLogger(__name__)


# aiogram parametrizes ``Response[...]`` per call; pydantic caches those classes only
# weakly, so they were rebuilt again and again (a few ms each). Holding them keeps the
# cache warm for every method the bot calls.
_RESPONSES = {m: Response[m.__returning__] for m in (  # type: ignore[misc]
    GetUpdates, GetMe, SendMessage, SendPhoto, SendDocument, EditMessageText, EditMessageReplyMarkup,
    AnswerCallbackQuery, SetMyCommands, SetWebhook, DeleteWebhook)}
_RESPONSE_BOOL = Response[bool]
_RESPONSE_MESSAGE = Response[TgMessage]
_DONE = _RESPONSE_BOOL.model_construct(ok=True, result=True)
# Of the message under a pressed button, the handlers read only these (``on_tap``).
_TAPPED = ("message_id", "date", "chat", "message_thread_id", "is_topic_message", "business_connection_id")


class LeanSession(AiohttpSession):
    """aiogram's HTTP session, minus validating a whole pydantic ``Message`` from every
    answer: of an edit or a callback answer we read nothing, of a sent message only its
    id. That validation was the costliest part of a tap after the database
    (bench/throughput.py). Errors, and every other method, are parsed as usual (a sent
    photo or document too: its file id is sent to the next chats, ``bot.telegram.uploads``)."""

    UNREAD = (EditMessageText, EditMessageReplyMarkup, AnswerCallbackQuery)
    SENT = (SendMessage,)

    def check_response(self, bot, method, status_code, content):  # noqa: ANN001, ANN201
        if isinstance(method, self.UNREAD + self.SENT) and 200 <= status_code < 300:
            data = self.json_loads(content)
            if isinstance(data, dict) and data.get("ok") is True:
                result = data.get("result")
                if isinstance(method, self.UNREAD):
                    return _DONE  # nobody reads it: one shared instance
                if isinstance(result, dict) and "message_id" in result and isinstance(result.get("chat"), dict):
                    chat = Chat.model_construct(**result["chat"])
                    message = TgMessage.model_construct(message_id=result["message_id"], date=result.get("date"),
                                                        chat=chat)
                    return _RESPONSE_MESSAGE.model_construct(ok=True, result=message)
        return super().check_response(bot, method, status_code, content)


def make_bot(token: str, api_base: str | None = None) -> Bot:
    session = LeanSession(api=TelegramAPIServer.from_base(api_base)) if api_base else LeanSession()
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=_PARSE_MODE))


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.label, web_app=WebAppInfo(url=b.web_app)) if b.web_app
         else InlineKeyboardButton(text=b.label, callback_data=b.action) for b in row] for row in buttons
    ])


_PARSE_MODE = "HTML"  # as make_bot's default, which the direct calls below do not see
_JSON = {"Content-Type": "application/json"}


def _markup_json(buttons: Keyboard) -> dict:
    return {"inline_keyboard": [[{"text": b.label, "web_app": {"url": b.web_app}} if b.web_app
                                 else {"text": b.label, "callback_data": b.action} for b in row] for row in buttons]}


class AiogramTransport:
    """The hot calls of a tap (edit the card, answer the button, send a text) go out as
    one JSON POST on aiogram's own HTTP session, without building, dumping and
    form-encoding a pydantic method object for each (measured: a large part of a tap's
    CPU, bench/throughput.py). Any answer but ``ok`` goes through aiogram's
    ``check_response``, so errors raise exactly the exceptions aiogram raises."""

    channel = CHANNEL  # bot.channel.Transport: the outbox rows this transport sends
    detached = None  # webhook mode: a delivery.Detached (replies shown after the answer)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._urls: dict[str, URL] = {}
        self.uploads = Uploads()

    async def _post(self, name: str, payload: dict, method: Callable[[], TelegramMethod],  # noqa: ANN202
                    extra_wait: float = 0):
        """POST ``payload`` to Bot API method ``name``; the result of an ok answer.
        ``method`` builds aiogram's method object, only needed to report an error.
        The URL is parsed once per method and the answer read as bytes (no charset
        sniffing): small costs, but paid twice per tap."""
        session = self.bot.session
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = URL(session.api.api_url(token=self.bot.token, method=name))
        try:
            http = await session.create_session()
            async with http.post(url, data=session.json_dumps(payload).encode(), headers=_JSON,
                                 timeout=aiohttp.ClientTimeout(total=session.timeout + extra_wait)) as resp:
                status, content = resp.status, await resp.read()
        except asyncio.TimeoutError as exc:
            raise TelegramNetworkError(method=method(), message="Request timeout error") from exc
        except aiohttp.ClientError as exc:
            raise TelegramNetworkError(method=method(), message=f"{type(exc).__name__}: {exc}") from exc
        if 200 <= status < 300:
            try:
                data = session.json_loads(content)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("ok") is True:
                return data.get("result")
        text = content.decode("utf-8", "replace")
        session.check_response(self.bot, method(), status, text)  # raises aiogram's error
        raise TelegramNetworkError(method=method(), message=f"unexpected answer {status}: {text[:200]}")

    async def call_raw(self, name: str, payload: dict, method: Callable[[], TelegramMethod]):  # noqa: ANN201
        """A Bot API call answered as plain JSON; aiogram's errors as for any call."""
        timeout = payload.get("timeout", 0)
        return await self._post(name, payload, method, extra_wait=timeout)

    async def _call(self, coro):  # noqa: ANN001, ANN202
        try:
            return await coro
        except TelegramRetryAfter as exc:
            raise classify(429, exc.message, exc.retry_after) from exc
        except TelegramNetworkError as exc:
            raise Transient(str(exc)) from exc
        except TelegramAPIError as exc:
            status = {"TelegramForbiddenError": 403, "TelegramBadRequest": 400, "TelegramNotFound": 404,
                      "TelegramUnauthorizedError": 401, "TelegramConflictError": 409}.get(type(exc).__name__)
            raise classify(status, exc.message) from exc

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard = ()) -> int:
        payload = {"chat_id": chat_id, "text": text, "parse_mode": _PARSE_MODE}
        if buttons:
            payload["reply_markup"] = _markup_json(buttons)
        result = await self._call(self._post("sendMessage", payload, lambda: SendMessage(
            chat_id=chat_id, text=text, reply_markup=_markup(buttons))))
        if not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
            raise Transient(f"sendMessage answered without a message id: {result!r}")
        return result["message_id"]

    async def edit_message(self, chat_id: int, message_id: int, text: str, buttons: Keyboard = ()) -> None:
        payload = {"chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": _PARSE_MODE}
        if buttons:
            payload["reply_markup"] = _markup_json(buttons)
        await self._call(self._post("editMessageText", payload, lambda: EditMessageText(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(buttons))))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        payload: dict = {"callback_query_id": callback_id}
        if text is not None:
            payload["text"] = text
        await self._call(self._post("answerCallbackQuery", payload, lambda: AnswerCallbackQuery(
            callback_query_id=callback_id, text=text)))

    async def send_photo(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        async def send(photo):  # noqa: ANN001, ANN202 — an upload or a file id
            return await self._call(self.bot.send_photo(chat_id, photo, caption=caption or None))

        async def upload() -> tuple[int, str | None]:
            m = await send(BufferedInputFile(data, filename))
            return m.message_id, m.photo[-1].file_id if m.photo else None

        return await self.uploads.send("photo", filename, data, upload, lambda file_id: _message_id(send(file_id)))

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        async def send(document):  # noqa: ANN001, ANN202 — an upload or a file id
            return await self._call(self.bot.send_document(chat_id, document, caption=caption or None))

        async def upload() -> tuple[int, str | None]:
            m = await send(BufferedInputFile(data, filename))
            return m.message_id, m.document.file_id if m.document else None

        return await self.uploads.send("document", filename, data, upload, lambda file_id: _message_id(send(file_id)))


async def _message_id(sent) -> int:  # noqa: ANN001
    return (await sent).message_id


def _lang(message: TgMessage | CallbackQuery) -> str | None:
    return message.from_user.language_code if message.from_user else None


async def on_start(message: TgMessage, command: CommandObject, event_update: Update,
                   service: Service, transport: AiogramTransport) -> None:
    await handle(service, transport, Incoming(message.chat.id, "start", event_update.update_id,
                                               text=command.args or "", language_code=_lang(message)))


async def on_text(message: TgMessage, event_update: Update, service: Service, transport: AiogramTransport) -> None:
    text = message.text or ""
    if text.startswith("/"):  # a command, never an opinion; the service routes it by name
        name, args = commands.parse(text)
        inc = Incoming(message.chat.id, "command", event_update.update_id, command=name, text=args,
                       language_code=_lang(message))
    else:
        inc = Incoming(message.chat.id, "text", event_update.update_id, text=text, language_code=_lang(message))
    await handle(service, transport, inc)


async def on_other(message: TgMessage, event_update: Update, service: Service, transport: AiogramTransport) -> None:
    # Stickers, photos, voice, documents …
    await handle(service, transport, Incoming(message.chat.id, "media", event_update.update_id,
                                               language_code=_lang(message)))


async def on_tap(query: CallbackQuery, event_update: Update, service: Service, transport: AiogramTransport) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    inc = Incoming(chat_id, "tap", event_update.update_id, data=query.data or "", language_code=_lang(query))
    await handle(service, transport, inc, callback_id=query.id)


async def on_blocked(event: ChatMemberUpdated, event_update: Update, service: Service,
                     transport: AiogramTransport) -> None:
    await handle(service, transport, Incoming(event.chat.id, "blocked", event_update.update_id))


async def on_elsewhere_command(message: TgMessage, transport: AiogramTransport) -> None:
    await elsewhere(transport, message.chat.id, _lang(message))


async def on_elsewhere_tap(query: CallbackQuery, transport: AiogramTransport) -> None:
    await elsewhere(transport, query.message.chat.id, _lang(query), callback_id=query.id)


_PRIVATE = F.chat.type == "private"


def make_router() -> Router:
    """The rater's router: private chats only; a new one per dispatcher (aiogram routers
    attach once)."""
    router = Router(name="rater")
    router.message.filter(_PRIVATE)
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.register(on_start, CommandStart())
    router.message.register(on_text, F.text)
    router.message.register(on_other)
    router.callback_query.register(on_tap)
    router.my_chat_member.register(on_blocked, _PRIVATE, ChatMemberUpdatedFilter(KICKED))
    return router


def make_elsewhere_router() -> Router:
    """Groups, supergroups, channels: a command or a button gets one short answer
    (evaluations are private); anything else is ignored. Nothing is stored."""
    router = Router(name="elsewhere")
    router.message.register(on_elsewhere_command, ~_PRIVATE, F.text.startswith("/"))
    router.callback_query.register(on_elsewhere_tap, F.message, F.message.chat.type != "private")
    return router


def make_dispatcher(service: Service, transport: AiogramTransport) -> Dispatcher:
    dp = Dispatcher(service=service, transport=transport, disable_fsm=True)  # no FSM: state is in the database
    dp.include_routers(make_router(), make_elsewhere_router())
    return dp


def _trimmed(update: dict) -> dict:
    """The message under a button press cut down to what the handlers read (its id,
    date and chat): validating its whole text, entities and keyboard was most of the
    cost of parsing a tap."""
    query = update.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        update = {**update, "callback_query": {**query, "message": {k: message[k] for k in _TAPPED if k in message}}}
    return update


def _plain(annotation: object) -> type | None:
    """int, bool or str for a field of that type (or optional); ``_UnixTime`` for a date;
    None for anything else (a nested object, a list …)."""
    args = [a for a in get_args(annotation) if a is not type(None)] if get_origin(annotation) in (Union, UnionType) \
        else [annotation]
    if len(args) != 1:
        return None
    kind = args[0]
    if get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if kind is datetime:
        return _UnixTime
    return kind if kind in (int, bool, str) else None


class _UnixTime:
    """A date as Telegram sends it: whole seconds since 1970 (up to 2106)."""


def _shape(model: type, only: tuple[str, ...] | None = None) -> tuple[dict[str, type | None], frozenset[str]]:
    """Of an aiogram type: its JSON keys -> ``_plain`` type, and the required keys."""
    kinds, required = {}, set()
    for name, field in model.model_fields.items():
        key = field.alias or name
        if only is None or key in only:
            kinds[key] = _plain(field.annotation)
            if field.is_required():
                required.add(key)
    return kinds, frozenset(required)


# What aiogram would accept of a tap, from its own models: the query, its sender, and the
# message under the button cut down to ``_TAPPED`` (``_trimmed``), with its chat.
# The nested objects (the sender, the message, its chat) are checked each as its own type.
_QUERY, _USER, _MESSAGE, _CHAT = (_shape(CallbackQuery), _shape(User), _shape(TgMessage, _TAPPED), _shape(Chat))
for _kinds, _nested in ((_QUERY[0], ("from", "message")), (_MESSAGE[0], ("chat",))):
    for _key in _nested:
        del _kinds[_key]


def _fits(obj: object, shape: tuple[dict[str, type | None], frozenset[str]], keys=None) -> bool:  # noqa: ANN001
    """``obj`` is a JSON object aiogram reads as this type: its required keys there, and
    each key of a plain type holding that type (unknown keys aiogram keeps as they are)."""
    if not isinstance(obj, dict):
        return False
    kinds, required = shape
    for key in obj if keys is None else keys:
        value = obj.get(key)
        if value is None or key not in kinds:
            continue
        kind = kinds[key]
        if kind is _UnixTime:
            if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32):
                return False
        elif kind is None or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return False  # a nested object or a type aiogram would coerce: aiogram decides
    return all(obj.get(key) is not None for key in required)


def private_tap(update: dict) -> tuple[Incoming, str] | None:
    """A well-formed button press in a private chat, read straight from Telegram's JSON:
    the event ``on_tap`` would build and the query's id. None for anything else (other
    updates, other chats, a field aiogram would refuse or coerce): those go through
    aiogram's dispatcher, which validates them. What counts as well-formed is read from
    aiogram's own types (``_QUERY`` …).

    Most of a campaign's updates are such taps; aiogram's pydantic ``Update`` and its
    router (middlewares, filters) cost about a tenth of the bot's CPU per tap
    (bench/throughput.py), for five fields."""
    query = update.get("callback_query")
    if len(update) != 2 or not _fits(update, _UPDATE_ID) or not _fits(query, _QUERY):
        return None  # an update carries one event: with another beside it, aiogram decides
    message, sender = query.get("message"), query["from"]
    if not (_fits(sender, _USER) and _fits(message, _MESSAGE, _TAPPED) and _fits(message["chat"], _CHAT)
            and message["chat"]["type"] == "private"):
        return None
    return (Incoming(message["chat"]["id"], "tap", update["update_id"], data=query.get("data") or "",
                     language_code=sender.get("language_code")), query["id"])


_UPDATE_ID = ({"update_id": int}, frozenset({"update_id"}))


def make_feed(dp: Dispatcher, bot: Bot, service: Service, transport: AiogramTransport):  # noqa: ANN201
    """Telegram's JSON of one update -> aiogram's dispatch (``bot/telegram/intake.py``);
    a private tap straight to ``on_tap``'s work (``private_tap``)."""
    async def feed(update: dict) -> None:
        if (tap := private_tap(update)) is not None:
            await handle(service, transport, tap[0], callback_id=tap[1])
            return
        await dp.feed_update(bot, Update.model_validate(_trimmed(update), context={"bot": bot}))

    return feed


def make_fetch(transport: AiogramTransport):  # noqa: ANN201
    """One getUpdates call, answered as Telegram's JSON (parsed per update by ``feed``)."""
    async def fetch(offset: int | None, timeout: int) -> list[dict]:
        payload = {"timeout": timeout, "limit": 100, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            payload["offset"] = offset
        result = await transport.call_raw("getUpdates", payload, lambda: GetUpdates(**payload))
        return [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]

    return fetch


async def set_commands(bot: Bot) -> None:
    for locale, listing in commands.LISTINGS.items():
        items = [BotCommand(command=c, description=d) for c, d in listing]
        await bot.set_my_commands(items, language_code=locale)
        if locale == commands.DEFAULT:
            await bot.set_my_commands(items)


ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
