"""Thin Telegram adapters: aiogram (default) and python-telegram-bot."""

import sys

# httpx (python-telegram-bot's HTTP client) loads its command-line tool when click, rich
# and pygments are installed, and typer installs them: ~6 MB in every PTB bot process for
# a tool it never runs. A ``None`` entry makes that import fail, and httpx then defines its
# own stand-in (it catches the ImportError). Only if httpx is not loaded yet.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)
