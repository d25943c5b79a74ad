"""The bot's command menu (setMyCommands), per language, and command parsing."""

import re

from flows.i18n import register, t

# The rater's menu. Other commands (organizer, evaluee) are answered but not listed:
# the service routes any command name to the feature that owns it.
NAMES = ("help", "resume", "lang", "cancel", "stop")
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?", re.S)
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


def parse(text: str) -> tuple[str, str]:
    """``"/Digest@minping_bot county-2026"`` -> ``("digest", "county-2026")``; junk -> help."""
    m = _COMMAND.fullmatch(text.strip())
    if m is None:
        return "help", ""
    return m.group(1).lower(), (m.group(2) or "").strip()
