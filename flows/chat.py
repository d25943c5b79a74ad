"""The conversation around the questionnaire: welcome, help, phase notices, stray input.

Pure: builds ``Message`` data for situations the questionnaire engine does not own.
"""

from __future__ import annotations

from html import escape

from flows import actions
from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Message

register({
    "chat.help": {
        "zh": "我是民评机器人，用来收集对机关单位和干部的评议。\n"
              "请使用您收到的评议链接开始。\n\n"
              "/resume 继续填写  /lang 切换语言  /cancel 暂停  /stop 退出本次评议  /help 帮助",
        "en": "I am minping, the bot that collects public evaluations of government units and officials.\n"
              "Please start with the evaluation link you were given.\n\n"
              "/resume continue  /lang switch language  /cancel pause  /stop leave this evaluation  /help help",
    },
    "chat.no_campaign": {
        "zh": "您还没有参加任何评议活动。请通过组织者发给您的链接或二维码进入。",
        "en": "You are not taking part in any evaluation yet. Please open the link or QR code the organizers gave you.",
    },
    "chat.bad_link": {
        "zh": "这个链接无效或已过期。请检查链接，或联系组织者。",
        "en": "This link is not valid or has expired. Please check it or contact the organizers.",
    },
    "chat.welcome": {
        "zh": "欢迎参加「{title}」。\n您将对 {n} 个对象进行评议，约需 {minutes} 分钟，可随时暂停、稍后继续。\n"
              "您的评议是匿名的：提交后，评议表与您的身份分离，任何人都无法知道是谁作出的评价。",
        "en": "Welcome to “{title}”.\nYou will rate {n} evaluees; it takes about {minutes} minutes and you can pause any time.\n"
              "Your evaluation is anonymous: once submitted, the ballot is separated from your identity and nobody can tell who gave it.",
    },
    "chat.welcome_pick": {
        "zh": "欢迎参加「{title}」。\n本次共有 {n} 个被评议对象，您只需评议自己了解的对象，每个约需 {seconds} 秒；"
              "不了解的无需作答。可随时暂停、稍后继续。\n"
              "您的评议是匿名的：提交后，评议表与您的身份分离，任何人都无法知道是谁作出的评价。",
        "en": "Welcome to “{title}”.\nThere are {n} evaluees; you rate only the ones you know, about {seconds} "
              "seconds each, and skip the rest. You can pause any time.\n"
              "Your evaluation is anonymous: once submitted, the ballot is separated from your identity and nobody can tell who gave it.",
    },
    "chat.upcoming": {
        "zh": "「{title}」将于 {opens} 开始，届时请回来继续。",
        "en": "“{title}” opens on {opens}; please come back then.",
    },
    "chat.closed": {
        "zh": "「{title}」已结束，感谢您的关注。",
        "en": "“{title}” has closed. Thank you for your interest.",
    },
    "chat.already_enrolled": {
        "zh": "您已经以「{group}」身份参加本次评议，不能再加入其他评议层面。",
        "en": "You already take part in this evaluation as “{group}” and cannot join another rater group.",
    },
    "chat.done": {
        "zh": "您已经提交了评议表，谢谢！提交后不能修改。",
        "en": "You have already submitted your evaluation. Thank you! A submission cannot be changed.",
    },
    "chat.use_buttons_media": {
        "zh": "我只能读取文字和按钮。请使用卡片下方的按钮作答。",
        "en": "I can only read text and buttons. Please answer with the buttons under the card.",
    },
    "chat.lang_pick": {"zh": "请选择语言 / Choose a language", "en": "Choose a language / 请选择语言"},
    "chat.lang_set": {"zh": "已切换为中文。", "en": "Language set to English."},
    "chat.stopped": {
        "zh": "您已退出本次评议，我们不会再就此联系您。如改变主意，请重新打开链接。",
        "en": "You have left this evaluation; we will not contact you about it again. Open the link again if you change your mind.",
    },
    "chat.stale": {"zh": "此按钮已失效。", "en": "This button is out of date."},
    "chat.private_only": {
        "zh": "评议只在与我的私聊中进行，请打开与我的私聊。",
        "en": "Evaluations happen only in a private chat with me. Please open a private chat with me.",
    },
})

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
LANGUAGE, = actions.claim("language", "L")  # + a locale: the language menu


