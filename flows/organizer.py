"""Organizer commands, pure: ``/digest`` (a digest now), ``/status`` (phase and
progress), ``/rectification`` (the board, then every plan), and binding with a one-time
organizer code (link kind ``organizer``).

Only organizers (chat ids in the campaign file, or bound with a code) get answers. To
anyone else a command is "not available", which reveals nothing about which campaigns
exist; an organizer who mistyped a campaign id is told there is no such campaign and
which ones they organize.

``step(ctx, event) -> Step``: ``ctx`` is what the database says now (the campaigns this
person organizes, and the report texts the runtime read for the ones the command names),
the step decides the replies and the effects (``RequestDigest``, ``RedeemCode``,
``BindOrganizer``). There is no conversation state: ``Step.state`` is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from flows.campaign import Campaign
from flows.codes import RedeemCode
from flows.i18n import register, t
from flows.messages import Message, Outcome, Step

register({
    "org.not_available": {
        "zh": "此功能仅对评议组织者开放。",
        "en": "This command is not available to you.",
    },
    "org.board_not_available": {"zh": "此功能仅对评议组织者开放。", "en": "This command is not available to you."},
    "org.no_such_campaign": {
        "zh": "没有名为「{id}」的评议活动（请检查拼写）。您组织的评议活动：{mine}",
        "en": "There is no campaign “{id}” (check the spelling). Your campaigns: {mine}",
    },
    "org.digest_queued": {
        "zh": "正在生成「{title}」的汇总通报，稍后发送给您。",
        "en": "The digest of “{title}” is being prepared; it follows shortly.",
    },
    "org.bound": {
        "zh": "您已成为「{title}」的组织者。发送 /status 查看进度，/digest 获取汇总通报。",
        "en": "You are now an organizer of “{title}”. Send /status for progress, /digest for a digest.",
    },
    "org.already": {
        "zh": "您已经是「{title}」的组织者。",
        "en": "You are already an organizer of “{title}”.",
    },
    "org.code_used": {
        "zh": "这个组织者码已被使用。每个组织者码只能使用一次，请向管理员索取新的。",
        "en": "This organizer code has been used already. Each code works once; please ask for a new one.",
    },
})


# --- context, events, effects ------------------------------------------------------------------
@dataclass(frozen=True)
class Ctx:
    """An organizer command's view of the database."""

    locale: str  # the person's
    chat_id: int
    existing: frozenset[str]  # every campaign id there is
    mine: tuple[Campaign, ...]  # every campaign this person organizes, in listing order
    # /status and /rectification: the report's texts (HTML, one message each) of every
    # campaign the command names (``chosen``), read by the runtime.
    reports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeCtx:
    """An organizer code's view of the database."""

    locale: str
    chat_id: int
    campaign: Campaign  # the code's
    organizer: bool  # the person organizes it already
    used: bool  # the code is used up
    # Organizers are reached where digests go (Telegram chat ids); a person on another
    # channel cannot become one.
    can_organize: bool = True


@dataclass(frozen=True)
class Digest:
    args: str = ""


@dataclass(frozen=True)
class Status:
    args: str = ""


@dataclass(frozen=True)
class Board:
    """``/rectification``: the rectification board, then every plan."""

    args: str = ""


@dataclass(frozen=True)
class Code:
    token: str


Event = Digest | Status | Board | Code


@dataclass(frozen=True)
class RequestDigest:
    """A digest now: a request the digest worker draws, then through the outbox."""

    campaign_id: str
    chat_id: int
    locale: str


@dataclass(frozen=True)
class BindOrganizer:
    campaign_id: str
    chat_id: int


Effect = RequestDigest | BindOrganizer | RedeemCode


# --- rules ----------------------------------------------------------------------------------------
def wanted(args: str) -> str | None:
    """The campaign id a command names (its first argument), if any."""
    return args.split()[0] if args.split() else None


def chosen(mine: tuple[Campaign, ...], args: str) -> list[Campaign]:
    """The campaigns a command is about: the one named in ``args``, else all of them."""
    name = wanted(args)
    return [c for c in mine if name is None or c.id == name]


def locale_in(campaign: Campaign, locale: str) -> str:
    """The person's language when the campaign speaks it, else the campaign's default."""
    return locale if locale in campaign.locales else campaign.default_locale


def _say(key: str, locale: str, **kw: object) -> Message:
    return Message(escape(t(key, locale, **kw)))


def _answer(*messages: Message, effects: tuple[object, ...] = ()) -> Step[None]:
    return Step(None, Outcome(list(messages)), effects)


def refusal(ctx: Ctx, args: str, key: str = "org.not_available") -> Step[None]:
    """The answer when a command names nothing this person organizes: to an organizer who
    mistyped a campaign id, "no such campaign" and their campaigns; to anyone else,
    ``key`` (not available)."""
    name = wanted(args)
    if name and ctx.mine and name not in ctx.existing:
        return _answer(_say("org.no_such_campaign", ctx.locale, id=name, mine=", ".join(c.id for c in ctx.mine)))
    return _answer(_say(key, ctx.locale))


def _bind(ctx: CodeCtx, event: Code) -> Step[None]:
    title = ctx.campaign.text(ctx.campaign.title, ctx.locale)
    if not ctx.can_organize:
        return _answer(_say("org.not_available", ctx.locale))
    if ctx.organizer:  # checked before the code is used up
        return _answer(_say("org.already", ctx.locale, title=title))
    if ctx.used:
        return _answer(_say("org.code_used", ctx.locale))
    return _answer(_say("org.bound", ctx.locale, title=title),
                   effects=(RedeemCode(event.token), BindOrganizer(ctx.campaign.id, ctx.chat_id)))


def step(ctx: Ctx | CodeCtx, state: None, event: Event) -> Step[None]:  # noqa: ARG001
    """Commands keep no conversation state (``state`` is None): the one step shape."""
    if isinstance(event, Code):
        assert isinstance(ctx, CodeCtx)
        return _bind(ctx, event)
    assert isinstance(ctx, Ctx)
    mine = chosen(ctx.mine, event.args)
    if not mine:
        return refusal(ctx, event.args, "org.board_not_available" if isinstance(event, Board) else "org.not_available")
    if isinstance(event, Digest):
        out, wants = [], []
        for c in mine:
            locale = locale_in(c, ctx.locale)
            wants.append(RequestDigest(c.id, ctx.chat_id, locale))
            out.append(_say("org.digest_queued", ctx.locale, title=c.text(c.title, locale)))
        return _answer(*out, effects=tuple(wants))
    # /status, /rectification: the reports the runtime read, campaign by campaign
    return _answer(*(Message(text) for c in mine for text in ctx.reports.get(c.id, ())))
