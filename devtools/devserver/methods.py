"""The Bot API methods (all but getUpdates, which lives in server.py because it waits).

Each method takes the request parameters (already merged from query string and body;
values from form bodies are strings, from JSON bodies typed) plus uploaded files, and
returns the ``result`` or raises :class:`ApiError` with Telegram's error code and text.
Methods run under ``State.lock``.
"""

from __future__ import annotations

import json
import mimetypes
import re
import functools
import time
from typing import Any, Callable

from .htmltext import EntityParseError, parse_html, trim_text, utf16_len
from .params import ApiError, Upload, bad, get_bool, get_int, get_json, get_str, image_size
from .ratelimit import RateLimiter
from .state import _copy, CallbackAnswer, ChatRecord, State, StoredFile, StoredMessage, WebhookConfig

__all__ = ["ApiError", "Upload", "BotApi", "NOT_MODIFIED"]

NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024
_ACTION_FIELDS = ("callback_data", "url", "login_url", "switch_inline_query",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                  "callback_game", "pay", "web_app", "copy_text")
_CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                           "upload_voice", "upload_document", "choose_sticker", "find_location",
                           "record_video_note", "upload_video_note"})
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")



@functools.lru_cache(maxsize=4096)
def _parse_html_once(raw: str) -> tuple[str, list[dict]]:
    return parse_html(raw)  # never handed out as is: _parse_html copies


def _parse_html(raw: str) -> tuple[str, list[dict]]:
    """``parse_html``, remembered: a bot sends the same few card texts again and again,
    and parsing them was a large part of the dev server's cost under load. Fresh entity
    dicts each time (callers store them)."""
    text, entities = _parse_html_once(raw)
    return text, _copy(entities)

