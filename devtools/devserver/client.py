"""User-side handles: act as a Telegram user and look at what the bot sent.

All methods are thread-safe.  The blocking ``wait_for`` must not be called from a
thread that runs an event loop (it would stall the bot or the server); use
``await wait_for_async(...)`` there.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Union

from .htmltext import utf16_len
from .state import State, StoredMessage

if TYPE_CHECKING:
    from .server import BotAPIServer

__all__ = ["UserHandle", "MessageView", "FileInfo", "message_view", "transcript"]

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=$|\s)")
# 1x1 transparent PNG, the bytes behind photos that users "send"
_PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

Predicate = Union[str, Callable[["MessageView"], bool], None]


@dataclass(frozen=True)
class FileInfo:
    file_id: str
    file_unique_id: str
    filename: str | None
    mime_type: str | None
    size: int | None
    data: bytes | None  # None when sent by file_id-of-URL or by a user
    url: str | None = None


@dataclass(frozen=True)
class MessageView:
    """A snapshot of one message in a chat (bot's or user's)."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    kind: str  # text | photo | document | sticker | voice | contact | location
    text: str | None  # visible text; for media the visible caption
    html: str | None  # the HTML source when sent with parse_mode=HTML, else the text
    entities: list[dict]
    caption: str | None
    buttons: list[list[tuple[str, str | None]]]  # inline keyboard rows of (label, callback_data)
    reply_keyboard: list[list[str]] | None  # labels of a reply keyboard sent with this message
    photo: FileInfo | None
    document: FileInfo | None
    edited: bool
    edit_count: int
    deleted: bool
    reply_to_message_id: int | None
    raw: dict = field(repr=False)

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    def button_data(self, label: str) -> str | None:
        for row in self.buttons:
            for lab, data in row:
                if lab == label:
                    return data
        raise KeyError(label)

    def line(self) -> str:
        who = "bot " if self.from_bot else "user"
        body = self.text if self.text is not None else f"<{self.kind}>"
        if self.kind not in ("text",) and self.text is not None:
            body = f"<{self.kind}> {body}"
        flags = []
        if self.edit_count:
            flags.append(f"edited {self.edit_count}x")
        if self.deleted:
            flags.append("deleted")
        s = f"[{self.message_id}] {who}: {body}"
        if self.buttons:
            s += "  " + " | ".join("[" + ", ".join(label for label, _ in row) + "]" for row in self.buttons)
        if self.reply_keyboard:
            s += "  keyboard: " + " | ".join(", ".join(row) for row in self.reply_keyboard)
        if flags:
            s += f"  ({', '.join(flags)})"
        return s


def _file_info(msg: StoredMessage) -> FileInfo | None:
    f = msg.file
    if f is None:
        return None
    return FileInfo(f.file_id, f.file_unique_id, f.filename, f.mime_type, f.size, f.data, f.url)


def message_view(state: State, msg: StoredMessage) -> MessageView:
    with state.lock:
        buttons = []
        if msg.reply_markup:
            for row in msg.reply_markup.get("inline_keyboard", []):
                buttons.append([(b.get("text", ""), b.get("callback_data")) for b in row])
        reply_kb = None
        if msg.reply_keyboard and "keyboard" in msg.reply_keyboard:
            reply_kb = [[b.get("text", "") for b in row] for row in msg.reply_keyboard["keyboard"]]
        visible = msg.text if msg.text is not None else msg.caption
        return MessageView(
            chat_id=msg.chat_id, message_id=msg.message_id, date=msg.date, from_bot=msg.from_bot,
            kind=msg.kind, text=visible, html=msg.source if msg.source is not None else visible,
            entities=[dict(e) for e in msg.entities], caption=msg.caption, buttons=buttons,
            reply_keyboard=reply_kb,
            photo=_file_info(msg) if msg.kind == "photo" else None,
            document=_file_info(msg) if msg.kind == "document" else None,
            edited=msg.edit_count > 0, edit_count=msg.edit_count, deleted=msg.deleted,
            reply_to_message_id=msg.reply_to_message_id, raw=state.message_api(msg))


def transcript(state: State, chat_id: int) -> str:
    with state.lock:
        chat = state.chats.get(chat_id)
        if chat is None:
            return f"(no chat {chat_id})"
        lines = [message_view(state, m).line() for m in chat.messages.values()]
    return "\n".join(lines) if lines else "(empty chat)"


def _predicate(pred: Predicate) -> Callable[[MessageView], bool]:
    if pred is None:
        return lambda m: True
    if isinstance(pred, str):
        needle = pred
        return lambda m: m.text is not None and needle in m.text
    return pred


