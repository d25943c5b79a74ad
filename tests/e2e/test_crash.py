"""A real ``minping run`` killed with SIGKILL twice while raters answer, then restarted:
what each rater saw is what is stored, nobody is stuck, one ballot each.

Both frameworks, polling and webhook, SQLite and PostgreSQL. The raters are simulated
Telegram users of the local Bot API server; each follows a plan of answers of their own
and an opinion carrying their number, so that their ballot can be found among the
anonymous ones. A rater does what the newest card on their screen asks; when the bot
does not answer within a few seconds (it may be dead), they send /resume.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter

import pytest
from sqlmodel import select

from devtools.devserver import BotAPIServer
from reports.verify import verify
from storage import parked
from storage.db import session_scope
from storage.models import Answer, Ballot, Opinion
from tests.e2e.rater import open_campaign
from tests.run_process import MinpingRun, database_url
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres

RATERS = 100
PATIENCE = 3.0  # seconds a rater waits for the bot before sending /resume
EVALUEES = {"交通局": "transport", "水利局": "water"}
DIMS = {"工作作风": "style", "工作效能": "efficiency"}
SCALE = ["满意", "比较满意", "基本满意", "不满意", "不了解"]
KEYS = ["satisfied", "fairly", "basically", "dissatisfied", None]
THANKS = ("谢谢", "感谢")


def plan(n: int) -> dict[tuple[str, str], int]:
    """Rater n's answer (index into SCALE) for each evaluee and dimension."""
    rnd = random.Random(n)
    return {(e, d): rnd.randrange(len(SCALE)) for e in EVALUEES for d in DIMS}


class Walker:
    """One simulated rater."""

    def __init__(self, srv: BotAPIServer, n: int, token: str) -> None:
        self.u = srv.user(60_000 + n, language_code="zh")
        self.n, self.token, self.plan = n, token, plan(n)
        self.review: str | None = None  # the review shown on the card they confirmed
        self.done = ""  # "thanks" or "already": how they learnt the ballot was in
        self.resumes = 0

    def screen(self):  # noqa: ANN201
        """The newest bot message, and the newest one with buttons."""
        msgs = self.u.messages(include_deleted=False)
        last = msgs[-1] if msgs else None
        card = next((m for m in reversed(msgs) if m.buttons), None)
        return last, card

    async def act(self) -> None:
        last, card = self.screen()
        text = last.text or "" if last else ""
        if last is not None and (any(w in text for w in THANKS) or "已经提交" in text):
            self.done = "already" if "已经提交" in text else "thanks"
            return
        if card is None:
            self.u.send(f"/start {self.token}")
            return
        labels, body = card.labels, card.text or ""
        if "同意参加" in labels:
            self.u.tap_data(card.message_id, card.button_data("同意参加"))
        elif "确认提交" in labels:
            self.review = body
            self.u.tap_data(card.message_id, card.button_data("确认提交"))
        elif "提交" in labels:
            self.u.tap_data(card.message_id, card.button_data("提交"))
        elif "满意" in labels:
            evaluee = next(e for e in EVALUEES if e in body.split("\n")[0])
            dim = next(d for d in DIMS if re.search(rf"{d}（\d/2）", body))
            label = SCALE[self.plan[(evaluee, dim)]]
            self.u.tap_data(card.message_id, card.button_data(label))
            if random.random() < 0.2:  # one tap in five is a double tap
                self.u.tap_data(card.message_id, card.button_data(label))
        elif "跳过" in labels:  # the opinion step
            if "交通局" in body.split("\n")[0]:
                self.u.send(f"意见{self.n:03d}")
            else:
                self.u.tap_data(card.message_id, card.button_data("跳过"))
        else:
            self.u.send("/resume")

    async def walk(self, deadline: float) -> None:
        await asyncio.sleep(random.random())
        patience = PATIENCE
        while not self.done:
            if time.monotonic() > deadline:
                raise AssertionError(f"rater {self.n} stuck:\n{self.u.transcript()}")
            await self.act()
            if self.done:
                return
            try:
                await self.u.wait_for_async(None, patience, new=True)
                await asyncio.sleep(0.05 + random.random() * 0.3)  # reading, thinking
                patience = PATIENCE
            except TimeoutError:  # the bot may be dead: ask to see where we are
                self.resumes += 1
                self.u.send("/resume")
                try:
                    await self.u.wait_for_async(None, patience, new=True)
                except TimeoutError:
                    pass
                # Less hasty each time: on a loaded machine a /resume sent before the last
                # one was answered shows a new card, and the tap on the old one is stale.
                patience = min(patience * 2, 30.0)