class BotApi:
    def __init__(self, state: State, limiter: RateLimiter, *, check_photo_bytes: bool = True,
                 callback_query_ttl: float | None = None) -> None:
        self.state = state
        self.limiter = limiter
        self.check_photo_bytes = check_photo_bytes
        self.callback_query_ttl = callback_query_ttl
        self.methods: dict[str, Callable[[dict, dict[str, Upload]], Any]] = {}
        for name in ("getMe", "logOut", "close", "setWebhook", "deleteWebhook", "getWebhookInfo",
                     "sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
                     "editMessageReplyMarkup", "deleteMessage", "deleteMessages", "answerCallbackQuery",
                     "sendChatAction", "setMyCommands", "getMyCommands", "deleteMyCommands", "getChat",
                     "getFile", "setMyDescription", "setMyShortDescription", "setMyName",
                     "setChatMenuButton"):
            self.methods[name.lower()] = getattr(self, "m_" + name)
        self.canonical = {name.lower(): name for name in
                          [f.__name__[2:] for f in self.methods.values()] + ["getUpdates"]}

    # ------------------------------------------------------------------ common checks
    def _chat(self, p: dict, *, for_send: bool = True) -> ChatRecord:
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        chat = None
        try:
            chat = self.state.chats.get(int(raw))
        except (TypeError, ValueError):
            name = str(raw).lstrip("@").lower()
            for c in self.state.chats.values():
                if c.user is not None and (c.user.username or "").lower() == name:
                    chat = c
        if chat is None:
            raise bad("chat not found")
        return chat

    def _not_blocked(self, chat: ChatRecord) -> None:
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _rate(self, chat: ChatRecord, kind: str = "send") -> None:
        retry = self.limiter.acquire(chat.id, kind)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def _formatted(self, p: dict, text_key: str, entities_key: str, *, limit: int,
                   empty_error: str | None, long_error: str) -> tuple[str, list[dict], str | None, str | None]:
        """(visible text, entities, HTML source or None, parse_mode)."""
        raw = p.get(text_key)
        raw = "" if raw is None else (raw if isinstance(raw, str) else str(raw))
        entities = get_json(p, entities_key, f"can't parse {entities_key} JSON object")
        parse_mode = get_str(p, "parse_mode") or None
        source = None
        if entities:
            if not isinstance(entities, list):
                raise bad(f"can't parse {entities_key} JSON object")
            text = raw
            for e in entities:
                if (not isinstance(e, dict) or "type" not in e or "offset" not in e or "length" not in e):
                    raise bad(f"can't parse {entities_key} JSON object")
                if int(e["offset"]) < 0 or int(e["offset"]) + int(e["length"]) > utf16_len(text):
                    raise bad("entity beyond the end of the text")
            entities = [dict(e) for e in entities]
        elif parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    text, entities = _parse_html(raw)
                except EntityParseError as exc:
                    raise bad(f"can't parse entities: {exc}") from None
                source = raw
            elif mode in ("markdown", "markdownv2"):
                text, entities = raw, []  # not parsed by the dev server; stored as sent
            else:
                raise bad("unsupported parse_mode")
        else:
            text, entities = raw, []
        text, entities = trim_text(text, entities)
        if not text and empty_error:
            raise bad(empty_error)
        if len(text) > limit:
            raise bad(long_error)
        return text, entities, source, parse_mode

    def _markup(self, p: dict) -> dict | None:
        if p.get("reply_markup") in (None, ""):
            return None
        err = "can't parse reply keyboard markup JSON object"
        m = get_json(p, "reply_markup", err)
        if m is None:
            return None
        if not isinstance(m, dict):
            raise bad(err)
        if "inline_keyboard" in m:
            rows = m["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
            norm_rows = []
            for row in rows:
                norm = []
                for b in row:
                    if not isinstance(b, dict):
                        raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                    if not isinstance(b.get("text"), str):
                        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                    button = {k: v for k, v in b.items() if v is not None and v != ""}
                    button["text"] = b["text"]
                    actions = [k for k in _ACTION_FIELDS if k in button]
                    if not actions:
                        raise bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                    if "callback_data" in button:
                        data = button["callback_data"]
                        if not isinstance(data, str):
                            data = button["callback_data"] = str(data)
                        if not 1 <= len(data.encode("utf-8")) <= 64:
                            raise bad("BUTTON_DATA_INVALID")
                    norm.append(button)
                norm_rows.append(norm)
            return {"inline_keyboard": norm_rows}
        if "keyboard" in m:
            rows = m["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
            norm = [[({"text": b} if isinstance(b, str) else dict(b)) for b in row] for row in rows]
            return {**m, "keyboard": norm}
        if m.get("remove_keyboard") or m.get("force_reply"):
            return dict(m)
        raise bad(err)

    def _inline_only(self, markup: dict | None) -> dict | None:
        return markup if markup and "inline_keyboard" in markup else None

    def _remember_keyboard(self, chat: ChatRecord, markup: dict | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _reply_to(self, p: dict) -> int | None:
        rp = get_json(p, "reply_parameters")
        if isinstance(rp, dict) and rp.get("message_id") is not None:
            return int(rp["message_id"])
        return get_int(p, "reply_to_message_id")

    def _bot_message(self, chat: ChatRecord, p: dict, *, kind: str, text=None, caption=None,
                     entities=(), source=None, parse_mode=None, markup=None, media=None,
                     file: StoredFile | None = None) -> dict:
        self._remember_keyboard(chat, markup)
        msg = self.state.new_message(
            chat, from_bot=True, sender=self.state.bot_user, kind=kind, text=text, caption=caption,
            entities=list(entities), source=source, parse_mode=parse_mode,
            reply_markup=self._inline_only(markup),
            reply_keyboard=None if self._inline_only(markup) else markup, media=media or {}, file=file,
            reply_to_message_id=self._reply_to(p))
        return self.state.message_api(msg)

    def _target(self, p: dict, missing: str) -> tuple[ChatRecord, StoredMessage]:
        if p.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        chat = self._chat(p)
        mid = get_int(p, "message_id")
        if mid is None:
            raise bad("message identifier is not specified")
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad(missing)
        return chat, msg

    # ------------------------------------------------------------------ bot & session
    def m_getMe(self, p, files):
        return dict(self.state.bot_user, can_join_groups=True, can_read_all_group_messages=False,
                    supports_inline_queries=False, can_connect_to_business=False,
                    has_main_web_app=False)

    def m_logOut(self, p, files):
        return True

    def m_close(self, p, files):
        return True

    def m_setWebhook(self, p, files):
        url = (get_str(p, "url") or "").strip()
        if not url:
            return self.m_deleteWebhook(p, files)
        if not url.lower().startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = get_str(p, "secret_token")
        if secret is not None and (not 1 <= len(secret) <= 256 or not re.fullmatch(r"[A-Za-z0-9_-]+", secret)):
            raise bad("secret token contains unallowed characters")
        allowed = get_json(p, "allowed_updates")
        if get_bool(p, "drop_pending_updates"):
            self.state.drop_all()
        if allowed is not None:
            self.state.allowed_updates = [str(a) for a in allowed] or None
        self.state.set_webhook(WebhookConfig(
            url=url, secret_token=secret or None, max_connections=get_int(p, "max_connections", 40) or 40,
            allowed_updates=self.state.allowed_updates, ip_address=get_str(p, "ip_address")))
        return True

    def m_deleteWebhook(self, p, files):
        if get_bool(p, "drop_pending_updates"):
            self.state.drop_all()
        self.state.set_webhook(None)
        return True

    def m_getWebhookInfo(self, p, files):
        wh = self.state.webhook
        info: dict[str, Any] = {"url": wh.url if wh else "", "has_custom_certificate": False,
                                "pending_update_count": self.state.pending_count()}
        if wh:
            info["max_connections"] = wh.max_connections
            info["ip_address"] = wh.ip_address or "127.0.0.1"
            if wh.allowed_updates:
                info["allowed_updates"] = list(wh.allowed_updates)
            if wh.last_error_date:
                info["last_error_date"] = wh.last_error_date
                info["last_error_message"] = wh.last_error_message or ""
        return info

    # ------------------------------------------------------------------ sending
    def m_sendMessage(self, p, files):
        chat = self._chat(p)
        text, entities, source, mode = self._formatted(
            p, "text", "entities", limit=TEXT_LIMIT, empty_error="message text is empty",
            long_error="message is too long")
        markup = self._markup(p)
        self._not_blocked(chat)
        self._rate(chat)
        return self._bot_message(chat, p, kind="text", text=text, entities=entities, source=source,
                                 parse_mode=mode, markup=markup)

    def _input_file(self, p: dict, files: dict[str, Upload], key: str, kind: str) -> StoredFile:
        value = p.get(key)
        upload = files.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://"):])
            if upload is None:
                raise bad(f"there is no {kind} in the request")
        if upload is not None:
            data = upload.data
            if not data:
                raise bad("file must be non-empty")
            if kind == "photo":
                if len(data) > PHOTO_LIMIT:
                    raise bad("PHOTO_INVALID_DIMENSIONS")
                dims = image_size(data)
                if dims is None and self.check_photo_bytes:
                    raise bad("IMAGE_PROCESS_FAILED")
                w, h = dims or (800, 600)
                return self.state.new_file("photo", filename=upload.filename, data=data,
                                           mime_type=upload.content_type or "image/jpeg",
                                           size=len(data), width=w, height=h)
            if len(data) > DOCUMENT_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            name = upload.filename or "file"
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return self.state.new_file(kind, filename=name, data=data, mime_type=mime, size=len(data))
        if not isinstance(value, str) or not value.strip():
            raise bad(f"there is no {kind} in the request")
        value = value.strip()
        known = self.state.files.get(value)
        if known is not None:
            if known.kind != kind:
                raise bad(f"can't use file of type {known.kind.capitalize()} as {kind.capitalize()}")
            return known
        if value.lower().startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or "file"
            return self.state.new_file(kind, filename=name, url=value,
                                       mime_type=mimetypes.guess_type(name)[0], width=800, height=600)
        raise bad("wrong file identifier/HTTP URL specified")

    def _caption(self, p: dict):
        if p.get("caption") in (None, ""):
            return None, [], None, get_str(p, "parse_mode")
        return self._formatted(p, "caption", "caption_entities", limit=CAPTION_LIMIT, empty_error=None,
                               long_error="message caption is too long")

    def m_sendPhoto(self, p, files):
        chat = self._chat(p)
        caption, entities, source, mode = self._caption(p)
        markup = self._markup(p)
        f = self._input_file(p, files, "photo", "photo")
        self._not_blocked(chat)
        self._rate(chat)
        media = {"photo": [{"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                            "width": f.width or 800, "height": f.height or 600,
                            **({"file_size": f.size} if f.size else {})}]}
        return self._bot_message(chat, p, kind="photo", caption=caption or None, entities=entities,
                                 source=source, parse_mode=mode, markup=markup, media=media, file=f)

    def m_sendDocument(self, p, files):
        chat = self._chat(p)
        caption, entities, source, mode = self._caption(p)
        markup = self._markup(p)
        f = self._input_file(p, files, "document", "document")
        self._not_blocked(chat)
        self._rate(chat)
        doc = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.filename:
            doc["file_name"] = f.filename
        if f.mime_type:
            doc["mime_type"] = f.mime_type
        if f.size:
            doc["file_size"] = f.size
        return self._bot_message(chat, p, kind="document", caption=caption or None, entities=entities,
                                 source=source, parse_mode=mode, markup=markup, media={"document": doc}, file=f)

    # ------------------------------------------------------------------ editing
    def _apply_edit(self, chat: ChatRecord, msg: StoredMessage, compare: dict, extra: dict | None = None) -> dict:
        """Telegram compares content and markup; extra (HTML source etc.) follows along."""
        if all(getattr(msg, k) == v for k, v in compare.items()):
            raise bad(NOT_MODIFIED[len("Bad Request: "):])
        self._not_blocked(chat)
        self._rate(chat, "edit")
        for k, v in {**compare, **(extra or {})}.items():
            setattr(msg, k, v)
        msg.edit_date = int(time.time())
        msg.edit_count += 1
        self.state.bump(msg, "edit")
        return self.state.message_api(msg)

    def m_editMessageText(self, p, files):
        chat, msg = self._target(p, "message to edit not found")
        text, entities, source, mode = self._formatted(
            p, "text", "entities", limit=TEXT_LIMIT, empty_error="message text is empty",
            long_error="message is too long")
        markup = self._inline_only(self._markup(p))
        if not msg.from_bot:
            raise bad("message can't be edited")
        if msg.text is None:
            raise bad("there is no text in the message to edit")
        return self._apply_edit(chat, msg, {"text": text, "entities": entities, "reply_markup": markup},
                                {"source": source, "parse_mode": mode})

    def m_editMessageCaption(self, p, files):
        chat, msg = self._target(p, "message to edit not found")
        caption, entities, source, mode = self._caption(p)
        markup = self._inline_only(self._markup(p))
        if not msg.from_bot:
            raise bad("message can't be edited")
        if msg.kind == "text":
            raise bad("there is no caption in the message to edit")
        return self._apply_edit(chat, msg, {"caption": caption or None, "entities": entities,
                                            "reply_markup": markup},
                                {"source": source, "parse_mode": mode})

    def m_editMessageReplyMarkup(self, p, files):
        chat, msg = self._target(p, "message to edit not found")
        markup = self._inline_only(self._markup(p))
        if not msg.from_bot:
            raise bad("message can't be edited")
        return self._apply_edit(chat, msg, {"reply_markup": markup})

    def m_deleteMessage(self, p, files):
        chat, msg = self._target(p, "message to delete not found")
        msg.deleted = True
        self.state.bump(msg, "delete")
        return True

    def m_deleteMessages(self, p, files):
        chat = self._chat(p)
        ids = get_json(p, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message identifiers are not specified")
        for mid in ids:
            msg = chat.messages.get(int(mid))
            if msg is not None and not msg.deleted:
                msg.deleted = True
                self.state.bump(msg, "delete")
        return True

    # ------------------------------------------------------------------ callbacks & misc
    def m_answerCallbackQuery(self, p, files):
        qid = get_str(p, "callback_query_id") or ""
        q = self.state.callback_queries.get(qid)
        if q is None:
            raise bad(QUERY_TOO_OLD[len("Bad Request: "):])
        if self.callback_query_ttl is not None and time.monotonic() - q.created > self.callback_query_ttl:
            del self.state.callback_queries[qid]
            raise bad(QUERY_TOO_OLD[len("Bad Request: "):])
        text = get_str(p, "text")
        if text is not None and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        del self.state.callback_queries[qid]
        self.state.callback_answers.append(CallbackAnswer(
            query_id=qid, text=text, show_alert=get_bool(p, "show_alert"), url=get_str(p, "url"),
            cache_time=get_int(p, "cache_time", 0) or 0, user_id=q.user_id, chat_id=q.chat_id,
            message_id=q.message_id, data=q.data, at=time.time()))
        self.state.bump(None, chat_id=q.chat_id)
        return True

    def m_sendChatAction(self, p, files):
        chat = self._chat(p)
        if get_str(p, "action") not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self._not_blocked(chat)
        return True

    @staticmethod
    def _scope_key(p: dict) -> tuple[str, str]:
        scope = get_json(p, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), get_str(p, "language_code") or ""

    def m_setMyCommands(self, p, files):
        commands = get_json(p, "commands", "can't parse commands JSON object")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("can't parse commands JSON object")
        clean = []
        for c in commands:
            if not isinstance(c, dict):
                raise bad("can't parse commands JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _COMMAND_RE.match(name):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        self.state.commands[self._scope_key(p)] = clean
        return True

    def m_getMyCommands(self, p, files):
        return [dict(c) for c in self.state.commands.get(self._scope_key(p), [])]

    def m_deleteMyCommands(self, p, files):
        self.state.commands.pop(self._scope_key(p), None)
        return True

    def _setting(self, name: str, p: dict) -> bool:
        self.state.settings[(name, get_str(p, "language_code") or "")] = dict(p)
        return True

    def m_setMyDescription(self, p, files):
        return self._setting("description", p)

    def m_setMyShortDescription(self, p, files):
        return self._setting("short_description", p)

    def m_setMyName(self, p, files):
        return self._setting("name", p)

    def m_setChatMenuButton(self, p, files):
        return self._setting("menu_button", p)

    def m_getChat(self, p, files):
        chat = self._chat(p)
        d = chat.to_api()
        d.update(accent_color_id=0, max_reaction_count=11,
                 accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False,
                                      "unique_gifts": False, "premium_subscription": False,
                                      "gifts_from_channels": False})
        return d

    def m_getFile(self, p, files):
        fid = get_str(p, "file_id") or ""
        f = self.state.files.get(fid)
        if f is None:
            raise bad("invalid file_id")
        d: dict[str, Any] = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.size:
            d["file_size"] = f.size
        if f.data is not None:
            d["file_path"] = f.file_path
        return d
