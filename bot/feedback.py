"""Feedback to evaluees and the rectification loop, wired to the database and the
outbox: publishing the notices, the plan-filing context, the follow-up survey and the
proactive messages (reminders, overdue, escalation, rates, further rounds).

Every proactive message goes through ``storage.outbox.enqueue`` in the caller's
transaction with a ``dedupe_key``, and only to people whose status is ``active``.
Nothing here logs or stores who gave which follow-up answer.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlmodel import Session, select

from flows import rectification as rf
from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Button, Message
from flows.scrub import scrub_opinion
from reports import feedback as report
from reports import tally as tallies
from reports.results import Tally
from storage import campaigns, outbox
from storage import feedback as fb
from storage import tally as tally_store
from storage.models import Ballot, Opinion, Person

FOLLOWUP_DAYS = 7  # how long the follow-up survey stays open (unless all have answered)
REMIND_DAYS = 2  # reminder this many days before a deadline

register({
    "rem.due": {"zh": "提醒：「{name}」的整改方案{id}（第 {items} 项）将于 {deadline} 到期，请及时完成并报告进展。",
                "en": "Reminder: plan {id} of “{name}” (items {items}) is due on {deadline}; please finish it and report progress."},
    "rem.round_due": {"zh": "提醒：「{name}」第 {round} 轮整改将于 {deadline} 截止，第 {items} 项尚未制定整改方案。",
                      "en": "Reminder: round {round} for “{name}” ends on {deadline}; items {items} have no plan yet."},
    "rem.overdue": {"zh": "⚠️「{name}」的整改方案{id}（第 {items} 项）已于 {deadline} 到期仍未完成，已报告组织者。",
                    "en": "⚠️ Plan {id} of “{name}” (items {items}) was due on {deadline} and is not done; the organizers have been told."},
    "rem.unplanned": {"zh": "⚠️「{name}」第 {round} 轮整改已于 {deadline} 截止，第 {items} 项没有整改方案，已报告组织者。",
                      "en": "⚠️ Round {round} for “{name}” ended on {deadline}; items {items} have no plan. The organizers have been told."},
    "esc.overdue": {"zh": "整改逾期（{title}）：{name} 方案{id}（第 {items} 项：{measure}；责任人 {owner}）应于 {deadline} 完成，至今未完成。",
                    "en": "Overdue rectification ({title}): {name}, plan {id} (items {items}: {measure}; owner {owner}) was due on {deadline} and is not done."},
    "esc.unplanned": {"zh": "整改逾期（{title}）：{name} 第 {round} 轮已于 {deadline} 截止，第 {items} 项没有整改方案。",
                      "en": "Overdue rectification ({title}): {name}, round {round} ended on {deadline}; items {items} have no plan."},
    "fu.question": {"zh": "「{title}」回访：{name} 已完成第 {round} 轮整改（整改措施 {plans} 项，已完成 {done} 项）。"
                          "您对其整改情况满意吗？",
                    "en": "“{title}” follow-up: {name} has finished rectification round {round} ({plans} measures, {done} done). "
                          "Are you satisfied with the rectification?"},
    "fu.question_none": {"zh": "「{title}」回访：{name} 第 {round} 轮没有提交整改方案。您对其处理您意见的情况满意吗？",
                         "en": "“{title}” follow-up: {name} filed no rectification plan for round {round}. "
                               "Are you satisfied with how it handled your opinions?"},
    "fu.measures": {"zh": "主要整改措施：", "en": "Main measures: "},
    "fu.thanks": {"zh": "感谢您的评价！您的回答是匿名的。", "en": "Thank you! Your answer is anonymous."},
    "fu.already": {"zh": "您已经回答过了，谢谢。", "en": "You have already answered. Thank you."},
    "fu.closed": {"zh": "这次回访已经结束。", "en": "This follow-up has closed."},
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


class NotClosed(Exception):
    pass


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def aware(ts: datetime | None) -> datetime | None:
    from datetime import UTC

    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def may_message(session: Session, chat_id: int) -> bool:
    """Only people whose status is active (an organizer from the campaign file may have
    never written to the bot: no row, no reason to hold back)."""
    person = session.exec(select(Person).where(Person.chat_id == chat_id)).first()
    return person is None or person.status == "active"


def locale_for(session: Session, campaign: Campaign, chat_id: int) -> str:
    """The person's own language when they have written to the bot and the campaign
    speaks it; otherwise the campaign's default."""
    person = session.exec(select(Person).where(Person.chat_id == chat_id)).first()
    if person is not None and person.locale in campaign.locales:
        return person.locale
    return campaign.default_locale