def say(key: str, locale: str, **kwargs: object) -> Message:
    """A plain notice, escaped for HTML."""
    return Message(text=escape(t(key, locale, **kwargs)))


def welcome(campaign: Campaign, locale: str, n_evaluees: int) -> Message:
    """The first words to a rater; the time estimate follows their real workload: with
    pre-selection per evaluee they know (the pick list then asks which)."""
    from flows.questionnaire import SECONDS_PER_ANSWER, estimate_minutes

    title = campaign.text(campaign.title, locale)
    if campaign.preselects(n_evaluees):
        return say("chat.welcome_pick", locale, title=title, n=n_evaluees,
                   seconds=len(campaign.dimensions) * SECONDS_PER_ANSWER)
    return say("chat.welcome", locale, title=title, n=n_evaluees, minutes=estimate_minutes(campaign, n_evaluees))


def language_menu(campaign: Campaign | None, locale: str) -> Message:
    from flows.messages import Button

    locales = campaign.locales if campaign else list(LANGUAGE_NAMES)
    row = tuple(Button(LANGUAGE_NAMES.get(loc, loc), actions.pack(LANGUAGE, loc)) for loc in locales)
    return Message(text=escape(t("chat.lang_pick", locale)), buttons=(row,))


def parse_language_action(action: str) -> str | None:
    fields = actions.unpack(LANGUAGE, action)
    return fields[0] if fields and len(fields) == 1 and fields[0] in LANGUAGE_NAMES else None


