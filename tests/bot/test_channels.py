"""The channel seam (bot/channel.py): a person is (channel, address), update ids are per
channel, and a sender only ever sends its own channel's outbox rows."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.channel import Blocked, Keyboard
from bot.sender import Sender
from bot.service import Incoming, Service
from flows.campaign import Campaign
from storage import campaigns, conversations, links, outbox, people, updates
from storage.db import session_scope
from storage.models import Conversation, Outbox, Person

from tests.bot.test_service import Rater, open_recipients

pytestmark = pytest.mark.postgres

ADDRESS = 700  # the same address on both channels


class WebRater(Rater):
    """A rater on a second channel, "web": the same service, other Incoming.channel."""

    channel = "web"

    def _send(self, **kw):
        return super()._send(channel=self.channel, **kw)


class MemoryTransport:
    """A transport of any channel, in memory: what the sender handed it, per address."""

    def __init__(self, channel: str, blocked: set[int] = frozenset()) -> None:
        self.channel = channel
        self.blocked = blocked
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard = ()) -> int:
        if chat_id in self.blocked:
            raise Blocked("blocked")
        self.sent.append((chat_id, text))
        return len(self.sent)

    async def send_photo(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        return await self.send_message(chat_id, caption or filename)

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str = "") -> int:
        return await self.send_message(chat_id, caption or filename)


@pytest.fixture
def setup(engine):
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    return Service(engine), campaign, token


def test_the_same_address_on_two_channels_is_two_persons(engine, setup):
    service, campaign, token = setup
    tg, web = Rater(service, ADDRESS), WebRater(service, ADDRESS)
    tg.start(token)
    tg.tap("满意")
    tg.tap("比较满意")
    web.start(token)
    assert "欢迎参加" in web.texts()  # a new person: welcomed, at the first question
    web.tap("不满意")
    with session_scope(engine) as s:
        persons = {p.channel: p for p in s.exec(select(Person).where(Person.chat_id == ADDRESS))}
        assert set(persons) == {"telegram", "web"}
        assert persons["telegram"].id != persons["web"].id
        assert people.find_person(s, ADDRESS).id == persons["telegram"].id
        assert people.find_person(s, ADDRESS, "web").id == persons["web"].id
        assert people.find_person(s, ADDRESS, "other") is None
        convs = {c.person_id: c for c in s.exec(select(Conversation))}
        assert set(convs) == {persons["telegram"].id, persons["web"].id}
        tg_state, web_state = convs[persons["telegram"].id].state, convs[persons["web"].id].state
        assert tg_state != web_state
        assert conversations.load_context(s, ADDRESS, "questionnaire", "web").person.id == persons["web"].id
        answering = conversations.load_answering(s, ADDRESS, "questionnaire", "web")
        assert answering.person.id == persons["web"].id and answering.person.channel == "web"
        assert conversations.load_answering(s, ADDRESS, "questionnaire").person.channel == "telegram"
    # Each goes on from where they are: the web rater's tap did not move the Telegram one.
    assert "交通局" in tg.screen.text or "水务局" in tg.screen.text
    web.tap("满意")
    with session_scope(engine) as s:
        tg_again = conversations.load(s, persons["telegram"].id, campaign.id, "questionnaire")
        assert tg_again.state == tg_state


def test_an_update_id_is_per_channel(engine, setup):
    service, _, token = setup
    tg, web = Rater(service, ADDRESS + 1), WebRater(service, ADDRESS + 1)
    tg.start(token)
    web.start(token)
    tap = {r: next(b.action for b in r.screen.all_buttons() if b.label == "满意") for r in (tg, web)}
    first = service.handle(Incoming(ADDRESS + 1, "tap", 91_001, data=tap[tg]))
    other = service.handle(Incoming(ADDRESS + 1, "tap", 91_001, data=tap[web], channel="web"))
    assert first.messages and not first.duplicate
    assert other.messages and not other.duplicate  # same id, other channel: applied too
    again = service.handle(Incoming(ADDRESS + 1, "tap", 91_001, data=tap[web], channel="web"))
    assert again.duplicate and not again.messages
    with session_scope(engine) as s:
        assert updates.first_time(s, 91_002, "web")
        assert updates.first_time(s, 91_002)
    with session_scope(engine) as s:
        assert not updates.first_time(s, 91_002, "web")
    with session_scope(engine) as s:
        assert not updates.first_time(s, 91_002, "telegram")


def _queue(engine) -> dict[int, str]:
    """Interleaved rows for the same addresses on two channels; id -> channel."""
    out = {}
    with session_scope(engine) as s:
        for n in range(3):
            for chat in (801, 802):
                for channel in ("telegram", "web"):
                    row = outbox.enqueue(s, chat, "notice", f"{channel}:{chat}:{n}", channel=channel)
                    out[row.id] = channel
    return out


async def test_a_sender_sends_only_its_own_channels_rows(engine):
    queued = _queue(engine)
    telegram = MemoryTransport("telegram")
    await Sender(engine, telegram, per_chat_interval=0.0, group_interval=0.0, poll_interval=0.05).drain()
    assert telegram.sent and all(text.startswith("telegram:") for _, text in telegram.sent)
    assert sorted(telegram.sent) == sorted((c, f"telegram:{c}:{n}") for c in (801, 802) for n in range(3))
    for chat in (801, 802):  # in order within each chat
        assert [t for c, t in telegram.sent if c == chat] == [f"telegram:{chat}:{n}" for n in range(3)]
    with session_scope(engine) as s:
        rows = {r.id: r for r in s.exec(select(Outbox))}
        assert {i for i, r in rows.items() if r.status == "sent"} == {i for i, c in queued.items() if c == "telegram"}
        assert {r.status for r in rows.values() if r.channel == "web"} == {"pending"}
        assert outbox.outstanding(s)[0] == 0 and outbox.outstanding(s, "web")[0] == 6

    web = MemoryTransport("web")
    await Sender(engine, web, per_chat_interval=0.0, group_interval=0.0, poll_interval=0.05).drain()
    assert sorted(web.sent) == sorted((c, f"web:{c}:{n}") for c in (801, 802) for n in range(3))
    for chat in (801, 802):
        assert [t for c, t in web.sent if c == chat] == [f"web:{chat}:{n}" for n in range(3)]
    assert len(telegram.sent) == 6  # nothing more went to Telegram
    with session_scope(engine) as s:
        assert {r.status for r in s.exec(select(Outbox))} == {"sent"}


async def test_blocked_on_one_channel_leaves_the_other_alone(engine):
    with session_scope(engine) as s:
        for channel in ("telegram", "web"):
            people.get_or_create_person(s, 901, channel=channel)
            outbox.enqueue(s, 901, "notice", f"{channel} 1", channel=channel)
            outbox.enqueue(s, 901, "notice", f"{channel} 2", channel=channel)
    await Sender(engine, MemoryTransport("web", blocked={901}), poll_interval=0.05).drain()
    with session_scope(engine) as s:
        status = {p.channel: p.status for p in s.exec(select(Person).where(Person.chat_id == 901))}
        assert status == {"telegram": "active", "web": "unreachable"}
        rows = {r.text: r.status for r in s.exec(select(Outbox))}
        assert rows == {"telegram 1": "pending", "telegram 2": "pending",
                        "web 1": "unreachable", "web 2": "unreachable"}
    telegram = MemoryTransport("telegram")
    await Sender(engine, telegram, per_chat_interval=0.0, poll_interval=0.05).drain()
    assert telegram.sent == [(901, "telegram 1"), (901, "telegram 2")]


def test_a_claim_or_a_recover_of_one_channel_leaves_the_others_rows(engine):
    queued = _queue(engine)
    with session_scope(engine) as s:
        web = outbox.claim(s, "w", 100, channel="web")
        tg = outbox.claim(s, "t", 100)
    assert {r.channel for r in web} == {"web"} and {r.channel for r in tg} == {"telegram"}
    assert len(web) == len(tg) == 2  # the head of each (channel, address) queue
    with session_scope(engine) as s:
        assert outbox.recover(s, 60, channel="web") == {"claimed": 2, "sending": 0}
        statuses = {r.id: r.status for r in s.exec(select(Outbox))}
    assert {statuses[r.id] for r in tg} == {"claimed"}
    assert {statuses[r.id] for r in web} == {"pending"}
    assert len(queued) == 12
