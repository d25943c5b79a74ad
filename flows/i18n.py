"""UI strings of the conversations, in every locale the bot speaks.

The catalog maps a key to its translations: ``{"q.back": {"zh": "← 上一题", "en": "← Back"}}``.
``t(key, locale, **kwargs)`` picks the locale (falling back to Chinese, the product's
default language) and fills ``{placeholders}`` with ``str.format``.

Strings are PLAIN TEXT, not HTML: a flow that puts one into an HTML message escapes the
result of ``t()`` (kwargs included) itself, so a translator never has to think about
``&`` or ``<``. Button labels use ``t()`` as is.

Adding strings: keep one section per flow, named by a key prefix (``q.`` the
questionnaire, ``common.`` shared words; e.g. ``enrol.`` for enrolment), and register it
at the bottom of this file with ``register(...)``, or call ``register`` from the flow's
own module. Every entry needs at least ``zh``; ``register`` refuses a key that is
already defined differently, and entries whose locales use different placeholders.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

DEFAULT_LOCALE = "zh"
LOCALES: tuple[str, ...] = ("zh", "en")

CATALOG: dict[str, dict[str, str]] = {}


def _placeholders(s: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(s) if name}


def register(entries: Mapping[str, Mapping[str, str]]) -> None:
    """Add strings to the catalog (idempotent for identical entries)."""
    for key, tr in entries.items():
        if DEFAULT_LOCALE not in tr:
            raise ValueError(f"UI string '{key}' has no '{DEFAULT_LOCALE}' text")
        names = _placeholders(tr[DEFAULT_LOCALE])
        for loc, s in tr.items():
            if _placeholders(s) != names:
                raise ValueError(
                    f"UI string '{key}': the '{loc}' text uses placeholders "
                    f"{sorted(_placeholders(s))}, the '{DEFAULT_LOCALE}' text {sorted(names)}"
                )
        if key in CATALOG and CATALOG[key] != dict(tr):
            raise ValueError(f"UI string '{key}' is already defined differently")
        CATALOG[key] = dict(tr)


def t(key: str, locale: str | None, /, **kwargs: object) -> str:
    """The UI string ``key`` in ``locale`` (else Chinese), placeholders filled."""
    try:
        tr = CATALOG[key]
    except KeyError:
        raise KeyError(f"no UI string '{key}' in flows.i18n") from None
    s = tr.get(locale or DEFAULT_LOCALE) or tr[DEFAULT_LOCALE]
    return s.format(**kwargs) if kwargs else s


# --- shared words -------------------------------------------------------------------
_COMMON = {
    "common.colon": {"zh": "：", "en": ": "},
    "common.more": {"zh": "……另有 {n} 项未列出", "en": "… and {n} more"},
}

# --- rater questionnaire (flows.questionnaire) ------------------------------------
_QUESTIONNAIRE = {
    "q.duties": {"zh": "职责：{text}", "en": "Duties: {text}"},
    "q.commitments": {"zh": "承诺：{text}", "en": "Commitments: {text}"},
    "q.question": {"zh": "{label}（{i}/{n}）", "en": "{label} ({i}/{n})"},
    "q.back": {"zh": "← 上一题", "en": "← Back"},
    "q.skip_evaluee": {"zh": "跳过此对象", "en": "Skip this evaluee"},
    "q.pause": {"zh": "暂停", "en": "Pause"},
    "q.skip": {"zh": "跳过", "en": "Skip"},
    "q.keep_opinion": {"zh": "保留并继续", "en": "Keep and continue"},
    "q.clear_opinion": {"zh": "删除意见", "en": "Delete opinion"},
    "q.opinion_prompt": {
        "zh": "请提出您对该对象的意见和建议（可跳过）",
        "en": "Your opinions and suggestions about this evaluee (optional)",
    },
    "q.opinion_howto": {
        "zh": "直接发送文字即可，最多 {max} 字。",
        "en": "Just type your message, at most {max} characters.",
    },
    "q.opinion_current": {"zh": "当前意见：", "en": "Your opinion: "},
    "q.opinion": {"zh": "意见：", "en": "Opinion: "},
    "q.opinion_none": {"zh": "意见：无", "en": "Opinion: none"},
    "q.opinion_mark": {"zh": "意见✓", "en": "opinion ✓"},
    "q.opinion_empty": {
        "zh": "意见不能为空。请重新输入，或点“跳过”。",
        "en": "The opinion is empty. Please type it again, or tap “Skip”.",
    },
    "q.opinion_too_long": {
        "zh": "您的意见共 {n} 字，超过了 {max} 字的上限，请精简后重新发送。",
        "en": "Your opinion is {n} characters long; the limit is {max}. "
        "Please shorten it and send it again.",
    },
    "q.use_buttons": {
        "zh": "请使用下方按钮作答。",
        "en": "Please use the buttons below to answer.",
    },
    "q.paused": {
        "zh": "已暂停，您的进度已保存。发送 /resume 即可继续。",
        "en": "Paused; your progress is saved. Send /resume to continue.",
    },
    "q.stale": {
        "zh": "此卡片已过期，发送 /resume 回到当前进度",
        "en": "This card is out of date; send /resume to see where you are",
    },
    "q.incomplete": {
        "zh": "还有题目未作答，请先完成。",
        "en": "Some questions are still unanswered; please finish them first.",
    },
    "q.incomplete_mark": {"zh": "未完成", "en": "unfinished"},
    "q.count": {"zh": "{label}×{n}", "en": "{label}×{n}"},
    "q.review_title": {
        "zh": "请核对您的评议（共 {n} 个对象）",
        "en": "Please check your answers ({n} evaluees)",
    },
    "q.review_hint": {
        "zh": "如需修改请点“修改 N”，确认无误后点“提交”。",
        "en": "Tap “Edit N” to change an evaluee, or “Submit” when all is right.",
    },
    "q.edit": {"zh": "修改 {n}", "en": "Edit {n}"},
    "q.submit": {"zh": "提交", "en": "Submit"},
    "q.confirm_question": {
        "zh": "提交后不可更改，确认提交吗？",
        "en": "Submitting is final. Submit now?",
    },
    "q.confirm": {"zh": "确认提交", "en": "Confirm"},
    "q.cancel": {"zh": "返回", "en": "Cancel"},
    "q.submitted_mark": {"zh": "✅ 已提交", "en": "✅ Submitted"},
    "q.thanks": {
        "zh": "提交成功，感谢您的参与！",
        "en": "Submitted. Thank you for taking part!",
    },
    "q.already_submitted": {
        "zh": "您已提交，感谢参与！",
        "en": "You have already submitted. Thank you!",
    },
    # pre-selection, the paged review and the shortcut (issue 14)
    "q.pick_title": {
        "zh": "请勾选您了解的对象（第 {page}/{pages} 页）",
        "en": "Pick the evaluees you know (page {page}/{pages})",
    },
    "q.pick_intro": {
        "zh": "共 {n} 个被评议对象。请勾选您打过交道、有所了解的对象，您只需评议这些；"
        "未勾选的计为“不了解”，无需作答。每个对象约需 {seconds} 秒。",
        "en": "There are {n} evaluees. Pick the ones you have dealt with and know; you rate only "
        "those. The others count as “Don't know” without a question. Each takes about {seconds} seconds.",
    },
    "q.pick_on_page": {"zh": "本页：", "en": "On this page: "},
    "q.pick_count": {"zh": "已选 {k} 个：", "en": "Picked {k}: "},
    "q.pick_heading": {"zh": "请点选下面的对象", "en": "Tap the evaluees below"},
    "q.pick_done": {"zh": "完成（已选 {k} 个）", "en": "Done ({k} picked)"},
    "q.pick_none": {"zh": "都不了解", "en": "I know none of them"},
    "q.picked_summary": {
        "zh": "已选择 {k} 个对象（共 {n} 个）：{names}。约需 {minutes} 分钟；未选择的计为“不了解”。",
        "en": "You picked {k} of {n} evaluees: {names}. About {minutes} minutes; "
        "the others count as “Don't know”.",
    },
    "q.picked_none": {
        "zh": "您没有选择任何对象：全部 {n} 个计为“不了解”。",
        "en": "You picked none: all {n} evaluees count as “Don't know”.",
    },
    "q.list_sep": {"zh": "、", "en": ", "},
    "q.page_prev": {"zh": "◀ 上一页", "en": "◀ Previous"},
    "q.page_next": {"zh": "下一页 ▶", "en": "Next ▶"},
    "q.page_of": {"zh": "第 {page}/{pages} 页", "en": "Page {page}/{pages}"},
    "q.all": {"zh": "全部{label}", "en": "All: {label}"},
    "q.review_unpicked": {
        "zh": "其余 {n} 个未勾选的对象计为“不了解”。",
        "en": "The other {n} evaluees, not picked, count as “Don't know”.",
    },
    "q.review_none_picked": {
        "zh": "您没有勾选任何对象，全部 {n} 个计为“不了解”。",
        "en": "You picked no evaluee: all {n} count as “Don't know”.",
    },
    "q.review_hint_picks": {
        "zh": "如需修改请点“修改 N”或“修改所选对象”，确认无误后点“提交”。",
        "en": "Tap “Edit N” or “Change my picks” to change something, or “Submit” when all is right.",
    },
    "q.change_picks": {"zh": "修改所选对象", "en": "Change my picks"},
    "q.app_invalid": {
        "zh": "数据无效，未保存。请刷新页面后重试。",
        "en": "Invalid data, nothing was saved. Please reload the page and try again.",
    },
}

register(_COMMON)
register(_QUESTIONNAIRE)
