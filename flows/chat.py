"""The conversation around the questionnaire: welcome, help, phase notices, stray input.

Pure: builds ``Message`` data for situations the questionnaire engine does not own.
"""

from __future__ import annotations

from html import escape

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
})

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def say(key: str, locale: str, **kwargs: object) -> Message:
    """A plain notice, escaped for HTML."""
    return Message(text=escape(t(key, locale, **kwargs)))


def welcome(campaign: Campaign, locale: str, n_evaluees: int) -> Message:
    minutes = max(1, round(n_evaluees * len(campaign.dimensions) * 6 / 60))
    return say("chat.welcome", locale, title=campaign.text(campaign.title, locale), n=n_evaluees, minutes=minutes)


def language_menu(campaign: Campaign | None, locale: str) -> Message:
    from flows.messages import Button

    locales = campaign.locales if campaign else list(LANGUAGE_NAMES)
    row = tuple(Button(LANGUAGE_NAMES.get(loc, loc), f"L{loc}") for loc in locales)
    return Message(text=escape(t("chat.lang_pick", locale)), buttons=(row,))


def parse_language_action(action: str) -> str | None:
    return action[1:] if action.startswith("L") and action[1:] in LANGUAGE_NAMES else None