# --- enrolment, the draw, invitations and reminders (issue 4) ---------------------------
register({
    "enrol.intro": {
        "zh": "「{title}」\n您将以「{group}」的身份参加评议。\n{how}\n\n"
              "匿名保护：您的聊天账号只用于给您发送评议表和提醒；提交后，评议表与您的身份分离，"
              "只记录“已提交”。抽签名单只公布随机化名，不含姓名或账号。\n\n您同意参加吗？",
        "en": "“{title}”\nYou will take part as “{group}”.\n{how}\n\n"
              "Anonymity: your chat account is used only to send you the questionnaire and reminders; once you "
              "submit, your answers are separated from your identity and only “has submitted” is kept. The draw "
              "list publishes random pseudonyms only, never names or accounts.\n\nDo you agree to take part?",
    },
    "enrol.how_draw": {
        "zh": "本层面的评议人由计算机从报名者中随机抽取，抽签过程公开、可验证。被抽中后，您会收到邀请。",
        "en": "Raters of this group are drawn at random by computer from those who enrol; the draw is public "
              "and verifiable. If you are drawn, you will receive an invitation.",
    },
    "enrol.how_open": {
        "zh": "本层面不抽签：同意后即可开始评议。",
        "en": "This group has no draw: you can start as soon as you agree.",
    },
    "enrol.how_frozen": {
        "zh": "请注意：本层面的抽签名单已经冻结。您现在报名不会进入本次抽签，也不会收到本次评议的邀请。",
        "en": "Please note: the draw list of this group is already frozen. If you enrol now, you will not be "
              "in this draw and will not be invited to answer this time.",
    },
    "enrol.how_service": {
        "zh": "您将对刚刚为您服务的「{evaluee}」进行评价（一事一评）。",
        "en": "You will rate “{evaluee}”, who just served you.",
    },
    "enrol.agree": {"zh": "同意参加", "en": "I agree"},
    "enrol.decline": {"zh": "不同意", "en": "No, thanks"},
    "enrol.declined": {
        "zh": "好的，您没有加入本次评议，我们不会就此联系您。如改变主意，请重新打开链接。",
        "en": "All right: you have not joined this evaluation and we will not contact you about it. "
              "Open the link again if you change your mind.",
    },
    "enrol.pooled": {
        "zh": "谢谢！您已报名「{group}」，进入抽签名单。如被抽中，我们会给您发送邀请。",
        "en": "Thank you! You are enrolled as “{group}” and in the draw. If you are drawn, we will send you an invitation.",
    },
    "enrol.pool_frozen": {
        "zh": "谢谢您的报名。「{group}」的抽签名单已经冻结，您未进入本次抽签，本次无需作答。",
        "en": "Thank you for enrolling. The draw list of “{group}” is already frozen, so you are not in this "
              "draw and need not answer this time.",
    },
    "enrol.wait_draw": {
        "zh": "抽签尚未进行。如您被抽中，我们会给您发送邀请。",
        "en": "The draw has not taken place yet. If you are drawn, we will send you an invitation.",
    },
    "enrol.not_drawn": {
        "zh": "本次随机抽取中您未被抽中，无需作答。感谢您的参与！",
        "en": "You were not drawn this time, so there is nothing to answer. Thank you for taking part!",
    },
    "enrol.code_used": {
        "zh": "这个邀请码已经使用过。每个码只能使用一次；如有疑问，请联系组织者。",
        "en": "This code has already been used. Each code works once only; please contact the organizers.",
    },
    "enrol.codes_only": {
        "zh": "「{group}」只能凭组织者发放的个人邀请码加入。",
        "en": "“{group}” can only be joined with a personal code from the organizers.",
    },
    "invite.text": {
        "zh": "您被随机抽中，参加「{title}」的评议（{group}）。\n约需 {minutes} 分钟，评议是匿名的。"
              "请在 {closes} 前完成。",
        "en": "You have been drawn at random to take part in “{title}” ({group}).\nIt takes about {minutes} "
              "minutes and is anonymous. Please finish before {closes}.",
    },
    "invite.text_pick": {
        "zh": "您被随机抽中，参加「{title}」的评议（{group}）。\n共 {n} 个被评议对象，您只需勾选并评议自己了解的，"
              "每个约需 {seconds} 秒。评议是匿名的。请在 {closes} 前完成。",
        "en": "You have been drawn at random to take part in “{title}” ({group}).\nThere are {n} evaluees; you pick "
              "and rate only the ones you know, about {seconds} seconds each. It is anonymous. Please finish before {closes}.",
    },
    "invite.start": {"zh": "开始评议", "en": "Start"},
    "invite.app": {"zh": "📋 在页面中填写", "en": "📋 Fill in on one page"},
    "open.text": {
        "zh": "「{title}」现已开始。您已报名参加（{group}），现在可以作答了：约需 {minutes} 分钟，评议是匿名的。"
              "请在 {closes} 前完成。",
        "en": "“{title}” is open now. You enrolled ({group}) and can answer now: it takes about {minutes} "
              "minutes and is anonymous. Please finish before {closes}.",
    },
    "enrol.service_cooldown": {
        "zh": "谢谢！您已对本次服务作出评价。同一人每 {hours} 小时可评价一次服务，下次可在 {after} 之后评价。",
        "en": "Thank you! You have rated this service already. Each person can rate a service once every "
              "{hours} hours; you can rate again after {after}.",
    },
    "remind.text": {
        "zh": "提醒：您还没有完成「{title}」的评议。请在 {closes} 前提交，谢谢！"
              "\n（不想再收到提醒，请发送 /stop）",
        "en": "Reminder: you have not finished “{title}” yet. Please submit before {closes}. Thank you!"
              "\n(Send /stop to receive no more messages.)",
    },
    "remind.continue": {"zh": "继续评议", "en": "Continue"},
})

