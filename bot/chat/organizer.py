"""Organizer commands in chat: ``/digest`` (a digest now, through the outbox),
``/status`` (phase and progress), and binding with a one-time organizer code
(``/start <code>``, link kind ``organizer``, printed by ``minping links --organizer``).

Only organizers (chat ids in the campaign file, or bound with a code) get answers;
anyone else is told the command is not available. While a sealed campaign is open both
commands show progress only.
"""

from __future__ import annotations

from html import escape

from sqlmodel import Session

from bot.chat import Feature
from bot.service import Incoming, Reply, Service
from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Message
from reports import digest as digests
from storage import campaigns, links
from storage import tally as store
from storage.models import Link, Person

register({
    "org.not_available": {
        "zh": "此功能仅对评议组织者开放。",
        "en": "This command is not available to you.",
    },
    "org.digest_queued": {
        "zh": "「{title}」的汇总通报已生成，马上发送给您。",
        "en": "The digest of “{title}” is on its way.",
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


def organized_by(svc: Service, s: Session, person: Person, args: str) -> list[Campaign]:
    """Campaigns this person organizes (the one named in ``args``, if given)."""
    wanted = args.split()[0] if args.split() else None
    found = []
    for row in campaigns.list_campaigns(s):
        if wanted and row.id != wanted:
            continue
        campaign = svc.campaign(s, row.id)
        if store.is_organizer(s, campaign, person.chat_id):
            found.append(campaign)
    return found


def _refuse(person: Person) -> Reply:
    return Reply([Message(escape(t("org.not_available", person.locale)))])


def on_digest(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    from bot.jobs.digests import send_now

    mine = organized_by(svc, s, person, inc.text)
    if not mine:
        return _refuse(person)
    out = []
    for campaign in mine:
        locale = person.locale if person.locale in campaign.locales else campaign.default_locale
        send_now(s, campaign, person.chat_id, locale, svc.clock())
        out.append(Message(escape(t("org.digest_queued", person.locale, title=campaign.text(campaign.title, locale)))))
    return Reply(out)


def on_status(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    mine = organized_by(svc, s, person, inc.text)
    if not mine:
        return _refuse(person)
    out = []
    for campaign in mine:
        locale = person.locale if person.locale in campaign.locales else campaign.default_locale
        row = campaigns.get_row(s, campaign.id)
        ph = campaigns.phase(row, svc.clock())
        lines = [f"<b>{escape(campaign.text(campaign.title, locale))}</b>",
                 escape(t("digest.phase", locale, phase=t(f"digest.phase.{ph}", locale), n=row.chain_count)), ""]
        lines += digests.progress_lines(s, campaign, locale)
        out.append(Message("\n".join(lines)))
    return Reply(out)


def on_organizer_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    campaign = svc.campaign(s, link.campaign_id)
    title = campaign.text(campaign.title, person.locale)
    if store.is_organizer(s, campaign, person.chat_id):
        return Reply([Message(escape(t("org.already", person.locale, title=title)))])
    if not links.redeem(s, link, svc.clock()):
        return Reply([Message(escape(t("org.code_used", person.locale)))])
    store.bind_organizer(s, campaign.id, person.chat_id)
    return Reply([Message(escape(t("org.bound", person.locale, title=title)))])


FEATURE = Feature("organizer", commands={"digest": on_digest, "status": on_status},
                  links={"organizer": on_organizer_link})
