"""The follow-up survey of a rectification round: the question to the raters who rated
the evaluee, the rate when it closes, and a further round when it is below the threshold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape

from sqlmodel import Session

from bot.app import effects
from bot.app.audience import locale_for, name_of, organizers, pct
from bot.app.rectification import open_button
from flows import evaluee as ev
from flows import rectification as rf
from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Button, Message
from storage import outbox
from storage import rectification as rs
from storage.models import Person, PersonStatus
from storage.types import PlanStatus

FOLLOWUP_DAYS = 7  # how long the follow-up survey stays open (unless all have answered)

register({
    "fu.question": {"zh": "「{title}」回访：{name} 第 {round} 轮整改期限已到。{facts}您对其整改情况满意吗？",
                    "en": "“{title}” follow-up: round {round} of {name}'s rectification has ended. {facts}"
                          "Are you satisfied with the rectification?"},
    "fu.facts_all_done": {"zh": "整改措施 {plans} 项，均已完成。", "en": "All {plans} measures are done. "},
    "fu.facts_some_done": {"zh": "整改措施 {plans} 项，已完成 {done} 项，尚未完成 {open} 项。",
                           "en": "{done} of {plans} measures are done, {open} not yet. "},
    "fu.facts_exempt": {"zh": "另有 {n} 项意见经说明无需整改（表扬或不属于本单位职责）。",
                        "en": "{n} more items need no rectification (praise, or outside its remit), as it explained. "},
    "fu.question_none": {"zh": "「{title}」回访：{name} 第 {round} 轮没有提交整改方案。{facts}您对其处理您意见的情况满意吗？",
                         "en": "“{title}” follow-up: {name} filed no rectification plan for round {round}. {facts}"
                               "Are you satisfied with how it handled your opinions?"},
    "fu.measures": {"zh": "主要整改措施：", "en": "Main measures: "},
    "fu.rate": {"zh": "「{title}」整改回访结果：{name} 第 {round} 轮整改满意度 {rate}（有效回答 {valid}，满意 {satisfied}）。",
                "en": "“{title}” follow-up: satisfaction with {name}'s rectification round {round} is {rate} ({satisfied} of {valid} valid answers)."},
    "fu.too_few": {"zh": "「{title}」整改回访结果：{name} 第 {round} 轮的有效回答太少，为保护评价人匿名，不显示满意度。",
                   "en": "“{title}” follow-up: too few valid answers about {name}'s rectification round {round} "
                         "to show a figure without exposing the raters."},
    "fu.no_answers": {"zh": "「{title}」整改回访结果：{name} 第 {round} 轮没有收到有效回答。",
                      "en": "“{title}” follow-up: no valid answers about {name}'s rectification round {round}."},
    "fu.next_round": {"zh": "满意度低于 {threshold}，请开展第 {round} 轮整改，于 {deadline} 前重新制定整改方案。",
                      "en": "That is below {threshold}: please run rectification round {round} and file a new plan by {deadline}."},
    "fu.next_round_plain": {"zh": "请开展第 {round} 轮整改，于 {deadline} 前重新制定整改方案。",
                            "en": "Please run rectification round {round} and file a new plan by {deadline}."},
    "fu.final": {"zh": "已达到最多 {max} 轮整改，请组织者跟进。", "en": "The maximum of {max} rounds is reached; the organizers will follow up."},
})


def followup_question(session: Session, campaign: Campaign, rnd: rs.RectRound, locale: str) -> Message:
    """The question, with the facts as they are: how many measures are done and how many
    not ("已完成第 1 轮整改" only when every measure is done), and the items answered as
    needing no rectification."""
    entries = rs.plans(session, rnd.id)
    plans = [p for p in entries if p.kind == "plan"]
    exempt = sum(len(p.items) for p in entries if p.kind != "plan")
    done = sum(p.status == PlanStatus.DONE for p in plans)
    kw = dict(title=campaign.text(campaign.title, locale), name=name_of(campaign, rnd.evaluee_key, locale),
              round=rnd.number)
    facts = t("fu.facts_exempt", locale, n=exempt) if exempt else ""
    if plans:
        key = "fu.facts_all_done" if done == len(plans) else "fu.facts_some_done"
        facts = t(key, locale, plans=len(plans), done=done, open=len(plans) - done) + facts
        text = escape(t("fu.question", locale, facts=facts, **kw))
    else:  # nothing was filed: say so rather than "finished … (0 measures)"
        text = escape(t("fu.question_none", locale, facts=facts, **kw))
    measures = [p.measure for p in plans][:5]
    if measures:
        listing = ("；" if locale == "zh" else "; ").join(m if len(m) <= 80 else m[:79] + "…" for m in measures)
        text += "\n" + escape(t("fu.measures", locale) + listing)
    options = [Button(campaign.text(o.label, locale), rf.followup_action(rnd.id, i)) for i, o in enumerate(campaign.scale)]
    rows = tuple(tuple(options[i:i + 2]) for i in range(0, len(options), 2))
    rows += ((Button(campaign.text(campaign.dont_know, locale), rf.followup_action(rnd.id, None)),),)
    return Message(text, rows)


# --- a rater's answer (taps ``F…``) ----------------------------------------------------------
def answer_ctx(session: Session, load: Callable[[Session, str], Campaign], person: Person, data: str) -> ev.AnswerCtx:
    """What ``flows.evaluee`` needs to judge a follow-up tap: the round it names, whether
    its survey is open, the scale, and whether this person was asked and has answered."""
    parsed = rf.parse_followup(data)
    rnd = session.get(rs.RectRound, parsed[0]) if parsed else None
    if rnd is None:
        return ev.AnswerCtx(person.locale, person.id, None)
    asked = session.get(rs.FollowupAsked, (rnd.id, person.id))
    return ev.AnswerCtx(person.locale, person.id, rnd.id,
                        open=rnd.survey_started_at is not None and rnd.survey_closed_at is None,
                        scale=tuple(o.key for o in load(session, rnd.campaign_id).scale),
                        asked=asked is not None, answered=asked is not None and asked.answered)


@effects.applies(ev.RecordFollowupAnswer)
def _record_answer(session: Session, eff: ev.RecordFollowupAnswer, **_: object) -> None:
    """Stored without the person (``storage.rectification.answer``); raises ``NotAsked`` /
    ``AlreadyAnswered`` when a concurrent tap answered first (the UPDATE is conditional)."""
    rs.answer(session, eff.round_id, eff.person_id, eff.option_key)


def start_survey(session: Session, campaign: Campaign, rnd: rs.RectRound, now: datetime) -> int:
    rnd.survey_started_at = now
    session.add(rnd)
    n = 0
    for person in rs.raters_of(session, campaign, rnd.evaluee_key):
        if person.status != PersonStatus.ACTIVE:
            continue
        if rs.ask(session, rnd.id, person.id):
            m = followup_question(session, campaign, rnd, person.locale)
            n += outbox.enqueue(session, person.chat_id, "notice", m.text, m.buttons,
                                dedupe_key=f"fu:{rnd.id}:{person.id}", campaign_id=campaign.id,
                                channel=person.channel) is not None
    return n


def close_survey(session: Session, campaign: Campaign, rnd: rs.RectRound, now: datetime) -> int:
    """Compute the rate, report it, and open a further round when it is below the
    threshold (up to ``max_rounds``). No valid answer: reported, no further round (there
    is nothing to judge by)."""
    _, _, per = rs.followup_counts(session, rnd.id)
    satisfied_keys = {o.key for o in campaign.scale if o.satisfied}
    valid = sum(k for o, k in per.items() if o is not None)
    satisfied = sum(k for o, k in per.items() if o in satisfied_keys)
    rs.close_survey(session, rnd, satisfied, valid, now)
    rule = campaign.rectification
    below = rnd.rate is not None and rnd.rate < rule.threshold
    nxt = None
    if below and rnd.number < rule.max_rounds:
        deadline = rs.local_today(now, campaign.timezone) + timedelta(days=rule.deadline_days)
        nxt = rs.open_round(session, campaign.id, rnd.evaluee_key, rnd.number + 1, deadline, now)
    n = 0

    # Anonymity: the evaluee's contacts see the figure only when enough raters answered
    # (min_group_size, as for the results); with fewer, a rate would reveal opinions.
    enough = valid >= campaign.min_group_size

    def text(loc: str, figure: bool = True) -> str:
        kw = dict(title=campaign.text(campaign.title, loc), name=name_of(campaign, rnd.evaluee_key, loc),
                  round=rnd.number)
        if not valid:
            s = t("fu.no_answers", loc, **kw)
        elif figure:
            s = t("fu.rate", loc, rate=pct(rnd.rate), valid=valid, satisfied=satisfied, **kw)
        else:
            s = t("fu.too_few", loc, **kw)
        if nxt is not None and figure:
            s += "\n" + t("fu.next_round", loc, threshold=pct(rule.threshold), round=nxt.number,
                          deadline=nxt.deadline.isoformat())
        elif nxt is not None:  # no "below the threshold" either: it would hint at the answers
            s += "\n" + t("fu.next_round_plain", loc, round=nxt.number, deadline=nxt.deadline.isoformat())
        elif below:
            s += "\n" + t("fu.final", loc, max=rule.max_rounds)
        return escape(s)

    for p in rs.contacts(session, campaign.id, rnd.evaluee_key, reachable=True):
        buttons = open_button(nxt, p.locale) if nxt is not None else ()
        n += outbox.enqueue(session, p.chat_id, "feedback", text(p.locale, figure=enough), buttons,
                            dedupe_key=f"fu:rate:{rnd.id}:{p.id}", campaign_id=campaign.id,
                            channel=p.channel) is not None
    for chat in organizers(session, campaign):
        n += outbox.enqueue(session, chat, "notice", text(locale_for(session, campaign, chat)),
                            dedupe_key=f"fu:rate:{rnd.id}:org:{chat}", campaign_id=campaign.id) is not None
    return n


def survey_due_to_close(session: Session, rnd: rs.RectRound, now: datetime) -> bool:
    asked, answered, _ = rs.followup_counts(session, rnd.id)
    return answered >= asked or now >= rnd.survey_started_at + timedelta(days=FOLLOWUP_DAYS)
