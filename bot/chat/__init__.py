"""Chat features plugged into ``bot.service.Service``.

Each area (enrolment, organizer commands, evaluee feedback and rectification) is a
``Feature`` in its own module: the commands it answers, the deep-link kinds it redeems,
the button-action prefixes it owns, free text it may claim, and a gate that may refuse a
rater's questionnaire. The service core knows nothing of them beyond this shape.

Button prefixes are claimed in ``flows.actions`` by the flow module whose codec makes
them (a prefix claimed twice fails at import); a feature routes the ones it handles in
``taps`` (the service refuses an unclaimed or twice-routed prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.events import Incoming, Reply
    from bot.service import Service
    from flows.campaign import Campaign
    from storage.models import Link, Membership, Person

    Handler = Callable[[Service, Session, Person, Incoming], Reply | None]
    LinkHandler = Callable[[Service, Session, Person, Link], Reply]
    Gate = Callable[[Service, Session, Person, Membership, Campaign, Incoming], Reply | None]
else:
    Handler = LinkHandler = Gate = Any


@dataclass
class Feature:
    name: str
    # /command -> handler; returning None falls through to the next feature / the core.
    commands: dict[str, Handler] = field(default_factory=dict)
    # Link.kind -> handler for ``/start <token>``.
    links: dict[str, LinkHandler] = field(default_factory=dict)
    # First character of callback data -> handler.
    taps: dict[str, Handler] = field(default_factory=dict)
    # Called for free text before the questionnaire sees it; None = not mine.
    text: Handler | None = None
    # Called before a rater's questionnaire step; a Reply refuses it (e.g. "not drawn").
    # Read-only: a tap may call it with plain records (``storage.conversations``
    # ``PersonRecord``/``MemberRecord``) and then take the full path after all.
    gate: Gate | None = None


def default_features() -> list[Feature]:
    """Every feature of the product, in priority order."""
    from bot.chat import enrolment, evaluee, organizer
    from bot.miniapp import chat as miniapp

    return [enrolment.FEATURE, organizer.FEATURE, evaluee.FEATURE, miniapp.FEATURE]
