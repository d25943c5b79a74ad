"""Organizer commands in chat: ``/digest`` (a digest now: a request drawn by the worker
process, ``bot/digest_worker.py``, then through the outbox), ``/status`` (phase and
progress), and binding with a one-time organizer code (``/start <code>``, link kind
``organizer``, printed by ``minping links --organizer``).

Thin entries: read the context (``bot.app.organizer``), step the pure rules
(``flows.organizer``: who may, which campaigns, what to answer), apply the effects in the
event's transaction (``bot.app.effects``). While a sealed campaign is open both commands
show progress only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

from sqlmodel import Session

from bot.app import effects
from bot.app import organizer as app
from bot.chat import Feature
from bot.events import Incoming, Reply
from flows import organizer as org
from flows.codes import CodeUsed
from flows.messages import Step
from storage.models import Link, Person

if TYPE_CHECKING:
    from bot.service import Service


def _reply(step: Step) -> Reply:
    return Reply(step.outcome.messages, step.outcome.toast)


def on_digest(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    step = org.step(app.ctx(s, svc.campaign, person), None, org.Digest(inc.text))
    effects.apply(s, step.effects, now=svc.clock())
    return _reply(step)


def on_status(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    ctx = app.ctx(s, svc.campaign, person, inc.text, report="status", now=svc.clock())
    return _reply(org.step(ctx, None, org.Status(inc.text)))


def on_organizer_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    ctx = app.code_ctx(s, svc.campaign(s, link.campaign_id), person, link)
    step = org.step(ctx, None, org.Code(link.token))
    try:
        effects.apply(s, step.effects, now=svc.clock())
    except CodeUsed:  # used meanwhile by a concurrent redemption: nothing was written
        step = org.step(replace(ctx, used=True), None, org.Code(link.token))
    return _reply(step)


FEATURE = Feature("organizer", commands={"digest": on_digest, "status": on_status},
                  links={"organizer": on_organizer_link})