def organizers(session: Session, campaign: Campaign) -> list[int]:
    return [c for c in tally_store.organizers(session, campaign) if may_message(session, c)]


def name_of(campaign: Campaign, evaluee_key: str, locale: str) -> str:
    return campaign.text(campaign.evaluee(evaluee_key).name, locale)


# --- publishing ---------------------------------------------------------------------------
@dataclass
class Published:
    evaluees: int = 0  # notices created now
    items: int = 0
    dropped: int = 0  # opinions empty after scrubbing
    messages: int = 0  # outbox rows written
    contacts_missing: list[str] | None = None


def tally_of(session: Session, campaign: Campaign) -> Tally:
    row = campaigns.get_row(session, campaign.id)
    if not row.closed:
        raise NotClosed(f"campaign '{campaign.id}' is not closed yet: run `minping close {campaign.id}` first")
    result = tallies.stored(session, campaign.id)
    if result is None:
        raise NotClosed(f"campaign '{campaign.id}' has no stored tally: run `minping close {campaign.id}` first")
    return result


def _opinions(session: Session, campaign_id: str, evaluee_key: str) -> list[str]:
    return list(session.exec(select(Opinion.text).join(Ballot, Ballot.id == Opinion.ballot_id)
                             .where(Ballot.campaign_id == campaign_id, Opinion.evaluee_key == evaluee_key)))


def publish(session: Session, campaign: Campaign, now: datetime, rng: random.Random | None = None) -> Published:
    """Create each evaluee's notice (once) and send it to every contact that has not had
    it yet. Re-running sends the notice to contacts bound since; nothing twice."""
    result = tally_of(session, campaign)
    rng = rng or random.Random(secrets.randbits(64))
    out = Published(contacts_missing=[])
    for e in campaign.evaluees:
        if fb.notice(session, campaign.id, e.key) is None:
            texts = [scrub_opinion(x) for x in _opinions(session, campaign.id, e.key)]
            kept = [x for x in texts if x]
            rng.shuffle(kept)  # random order: the position says nothing about the ballot
            fb.store_notice(session, campaign.id, e.key, kept, len(texts) - len(kept), now)
            deadline = fb.local_today(now, campaign.timezone) + timedelta(days=campaign.rectification.deadline_days)
            fb.open_round(session, campaign.id, e.key, 1, deadline, now)
            out.evaluees += 1
            out.items += len(kept)
            out.dropped += len(texts) - len(kept)
        people = fb.contacts(session, campaign.id, e.key, reachable=True)
        if not fb.contacts(session, campaign.id, e.key):
            out.contacts_missing.append(e.key)
        for person in people:
            out.messages += enqueue_notice(session, campaign, result, e.key, person)
    return out


def notice_messages(session: Session, campaign: Campaign, result: Tally, evaluee_key: str,
                    locale: str) -> list[Message]:
    rnd = fb.current_round(session, campaign.id, evaluee_key)
    items = [(i.number, i.text) for i in fb.items(session, campaign.id, evaluee_key)]
    return report.notice_messages(campaign, result.evaluees[evaluee_key], result.evaluees, items,
                                  rnd.deadline, locale, rf.action("m", rnd.id), rnd.number)


def enqueue_notice(session: Session, campaign: Campaign, result: Tally, evaluee_key: str, person: Person) -> int:
    n = 0
    for i, m in enumerate(notice_messages(session, campaign, result, evaluee_key, person.locale)):
        key = f"fb:{campaign.id}:{evaluee_key}:{person.id}:{i}"
        n += outbox.enqueue(session, person.chat_id, "feedback", m.text, m.buttons, dedupe_key=key) is not None
    return n


