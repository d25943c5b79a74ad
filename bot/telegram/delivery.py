"""Showing a service reply in a chat: cards are edited in place, the rest is sent."""

from __future__ import annotations

import asyncio
import logging

from bot.service import Reply, Service
from bot.telegram.transport import Blocked, MessageGone, NotModified, Transport

log = logging.getLogger(__name__)


async def deliver(service: Service, transport: Transport, chat_id: int, reply: Reply) -> None:
    sent: dict[str, int] = {}
    try:
        for m in reply.messages:
            known = reply.cards.get(m.card) if m.card else None
            if known is not None:
                try:
                    await transport.edit_message(chat_id, known, m.text, m.buttons)
                    continue
                except NotModified:
                    continue
                except MessageGone:
                    pass  # deleted by the person: show it anew
            message_id = await transport.send_message(chat_id, m.text, m.buttons)
            if m.card:
                sent[m.card] = message_id
                reply.cards[m.card] = message_id
    except Blocked:
        await asyncio.to_thread(service.mark_unreachable, chat_id)
    finally:
        if sent and reply.campaign_id:
            await asyncio.to_thread(service.remember_cards, chat_id, reply.campaign_id, sent)
