"""In the chat: /resume also offers the questionnaire as a page (when there is a Mini
App URL, ``links.app_url``). The invitation and the reminder carry the same button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from html import escape

from sqlmodel import Session

from bot.app import questionnaire
from bot.chat import Feature
from bot.miniapp.links import app_url
from bot.events import Incoming, Reply
import flows.chat  # noqa: F401  (registers invite.app)
from flows import questionnaire as q
from flows.i18n import register, t
from flows.messages import Button, Message
from storage.models import Person

if TYPE_CHECKING:
    from bot.service import Service

register({
    "app.offer": {
        "zh": "也可以在一个页面中填写全部评议，与聊天中的进度同步：",
        "en": "You can also fill in everything on one page, in step with your progress here:",
    },
})


def offer(locale: str, url: str) -> Message:
    return Message(escape(t("app.offer", locale)), ((Button(t("invite.app", locale), web_app=url),),))


def on_resume(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply | None:
    url = app_url()
    if url is None:
        return None  # the core answers /resume as before
    reply = questionnaire.answer(svc, s, person, inc, q.Show())
    if reply.campaign_id is not None:  # the questionnaire is on screen: the offer goes above it
        reply.messages.insert(0, offer(person.locale, url))
    return reply


FEATURE = Feature("miniapp", commands={"resume": on_resume})
