"""A flooder's 3,000 messages (issue 19): the real bot (aiogram / python-telegram-bot)
over HTTP against the local Bot API server. The flooder gets one "slow down" and a few
answers, every update is confirmed to Telegram, a rater answering meanwhile is never
stopped, and the flooder is answered normally again once quiet."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.rater import T, card_with, enrol, tap

pytestmark = pytest.mark.postgres
FLOOD = 3000


async def test_a_flooder_is_answered_cheaply_and_others_are_not_held_up(running_bot, api_server, loaded):
    _, token = loaded
    intake = running_bot.intake
    intake.flood.quiet = 2.0  # the spell ends after 2 quiet seconds (10 in production)
    rater = api_server.user(601, "评议人", language_code="zh")
    flooder = api_server.user(602, "Flooder", language_code="en")
    await enrol(rater, token)
    started = time.monotonic()
    for i in range(FLOOD):
        flooder.send(f"spam {i}")
    # Meanwhile the rater answers, tapping as fast as the bot edits the card.
    await tap(rater, "满意", card_with("交通局", "工作效能"))
    await tap(rater, "← 上一题", card_with("交通局", "工作作风"))
    await tap(rater, "比较满意", card_with("交通局", "工作效能"))
    deadline = time.monotonic() + 60
    while api_server.state.queue:  # every update confirmed (getUpdates offset past it)
        assert time.monotonic() < deadline, f"{len(api_server.state.queue)} updates never confirmed"
        await asyncio.sleep(0.05)
    took = time.monotonic() - started
    deadline = time.monotonic() + 15  # the replies of the updates taken are on their way (slower under load)
    while not [m for m in flooder.messages() if "too fast" in (m.text or "")]:
        assert time.monotonic() < deadline, "no slow-down warning"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a second warning would have come by now
    slow = [m for m in flooder.messages() if "too fast" in (m.text or "")]
    assert len(slow) == 1
    answered = len(flooder.messages())
    # Taken: at most a backlog's worth per batch until the spell starts (the first poll may
    # return with the first message alone), then nothing; plus the one warning.
    assert answered <= 2 * intake.flood.backlog + 1, answered
    assert intake.flood.dropped >= FLOOD - 2 * intake.flood.backlog
    assert not [m for m in rater.messages() if "太快" in (m.text or "")]
    print(f"{FLOOD} messages confirmed in {took:.1f} s; {answered} answers to the flooder")
    await asyncio.sleep(intake.flood.quiet + 0.2)  # quiet: normal again
    before = len(flooder.messages())
    flooder.send("/help")
    await flooder.wait_for_async(lambda m: len(flooder.messages()) > before, T)
    assert len([m for m in flooder.messages() if "too fast" in (m.text or "")]) == 1
