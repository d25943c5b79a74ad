"""The bot's command menu (setMyCommands), per language."""

from flows.i18n import register, t

NAMES = ("help", "resume", "lang", "cancel", "stop")
DEFAULT = "zh"  # shown to clients whose language has no menu of its own

register({
    "cmd.start": {"zh": "开始或继续评议", "en": "Start or continue"},
    "cmd.help": {"zh": "帮助", "en": "Help"},
    "cmd.resume": {"zh": "继续填写", "en": "Continue where you left off"},
    "cmd.lang": {"zh": "切换语言 / Language", "en": "Language / 切换语言"},
    "cmd.cancel": {"zh": "暂停", "en": "Pause"},
    "cmd.stop": {"zh": "退出本次评议", "en": "Leave this evaluation"},
})

LISTINGS = {loc: [(c, t(f"cmd.{c}", loc)) for c in ("start", *NAMES)] for loc in ("zh", "en")}
