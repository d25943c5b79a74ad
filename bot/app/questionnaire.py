"""The rater's questionnaire as a use case: ``check`` (may this event step it?), the pure
step (``flows.questionnaire``), its effects applied (``SealBallot``), the state saved.

Both loaders use it: the full one (``Service._dispatch``: ORM rows, may create the
conversation) and the answering tap's cheaper one (``answering_tap``: plain records, one
read and one write). Same checks, same step, same seal; tests/bot/test_fast_path.py
compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.app import effects
from bot.events import Incoming, Reply
from flows import actions, chat
from flows import questionnaire as q
from flows.campaign import Campaign
from storage import ballots, conversations
from storage.models import MemberStatus, PersonStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.service import Service
    from storage.models import Membership, Person

QUESTIONNAIRE = "questionnaire"
MAX_TEXT = 20_000  # longer texts are cut before they reach a flow (Telegram sends ≤ 4096)


@effects.applies(q.SealBallot)
def _seal(s: Session, effect: q.SealBallot, *, campaign: Campaign, person_id: int, **_: object) -> None:
    with s.begin_nested():  # a refused ballot leaves the chain count as it was
        ballots.submit_ballot(s, campaign.id, person_id, effect)


# --- checks -----------------------------------------------------------------------------------
def refusal(svc: Service, person: Person, member: Membership | None, campaign: Campaign | None,
            phase_row: object, inc: Incoming) -> Reply | None:
    """Why this person cannot answer now (not a rater, submitted, not open), or None."""
    tap = inc.kind == "tap"
    if member is None or member.status == MemberStatus.OPTED_OUT:
        return Reply(toast=chat.t("chat.stale", person.locale)) if tap else Reply([chat.say("chat.no_campaign", person.locale)])
    if member.submitted:
        return Reply(toast=chat.t("chat.done", person.locale)) if tap else Reply([chat.say("chat.done", person.locale)])
    if (notice := svc.phase_notice(campaign, phase_row, person.locale)) is not None:
        return Reply(toast=notice.text) if tap else Reply([notice])
    return None


def gated(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign,
          inc: Incoming) -> Reply | None:
    """The features' gates (consent, drawn, …): the first refusal, or None."""
    for f in svc.features:
        if f.gate is not None and (refused := f.gate(svc, s, person, member, campaign, inc)) is not None:
            return refused
    return None


# --- the step ---------------------------------------------------------------------------------
def advance(s: Session, person: Person, campaign: Campaign, state: q.QState, event: object, cards: dict[str, int],
            save: Callable[[dict, dict[str, int]], None]) -> Reply:
    """Step the questionnaire; seal the ballot it asks for, or save its new state."""
    result = q.step(campaign, state, event)
    reply = Reply(list(result.outcome.messages), result.outcome.toast, cards, campaign.id)
    locale = person.locale
    try:
        effects.apply(s, result.effects, campaign=campaign, person_id=person.id)
    except ballots.CampaignClosed:  # `minping close` won a race with this submit
        return Reply([chat.say("chat.closed", locale, title=campaign.text(campaign.title, locale))])
    except ballots.AlreadySubmitted:  # sealed meanwhile by another path (chat lock aside)
        return Reply([chat.say("chat.done", locale)])
    if q.sealed(result) is not None:
        reply.submitted = True
    else:
        save(result.state.model_dump(mode="json"), cards)
    return reply


def step(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign, event: object) -> Reply:
    """One questionnaire step on the full loader (creates the conversation at first)."""
    conv = svc.conversation(s, person, campaign.id)
    if conv is None:
        state = q.start(campaign, member.group_key, person.locale, member.unit,
                        only=[member.only_evaluee] if member.only_evaluee else None)
        if member.status in (MemberStatus.ENROLLED, MemberStatus.DRAWN, MemberStatus.INVITED):
            member.status = MemberStatus.STARTED
            s.add(member)
    else:
        state = q.QState.model_validate(conv.state)
    cards = svc.cards(person, campaign.id, conv.cards if conv else {})

    def save(new_state: dict, new_cards: dict[str, int]) -> None:
        saved = conversations.save(s, person.id, campaign.id, QUESTIONNAIRE, new_state, new_cards, conv=conv,
                                   new=conv is None)  # svc.conversation just found none
        if conv is None:
            svc.loaded_conversation(s, person, campaign.id, saved)  # a second step in this transaction finds it

    return advance(s, person, campaign, state, event, cards, save)