class UserHandle:
    """Acts as one Telegram user in their private chat with the bot."""

    def __init__(self, server: "BotAPIServer", user_id: int) -> None:
        self.server = server
        self.id = user_id
        self.chat_id = user_id

    def __repr__(self) -> str:
        return f"<UserHandle {self.id}>"

    @property
    def _state(self) -> State:
        return self.server.state

    def _user_api(self) -> dict:
        return self._state.users[self.id].to_api()

    # ------------------------------------------------------------------ sending
    def _post(self, kind: str, **fields: Any) -> int:
        """Store a user message and queue the 'message' update; returns message_id."""
        st = self._state
        with st.lock:
            chat = st.chats[self.chat_id]
            msg = st.new_message(chat, from_bot=False, sender=self._user_api(), kind=kind, **fields)
            st.enqueue({"message": st.message_api(msg)})
            return msg.message_id

    def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message; a leading /command gets a bot_command entity."""
        entities = []
        m = _COMMAND.match(text)
        if m:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
        return self._post("text", text=text, entities=entities, reply_to_message_id=reply_to)

    def send_sticker(self, emoji: str = "👍") -> int:
        f = self._state.new_file("sticker", mime_type="image/webp", size=1024, width=512, height=512)
        media = {"sticker": {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "type": "regular",
                             "width": 512, "height": 512, "is_animated": False, "is_video": False,
                             "emoji": emoji, "file_size": 1024}}
        return self._post("sticker", media=media, file=f)

    def send_photo(self, caption: str | None = None, *, width: int = 1, height: int = 1) -> int:
        f = self._state.new_file("photo", filename="photo.png", data=_PNG_1X1, mime_type="image/png",
                                 size=len(_PNG_1X1), width=width, height=height)
        media = {"photo": [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": width,
                            "height": height, "file_size": len(_PNG_1X1)}]}
        return self._post("photo", media=media, file=f, caption=caption)

    def send_voice(self, duration: int = 3) -> int:
        f = self._state.new_file("voice", mime_type="audio/ogg", size=4096)
        media = {"voice": {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "duration": duration,
                           "mime_type": "audio/ogg", "file_size": 4096}}
        return self._post("voice", media=media, file=f)

    def send_contact(self, phone_number: str = "+8613800000000", *, own: bool = True) -> int:
        """Share a contact (own=True: the user's own, as a request_contact button does)."""
        user = self._state.users[self.id]
        contact = {"phone_number": phone_number, "first_name": user.first_name}
        if own:
            contact["user_id"] = self.id
        return self._post("contact", media={"contact": contact})

    def send_location(self, latitude: float = 39.9042, longitude: float = 116.4074) -> int:
        return self._post("location", media={"location": {"latitude": latitude, "longitude": longitude}})

    # ------------------------------------------------------------------ buttons
    def _find_keyboard_message(self, message_id: int | None) -> StoredMessage | None:
        chat = self._state.chats[self.chat_id]
        if message_id is not None:
            msg = chat.messages.get(message_id)
            if msg is None or msg.deleted:
                raise LookupError(f"user {self.id}: no message {message_id} in the chat\n"
                                  + transcript(self._state, self.chat_id))
            return msg
        for msg in reversed(list(chat.messages.values())):
            if msg.from_bot and not msg.deleted and msg.reply_markup and msg.reply_markup.get("inline_keyboard"):
                return msg
        return None

    def tap(self, label: str, message_id: int | None = None) -> str:
        """Press the inline button `label` on the last message that has an inline keyboard
        (or on message_id); falls back to a reply-keyboard button (sent as text).
        Returns the callback query id (or "" for a reply-keyboard button)."""
        st = self._state
        with st.lock:
            chat = st.chats[self.chat_id]
            msg = self._find_keyboard_message(message_id)
            if msg is not None and msg.reply_markup:
                for row in msg.reply_markup.get("inline_keyboard", []):
                    for b in row:
                        if b.get("text") == label:
                            if "callback_data" not in b:
                                raise LookupError(f"button {label!r} has no callback_data: {b}")
                            return self._callback(msg.message_id, b["callback_data"], st.message_api(msg))
            if message_id is None and chat.reply_keyboard:
                for row in chat.reply_keyboard.get("keyboard", []):
                    for b in row:
                        if b.get("text") == label:
                            if b.get("request_contact"):
                                self.send_contact()
                            else:
                                self.send(label)
                            return ""
            available = []
            if msg is not None and msg.reply_markup:
                available = [b.get("text") for row in msg.reply_markup["inline_keyboard"] for b in row]
            kb = [b.get("text") for row in (chat.reply_keyboard or {}).get("keyboard", []) for b in row]
            where = f"message {msg.message_id}" if msg is not None else "no message with an inline keyboard"
            raise LookupError(
                f"user {self.id}: no button {label!r} ({where}; inline buttons: {available}"
                + (f"; reply keyboard: {kb}" if kb else "") + ")\n" + transcript(st, self.chat_id))

    def tap_data(self, message_id: int, data: str) -> str:
        """Send a callback query with arbitrary data (forged or stale taps)."""
        st = self._state
        with st.lock:
            chat = st.chats[self.chat_id]
            msg = chat.messages.get(message_id)
            if msg is None or msg.deleted:
                message = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
            else:
                message = st.message_api(msg)
            return self._callback(message_id, data, message)

    def _callback(self, message_id: int, data: str, message: dict) -> str:
        st = self._state
        chat = st.chats[self.chat_id]
        q = st.new_callback_query(self.id, self.chat_id, message_id, data)
        st.enqueue({"callback_query": {"id": q.id, "from": self._user_api(), "message": message,
                                       "chat_instance": chat.chat_instance, "data": data}})
        return q.id

    def open_web_app(self, label: str | None = None, *, auth_date: int | None = None) -> str:
        """Press a Mini App (``web_app``) button, ``label`` or the newest one in the chat:
        the URL Telegram would open, with this user's signed launch data in its fragment."""
        from .webapp import launch_url

        st = self._state
        with st.lock:
            for msg in reversed(list(st.chats[self.chat_id].messages.values())):
                if not msg.from_bot or msg.deleted or not msg.reply_markup:
                    continue
                for row in msg.reply_markup.get("inline_keyboard", []):
                    for b in row:
                        if "web_app" in b and (label is None or b.get("text") == label):
                            url = b["web_app"]["url"]
                            break
                    else:
                        continue
                    break
                else:
                    continue
                break
            else:
                raise LookupError(f"user {self.id}: no Mini App button {label or ''!r}\n"
                                  + transcript(st, self.chat_id))
        return launch_url(url, self.server.web_app_init_data(self.id, auth_date=auth_date))

    def answers(self) -> list:
        """answerCallbackQuery calls for this user's taps."""
        return [a for a in self.server.callback_answers if a.user_id == self.id]

    # ------------------------------------------------------------------ looking
    def messages(self, *, include_deleted: bool = True, include_own: bool = False) -> list[MessageView]:
        """What the bot sent to this chat, oldest first."""
        st = self._state
        with st.lock:
            chat = st.chats[self.chat_id]
            return [message_view(st, m) for m in chat.messages.values()
                    if (m.from_bot or include_own) and (include_deleted or not m.deleted)]

    def last(self) -> MessageView | None:
        """The bot's most recent message that is not deleted."""
        msgs = self.messages(include_deleted=False)
        return msgs[-1] if msgs else None

    def transcript(self) -> str:
        return transcript(self._state, self.chat_id)

    def block(self) -> None:
        """Block the bot: its messages fail with 403, and it gets a ``my_chat_member``
        update (status ``kicked``), as on Telegram."""
        with self._state.lock:
            self._state.chats[self.chat_id].blocked = True
            self._member_update("member", "kicked")

    def unblock(self) -> None:
        with self._state.lock:
            self._state.chats[self.chat_id].blocked = False
            self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        st = self._state
        bot = st.bot_user
        chat = st.chats[self.chat_id]
        member = {"user": bot, "status": new}
        if new == "kicked":
            member["until_date"] = 0
        st.enqueue({"my_chat_member": {
            "chat": chat.to_api(), "from": self._user_api(), "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": old}, "new_chat_member": member}})

    @property
    def blocked(self) -> bool:
        return self._state.chats[self.chat_id].blocked

    def set_language(self, language_code: str | None) -> None:
        with self._state.lock:
            self._state.users[self.id].language_code = language_code

    # ------------------------------------------------------------------ waiting
    def _match(self, pred: Callable[[MessageView], bool], since: int | None) -> MessageView | None:
        st = self._state
        chat = st.chats[self.chat_id]
        for m in chat.messages.values():
            if m.from_bot and (since is None or m.rev > since):
                view = message_view(st, m)
                if pred(view):
                    return view
        return None

    def wait_for(self, predicate: Predicate = None, timeout: float = 5.0, *, new: bool = False) -> MessageView:
        """Block until a bot message in this chat satisfies predicate (a callable on
        MessageView, a substring of the text, or None for any).  new=True: only
        messages sent or changed after this call.  TimeoutError shows the transcript."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("wait_for() blocks; inside an event loop use await wait_for_async()")
        pred = _predicate(predicate)
        st = self._state
        deadline = time.monotonic() + timeout
        with st.changed:
            since = st.version if new else None
            while True:
                found = self._match(pred, since)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_text(predicate, timeout))
                st.changed.wait(min(remaining, 0.5))

    async def wait_for_async(self, predicate: Predicate = None, timeout: float = 5.0, *,
                             new: bool = False) -> MessageView:
        pred = _predicate(predicate)
        st = self._state
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        with st.lock:
            since = st.version if new else None
        while True:
            waiter = (loop, asyncio.Event())
            with st.lock:
                found = self._match(pred, since)
                if found is None:  # woken by State.bump on the next change in this chat
                    st.async_waiters.setdefault(self.chat_id, []).append(waiter)
            if found is not None:
                return found
            try:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_text(predicate, timeout))
                try:
                    await asyncio.wait_for(waiter[1].wait(), min(remaining, 0.5))
                except asyncio.TimeoutError:
                    pass
            finally:
                with st.lock:
                    waiting = st.async_waiters.get(self.chat_id, [])
                    if waiter in waiting:
                        waiting.remove(waiter)
                    if not waiting:
                        st.async_waiters.pop(self.chat_id, None)

    def _timeout_text(self, predicate: Predicate, timeout: float) -> str:
        what = repr(predicate) if isinstance(predicate, str) else getattr(predicate, "__name__", "predicate")
        return (f"user {self.id}: no bot message matching {what} within {timeout}s; chat:\n"
                + self.transcript())
