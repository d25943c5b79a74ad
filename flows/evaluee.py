"""Evaluees in the chat, pure: binding a contact with a single-use evaluee code (link
kind ``evaluee``), ``/notice`` (the rectification notice again), ``/plan`` and its taps
``R…`` and free text (the rectification flow, ``flows.rectification``), and the raters'
follow-up answers (taps ``F…``).

An evaluee's contact sees only that evaluee's notice and plan; anyone else is told these
are not available. A follow-up answer is recorded without the person
(``RecordFollowupAnswer``: the person only flips their "answered" flag; the stored answer
has a random id and the option, nothing else).

``step(ctx, event) -> Step``: ``ctx`` is what the database says now, read by the runtime;
the step decides the replies and the effects (``RedeemCode``, ``BindContact``,
``EnqueueNotice``, ``RecordFollowupAnswer``, and the rectification flow's). ``Step.state``
is the plan conversation's new state (``flows.rectification.RState``) when the event went
to it, else None (nothing to store).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from flows import chat  # noqa: F401  ("chat.bad_link")
from flows import rectification as rf
from flows.campaign import Campaign
from flows.codes import RedeemCode
from flows.i18n import register, t
from flows.messages import Message, Outcome, Step

register({
    "ev.not_available": {"zh": "此功能仅对被评议对象的联系人开放。", "en": "This command is not available to you."},
    "ev.bound": {"zh": "您已登记为「{title}」中「{name}」的联系人。评议结束并发布后，整改通知书将发送到这里。",
                 "en": "You are now the contact of “{name}” in “{title}”. The rectification notice will come here once the results are published."},
    "ev.bound_published": {"zh": "您已登记为「{title}」中「{name}」的联系人。整改通知书随后发送给您。",
                           "en": "You are now the contact of “{name}” in “{title}”. The rectification notice follows."},
    "ev.already": {"zh": "您已经是「{name}」的联系人。发送 /notice 查看整改通知书，/plan 制定整改方案。",
                   "en": "You are already the contact of “{name}”. Send /notice for the notice, /plan for the plan."},
    "ev.other": {"zh": "您已经是本次评议中「{name}」的联系人，不能再登记为其他对象的联系人。",
                 "en": "You are already the contact of “{name}” in this evaluation and cannot speak for another evaluee."},
    "ev.code_used": {"zh": "这个联系人码已被使用。每个码只能使用一次，请向组织者索取新的。",
                     "en": "This contact code has been used already. Each code works once; please ask the organizers for a new one."},
    "ev.not_published": {"zh": "「{title}」的整改通知书尚未发布，发布后会发送给您。",
                         "en": "The notice of “{title}” is not published yet; it will be sent to you when it is."},
    "ev.stale": {"zh": "此按钮已失效。", "en": "This button is out of date."},
    "fu.thanks": {"zh": "感谢您的评价！您的回答是匿名的。", "en": "Thank you! Your answer is anonymous."},
    "fu.already": {"zh": "您已经回答过了，谢谢。", "en": "You have already answered. Thank you."},
    "fu.closed": {"zh": "这次回访已经结束。", "en": "This follow-up has closed."},
})

MAX_TEXT = 5000  # free text longer than this is cut before the plan flow reads it


# --- contexts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeCtx:
    """An evaluee code's view of the database."""

    locale: str
    person_id: int
    campaign: Campaign  # the code's
    current: str | None  # the evaluee this person speaks for in that campaign already
    used: bool  # the code is used up
    published: bool  # the code's evaluee has its notice already


@dataclass(frozen=True)
class ContactCtx:
    """``/notice``, ``/plan``, a plan tap or text: the evaluee this person speaks for."""

    locale: str
    contact: bool  # speaks for an evaluee (of the campaign named; of the tapped round)
    title: str = ""  # that campaign's title, in ``locale``
    notice: tuple[Message, ...] | None = None  # /notice: the published notice (None: not yet)
    round: rf.Ctx | None = None  # the evaluee's current round (None: not published yet)


@dataclass(frozen=True)
class AnswerCtx:
    """A follow-up answer's view of the database (the round the tap names)."""

    locale: str
    person_id: int
    round_id: int | None  # None: no such round
    open: bool = False  # its survey has started and not closed
    scale: tuple[str, ...] = ()  # the campaign's scale option keys, in order
    asked: bool = False  # this person was asked
    answered: bool = False  # … and has answered


# --- events ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    token: str
    evaluee_key: str | None


@dataclass(frozen=True)
class Notice:
    pass


@dataclass(frozen=True)
class Plan:
    pass


@dataclass(frozen=True)
class PlanTap:
    data: str


@dataclass(frozen=True)
class PlanText:
    text: str


@dataclass(frozen=True)
class Answer:
    data: str


Event = Code | Notice | Plan | PlanTap | PlanText | Answer


# --- effects ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BindContact:
    campaign_id: str
    evaluee_key: str
    person_id: int


@dataclass(frozen=True)
class EnqueueNotice:
    """The notice to a contact through the outbox (published already when they bound)."""

    campaign_id: str
    evaluee_key: str
    person_id: int


