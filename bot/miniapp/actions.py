"""The Mini App inside the service: each request of the page is one ``Incoming`` of kind
``app`` through ``Service.handle``, so it runs exactly like a chat step: one transaction,
the same conversation state, the same gates (consent, drawn, phase, already submitted)
and the same submit (one ballot on the hash chain). The request is an
``flows.questionnaire.Apply`` event: opening the page applies nothing and shows the
draft, saving applies the edits, submitting applies and submits.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.app import questionnaire
from bot.app.questionnaire import QUESTIONNAIRE
from bot.events import Incoming, Reply
from flows import questionnaire as q
from flows.campaign import Campaign
from flows.i18n import t
from storage import ballots, conversations

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.service import Service
    from storage.models import Person

OPS = ("view", "save", "submit")


@dataclass
class AppReply(Reply):
    """What the page shows: ``status`` is ok, submitted, done (submitted earlier), refused
    (not a rater now: the ``notice`` says why, in the chat's words) or invalid."""

    status: str = "ok"
    notice: str | None = None
    view: dict | None = None
    locale: str = "zh"


def request(chat_id: int, op: str, *, locale: str | None = None, answers: Any = None, picks: Any = None,
            opinions: Any = None, language_code: str | None = None) -> Incoming:
    """The service event for one request of the page of ``chat_id``."""
    body = {"op": op, "locale": locale, "answers": answers or {}, "picks": picks or {}, "opinions": opinions or {}}
    return Incoming(chat_id, "app", data=json.dumps(body, ensure_ascii=False), language_code=language_code)


def on_app(svc: Service, s: Session, person: Person, inc: Incoming) -> AppReply:
    try:
        body = json.loads(inc.data)
        op = body["op"]
        if op not in OPS or not isinstance(body, dict):
            raise ValueError(op)
        event = q.Apply(answers=body.get("answers") or {}, picks=body.get("picks") or {},
                        opinions=body.get("opinions") or {}, submit=op == "submit")
    except (ValueError, KeyError, TypeError):
        return AppReply(status="invalid", notice=t("q.app_invalid", person.locale), locale=person.locale)
    wanted = body.get("locale")
    try:
        reply = questionnaire.answer(svc, s, person, inc, event)
    except ballots.AlreadySubmitted:  # a concurrent submit of the same person won
        return AppReply(status="done", notice=t("chat.done", person.locale), locale=person.locale)
    if reply.submitted:
        return AppReply(status="submitted", campaign_id=reply.campaign_id, submitted=True,
                        locale=_locale(wanted, person.locale))
    if reply.campaign_id is None:  # refused before the questionnaire, in the chat's words
        member = svc.membership(s, person)
        if member is not None:
            s.refresh(member)  # a concurrent submit may have sealed it meanwhile
        said = reply.toast or "\n".join(m.text for m in reply.messages)
        status = "done" if member is not None and member.submitted else "refused"
        return AppReply(status=status, notice=html.unescape(said), locale=person.locale)
    campaign = svc.campaign(s, reply.campaign_id)
    conv = conversations.load(s, person.id, campaign.id, QUESTIONNAIRE)
    state = q.QState.model_validate(conv.state)
    locale = wanted if wanted in campaign.locales else state.locale
    member = svc.membership(s, person)
    return AppReply(status="ok", notice=reply.toast, campaign_id=campaign.id, locale=locale,
                    view=view(campaign, state, locale, member.group_key if member else state.group))


def _locale(wanted: object, fallback: str) -> str:
    return wanted if wanted in ("zh", "en") else fallback


def view(campaign: Campaign, state: q.QState, locale: str, group: str) -> dict:
    """Everything the page shows, as plain data (the template escapes it)."""
    text = lambda value: " ".join(campaign.text(value, locale).split())  # noqa: E731
    mine = set(q.rated(state))
    by_key = {e.key: e for e in campaign.evaluees}
    position = {k: n for n, k in enumerate(state.evaluees, 1)}
    categories = []
    for c in campaign.categories:
        units = []
        for key in state.evaluees:
            e = by_key.get(key)
            if e is None or e.category != c.key:
                continue
            given = state.answers.get(key, {})
            units.append({
                "key": key, "number": position[key], "name": text(e.name) or key,
                "duties": campaign.text(e.duties, locale).strip(),
                "commitments": [x for x in (campaign.text(c2, locale).strip() for c2 in e.commitments) if x],
                "picked": key in mine, "answers": dict(given), "opinion": state.opinions.get(key, ""),
                "complete": all(given.get(d.key) for d in campaign.dimensions),
            })
        if units:
            categories.append({"label": text(c.label) or c.key, "units": units})
    done, total = q.progress(campaign, state)
    return {
        "title": text(campaign.title), "group": text(campaign.group(group).label) or group,
        "locale": locale, "locales": list(campaign.locales), "preselect": state.preselect,
        "scale": [{"key": o.key, "label": text(o.label) or o.key} for o in campaign.scale],
        "dont_know": {"key": q.DONT_KNOW, "label": text(campaign.dont_know) or t("q.incomplete_mark", locale)},
        "dimensions": [{"key": d.key, "label": text(d.label) or d.key, "hint": text(d.hint)}
                       for d in campaign.dimensions],
        "categories": categories, "done": done, "total": total, "all": len(state.evaluees),
        "opinion_max": campaign.opinion.max_chars,
        "opinion_prompt": text(campaign.opinion.prompt) or t("q.opinion_prompt", locale),
        "shortcut": len(campaign.dimensions) > 1,
    }
