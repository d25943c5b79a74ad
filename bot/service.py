"""The conversation service: one incoming chat event -> one transaction -> replies.

Framework-neutral: the aiogram and python-telegram-bot adapters, the demo and the tests
all call ``Service.handle``. Each call loads the person's state from the database, runs
the pure flows, stores the new state (and a sealed ballot on submit) and returns the
messages to send. Nothing here logs who answered what.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import metrics
from bot.app import questionnaire
from bot.app.questionnaire import MAX_TEXT, QUESTIONNAIRE  # noqa: F401  (re-exported)
from bot.chat import Feature, default_features
from bot.events import Incoming, Reply  # noqa: F401  (re-exported)
from flows import actions, chat
from flows import questionnaire as q
from flows.campaign import Campaign
from flows.messages import Message
from storage import campaigns, conversations, links, people, updates
from storage.db import Busy, lock_chat, no_wait, session_scope, uncontended
from storage.models import Conversation, Membership, Person, PersonStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

# A parsed campaign definition is reused this long before it is read again. Only texts,
# dates, weights and schedules may change once raters exist (storage.campaigns), and the
# phase (opens/closes/closed) is read fresh at every step, so a short reuse is safe.
CAMPAIGN_TTL = 5.0
KEEP_CARDS = 3  # message ids remembered per conversation (the newest cards)


def _tap_routes(features: tuple[Feature, ...]) -> dict[str, Callable]:
    """Button prefix -> the feature's handler. A prefix must be claimed in ``flows.actions``
    (where its codec lives) and routed by one feature only."""
    routes: dict[str, Callable] = {}
    for f in features:
        for prefix, handler in f.taps.items():
            if actions.owners().get(prefix) is None:
                raise actions.ActionError(f"feature {f.name}: button prefix {prefix!r} is not claimed")
            if prefix in routes:
                raise actions.ActionError(f"feature {f.name}: button prefix {prefix!r} is routed twice")
            routes[prefix] = handler
    return routes


def _locale(code: str | None) -> str:
    return "en" if code and code.lower().startswith("en") else "zh"


class Service:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 features: list[Feature] | None = None, fast_path: bool = True) -> None:
        self.engine = engine
        # The answering tap's cheaper loader (``bot.app.questionnaire.answering_tap``); off, every tap takes the
        # full path. tests/bot/test_fast_path.py checks that both give the same.
        self.fast_path = fast_path
        self.clock = clock
        # A tuple: the fast path below knows the features' button prefixes from the start.
        self.features = tuple(default_features() if features is None else features)
        # SQLite takes one writer at a time: one database thread avoids lock convoys.
        workers = 1 if engine.dialect.name == "sqlite" else 8
        self._db = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minping-db")
        self._campaigns: dict[str, tuple[float, dict, Campaign]] = {}
        # Message ids of cards sent since the last step, per chat: merged into the
        # conversation by that chat's next step (same transaction) or by flush_cards().
        self._sent: dict[tuple[str, int], tuple[str, dict[str, int]]] = {}  # (channel, chat id) ->
        self._sent_lock = threading.Lock()
        self._taps = _tap_routes(self.features)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a (blocking) service call from async code.

        PostgreSQL: on the database threads. SQLite: on the caller's (event loop) thread
        when no other thread of this process is writing. A step takes ~1-2 ms of CPU, and
        handing it to a thread and back costs more than that under the GIL (each SQLite
        call releases it; the loop thread then keeps it for up to the 5 ms switch
        interval): measured ~2x the throughput (bench/throughput.py). When the database
        is busy (the sender, a scheduled job, another process) the call waits on a thread
        instead, so the loop never blocks on a lock."""
        with uncontended(self.engine) as free:
            if free:
                try:
                    with no_wait():
                        return fn(*args)
                except Busy:  # another process writes (a CLI command): wait on a thread
                    pass
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def campaign(self, s: Session, campaign_id: str) -> Campaign:
        """The campaign model, parsed once per stored definition (re-read after
        ``CAMPAIGN_TTL`` seconds)."""
        cached = self._campaigns.get(campaign_id)
        now = time.monotonic()
        if cached is None or now - cached[0] > CAMPAIGN_TTL:
            definition = campaigns.get_row(s, campaign_id).definition
            model = cached[2] if cached is not None and cached[1] == definition else Campaign.model_validate(definition)
            cached = (now, definition, model)
            self._campaigns[campaign_id] = cached
        return cached[2]

    # --- entry points -------------------------------------------------------------
    def handle(self, inc: Incoming) -> Reply:
        """``_handle``, counted and timed (``bot/metrics.py``) once its transaction ended."""
        started = time.perf_counter()
        try:
            reply = self._handle(inc)
        except Exception:
            metrics.STEPS.labels(inc.kind, "error").inc()
            raise
        metrics.STEP_SECONDS.labels(inc.kind).observe(time.perf_counter() - started)
        metrics.STEPS.labels(inc.kind, "duplicate" if reply.duplicate else "ok").inc()
        if reply.submitted:
            metrics.BALLOTS.inc()  # committed: the transaction ended without an error
        return reply

    def _handle(self, inc: Incoming) -> Reply:
        """One event, one transaction. A plain step costs four statements: take the
        chat's lock, record the update id, load the person's context (one joined query),
        save the state.

        The chat's lock (``storage.db.lock_chat``) comes first: a concurrent update of the
        same person (a double tap, a twin delivery, a second worker) waits until this one
        has committed and then reads what it wrote, on every backend."""
        with session_scope(self.engine) as s:
            lock_chat(s, inc.chat_id, inc.channel)
            if inc.update_id is not None and not updates.first_time(s, inc.update_id, inc.channel):
                return Reply(duplicate=True)  # redelivered, or a twin was applied first
            if inc.kind == "blocked":  # they blocked the bot: nothing more is sent to them
                self._mark_unreachable(s, inc.chat_id, inc.channel)
                return Reply()
            if inc.kind == "tap" and self.fast_path and (reply := questionnaire.answering_tap(self, s, inc)) is not None:
                return reply
            return self._dispatch(s, inc)

    def remember_cards(self, chat_id: int, campaign_id: str, sent: dict[str, int], channel: str = "telegram") -> None:
        """Note the message ids of newly sent cards. No database work here: the chat's
        next step stores them in its own transaction (``flush_cards`` at shutdown). If
        the process dies first, the next card is sent anew instead of edited."""
        with self._sent_lock:
            old = self._sent.get((channel, chat_id))
            merged = {**old[1], **sent} if old and old[0] == campaign_id else dict(sent)
            self._sent[(channel, chat_id)] = (campaign_id, merged)

    def pending_card(self, chat_id: int, campaign_id: str | None, card: str, channel: str = "telegram") -> int | None:
        """The message id of a card sent but not yet stored by a step (``remember_cards``)."""
        with self._sent_lock:
            pending = self._sent.get((channel, chat_id))
        return pending[1].get(card) if pending and pending[0] == campaign_id else None

    def cards(self, person: Person, campaign_id: str, stored: dict[str, int]) -> dict[str, int]:
        """The card ids a step keeps: those stored with the conversation and those sent
        since (``remember_cards``), the newest ``KEEP_CARDS``."""
        with self._sent_lock:
            pending = self._sent.pop((person.channel, person.chat_id), None)
        return _newest({**stored, **(pending[1] if pending and pending[0] == campaign_id else {})})

    def loaded_conversation(self, s: Session, person: Person, campaign_id: str, conv: Conversation) -> None:
        """A conversation created in this transaction: later steps of it must find it."""
        if (ctx := self._context(s, person, campaign_id)) is not None:
            ctx.conv = conv

    def flush_cards(self) -> int:
        """Store every noted card id now (at shutdown), a few statements for any number
        of chats. Returns how many chats."""
        with self._sent_lock:
            pending, self._sent = self._sent, {}
        if not pending:
            return 0
        with session_scope(self.engine) as s:
            merged = {}
            for channel in {ch for ch, _ in pending}:
                stored = conversations.cards_of(s, [c for ch, c in pending if ch == channel], QUESTIONNAIRE, channel)
                for (ch, chat_id), (campaign_id, sent) in pending.items():
                    if ch == channel and (found := stored.get((chat_id, campaign_id))) is not None:  # else gone
                        conv_id, cards = found
                        merged[conv_id] = _newest({**cards, **sent})
            conversations.save_cards(s, merged)
        return len(pending)

    def mark_unreachable(self, chat_id: int, channel: str = "telegram") -> None:
        with session_scope(self.engine) as s:
            lock_chat(s, chat_id, channel)
            self._mark_unreachable(s, chat_id, channel)

    @staticmethod
    def _mark_unreachable(s: Session, chat_id: int, channel: str = "telegram") -> None:
        person = people.find_person(s, chat_id, channel)
        if person is not None:
            person.status = PersonStatus.UNREACHABLE
            s.add(person)

    # --- dispatch -------------------------------------------------------------------
    def _dispatch(self, s: Session, inc: Incoming) -> Reply:
        ctx = conversations.load_context(s, inc.chat_id, QUESTIONNAIRE, inc.channel)
        if ctx is None:
            person = people.get_or_create_person(s, inc.chat_id, _locale(inc.language_code), inc.channel)
        else:
            person = ctx.person
            s.info[_CONTEXT] = ctx
        if person.status == PersonStatus.UNREACHABLE:  # they wrote to us: reachable again
            person.status = PersonStatus.ACTIVE
            s.add(person)
        if inc.kind == "app":  # the Mini App: same state, gates and submit as the chat
            from bot.miniapp.actions import on_app

            return on_app(self, s, person, inc)
        if inc.kind == "start":
            return self._start(s, person, inc.text.strip())
        if inc.kind == "command":
            return self._command(s, person, inc)
        if inc.kind == "tap":
            if loc := chat.parse_language_action(inc.data):
                return questionnaire.set_locale(self, s, person, loc)
            handler = self._taps.get(actions.prefix_of(inc.data))
            if handler is not None:
                return handler(self, s, person, inc) or Reply(toast=chat.t("chat.stale", person.locale))
        if inc.kind == "text":
            for f in self.features:
                if f.text is not None and (reply := f.text(self, s, person, inc)) is not None:
                    return reply
        return questionnaire.answer(self, s, person, inc)

    def _start(self, s: Session, person: Person, payload: str) -> Reply:
        if not payload:
            if person.current_campaign:
                return questionnaire.answer(self, s, person, Incoming(person.chat_id, "command", command="resume", channel=person.channel))
            return Reply([chat.say("chat.help", person.locale), chat.say("chat.no_campaign", person.locale)])
        link = links.resolve(s, payload)
        handler = next((f.links[link.kind] for f in self.features if link and link.kind in f.links), None)
        if handler is None:
            return Reply([chat.say("chat.bad_link", person.locale)])
        return handler(self, s, person, link)

    def begin(self, s: Session, person: Person, member: Membership, campaign: Campaign) -> Reply:
        return questionnaire.begin(self, s, person, member, campaign)

    def _command(self, s: Session, person: Person, inc: Incoming) -> Reply:
        for f in self.features:
            handler = f.commands.get(inc.command)
            if handler is not None and (reply := handler(self, s, person, inc)) is not None:
                return reply
        command = inc.command
        if command == "lang":
            campaign = self._current(s, person)
            return Reply([chat.language_menu(campaign, person.locale)])
        event = {"resume": q.Show(), "cancel": q.Pause()}.get(command)
        if event is None:
            return Reply([chat.say("chat.help", person.locale)])
        return questionnaire.answer(self, s, person, Incoming(person.chat_id, "command", command=command, channel=person.channel), event)

    # --- helpers ---------------------------------------------------------------------
    def membership(self, s: Session, person: Person) -> Membership | None:
        if not person.current_campaign:
            return None
        ctx = self._context(s, person, person.current_campaign)
        if ctx is not None and ctx.member is not None and _alive(ctx.member):
            return ctx.member
        return people.membership(s, person.current_campaign, person.id)

    def _context(self, s: Session, person: Person, campaign_id: str) -> conversations.Context | None:
        """What ``_dispatch`` read in its one query, while it still describes this
        person in this campaign."""
        ctx = s.info.get(_CONTEXT)
        if ctx is not None and ctx.person is person and ctx.campaign_id == campaign_id:
            return ctx
        return None

    def conversation(self, s: Session, person: Person, campaign_id: str) -> Conversation | None:
        ctx = self._context(s, person, campaign_id)
        if ctx is not None and _alive(ctx.conv):
            return ctx.conv
        return conversations.load(s, person.id, campaign_id, QUESTIONNAIRE)

    def phase_row(self, s: Session, person: Person, campaign_id: str):  # noqa: ANN202
        ctx = self._context(s, person, campaign_id)
        if ctx is not None and ctx.phase is not None:
            return ctx.phase
        return campaigns.phase_row(s, campaign_id)

    def _current(self, s: Session, person: Person) -> Campaign | None:
        return self.campaign(s, person.current_campaign) if person.current_campaign else None

    def phase_notice(self, campaign: Campaign, row, locale: str) -> Message | None:  # noqa: ANN001
        ph = campaigns.phase(row, self.clock())
        title = campaign.text(campaign.title, locale)
        if ph == "upcoming":
            opens = campaign.opens.strftime("%Y-%m-%d %H:%M")
            return chat.say("chat.upcoming", locale, title=title, opens=opens)
        if ph == "closed":
            return chat.say("chat.closed", locale, title=title)
        return None


_CONTEXT = "minping.context"  # Session.info key of the context loaded by _dispatch


def _alive(obj: object | None) -> bool:
    """A prefetched row (or its absence) can still be trusted: not deleted meanwhile.
    A missing conversation stays missing: only ``bot.app.questionnaire.step`` creates one."""
    if obj is None:
        return True
    state = inspect(obj)
    return not (state.deleted or state.was_deleted or state.detached)


def _newest(cards: dict[str, int]) -> dict[str, int]:
    """Keep the ids of the newest ``KEEP_CARDS`` cards (keys like ``e3``)."""
    keep = sorted(cards, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0)[-KEEP_CARDS:]
    return {k: cards[k] for k in keep}
