"""The conversation service: one incoming chat event -> one transaction -> replies.

Framework-neutral: the aiogram and python-telegram-bot adapters, the demo and the tests
all call ``Service.handle``. Each call loads the person's state from the database, runs
the pure flows, stores the new state (and a sealed ballot on submit) and returns the
messages to send. Nothing here logs who answered what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.chat import Feature, default_features
from flows import chat
from flows import questionnaire as q
from flows.campaign import Campaign
from flows.messages import Message
from storage import ballots, campaigns, conversations, links, people, updates
from storage.db import session_scope
from storage.models import Membership, Person

log = logging.getLogger(__name__)
T = TypeVar("T")

QUESTIONNAIRE = "questionnaire"
MAX_TEXT = 20_000  # longer texts are cut before they reach a flow (Telegram sends ≤ 4096)


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
        self.features = default_features() if features is None else features
        # SQLite takes one writer at a time: one database thread avoids lock convoys.
        workers = 1 if engine.dialect.name == "sqlite" else 8
        self._db = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minping-db")
        self._campaigns: dict[str, tuple[dict, Campaign]] = {}

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a (blocking) service call on the database thread(s) from async code."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def campaign(self, s: Session, campaign_id: str) -> Campaign:
        """The campaign model, parsed once per stored definition."""
        row = campaigns.get_row(s, campaign_id)
        cached = self._campaigns.get(campaign_id)
        if cached is None or cached[0] is not row.definition and cached[0] != row.definition:
            cached = (row.definition, Campaign.model_validate(row.definition))
            self._campaigns[campaign_id] = cached
        return cached[1]

    # --- entry points -------------------------------------------------------------
    def handle(self, inc: Incoming) -> Reply:
        try:
            with session_scope(self.engine) as s:
                if inc.update_id is not None and not updates.first_time(s, inc.update_id):
                    return Reply(duplicate=True)
                return self._dispatch(s, inc)
        except IntegrityError:
            # A concurrent delivery of the same update won the race.
            if inc.update_id is not None:
                return Reply(duplicate=True)
            raise

    def remember_cards(self, chat_id: int, campaign_id: str, sent: dict[str, int]) -> None:
        """Record the message ids of newly sent cards (kept small: the last few)."""
        with session_scope(self.engine) as s:
            person = people.find_person(s, chat_id)
            conv = person and conversations.load(s, person.id, campaign_id, QUESTIONNAIRE)
            if conv is None:
                return
            cards = {**conv.cards, **sent}
            keep = sorted(cards, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0)[-3:]
            conv.cards = {k: cards[k] for k in keep}
            s.add(conv)

    def mark_unreachable(self, chat_id: int) -> None:
        with session_scope(self.engine) as s:
            person = people.find_person(s, chat_id)
            if person is not None:
                person.status = "unreachable"
                s.add(person)

    # --- dispatch -------------------------------------------------------------------
    def _dispatch(self, s: Session, inc: Incoming) -> Reply:
        person = people.get_or_create_person(s, inc.chat_id, _locale(inc.language_code))
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
        conv = conversations.load(s, person.id, campaign.id, QUESTIONNAIRE)
        intro = []
        if conv is None:
            n = len(campaign.evaluees_for(member.group_key, member.unit))
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
            if conversations.load(s, person.id, campaign.id, QUESTIONNAIRE) is not None:
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
        row = campaigns.get_row(s, campaign.id)
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
        conv = conversations.load(s, person.id, campaign.id, QUESTIONNAIRE)
        if conv is None:
            state = q.start(campaign, member.group_key, person.locale, member.unit)
            if member.status in ("enrolled", "drawn", "invited"):
                member.status = "started"
                s.add(member)
        else:
            state = q.QState.model_validate(conv.state)
        cards = dict(conv.cards) if conv else {}
        result = q.step(campaign, state, event)
        reply = Reply(list(result.outcome.messages), result.outcome.toast, cards, campaign.id)
        if result.submission is not None:
            ballots.submit_ballot(s, campaign.id, person.id, result.submission)
            reply.submitted = True
        else:
            conversations.save(s, person.id, campaign.id, QUESTIONNAIRE, result.state.model_dump(mode="json"), cards)
        return reply

    # --- helpers ---------------------------------------------------------------------
    def membership(self, s: Session, person: Person) -> Membership | None:
        if not person.current_campaign:
            return None
        return people.membership(s, person.current_campaign, person.id)

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