@dataclass(frozen=True)
class RecordFollowupAnswer:
    """Flip the person's "answered" flag and store the answer apart, without the person.
    ``option_key`` (None: 不了解) stays out of the repr, so that no log line of the effect
    pairs a person with an answer."""

    round_id: int
    person_id: int
    option_key: str | None = field(repr=False)


Effect = RedeemCode | BindContact | EnqueueNotice | RecordFollowupAnswer


# --- the step ---------------------------------------------------------------------------------------
def _say(key: str, locale: str, **kw: object) -> Message:
    return Message(escape(t(key, locale, **kw)))


def _answer(*messages: Message, toast: str | None = None, effects: tuple[object, ...] = ()) -> Step[None]:
    return Step(None, Outcome(list(messages), toast), effects)


def _toast(key: str, locale: str) -> Step[None]:
    return _answer(toast=t(key, locale))


def _bind(ctx: CodeCtx, event: Code) -> Step[None]:
    campaign, loc = ctx.campaign, ctx.locale
    if event.evaluee_key not in {e.key for e in campaign.evaluees}:
        return _answer(_say("chat.bad_link", loc))
    key = event.evaluee_key

    def name(k: str) -> str:
        return campaign.text(campaign.evaluee(k).name, loc)

    if ctx.current is not None:  # checked before the code is used up
        if ctx.current == key:
            return _answer(_say("ev.already", loc, name=name(key)))
        return _answer(_say("ev.other", loc, name=name(ctx.current)))
    if ctx.used:
        return _answer(_say("ev.code_used", loc))
    title = campaign.text(campaign.title, loc)
    bind = (RedeemCode(event.token), BindContact(campaign.id, key, ctx.person_id))
    if ctx.published:  # the notice comes through the outbox like everyone's
        return _answer(_say("ev.bound_published", loc, name=name(key), title=title),
                       effects=(*bind, EnqueueNotice(campaign.id, key, ctx.person_id)))
    return _answer(_say("ev.bound", loc, name=name(key), title=title), effects=bind)


def _rectify(ctx: ContactCtx, state: rf.RState | None, event: rf.Show | rf.Tap | rf.Text) -> Step[rf.RState]:
    assert ctx.round is not None
    return rf.step(ctx.round, state or rf.start(ctx.round.round_id), event)


def _contact(ctx: ContactCtx, state: rf.RState | None,
             event: Notice | Plan | PlanTap | PlanText) -> Step[rf.RState] | Step[None]:
    loc = ctx.locale
    if isinstance(event, PlanTap):
        tapped = rf.round_of(event.data)
        if tapped is None:
            return _toast("ev.stale", loc)
        if not ctx.contact or ctx.round is None:
            return _toast("ev.not_available", loc)
        if ctx.round.round_id != tapped:  # a button of an earlier round: show the current plan
            return _rectify(ctx, state, rf.Show())
        return _rectify(ctx, state, rf.Tap(event.data))
    if isinstance(event, PlanText):  # only while a plan step waits for text (the runtime asks)
        if not ctx.contact or ctx.round is None:
            return _answer()
        return _rectify(ctx, state, rf.Text(event.text[:MAX_TEXT]))
    if not ctx.contact:
        return _answer(_say("ev.not_available", loc))
    if isinstance(event, Notice):
        if ctx.notice is None:
            return _answer(_say("ev.not_published", loc, title=ctx.title))
        return _answer(*ctx.notice)
    if ctx.round is None:
        return _answer(_say("ev.not_published", loc, title=ctx.title))
    return _rectify(ctx, state, rf.Show())


def _followup(ctx: AnswerCtx, event: Answer) -> Step[None]:
    loc = ctx.locale
    parsed = rf.parse_followup(event.data)
    if parsed is None or ctx.round_id is None or parsed[0] != ctx.round_id:
        return _toast("ev.stale", loc)
    if not ctx.open:
        return _toast("fu.closed", loc)
    option = parsed[1]
    if option is not None and not 0 <= option < len(ctx.scale):
        return _toast("ev.stale", loc)
    if not ctx.asked:
        return _toast("ev.stale", loc)
    if ctx.answered:
        return _toast("fu.already", loc)
    key = None if option is None else ctx.scale[option]
    return _answer(_say("fu.thanks", loc), toast=t("fu.thanks", loc),
                   effects=(RecordFollowupAnswer(ctx.round_id, ctx.person_id, key),))


def step(ctx: CodeCtx | ContactCtx | AnswerCtx, state: rf.RState | None, event: Event) -> Step[rf.RState] | Step[None]:
    """``state``: the plan conversation, where it is (None: not begun, or not a plan event)."""
    if isinstance(event, Code):
        assert isinstance(ctx, CodeCtx)
        return _bind(ctx, event)
    if isinstance(event, Answer):
        assert isinstance(ctx, AnswerCtx)
        return _followup(ctx, event)
    assert isinstance(ctx, ContactCtx)
    return _contact(ctx, state, event)