ENROLMENT, = actions.claim("enrolment", "C")
CONSENT_YES, CONSENT_NO, START = (actions.pack(ENROLMENT, op) for op in "yns")
ENROL_LANGUAGE = ENROLMENT + "L"  # + a locale: the language picked on the consent card


def consent_screen(campaign: Campaign, locale: str, group_key: str, evaluee_key: str | None = None,
                   frozen: bool = False) -> Message:
    """The explanation of the campaign and its anonymity, with consent and language
    buttons. ``frozen``: the group's draw list is frozen already, which the person is
    told before agreeing (they would not be in this draw)."""
    from flows.messages import Button

    g = campaign.group(group_key)
    if evaluee_key:
        how = t("enrol.how_service", locale, evaluee=campaign.text(campaign.evaluee(evaluee_key).name, locale))
    else:
        how = t("enrol.how_open" if g.open or not g.sample else "enrol.how_draw", locale)
        if frozen:
            how += "\n" + t("enrol.how_frozen", locale)
    text = t("enrol.intro", locale, title=campaign.text(campaign.title, locale),
             group=campaign.text(g.label, locale), how=how)
    buttons = [(Button(t("enrol.agree", locale), CONSENT_YES), Button(t("enrol.decline", locale), CONSENT_NO))]
    if len(campaign.locales) > 1:
        buttons.append(tuple(Button(LANGUAGE_NAMES.get(loc, loc), actions.pack(ENROLMENT, f"L{loc}"))
                             for loc in campaign.locales))
    return Message(text=escape(text), buttons=tuple(buttons))


def _closes(campaign: Campaign) -> str:
    from zoneinfo import ZoneInfo

    return campaign.closes.astimezone(ZoneInfo(campaign.timezone)).strftime("%Y-%m-%d %H:%M")


def invitation(campaign: Campaign, locale: str, group_key: str, n_evaluees: int,
               app_url: str | None = None) -> Message:
    """The invitation of a drawn rater; with ``app_url`` also a button that opens the
    questionnaire as a Mini App."""
    from flows.messages import Button
    from flows.questionnaire import SECONDS_PER_ANSWER, estimate_minutes, uses_preselection

    common = dict(title=campaign.text(campaign.title, locale),
                  group=campaign.text(campaign.group(group_key).label, locale), closes=_closes(campaign))
    if uses_preselection(campaign, group_key, n_evaluees):
        text = t("invite.text_pick", locale, n=n_evaluees, seconds=len(campaign.dimensions) * SECONDS_PER_ANSWER,
                 **common)
    else:
        text = t("invite.text", locale, minutes=estimate_minutes(campaign, n_evaluees), **common)
    buttons = [(Button(t("invite.start", locale), START),)]
    if app_url:
        buttons.append((Button(t("invite.app", locale), web_app=app_url),))
    return Message(text=escape(text), buttons=tuple(buttons))


def opened(campaign: Campaign, locale: str, group_key: str, n_evaluees: int) -> Message:
    """To someone who enrolled before the campaign opened: it is open now."""
    from flows.messages import Button

    minutes = max(1, round(n_evaluees * len(campaign.dimensions) * 6 / 60))
    text = t("open.text", locale, title=campaign.text(campaign.title, locale),
             group=campaign.text(campaign.group(group_key).label, locale), minutes=minutes, closes=_closes(campaign))
    return Message(text=escape(text), buttons=((Button(t("invite.start", locale), START),),))


def reminder(campaign: Campaign, locale: str, app_url: str | None = None) -> Message:
    from flows.messages import Button

    text = t("remind.text", locale, title=campaign.text(campaign.title, locale), closes=_closes(campaign))
    buttons = [(Button(t("remind.continue", locale), START),)]
    if app_url:
        buttons.append((Button(t("invite.app", locale), web_app=app_url),))
    return Message(text=escape(text), buttons=tuple(buttons))
