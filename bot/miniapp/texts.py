"""The Mini App page's own words (the questionnaire's come from the campaign and
``flows.i18n``)."""

from __future__ import annotations

from flows.i18n import register, t

register({
    "app.loading": {"zh": "正在加载…", "en": "Loading…"},
    "app.open_in_telegram": {
        "zh": "请在 Telegram 中打开此页面：点评议机器人消息下的“在页面中填写”按钮。",
        "en": "Please open this page in Telegram: tap “Fill in on one page” under the evaluation bot's message.",
    },
    "app.forged": {
        "zh": "无法确认您的身份：此页面收到的 Telegram 登录数据无效。什么都没有保存。"
              "请关闭页面，从与评议机器人的聊天中重新打开。",
        "en": "Your identity could not be confirmed: the Telegram sign-in data of this page is not valid. "
              "Nothing was saved. Please close the page and open it again from the chat with the evaluation bot.",
    },
    "app.stale": {
        "zh": "此页面打开太久，Telegram 登录已过期，什么都没有保存。请关闭页面，从与评议机器人的聊天中重新打开；"
              "已保存的答案仍在。",
        "en": "This page has been open too long and its Telegram sign-in has expired; nothing was saved now. "
              "Please close it and open it again from the chat with the evaluation bot; your saved answers are kept.",
    },
    "app.invalid": {
        "zh": "请求无效，什么都没有保存。请刷新页面后重试。",
        "en": "The request was not valid and nothing was saved. Please reload the page and try again.",
    },
    "app.error": {
        "zh": "暂时无法连接服务器，您的修改尚未保存，正在重试…",
        "en": "The server cannot be reached right now; your changes are not saved yet. Retrying…",
    },
    "app.problem": {"zh": "无法打开评议", "en": "The evaluation cannot be opened"},
    "app.back_to_chat": {
        "zh": "请回到与评议机器人的聊天中查看。",
        "en": "Please go back to the chat with the evaluation bot.",
    },
    "app.progress": {"zh": "已完成 {done}/{total}", "en": "{done} of {total} done"},
    "app.pick_intro": {
        "zh": "共 {n} 个被评议对象。请勾选您打过交道、有所了解的对象并作答；未勾选的计为“{dont_know}”，无需作答。",
        "en": "There are {n} evaluees. Tick the ones you have dealt with and know, and rate them; the others "
              "count as “{dont_know}” without a question.",
    },
    "app.intro": {
        "zh": "请对每个对象的每一项作出评价；不了解的请选“{dont_know}”。",
        "en": "Please rate every aspect of each evaluee; choose “{dont_know}” where you cannot judge.",
    },
    "app.pick_label": {"zh": "我了解此对象，参与评议", "en": "I know this one and rate it"},
    "app.all": {"zh": "全部", "en": "All"},
    "app.all_option": {"zh": "全部选“{label}”", "en": "All: {label}"},
    "app.about": {"zh": "职责与承诺", "en": "Duties and commitments"},
    "app.complete": {"zh": "已完成", "en": "Done"},
    "app.incomplete": {"zh": "未完成", "en": "To do"},
    "app.not_picked": {"zh": "不了解", "en": "Not rated"},
    "app.saved": {"zh": "已保存", "en": "Saved"},
    "app.saving": {"zh": "保存中…", "en": "Saving…"},
    "app.submit": {"zh": "提交", "en": "Submit"},
    "app.left": {
        "zh": "还有 {n} 个对象未完成，请先作答。",
        "en": "{n} evaluee(s) still have unanswered questions; please finish them first.",
    },
    "app.confirm_title": {"zh": "确认提交", "en": "Submit now?"},
    "app.confirm_text": {
        "zh": "您评议了 {k} 个对象，其余 {m} 个计为“{dont_know}”。提交后不可更改，确认提交吗？",
        "en": "Evaluees you rated: {k}; the other {m} count as “{dont_know}”. Submitting is final. Submit now?",
    },
    "app.confirm": {"zh": "确认提交", "en": "Confirm"},
    "app.cancel": {"zh": "返回", "en": "Cancel"},
    "app.thanks_title": {"zh": "✅ 提交成功", "en": "✅ Submitted"},
    "app.thanks": {
        "zh": "感谢您的参与！您的评议表已匿名保存，与您的身份分离。现在可以关闭此页面。",
        "en": "Thank you for taking part! Your ballot is stored anonymously, separated from your identity. "
              "You can close this page now.",
    },
    "app.done_title": {"zh": "已提交", "en": "Already submitted"},
    "app.other_language": {"zh": "English", "en": "中文"},
})

__all__ = ["t"]
