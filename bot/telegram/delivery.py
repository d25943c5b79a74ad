"""Showing a service reply in a chat: cards are edited in place, the rest is sent.

Direct replies to a person's own action go out at once (DESIGN.md §5); when Telegram
answers 429 the reply waits ``retry_after`` and tries again, a few times at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.service import Incoming, Reply, Service
from bot.telegram.intake import note_failure
from bot.telegram.transport import Blocked, MessageGone, NotModified, RetryAfter, SendError, Transient, Transport

log = logging.getLogger(__name__)

ATTEMPTS = 4
MAX_WAIT = 30.0  # a direct reply waits at most this long for flood control


async def _patiently(call: Callable[[], Awaitable]):  # noqa: ANN202
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == ATTEMPTS - 1 or exc.retry_after > MAX_WAIT:
                raise
            await asyncio.sleep(exc.retry_after)
        except Transient:
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def deliver(service: Service, transport: Transport, chat_id: int, reply: Reply) -> None:
    sent: dict[str, int] = {}
    try:
        for m in reply.messages:
            # A card the chat's previous reply sent after this step was computed is known
            # only to the service's memory (replies of one chat are shown in order).
            known = (reply.cards.get(m.card) or service.pending_card(chat_id, reply.campaign_id, m.card)) \
                if m.card else None
            if known is not None:
                try:
                    await _patiently(lambda m=m, known=known: transport.edit_message(chat_id, known, m.text, m.buttons))
                    continue
                except NotModified:
                    continue
                except MessageGone:
                    pass  # deleted by the person: show it anew
            message_id = await _patiently(lambda m=m: transport.send_message(chat_id, m.text, m.buttons))
            if m.card:
                sent[m.card] = message_id
                reply.cards[m.card] = message_id
    except Blocked:
        await service.run(service.mark_unreachable, chat_id)
    except (RetryAfter, Transient) as exc:
        # The person's state is saved; /resume shows the card again.
        log.warning("reply not delivered after %d attempts: %s", ATTEMPTS, exc)
    finally:
        if sent and reply.campaign_id:
            service.remember_cards(chat_id, reply.campaign_id, sent)  # in memory; no DB trip


class Detached:
    """Replies still being shown after their update was committed.

    The update is confirmed to Telegram (polling offset, webhook answer) as soon as its
    transaction has committed; showing the reply (which may wait out flood control) goes
    on in a task kept here, awaited at shutdown. A chat's replies are shown one after
    another in the order of their updates."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._last: dict[int, asyncio.Task] = {}  # per chat, the reply shown last

    def spawn(self, chat_id: int, show: Callable[[], Awaitable[None]]) -> None:
        before = self._last.get(chat_id)

        async def in_turn() -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            await show()

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        self._last[chat_id] = task

        def done(t: asyncio.Task) -> None:
            self._tasks.discard(t)
            if self._last.get(chat_id) is t:
                del self._last[chat_id]
            if not t.cancelled() and t.exception() is not None:
                log.error("showing a reply failed", exc_info=t.exception())

        task.add_done_callback(done)

    async def drain(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


async def handle(service: Service, transport: Transport, inc: Incoming, callback_id: str | None = None) -> None:
    """Run one incoming event through the service and show the reply. A button press is
    always answered (answerCallbackQuery, with the toast if any), so the client's spinner
    stops; that call goes out together with the card's edit. When the transport has a
    ``detached`` set (the running bot), this returns once the event is committed and the
    reply is shown in the background. A failure is left to the intake that fed the
    update (retried or parked, ``bot/telegram/intake.py``): nothing is shown for it."""
    try:
        reply = await service.run(service.handle, inc)
    except Exception as exc:
        if note_failure(exc):
            return
        raise
    detached: Detached | None = getattr(transport, "detached", None)
    if detached is not None:
        detached.spawn(inc.chat_id, lambda: _show(service, transport, inc.chat_id, reply, callback_id))
    else:
        await _show(service, transport, inc.chat_id, reply, callback_id)


async def _show(service: Service, transport: Transport, chat_id: int, reply: Reply, callback_id: str | None) -> None:
    answered = None
    if callback_id is not None:  # sent alongside the new card, not before it: one round trip less
        answered = asyncio.create_task(_answer(transport, callback_id, reply.toast))
    await deliver(service, transport, chat_id, reply)
    if answered is not None:
        await answered


async def _answer(transport: Transport, callback_id: str, toast: str | None) -> None:
    try:
        await transport.answer_callback(callback_id, toast)
    except SendError as exc:  # e.g. a redelivered query already answered
        log.debug("answerCallbackQuery failed: %s", exc)


async def elsewhere(transport: Transport, chat_id: int, language_code: str | None,
                    callback_id: str | None = None) -> None:
    """Someone used the bot in a group, supergroup or channel: one short answer where
    it helps (a command, a button), nothing stored. Evaluations are one person each."""
    from flows.chat import say, t

    locale = "en" if language_code and language_code.lower().startswith("en") else "zh"
    try:
        if callback_id is not None:
            await transport.answer_callback(callback_id, t("chat.private_only", locale))
        else:
            await transport.send_message(chat_id, say("chat.private_only", locale).text)
    except SendError as exc:  # e.g. the group does not let the bot write
        log.debug("answer outside a private chat failed: %s", exc)