def answering_tap(svc: Service, s: Session, inc: Incoming) -> Reply | None:
    """Most of a campaign's traffic: a questionnaire tap by a rater who is answering, on
    plain records (one read, one write). None when anything is out of the ordinary (a
    feature's button, a refusal, a gate; an unreachable person becomes reachable):
    nothing has been written, and the full path takes over."""
    if actions.owner(inc.data) != QUESTIONNAIRE:
        return None
    ctx = conversations.load_answering(s, inc.chat_id, QUESTIONNAIRE, inc.channel)
    if ctx is None or ctx.person.status == PersonStatus.UNREACHABLE:
        return None
    person, member = ctx.person, ctx.member
    campaign = svc.campaign(s, member.campaign_id)
    if refusal(svc, person, member, campaign, ctx.phase, inc) or gated(svc, s, person, member, campaign, inc):
        return None
    cards = svc.cards(person, campaign.id, ctx.cards)
    state = q.QState.model_validate(ctx.state)
    return advance(s, person, campaign, state, q.Tap(inc.data), cards,
                   lambda new_state, new_cards: conversations.save_answering(s, ctx.conv_id, new_state, new_cards))


# --- entries ----------------------------------------------------------------------------------
def answer(svc: Service, s: Session, person: Person, inc: Incoming, event: object | None = None) -> Reply:
    """An event for the rater's questionnaire (a tap, text, a command's event, media)."""
    member = svc.membership(s, person)
    campaign = svc.campaign(s, member.campaign_id) if member is not None else None
    phase_row = svc.phase_row(s, person, campaign.id) if campaign is not None and not member.submitted else None
    if (refused := refusal(svc, person, member, campaign, phase_row, inc)) is not None:
        return refused
    if event is None:
        if inc.kind == "tap":
            event = q.Tap(inc.data)
        elif inc.kind == "text":
            event = q.Text(inc.text[:MAX_TEXT])
        else:  # stickers, photos, voice …
            reply = show(svc, s, person, member, campaign, q.Show(), inc)
            if reply.campaign_id:
                reply.messages[:0] = [chat.say("chat.use_buttons_media", person.locale)]
            return reply
    return show(svc, s, person, member, campaign, event, inc)


def show(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign, event: object,
         inc: Incoming) -> Reply:
    """Step the questionnaire unless a feature's gate refuses."""
    return gated(svc, s, person, member, campaign, inc) or step(svc, s, person, member, campaign, event)


def begin(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign) -> Reply:
    """Show a (newly) enrolled rater the welcome and the questionnaire where they are."""
    person.current_campaign = campaign.id
    s.add_all([person, member])
    if member.submitted:
        return Reply([chat.say("chat.done", person.locale)], campaign_id=campaign.id)
    intro = []
    if svc.conversation(s, person, campaign.id) is None:
        n = 1 if member.only_evaluee else len(campaign.evaluees_for(member.group_key, member.unit))
        intro = [chat.welcome(campaign, person.locale, n)]
    reply = show(svc, s, person, member, campaign, q.Show(), Incoming(person.chat_id, "start", channel=person.channel))
    reply.messages[:0] = intro
    return reply


def set_locale(svc: Service, s: Session, person: Person, locale: str) -> Reply:
    person.locale = locale
    s.add(person)
    member = svc.membership(s, person)
    said = [chat.say("chat.lang_set", locale)]
    if member and not member.submitted and member.status != MemberStatus.OPTED_OUT:
        campaign = svc.campaign(s, member.campaign_id)
        if svc.conversation(s, person, campaign.id) is not None:
            reply = step(svc, s, person, member, campaign, q.SetLocale(locale))
            reply.messages[:0] = said
            return reply
    return Reply(said)
