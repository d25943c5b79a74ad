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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.chat import Feature, default_features
from flows import chat
from flows import questionnaire as q
from flows.campaign import Campaign
from flows.messages import Message
from storage import ballots, campaigns, conversations, links, people, updates
from storage.db import session_scope, uncontended
from storage.models import Conversation, Membership, Person

log = logging.getLogger(__name__)
T = TypeVar("T")

QUESTIONNAIRE = "questionnaire"
MAX_TEXT = 20_000  # longer texts are cut before they reach a flow (Telegram sends ≤ 4096)
# A parsed campaign definition is reused this long before it is read again. Only texts,
# dates, weights and schedules may change once raters exist (storage.campaigns), and the
# phase (opens/closes/closed) is read fresh at every step, so a short reuse is safe.
CAMPAIGN_TTL = 5.0
KEEP_CARDS = 3  # message ids remembered per conversation (the newest cards)


@dataclass(frozen=True)
class Incoming:
    chat_id: int
    kind: Literal["start", "text", "tap", "command", "media"]
    update_id: int | None = None
    text: str = ""  # message text; the payload for "start"; the arguments of a command
    command: str = ""  # help | resume | lang | cancel | stop | a feature's command
    data: str = ""  # callback data of a tap
    language_code: str | None = None


@dataclass
class Reply:
    messages: list[Message] = field(default_factory=list)
    toast: str | None = None
    # Telegram message ids of cards already on screen, so adapters edit them in place.
    cards: dict[str, int] = field(default_factory=dict)
    campaign_id: str | None = None
    duplicate: bool = False
    submitted: bool = False  # this event sealed the rater's ballot


def _locale(code: str | None) -> str:
    return "en" if code and code.lower().startswith("en") else "zh"


