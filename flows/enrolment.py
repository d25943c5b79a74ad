"""Enrolment (报名/登记) and consent: pure.

Joining a rater group through a deep link or a single-use code, consent, the draw's
gate on the questionnaire, starting from an invitation, and /stop.

Flow: link -> explanation + anonymity + consent (buttons ``Cy``/``Cn``, language ``CL…``)
-> open group or after-service link: the questionnaire at once; sampled group: in the
draw's pool, then an invitation if drawn (button ``Cs``). Enrolment is possible while a
campaign is upcoming or open, never after it closed.

``step(ctx, state, event) -> Step``: ``ctx`` is what the database says now (the campaign,
its phase, the person's membership, the draw), the conversation keeps no state of its
own (``state`` is None), and the step returns the replies and the *effects* the runtime
applies (``bot/app/enrolment.py``): enrol, consent, opt out, begin the questionnaire, …
``gate(ctx)`` is the same rules' answer to "may this rater answer the questionnaire now?".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flows import chat
from flows.campaign import Campaign
from flows.codes import RedeemCode
from flows.i18n import t
from flows.messages import Message, Outcome, Step

# Membership statuses as stored (``storage.types.MemberStatus``).
ENROLLED, DRAWN, OPTED_OUT = "enrolled", "drawn", "opted_out"


# --- context ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """The person's membership in the campaign, as read."""

    group_key: str
    unit: str | None = None
    status: str = ENROLLED
    consented: bool = False
    submitted: bool = False
    drawn_round: int | None = None  # None = not drawn
    only_evaluee: str | None = None  # after-service rater: this evaluee only
    invited_at: datetime | None = None
    enrolled_at: datetime | None = None
    visits: int = 1


@dataclass(frozen=True)
class Draw:
    """The campaign's draw as it concerns this member."""

    committed: bool = False  # the pools are frozen (``minping sample``)
    revealed: bool = False  # the drawn are known
    in_pool: bool = False  # this member is in a frozen pool


@dataclass(frozen=True)
class Ctx:
    campaign: Campaign | None  # None only for /stop (it needs the membership alone)
    locale: str
    now: datetime
    phase: str = "open"  # upcoming | open | closed
    # What the runtime says about a phase other than open (None while open).
    phase_notice: Message | None = None
    member: Member | None = None  # the person's membership in this campaign
    draw: Draw = Draw()
    code_redeemable: bool = True  # the single-use code of a Code event is still unused


# --- events ----------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupLink:
    """A rater group's deep link (``unit``: an own-unit group's unit)."""

    group_key: str
    unit: str | None = None


@dataclass(frozen=True)
class Code:
    """A single-use code for a closed group (deputies, unit staff: bound to their unit)."""

    group_key: str
    unit: str | None = None
    token: str = ""  # the code itself: ``flows.codes.RedeemCode`` uses it up


@dataclass(frozen=True)
class ServiceLink:
    """After-service link (一事一评): rate this one evaluee, no draw. ``group_key`` None:
    the campaign's service group."""

    evaluee_key: str
    group_key: str | None = None


@dataclass(frozen=True)
class Language:
    """A language picked on the consent card."""

    locale: str


@dataclass(frozen=True)
class ConsentYes:
    pass


@dataclass(frozen=True)
class ConsentNo:
    pass


@dataclass(frozen=True)
class Start:
    """The invitation's start button."""


@dataclass(frozen=True)
class Stop:
    """/stop: no more messages of this campaign."""


Event = GroupLink | Code | ServiceLink | Language | ConsentYes | ConsentNo | Start | Stop


# --- effects ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Enrol:
    """Put the person in a rater group, not consented yet."""

    group_key: str
    unit: str | None = None
    only_evaluee: str | None = None


@dataclass(frozen=True)
class Rejoin:
    """An opted-out member opens a link again: back in, consent asked again."""

    status: str  # drawn | enrolled


@dataclass(frozen=True)
class SetCurrentCampaign:
    campaign_id: str | None


@dataclass(frozen=True)
class SetLocale:
    locale: str


@dataclass(frozen=True)
class Consent:
    pass


@dataclass(frozen=True)
class OptOut:
    """Kept, opted out: nothing more is sent; a code stays theirs, a frozen pool intact."""


@dataclass(frozen=True)
class Forget:
    """Delete the membership (declined before anything depended on it)."""


@dataclass(frozen=True)
class MarkInvited:
    """Open groups and after-service raters start now: reminders count from ``at``."""

    at: datetime