def review_counts(review: str) -> dict[str, Counter]:
    """The review card's line per evaluee, e.g. ``1. 交通局：满意×1 不了解×1 · 有意见``."""
    out = {}
    for line in review.splitlines():
        for name, key in EVALUEES.items():
            if re.match(rf"\d+\. {name}：", line):
                summary = line.split("：", 1)[1].split(" · ")[0]
                out[key] = Counter({label: int(k) for label, k in re.findall(r"(\S+)×(\d+)", summary)})
    return out


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_killed_twice_while_raters_answer(engine, framework, mode, tmp_path):
    _, token = open_campaign(engine)
    with BotAPIServer(token="4343:crash", rate_limit=False) as srv, \
            MinpingRun(tmp_path, srv, database_url(engine), framework=framework, mode=mode) as run:
        await asyncio.to_thread(run.start)
        walkers = [Walker(srv, n, token) for n in range(RATERS)]
        deadline = time.monotonic() + 240
        walking = asyncio.gather(*(w.walk(deadline) for w in walkers))
        expected_taps = RATERS * 8
        for share in (0.3, 0.6):  # kill at about a third and two thirds of the taps
            while srv.stats.get("answerCallbackQuery", 0) < share * expected_taps and not walking.done():
                await asyncio.sleep(0.05)
            assert not walking.done(), "the raters finished before the kill"
            run.kill()
            await asyncio.sleep(1.0)  # raters keep tapping at a dead bot
            await asyncio.to_thread(run.start)
        await walking
        assert run.term() == 0, run.output

    chain_pending(engine)  # what the scheduler's batches had not appended yet
    with session_scope(engine) as s:
        ballots = list(s.exec(select(Ballot)))
        opinions = {o.ballot_id: o.text for o in s.exec(select(Opinion))}
        answers: dict[str, dict] = {}
        for a in s.exec(select(Answer)):
            answers.setdefault(a.ballot_id, {})[(a.evaluee_key, a.dimension_key)] = a.option_key
        assert parked.listing(s) == []
        result = verify(s, _campaign(s))
    assert result.ok, (result.chain, result.counts)
    assert len(ballots) == RATERS  # every rater, once
    by_rater = {int(text.removeprefix("意见")): bid for bid, text in opinions.items()}
    assert sorted(by_rater) == list(range(RATERS))  # each opinion once, every rater's
    key_of = {v: k for k, v in EVALUEES.items()}
    for w in walkers:
        assert w.done and w.review, w.u.transcript()
        got = answers[by_rater[w.n]]
        planned = {(EVALUEES[e], DIMS[d]): KEYS[i] for (e, d), i in w.plan.items()}
        assert got == planned, f"rater {w.n}: ballot {got} is not what they answered {planned}"
        shown = review_counts(w.review)
        assert set(shown) == {"transport", "water"}, w.review
        for evaluee, counts in shown.items():
            stored = Counter(SCALE[KEYS.index(got[(evaluee, dim)])] for dim in DIMS.values())
            assert counts == stored, f"rater {w.n}, {key_of[evaluee]}: review showed {counts}, ballot has {stored}"


def _campaign(s):  # noqa: ANN001, ANN202
    from flows.campaign import Campaign
    from storage import campaigns

    return Campaign.model_validate(campaigns.get_row(s, "test-2026").definition)
