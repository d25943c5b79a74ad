"""``python -m devtools.devserver``: run the dev server in the foreground and play users.

    $ python -m devtools.devserver --port 8081 --token 123:ABC
    Bot API dev server at http://127.0.0.1:8081  (PTB base_url: http://127.0.0.1:8081/bot)
    > @100 /start abc
    > @100 tap 满意
    > @100 show
"""

from __future__ import annotations

import argparse
import shlex
import sys
import threading
from typing import TextIO

from .server import BotAPIServer

__all__ = ["main", "Console"]

HELP = """\
commands:
  @UID TEXT            send TEXT as user UID (e.g. @100 /start abc)
  @UID tap LABEL       tap the button LABEL on UID's last keyboard
  @UID tapdata MID DATA  send a callback query with DATA for message MID
  @UID show            print UID's chat
  @UID app [LABEL]     print the URL (with signed launch data) of UID's Mini App button
  @UID photo|sticker|voice|contact|location
  @UID lang CODE       set UID's language_code (e.g. zh, en)
  @UID block|unblock   UID blocks / unblocks the bot
  calls [N]            last N Bot API calls (default 20)
  answers              answerCallbackQuery calls
  status               pending updates, webhook, 429s
  ratelimit on|off     switch flood limits
  help | quit"""


class Console:
    """Interprets developer commands against a running server; printing to `out`."""

    def __init__(self, srv: BotAPIServer, out: TextIO = sys.stdout) -> None:
        self.srv = srv
        self.out = out
        self._print_lock = threading.Lock()

    def echo(self, text: str) -> None:
        with self._print_lock:
            print(text, file=self.out, flush=True)

    def on_bot_event(self, event: str, view) -> None:
        prefix = {"send": "→", "edit": "✎", "delete": "✗"}.get(event, "·")
        self.echo(f"{prefix} chat {view.chat_id} {view.line()}")

    def run_line(self, line: str) -> bool:
        """Execute one command; returns False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        try:
            return self._run(line)
        except Exception as exc:  # show the problem, keep the console alive
            self.echo(f"error: {exc}")
            return True

    def _run(self, line: str) -> bool:
        srv = self.srv
        if line in ("quit", "exit", "q"):
            return False
        if line in ("help", "?"):
            self.echo(HELP)
            return True
        if line.startswith("@"):
            head, _, rest = line.partition(" ")
            u = srv.user(int(head[1:]))
            word, _, arg = rest.strip().partition(" ")
            if word == "tap" and arg:
                qid = u.tap(arg.strip())
                self.echo(f"tapped {arg.strip()!r}" + (f" (query {qid})" if qid else ""))
            elif word == "tapdata":
                mid, _, data = arg.partition(" ")
                u.tap_data(int(mid), data)
            elif word == "show" and not arg:
                self.echo(u.transcript())
            elif word == "app":
                self.echo(u.open_web_app(arg.strip() or None))
            elif word in ("photo", "sticker", "voice", "contact", "location") and not arg:
                getattr(u, "send_" + word)()
            elif word == "lang" and arg:
                u.set_language(arg.strip())
            elif word in ("block", "unblock") and not arg:
                getattr(u, word)()
                self.echo(f"user {u.id} {word}ed the bot")
            else:
                u.send(rest.strip())
            return True
        parts = shlex.split(line)
        if parts[0] == "calls":
            n = int(parts[1]) if len(parts) > 1 else 20
            for c in srv.calls[-n:]:
                status = "ok" if c.ok else f"{c.error_code} {c.description}"
                self.echo(f"{c.method} {c.params} -> {status}")
        elif parts[0] == "answers":
            for a in srv.callback_answers:
                self.echo(f"query {a.query_id} user {a.user_id} data {a.data!r}: {a.text!r}"
                          + (" (alert)" if a.show_alert else ""))
        elif parts[0] == "status":
            self.echo(f"pending updates: {srv.pending_updates}; webhook: {srv.webhook_url or '-'}; "
                      f"429s sent: {srv.rate_limited_count}; rate limit: "
                      f"{'on' if srv.rate_limit.enabled else 'off'}")
        elif parts[0] == "ratelimit" and len(parts) == 2 and parts[1] in ("on", "off"):
            srv.rate_limit = parts[1] == "on"
        else:
            self.echo(f"unknown command: {line!r} (try help)")
        return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devtools.devserver",
                                 description="Local Telegram Bot API server for development.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--token", default="123:ABC")
    ap.add_argument("--no-rate-limit", action="store_true", help="disable flood limits")
    ap.add_argument("--bot-username", default="minping_dev_bot")
    args = ap.parse_args(argv)
    from bot.logs import LogSettingsError, setup

    try:  # the same logging as every entry point (bot/logs.py); its token redacted too
        setup(secrets=[args.token])
    except LogSettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    srv = BotAPIServer(args.token, host=args.host, port=args.port,
                       rate_limit=not args.no_rate_limit, bot_username=args.bot_username)
    console = Console(srv)
    srv.add_listener(console.on_bot_event)
    with srv:
        console.echo(f"Bot API dev server at {srv.base_url}  (PTB base_url: {srv.ptb_base_url}, "
                     f"token {srv.token})")
        console.echo("type 'help' for commands, e.g.  @100 /start abc")
        interactive = sys.stdin.isatty()
        try:
            while True:
                if interactive:
                    try:
                        line = input("> ")
                    except EOFError:
                        break
                else:
                    line = sys.stdin.readline()
                    if not line:  # stdin closed: keep serving until Ctrl-C
                        threading.Event().wait()
                if not console.run_line(line):
                    break
        except KeyboardInterrupt:
            pass
    return 0