@dataclass(frozen=True)
class NextVisit:
    """An after-service rater's next service visit: a new ballot about ``evaluee_key``."""

    evaluee_key: str
    at: datetime


@dataclass(frozen=True)
class DiscardDraft:
    """Drop the questionnaire conversation (and its draft answers)."""


@dataclass(frozen=True)
class CancelPrompts:
    """Drop the invitations and reminders still waiting in the outbox."""


@dataclass(frozen=True)
class BeginQuestionnaire:
    """Show the welcome and the questionnaire where the rater is."""


Effect = (RedeemCode | Enrol | Rejoin | SetCurrentCampaign | SetLocale | Consent | OptOut | Forget | MarkInvited
          | NextVisit | DiscardDraft | CancelPrompts | BeginQuestionnaire)


# --- rules -----------------------------------------------------------------------------
def sampled(campaign: Campaign, member: Member) -> bool:
    """In a group whose raters are drawn (an after-service rater never is)."""
    g = campaign.group(member.group_key)
    return not g.open and bool(g.sample) and member.only_evaluee is None


def draw_matters(campaign: Campaign, member: Member) -> bool:
    """Whether the draw decides what this member sees (``Ctx.draw`` is read only then)."""
    return sampled(campaign, member) and member.drawn_round is None


def _label(campaign: Campaign, group_key: str, locale: str) -> str:
    return campaign.text(campaign.group(group_key).label, locale)


def _say(messages: list[Message] | Message, *effects: object, toast: str | None = None) -> Step[None]:
    msgs = [messages] if isinstance(messages, Message) else messages
    return Step(None, Outcome(msgs, toast), tuple(effects))


def _stale(ctx: Ctx) -> Step[None]:
    return _say([], toast=t("chat.stale", ctx.locale))


def consent_screen(ctx: Ctx, member: Member, locale: str | None = None) -> Message:
    """The consent screen; in a sampled group whose draw list is frozen without this
    person, it says so before they agree."""
    frozen = draw_matters(ctx.campaign, member) and ctx.draw.committed and not ctx.draw.in_pool
    return chat.consent_screen(ctx.campaign, locale or ctx.locale, member.group_key, member.only_evaluee,
                               frozen=frozen)


def draw_notice(ctx: Ctx, member: Member) -> Message:
    """For a consented, undrawn member of a sampled group."""
    group = _label(ctx.campaign, member.group_key, ctx.locale)
    if not ctx.draw.committed:
        return chat.say("enrol.pooled", ctx.locale, group=group)
    if not ctx.draw.in_pool:
        return chat.say("enrol.pool_frozen", ctx.locale, group=group)
    return chat.say("enrol.not_drawn" if ctx.draw.revealed else "enrol.wait_draw", ctx.locale)


def _closed(ctx: Ctx) -> Step[None] | None:
    if ctx.phase == "closed":
        return _say([ctx.phase_notice] if ctx.phase_notice is not None else [])
    return None


def _join(ctx: Ctx, group_key: str, unit: str | None = None, only: str | None = None,
          code: str | None = None) -> Step[None]:
    """Enrol (unconsented) and show the consent screen, or resume an existing membership."""
    m = ctx.member
    if m is not None and m.group_key != group_key:
        return _say(chat.say("chat.already_enrolled", ctx.locale, group=_label(ctx.campaign, m.group_key, ctx.locale)))
    effects: list[object] = []
    if m is None:
        if code is not None and not ctx.code_redeemable:
            return _say(chat.say("enrol.code_used", ctx.locale))
        if code is not None:
            effects.append(RedeemCode(code))
        effects.append(Enrol(group_key, unit, only))
        m = Member(group_key, unit, only_evaluee=only)
        ctx = replace(ctx, draw=replace(ctx.draw, in_pool=False))  # a new member is in no pool
    elif m.status == OPTED_OUT:  # re-opening a link after /stop re-joins, with consent again
        m = replace(m, status=DRAWN if m.drawn_round else ENROLLED, consented=False)
        effects.append(Rejoin(m.status))
    effects.append(SetCurrentCampaign(ctx.campaign.id))
    if not m.consented:
        return _say(consent_screen(ctx, m), *effects)
    return _after_consent(ctx, m, effects)