class Service:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 features: list[Feature] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        # A tuple: the fast path below knows the features' button prefixes from the start.
        self.features = tuple(default_features() if features is None else features)
        # SQLite takes one writer at a time: one database thread avoids lock convoys.
        workers = 1 if engine.dialect.name == "sqlite" else 8
        self._db = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minping-db")
        self._campaigns: dict[str, tuple[float, dict, Campaign]] = {}
        # Message ids of cards sent since the last step, per chat: merged into the
        # conversation by that chat's next step (same transaction) or by flush_cards().
        self._sent: dict[int, tuple[str, dict[str, int]]] = {}
        self._sent_lock = threading.Lock()
        self._feature_taps = {prefix for f in self.features for prefix in f.taps}

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a (blocking) service call from async code.

        PostgreSQL: on the database threads. SQLite: on the caller's (event loop) thread
        when no other thread of this process is writing. A step takes ~1-2 ms of CPU, and
        handing it to a thread and back costs more than that under the GIL (each SQLite
        call releases it; the loop thread then keeps it for up to the 5 ms switch
        interval): measured ~2x the throughput (bench/throughput.py). When the database
        is busy (the sender, a scheduled job) the call waits on a thread instead, so
        the loop never blocks on this process's own lock."""
        with uncontended(self.engine) as free:
            if free:
                return fn(*args)
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
        """One event, one transaction. A plain step costs three statements: record the
        update id, load the person's context (one joined query), save the state."""
        with session_scope(self.engine) as s:
            if inc.update_id is not None and not updates.first_time(s, inc.update_id):
                return Reply(duplicate=True)  # redelivered, or a concurrent twin won
            if inc.kind == "tap" and (reply := self._answering_tap(s, inc)) is not None:
                return reply
            return self._dispatch(s, inc)

    def _answering_tap(self, s: Session, inc: Incoming) -> Reply | None:
        """Most of a campaign's traffic: a questionnaire tap by a rater who is answering.
        Same rules as the full path, on plain records (one read, one write). None when
        anything is out of the ordinary (a feature's button, a submit, a gate or phase
        that refuses, ...): nothing has been written, and ``_dispatch`` takes over."""
        if inc.data[:1] in self._feature_taps or chat.parse_language_action(inc.data):
            return None
        ctx = conversations.load_answering(s, inc.chat_id, QUESTIONNAIRE)
        if ctx is None:
            return None
        person, member = ctx.person, ctx.member
        if person.status == "unreachable" or member.submitted or member.status == "opted_out":
            return None
        campaign = self.campaign(s, member.campaign_id)
        if self.phase_notice(campaign, ctx.phase, person.locale) is not None:
            return None
        if any(f.gate is not None and f.gate(self, s, person, member, campaign, inc) is not None
               for f in self.features):
            return None
        result = q.step(campaign, q.QState.model_validate(ctx.state), q.Tap(inc.data))
        if result.submission is not None:
            return None  # sealing a ballot goes the full way
        cards = _newest({**ctx.cards, **self._take_cards(person.chat_id, campaign.id)})
        conversations.save_answering(s, ctx.conv_id, result.state.model_dump(mode="json"), cards)
        return Reply(list(result.outcome.messages), result.outcome.toast, cards, campaign.id)

    def remember_cards(self, chat_id: int, campaign_id: str, sent: dict[str, int]) -> None:
        """Note the message ids of newly sent cards. No database work here: the chat's
        next step stores them in its own transaction (``flush_cards`` at shutdown). If
        the process dies first, the next card is sent anew instead of edited."""
        with self._sent_lock:
            old = self._sent.get(chat_id)
            merged = {**old[1], **sent} if old and old[0] == campaign_id else dict(sent)
            self._sent[chat_id] = (campaign_id, merged)

    def _take_cards(self, chat_id: int, campaign_id: str) -> dict[str, int]:
        with self._sent_lock:
            pending = self._sent.pop(chat_id, None)
        return pending[1] if pending and pending[0] == campaign_id else {}

    def flush_cards(self) -> int:
        """Store every noted card id now (at shutdown). Returns how many chats."""
        with self._sent_lock:
            pending, self._sent = self._sent, {}
        with session_scope(self.engine) as s:
            for chat_id, (campaign_id, sent) in pending.items():
                person = people.find_person(s, chat_id)
                conv = person and conversations.load(s, person.id, campaign_id, QUESTIONNAIRE)
                if conv is not None:
                    conv.cards = _newest({**conv.cards, **sent})
                    s.add(conv)
        return len(pending)

    def mark_unreachable(self, chat_id: int) -> None:
        with session_scope(self.engine) as s:
            person = people.find_person(s, chat_id)
            if person is not None:
                person.status = "unreachable"
                s.add(person)

    # --- dispatch -------------------------------------------------------------------
    def _dispatch(self, s: Session, inc: Incoming) -> Reply:
        ctx = conversations.load_context(s, inc.chat_id, QUESTIONNAIRE)
        if ctx is None:
            person = people.get_or_create_person(s, inc.chat_id, _locale(inc.language_code))
        else:
            person = ctx.person
            s.info[_CONTEXT] = ctx
        if person.status == "unreachable":  # they wrote to us: reachable again
            person.status = "active"
            s.add(person)
        if inc.kind == "start":
            return self._start(s, person, inc.text.strip())
        if inc.kind == "command":
            return self._command(s, person, inc)
        if inc.kind == "tap":
            if loc := chat.parse_language_action(inc.data):
                return self._set_locale(s, person, loc)
            for f in self.features:
                handler = f.taps.get(inc.data[:1])
                if handler is not None:
                    return handler(self, s, person, inc) or Reply(toast=chat.t("chat.stale", person.locale))
        if inc.kind == "text":
            for f in self.features:
                if f.text is not None and (reply := f.text(self, s, person, inc)) is not None:
                    return reply
        return self._in_questionnaire(s, person, inc)

    def _start(self, s: Session, person: Person, payload: str) -> Reply:
        if not payload:
            if person.current_campaign:
                return self._in_questionnaire(s, person, Incoming(person.chat_id, "command", command="resume"))
            return Reply([chat.say("chat.help", person.locale), chat.say("chat.no_campaign", person.locale)])
        link = links.resolve(s, payload)
        handler = next((f.links[link.kind] for f in self.features if link and link.kind in f.links), None)
        if handler is None:
            return Reply([chat.say("chat.bad_link", person.locale)])
        return handler(self, s, person, link)

    def begin(self, s: Session, person: Person, member: Membership, campaign: Campaign) -> Reply:
        """Show a (newly) enrolled rater the welcome and the questionnaire where they are."""
        person.current_campaign = campaign.id
        s.add_all([person, member])
        if member.submitted:
            return Reply([chat.say("chat.done", person.locale)], campaign_id=campaign.id)
        conv = self._conversation(s, person, campaign.id)
        intro = []
        if conv is None:
            n = 1 if member.only_evaluee else len(campaign.evaluees_for(member.group_key, member.unit))
            intro = [chat.welcome(campaign, person.locale, n)]
        reply = self._questionnaire(s, person, member, campaign, q.Show(), Incoming(person.chat_id, "start"))
        reply.messages[:0] = intro
        return reply

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
        return self._in_questionnaire(s, person, Incoming(person.chat_id, "command", command=command), event)

    def _set_locale(self, s: Session, person: Person, locale: str) -> Reply:
        person.locale = locale
        s.add(person)
        member = self.membership(s, person)
        reply = Reply([chat.say("chat.lang_set", locale)], toast=None)
        if member and not member.submitted and member.status != "opted_out":
            campaign = self.campaign(s, member.campaign_id)
            if self._conversation(s, person, campaign.id) is not None:
                step = self._step(s, person, member, campaign, q.SetLocale(locale))
                step.messages[:0] = reply.messages
                return step
        return reply

    def _in_questionnaire(self, s: Session, person: Person, inc: Incoming, event: object | None = None) -> Reply:
        member = self.membership(s, person)
        if member is None or member.status == "opted_out":
            if inc.kind == "tap":
                return Reply(toast=chat.t("chat.stale", person.locale))
            return Reply([chat.say("chat.no_campaign", person.locale)])
        campaign = self.campaign(s, member.campaign_id)
        if member.submitted:
            if inc.kind == "tap":
                return Reply(toast=chat.t("chat.done", person.locale))
            return Reply([chat.say("chat.done", person.locale)])
        row = self._phase(s, person, campaign.id)
        if (notice := self.phase_notice(campaign, row, person.locale)) is not None:
            return Reply(toast=notice.text) if inc.kind == "tap" else Reply([notice])
        if event is None:
            if inc.kind == "tap":
                event = q.Tap(inc.data)
            elif inc.kind == "text":
                event = q.Text(inc.text[:MAX_TEXT])
            else:  # stickers, photos, voice …
                reply = self._questionnaire(s, person, member, campaign, q.Show(), inc)
                if reply.campaign_id:
                    reply.messages[:0] = [chat.say("chat.use_buttons_media", person.locale)]
                return reply
        return self._questionnaire(s, person, member, campaign, event, inc)

    def _questionnaire(self, s: Session, person: Person, member: Membership, campaign: Campaign,
                       event: object, inc: Incoming) -> Reply:
        for f in self.features:
            if f.gate is not None and (refusal := f.gate(self, s, person, member, campaign, inc)) is not None:
                return refusal
        return self._step(s, person, member, campaign, event)

    # --- the questionnaire step ---------------------------------------------------------
    def _step(self, s: Session, person: Person, member: Membership, campaign: Campaign, event: object) -> Reply:
        conv = self._conversation(s, person, campaign.id)
        if conv is None:
            state = q.start(campaign, member.group_key, person.locale, member.unit,
                            only=[member.only_evaluee] if member.only_evaluee else None)
            if member.status in ("enrolled", "drawn", "invited"):
                member.status = "started"
                s.add(member)
        else:
            state = q.QState.model_validate(conv.state)
        cards = _newest({**(conv.cards if conv else {}), **self._take_cards(person.chat_id, campaign.id)})
        result = q.step(campaign, state, event)
        reply = Reply(list(result.outcome.messages), result.outcome.toast, cards, campaign.id)
        if result.submission is not None:
            try:
                with s.begin_nested():  # a refused ballot leaves the chain count as it was
                    ballots.submit_ballot(s, campaign.id, person.id, result.submission)
            except ballots.CampaignClosed:  # `minping close` won a race with this submit
                return Reply([chat.say("chat.closed", person.locale, title=campaign.text(campaign.title, person.locale))])
            reply.submitted = True
        else:
            saved = conversations.save(s, person.id, campaign.id, QUESTIONNAIRE, result.state.model_dump(mode="json"),
                                       cards, conv=conv)
            if conv is None and (ctx := self._context(s, person, campaign.id)) is not None:
                ctx.conv = saved  # a second step in this transaction must find it
        return reply

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

    def _conversation(self, s: Session, person: Person, campaign_id: str) -> Conversation | None:
        ctx = self._context(s, person, campaign_id)
        if ctx is not None and _alive(ctx.conv):
            return ctx.conv
        return conversations.load(s, person.id, campaign_id, QUESTIONNAIRE)

    def _phase(self, s: Session, person: Person, campaign_id: str):  # noqa: ANN202
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
    A missing conversation stays missing: only ``_step`` creates one."""
    if obj is None:
        return True
    state = inspect(obj)
    return not (state.deleted or state.was_deleted or state.detached)


def _newest(cards: dict[str, int]) -> dict[str, int]:
    """Keep the ids of the newest ``KEEP_CARDS`` cards (keys like ``e3``)."""
    keep = sorted(cards, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0)[-KEEP_CARDS:]
    return {k: cards[k] for k in keep}