# --- the plan-filing context ------------------------------------------------------------------
def ctx(session: Session, campaign: Campaign, rnd: fb.RectRound, locale: str, now: datetime) -> rf.Ctx:
    plans = tuple(rf.PlanView(p.id, tuple(p.items), p.measure, p.owner, p.deadline, p.status == "done", p.progress)
                  for p in fb.plans(session, rnd.id))
    return rf.Ctx(round_id=rnd.id, round_number=rnd.number, evaluee_name=name_of(campaign, rnd.evaluee_key, locale),
                  locale=locale, today=fb.local_today(now, campaign.timezone), round_deadline=rnd.deadline,
                  items=tuple(i.number for i in fb.items(session, campaign.id, rnd.evaluee_key)), plans=plans)


def apply(session: Session, rnd: fb.RectRound, effects: list, now: datetime) -> None:
    for eff in effects:
        if isinstance(eff, rf.SavePlan):
            fb.add_plan(session, rnd.id, list(eff.items), eff.measure, eff.owner, eff.deadline)
        elif isinstance(eff, rf.SaveProgress):
            plan = session.get(fb.RectPlan, eff.plan_id)
            if plan is not None and plan.round_id == rnd.id:
                fb.record_progress(session, plan, eff.text, now)
        elif isinstance(eff, rf.MarkDone):
            plan = session.get(fb.RectPlan, eff.plan_id)
            if plan is not None and plan.round_id == rnd.id:
                fb.mark_done(session, plan, now)


# --- reminders, overdue, escalation -----------------------------------------------------------
def _open_button(rnd: fb.RectRound, locale: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("fb.start", locale), rf.action("m", rnd.id)),),)


def remind(session: Session, campaign: Campaign, rnd: fb.RectRound, now: datetime) -> int:
    """Reminders before each deadline, overdue notices to the contacts, escalation to the
    organizers; each at most once (dedupe keys per plan / round and person)."""
    tz = campaign.timezone
    today = fb.local_today(now, tz)
    plans = fb.plans(session, rnd.id)
    numbers = [i.number for i in fb.items(session, campaign.id, rnd.evaluee_key)]
    people = fb.contacts(session, campaign.id, rnd.evaluee_key, reachable=True)
    orgs = organizers(session, campaign)
    n = 0

    def local(kw: dict, loc: str) -> dict:
        return {k: rf.format_items(v, loc) if isinstance(v, tuple | list) else v for k, v in kw.items()}

    def to_contacts(key: str, text_key: str, **kw: object) -> None:
        nonlocal n
        for p in people:
            text = escape(t(text_key, p.locale, name=name_of(campaign, rnd.evaluee_key, p.locale), **local(kw, p.locale)))
            n += outbox.enqueue(session, p.chat_id, "reminder", text, _open_button(rnd, p.locale),
                                dedupe_key=f"{key}:{p.id}") is not None

    def to_organizers(key: str, text_key: str, **kw: object) -> None:
        nonlocal n
        for chat in orgs:
            loc = locale_for(session, campaign, chat)
            text = escape(t(text_key, loc, title=campaign.text(campaign.title, loc),
                            name=name_of(campaign, rnd.evaluee_key, loc), **local(kw, loc)))
            n += outbox.enqueue(session, chat, "notice", text, dedupe_key=f"{key}:{chat}") is not None

    for k, p in enumerate(plans, 1):
        if p.status == "done":
            continue
        items_zh = tuple(p.items)
        if now >= fb.end_of(p.deadline, tz):
            to_contacts(f"rect:over:{p.id}", "rem.overdue", id=k, items=items_zh, deadline=p.deadline.isoformat())
            to_organizers(f"rect:esc:{p.id}", "esc.overdue", id=k, items=items_zh, measure=p.measure,
                          owner=p.owner, deadline=p.deadline.isoformat())
        elif today >= p.deadline - timedelta(days=REMIND_DAYS):
            to_contacts(f"rect:due:{p.id}", "rem.due", id=k, items=items_zh, deadline=p.deadline.isoformat())
    planned = {i for p in plans for i in p.items}
    unplanned = [i for i in numbers if i not in planned]
    if unplanned:
        items = tuple(unplanned)
        if now >= fb.end_of(rnd.deadline, tz):
            to_contacts(f"rect:unpl:{rnd.id}", "rem.unplanned", round=rnd.number, items=items,
                        deadline=rnd.deadline.isoformat())
            to_organizers(f"rect:escu:{rnd.id}", "esc.unplanned", round=rnd.number, items=items,
                          deadline=rnd.deadline.isoformat())
        elif today >= rnd.deadline - timedelta(days=REMIND_DAYS):
            to_contacts(f"rect:rdue:{rnd.id}", "rem.round_due", round=rnd.number, items=items,
                        deadline=rnd.deadline.isoformat())
    return n