def _after_consent(ctx: Ctx, m: Member, effects: list[object]) -> Step[None]:
    """What a consented member sees: the questionnaire, or where they stand in the draw."""
    is_sampled = sampled(ctx.campaign, m)
    if is_sampled and m.drawn_round is None:
        return _say(draw_notice(ctx, m), *effects)
    if ctx.phase_notice is not None:
        return _say(ctx.phase_notice, *effects)
    if not is_sampled and m.invited_at is None:
        effects.append(MarkInvited(ctx.now))
    return _say([], *effects, BeginQuestionnaire())


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _next_visit(ctx: Ctx, m: Member, evaluee_key: str) -> Step[None]:
    """After-service rating is once per service visit: a rater who submitted may rate
    again (a new ballot) through an after-service link once the campaign's cooldown
    since their previous visit has passed."""
    last = _aware(m.invited_at or m.enrolled_at or ctx.now)
    hours = ctx.campaign.service_cooldown_hours
    if ctx.now < last + timedelta(hours=hours):
        after = (last + timedelta(hours=hours)).astimezone(ZoneInfo(ctx.campaign.timezone)).strftime("%Y-%m-%d %H:%M")
        return _say(chat.say("enrol.service_cooldown", ctx.locale, hours=f"{hours:g}", after=after))
    if ctx.phase_notice is not None:
        return _say(ctx.phase_notice)
    return _say([], NextVisit(evaluee_key, ctx.now), SetCurrentCampaign(ctx.campaign.id), BeginQuestionnaire())


def _on_link(ctx: Ctx, event: GroupLink | Code | ServiceLink) -> Step[None]:
    if (closed := _closed(ctx)) is not None:
        return closed
    m = ctx.member
    if isinstance(event, GroupLink):
        if ctx.campaign.group(event.group_key).by_codes and (m is None or m.group_key != event.group_key):
            return _say(chat.say("enrol.codes_only", ctx.locale,
                                 group=_label(ctx.campaign, event.group_key, ctx.locale)))
        return _join(ctx, event.group_key, event.unit)
    if isinstance(event, Code):
        return _join(ctx, event.group_key, event.unit, code=event.token)
    group = event.group_key or ctx.campaign.service_group_key
    if (m is not None and m.group_key == group and m.only_evaluee is not None
            and m.submitted and m.status != OPTED_OUT):
        return _next_visit(ctx, m, event.evaluee_key)
    return _join(ctx, group, only=event.evaluee_key)


def _on_tap(ctx: Ctx, event: Language | ConsentYes | ConsentNo | Start) -> Step[None]:
    m = ctx.member
    if m is None or m.status == OPTED_OUT:
        return _stale(ctx)
    if isinstance(event, Language):
        if event.locale not in ctx.campaign.locales:
            return _stale(ctx)
        if not m.consented:
            return _say(consent_screen(ctx, m, event.locale), SetLocale(event.locale))
        return _say(chat.say("chat.lang_set", event.locale), SetLocale(event.locale))
    if isinstance(event, ConsentYes):
        if (closed := _closed(ctx)) is not None:
            return closed
        if m.consented:  # a second press (a double tap): what it started is on screen
            return _stale(ctx)
        return _after_consent(ctx, replace(m, consented=True), [Consent()])
    if isinstance(event, ConsentNo) and not m.consented:
        g = ctx.campaign.group(m.group_key)
        # Kept, opted out: their code stays theirs to reopen, a frozen pool stays intact.
        keep = g.by_codes or m.drawn_round is not None or ctx.draw.in_pool
        return _say(chat.say("enrol.declined", ctx.locale), SetCurrentCampaign(None), OptOut() if keep else Forget())
    if isinstance(event, Start) and m.consented:
        if m.submitted:
            return _say(chat.say("chat.done", ctx.locale))
        return _after_consent(ctx, m, [])
    return _stale(ctx)


def step(ctx: Ctx, state: None, event: Event) -> Step[None]:
    if isinstance(event, (GroupLink, Code, ServiceLink)):
        return _on_link(ctx, event)
    if isinstance(event, Stop):
        if ctx.member is None:
            return _say(chat.say("chat.help", ctx.locale))
        # After submit the ballot stays counted; opting out still stops every later message
        # (e.g. the rectification follow-up survey), invitations and reminders included.
        return _say(chat.say("chat.stopped", ctx.locale), OptOut(), DiscardDraft(), CancelPrompts())
    return _on_tap(ctx, event)


def gate(ctx: Ctx, tap: bool = False) -> Outcome | None:
    """Before any questionnaire step: consent first; in a sampled group, only the drawn.
    None: the questionnaire may go on."""
    m = ctx.member
    if m is None:
        return None
    if not m.consented:
        return Outcome([consent_screen(ctx, m)])
    if not draw_matters(ctx.campaign, m):
        return None
    notice = draw_notice(ctx, m)
    return Outcome(toast=notice.text) if tap else Outcome([notice])
