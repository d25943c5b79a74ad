"""In-memory world of the dev server: users, chats, messages, files, the update queue.

Everything is guarded by ``State.lock`` (an RLock); ``State.changed`` is a condition on
that lock, notified whenever the bot changes a chat (send, edit, delete) so user-side
code can wait for replies from any thread.  ``State.on_queue_change`` is called (under
the lock) whenever the update queue or webhook changes; the server uses it to wake
long polls and the webhook sender in its event loop.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

_ATOMS = (str, int, float, bool, type(None))


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, atoms); several times cheaper than
    ``copy.deepcopy``, which the dev server called for every message it showed."""
    if isinstance(value, dict):
        return {k: v if isinstance(v, _ATOMS) else _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if isinstance(v, _ATOMS) else _copy(v) for v in value]
    if isinstance(value, _ATOMS):
        return value
    return copy.deepcopy(value)

__all__ = [
    "UserRecord", "ChatRecord", "StoredFile", "StoredMessage", "QueuedUpdate",
    "CallbackQueryRecord", "CallbackAnswer", "CallRecord", "WebhookConfig", "State", "chat_of_update",
    "update_type",
]

UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)
# Delivered by default only when asked for explicitly (Bot API docs of allowed_updates).
OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def chat_of_update(update: dict) -> int | None:
    """The chat an update is about (None if it has none)."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict):
                return chat.get("id")
            sender = value.get("from")
            if isinstance(sender, dict):
                return sender.get("id")
    return None


def update_type(update: dict) -> str | None:
    for key in update:
        if key != "update_id":
            return key
    return None


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | sticker | voice
    filename: str | None = None
    mime_type: str | None = None
    data: bytes | None = None
    url: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None

    @property
    def file_path(self) -> str:
        return f"{self.kind}s/{self.file_unique_id}_{self.filename or 'file'}"


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender: dict
    kind: str = "text"  # text | photo | document | sticker | voice | contact | location
    text: str | None = None
    entities: list[dict] = field(default_factory=list)
    caption: str | None = None
    source: str | None = None  # HTML source of text / caption when parse_mode was HTML
    parse_mode: str | None = None
    reply_markup: dict | None = None  # inline keyboard only
    reply_keyboard: dict | None = None  # keyboard / remove_keyboard / force_reply sent with it
    media: dict = field(default_factory=dict)  # e.g. {"photo": [...]}
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False
    rev: int = 0  # State.version when last changed

    def to_api(self, chat: dict) -> dict:
        d: dict[str, Any] = {"message_id": self.message_id, "from": self.sender,
                             "chat": chat, "date": self.date}
        if self.edit_date is not None:
            d["edit_date"] = self.edit_date
        if self.text is not None:
            d["text"] = self.text
            if self.entities:
                d["entities"] = _copy(self.entities)
        d.update(_copy(self.media))
        if self.caption is not None:
            d["caption"] = self.caption
            if self.entities:
                d["caption_entities"] = _copy(self.entities)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            d["reply_markup"] = _copy(self.reply_markup)
        return d


@dataclass
class ChatRecord:
    id: int
    type: str = "private"
    title: str | None = None
    user: UserRecord | None = None
    blocked: bool = False
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict | None = None  # the last reply keyboard the bot showed

    def to_api(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            d["first_name"] = self.user.first_name
            if self.user.last_name:
                d["last_name"] = self.user.last_name
            if self.user.username:
                d["username"] = self.user.username
        else:
            d["title"] = self.title or f"Chat {self.id}"
        return d

    @property
    def chat_instance(self) -> str:
        return str(abs(self.id) * 7919 + 1_000_000_007)


@dataclass
class QueuedUpdate:
    update_id: int
    payload: dict
    delivered: bool = False
    in_flight: bool = False  # being posted to the webhook
    not_before: float = 0.0  # webhook back-off after a failed post (monotonic time)
    delay: float = 0.0  # the next back-off


@dataclass(frozen=True)
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    user_id: int | None
    chat_id: int | None
    message_id: int | None
    data: str | None
    at: float


@dataclass(frozen=True)
class CallRecord:
    method: str
    params: dict
    ok: bool
    error_code: int | None
    description: str | None
    at: float


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    generation: int = 0


class State:
    def __init__(self, bot_user: dict, calls_maxlen: int = 5000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        # Async waiters (UserHandle.wait_for_async) per chat id: (loop, event) pairs woken
        # on every bot change in that chat, instead of each polling the state.
        self.async_waiters: dict[int, list] = {}
        self._to_wake: dict[Any, list] = {}  # loop -> events to set there (State._wake_later)
        self.bot_user = bot_user
        self.version = 0
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.queue: list[QueuedUpdate] = []
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookConfig | None = None
        self._webhook_gen = itertools.count(1)
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.settings: dict[str, Any] = {}
        self.calls: deque[CallRecord] = deque(maxlen=calls_maxlen)
        self.stats: dict[str, int] = {}
        self.rate_limited = 0
        self.inflight = 0
        # Misbehaving like Telegram may: every update twice in its batch, and once more
        # ``redeliver_after`` seconds later (``BotAPIServer.duplicate_updates``).
        self.duplicates = False
        self.redeliver_after = 1.0
        self.redeliveries: list[tuple[float, int, dict]] = []
        self.last_activity = 0.0  # monotonic time of the last non-getUpdates request/delivery
        self.on_queue_change: Callable[[], None] = lambda: None
        self.listeners: list[Callable[[str, StoredMessage], None]] = []
        self._query_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)

    # ---------------------------------------------------------------- users & chats
    def ensure_user(self, user_id: int, *, first_name: str | None = None,
                    last_name: str | None = None, username: str | None = None,
                    language_code: str | None = None) -> UserRecord:
        with self.lock:
            user = self.users.get(user_id)
            if user is None:
                user = UserRecord(id=user_id, first_name=first_name or f"User{user_id}")
                self.users[user_id] = user
            elif first_name:
                user.first_name = first_name
            if last_name is not None:
                user.last_name = last_name
            if username is not None:
                user.username = username
            if language_code is not None:
                user.language_code = language_code
            if user_id not in self.chats:
                self.chats[user_id] = ChatRecord(id=user_id, type="private", user=user)
            return user

    def ensure_chat(self, chat_id: int, *, type: str = "group", title: str | None = None) -> ChatRecord:
        with self.lock:
            chat = self.chats.get(chat_id)
            if chat is None:
                chat = self.chats[chat_id] = ChatRecord(id=chat_id, type=type, title=title)
            return chat

    # ---------------------------------------------------------------- messages
    def bump(self, msg: StoredMessage | None = None, event: str = "change", *, chat_id: int | None = None) -> None:
        """Record a change by the bot; wakes waiters and listeners.  Lock must be held.
        Async waiters watch one chat: only that chat's are woken (``msg``'s, or
        ``chat_id``'s); with neither, all of them. Waking every waiter on every button
        answer made the dev server's cost grow with the number of users waiting."""
        self.version += 1
        if msg is not None:
            msg.rev = self.version
            for listener in list(self.listeners):
                try:
                    listener(event, msg)
                except Exception:  # a listener must never break the server
                    pass
        if msg is not None:
            chat_id = msg.chat_id
        waiters = (self.async_waiters.get(chat_id, ()) if chat_id is not None
                   else [w for ws in self.async_waiters.values() for w in ws])
        for loop, event in waiters:
            self._wake_later(loop, event)
        self.changed.notify_all()

    def _wake_later(self, loop: Any, event: Any) -> None:
        """Set ``event`` in ``loop``: one thread hop per loop for all the events set
        meanwhile, not one per event (each hop writes to the loop's wake-up pipe)."""
        pending = self._to_wake.get(loop)
        if pending is not None:
            pending.append(event)
            return
        self._to_wake[loop] = [event]
        try:
            loop.call_soon_threadsafe(self._set_events, loop)
        except RuntimeError:  # that loop is closed
            self._to_wake.pop(loop, None)

    def _set_events(self, loop: Any) -> None:  # in ``loop``
        with self.lock:
            events = self._to_wake.pop(loop, ())
        for event in events:
            event.set()

    def new_message(self, chat: ChatRecord, *, from_bot: bool, sender: dict, **fields: Any) -> StoredMessage:
        with self.lock:
            msg = StoredMessage(chat_id=chat.id, message_id=chat.next_message_id,
                                date=int(time.time()), from_bot=from_bot, sender=sender, **fields)
            chat.next_message_id += 1
            chat.messages[msg.message_id] = msg
            if from_bot:
                self.bump(msg, "send")
            else:
                msg.rev = self.version
            return msg

    def message_api(self, msg: StoredMessage) -> dict:
        return msg.to_api(self.chats[msg.chat_id].to_api())

    # ---------------------------------------------------------------- files
    def new_file(self, kind: str, **fields: Any) -> StoredFile:
        with self.lock:
            n = next(self._file_ids)
            prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}.get(kind, "AAAC")
            f = StoredFile(file_id=f"{prefix}{n:06d}-{secrets.token_urlsafe(12)}",
                           file_unique_id=f"AQAD{n:06d}", kind=kind, **fields)
            self.files[f.file_id] = f
            return f

    # ---------------------------------------------------------------- updates
    def enqueue(self, payload: dict, update_id: int | None = None) -> int | None:
        """Add an update (its update_id is assigned unless given); returns the id, or
        None when the bot's allowed_updates excludes its type (Telegram then never
        creates it; the setting does not affect updates created earlier)."""
        with self.lock:
            if not self._allowed(payload, self.allowed_updates):
                return None
            payload = dict(payload)
            if update_id is None:
                update_id = payload.get("update_id")
            if update_id is None:
                update_id = self.next_update_id
            update_id = int(update_id)
            self.next_update_id = max(self.next_update_id, update_id + 1)
            payload.pop("update_id", None)
            payload = {"update_id": update_id, **payload}
            self.queue.append(QueuedUpdate(update_id, payload))
            if self.duplicates:
                self.queue.append(QueuedUpdate(update_id, _copy(payload)))
                self.redeliveries.append((time.monotonic() + self.redeliver_after, update_id, _copy(payload)))
            self.on_queue_change()
            return update_id

    def release_redeliveries(self) -> float | None:
        """Queue the redeliveries that are due; seconds until the next one (None: none)."""
        with self.lock:
            now = time.monotonic()
            due = [r for r in self.redeliveries if r[0] <= now]
            if due:
                self.redeliveries = [r for r in self.redeliveries if r[0] > now]
                self.queue.extend(QueuedUpdate(update_id, payload) for _, update_id, payload in due)
                self.on_queue_change()
            return min((r[0] for r in self.redeliveries), default=now) - now if self.redeliveries else None

    def _allowed(self, payload: dict, allowed: list[str] | None) -> bool:
        kind = update_type(payload)
        if not allowed:
            return kind not in OPT_IN_TYPES
        return kind in allowed

    def confirm(self, offset: int) -> None:
        """getUpdates offset semantics: forget updates handed out with id < offset;
        a negative offset keeps only the last -offset updates."""
        with self.lock:
            before = len(self.queue)
            if offset < 0:
                self.queue = self.queue[offset:]
            else:
                self.queue = [q for q in self.queue if not (q.delivered and q.update_id < offset)]
            if len(self.queue) != before:
                self.last_activity = time.monotonic()

    def fetch(self, limit: int) -> list[dict]:
        self.release_redeliveries()
        with self.lock:
            batch = self.queue[:limit]
            for q in batch:
                q.delivered = True
            if batch:
                self.last_activity = time.monotonic()
            return [_copy(q.payload) for q in batch]

    def drop_all(self) -> None:
        with self.lock:
            self.queue.clear()

    def pending_count(self) -> int:
        with self.lock:
            return len(self.queue)

    # ---------------------------------------------------------------- webhook
    def set_webhook(self, cfg: WebhookConfig | None) -> None:
        with self.lock:
            if cfg is not None:
                cfg.generation = next(self._webhook_gen)
            self.webhook = cfg
            self.on_queue_change()

    # ---------------------------------------------------------------- callback queries
    def new_callback_query(self, user_id: int, chat_id: int, message_id: int, data: str) -> CallbackQueryRecord:
        with self.lock:
            q = CallbackQueryRecord(id=str(next(self._query_ids)), user_id=user_id, chat_id=chat_id,
                                    message_id=message_id, data=data, created=time.monotonic())
            self.callback_queries[q.id] = q
            return q

    # ---------------------------------------------------------------- bookkeeping
    def record_call(self, rec: CallRecord) -> None:
        with self.lock:
            self.calls.append(rec)
            self.stats[rec.method] = self.stats.get(rec.method, 0) + 1
            if rec.error_code == 429:
                self.rate_limited += 1