# --- the follow-up survey ------------------------------------------------------------------------
def followup_action(round_id: int, option: int | None) -> str:
    return f"F{round_id}.{'n' if option is None else option}"


def parse_followup(data: str) -> tuple[int, int | None] | None:
    import re

    m = re.fullmatch(r"F(\d{1,12})\.(n|\d{1,2})", data or "")
    if m is None:
        return None
    return int(m.group(1)), None if m.group(2) == "n" else int(m.group(2))


def followup_question(session: Session, campaign: Campaign, rnd: fb.RectRound, locale: str) -> Message:
    plans = fb.plans(session, rnd.id)
    kw = dict(title=campaign.text(campaign.title, locale), name=name_of(campaign, rnd.evaluee_key, locale),
              round=rnd.number)
    if plans:
        text = escape(t("fu.question", locale, plans=len(plans), done=sum(p.status == "done" for p in plans), **kw))
    else:  # nothing was filed: say so rather than "finished … (0 measures)"
        text = escape(t("fu.question_none", locale, **kw))
    measures = [p.measure for p in plans][:5]
    if measures:
        listing = ("；" if locale == "zh" else "; ").join(m if len(m) <= 80 else m[:79] + "…" for m in measures)
        text += "\n" + escape(t("fu.measures", locale) + listing)
    options = [Button(campaign.text(o.label, locale), followup_action(rnd.id, i)) for i, o in enumerate(campaign.scale)]
    rows = tuple(tuple(options[i:i + 2]) for i in range(0, len(options), 2))
    rows += ((Button(campaign.text(campaign.dont_know, locale), followup_action(rnd.id, None)),),)
    return Message(text, rows)


def start_survey(session: Session, campaign: Campaign, rnd: fb.RectRound, now: datetime) -> int:
    rnd.survey_started_at = now
    session.add(rnd)
    n = 0
    for person in fb.raters_of(session, campaign, rnd.evaluee_key):
        if person.status != "active":
            continue
        if fb.ask(session, rnd.id, person.id):
            m = followup_question(session, campaign, rnd, person.locale)
            n += outbox.enqueue(session, person.chat_id, "notice", m.text, m.buttons,
                                dedupe_key=f"fu:{rnd.id}:{person.id}") is not None
    return n


def close_survey(session: Session, campaign: Campaign, rnd: fb.RectRound, now: datetime) -> int:
    """Compute the rate, report it, and open a further round when it is below the
    threshold (up to ``max_rounds``). No valid answer: reported, no further round (there
    is nothing to judge by)."""
    _, _, per = fb.followup_counts(session, rnd.id)
    satisfied_keys = {o.key for o in campaign.scale if o.satisfied}
    valid = sum(k for o, k in per.items() if o is not None)
    satisfied = sum(k for o, k in per.items() if o in satisfied_keys)
    fb.close_survey(session, rnd, satisfied, valid, now)
    rule = campaign.rectification
    below = rnd.rate is not None and rnd.rate < rule.threshold
    nxt = None
    if below and rnd.number < rule.max_rounds:
        deadline = fb.local_today(now, campaign.timezone) + timedelta(days=rule.deadline_days)
        nxt = fb.open_round(session, campaign.id, rnd.evaluee_key, rnd.number + 1, deadline, now)
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

    for p in fb.contacts(session, campaign.id, rnd.evaluee_key, reachable=True):
        buttons = _open_button(nxt, p.locale) if nxt is not None else ()
        n += outbox.enqueue(session, p.chat_id, "feedback", text(p.locale, figure=enough), buttons,
                            dedupe_key=f"fu:rate:{rnd.id}:{p.id}") is not None
    for chat in organizers(session, campaign):
        n += outbox.enqueue(session, chat, "notice", text(locale_for(session, campaign, chat)),
                            dedupe_key=f"fu:rate:{rnd.id}:org:{chat}") is not None
    return n


def survey_due_to_close(session: Session, rnd: fb.RectRound, now: datetime) -> bool:
    asked, answered, _ = fb.followup_counts(session, rnd.id)
    return answered >= asked or now >= aware(rnd.survey_started_at) + timedelta(days=FOLLOWUP_DAYS)
