"""The answering tap has a cheaper loader (``bot.app.questionnaire.answering_tap``) beside the full
path. Two raters make the same random walk through the questionnaire — taps, stale taps
from older cards, opinions, back, skip, pause, edits, submit — one on a service with the
fast path and one without: every reply, the stored conversation after every step (state
and card message ids) and the ballot are the same both ways."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from bot.service import Service
from flows.campaign import Campaign
from storage import campaigns, links
from storage.db import session_scope
from storage.models import Answer, Ballot, Conversation, Opinion, Person
from tests.chat_user import ChatUser
from tests.factories import campaign_data, chain_pending

pytestmark = pytest.mark.postgres


def _seen(reply) -> tuple:  # noqa: ANN001
    return (tuple((m.text, tuple((b.label, b.action) for b in m.all_buttons()), m.card) for m in reply.messages),
            reply.toast)


def _walk(engine, rng: random.Random, user: ChatUser, old_screens: list) -> list[tuple]:  # noqa: ANN001
    seen = []
    for i in range(120):
        share_forward = 0.3 if i < 60 else 0.9
        roll = rng.random()
        if user.screen is None or roll < 0.08:
            reply = user.text(rng.choice(["办事很快", "窗口态度好", "", "/resume"]))
        elif roll < 0.16 and old_screens:  # a button on an older card
            buttons = [b for b in rng.choice(old_screens).all_buttons() if b.action]
            reply = user.tap_data(rng.choice(buttons).action)
        else:
            buttons = [b for b in user.screen.all_buttons() if b.action]
            old_screens.append(user.screen)
            # Towards the end of the walk, mostly forward: a ballot gets sealed too.
            forward = [b for b in buttons if b.label in ("提交", "确认提交", "满意", "不满意")]
            pick = rng.choice(forward) if forward and rng.random() < share_forward else rng.choice(buttons)
            reply = user.tap_data(pick.action)
        seen.append((_seen(reply), _conversation(engine, user.chat_id)))
        # As the adapter does: the message ids of new cards, stored by the next step.
        sent = {m.card: 100 + len(seen) for m in reply.messages if m.card}
        if sent and reply.campaign_id:
            user.service.remember_cards(user.chat_id, reply.campaign_id, sent)
    return seen


def _conversation(engine, chat_id: int) -> tuple | None:  # noqa: ANN001
    with session_scope(engine) as s:
        person = s.exec(select(Person).where(Person.chat_id == chat_id)).one()
        conv = s.exec(select(Conversation).where(Conversation.person_id == person.id)).first()
        return None if conv is None else (conv.state, conv.cards)


@pytest.mark.parametrize("seed", range(6))
def test_taps_give_the_same_replies_and_state_with_and_without_the_fast_path(engine, seed):  # noqa: ANN001
    data = campaign_data()
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "public").token
    fast, full = ChatUser(Service(engine), 1000 + seed), ChatUser(Service(engine, fast_path=False), 2000 + seed)
    for user in (fast, full):
        user.start(token)
        if user.screen is not None and "同意参加" in [b.label for b in user.screen.all_buttons()]:
            user.tap("同意参加")
    assert _seen(fast.last) == _seen(full.last)
    walks = [_walk(engine, random.Random(seed), user, []) for user in (fast, full)]
    for step, (a, b) in enumerate(zip(*walks, strict=True)):
        assert a == b, f"step {step}"
    chain_pending(engine, campaign.id)
    with session_scope(engine) as s:
        ballots = {b.id for b in s.exec(select(Ballot))}
        answers = {bid: sorted((a.evaluee_key, a.dimension_key, a.option_key)
                               for a in s.exec(select(Answer)) if a.ballot_id == bid) for bid in ballots}
        opinions = {bid: sorted((o.evaluee_key, o.text) for o in s.exec(select(Opinion)) if o.ballot_id == bid)
                    for bid in ballots}
    assert len(ballots) == 2  # both submitted
    a, b = sorted(ballots)
    assert answers[a] == answers[b] and opinions[a] == opinions[b]
