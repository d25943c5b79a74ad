"""Who opened the Mini App: Telegram's signed launch data (``initData``).

Telegram hands the page a query string (user, auth_date, query_id, hash, …) signed with
the bot's token (Bot API, "Validating data received via the Mini App"):
secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token), and ``hash`` is the hex
HMAC_SHA256(key=secret_key, msg=data_check_string), where data_check_string is every
other field as ``key=value``, sorted by key, joined with newlines. ``check_signature``
is that recipe (aiogram's ``check_webapp_signature``, written out: importing aiogram for
it loaded all of aiogram, ~2 s and tens of MB, into a python-telegram-bot process); then
the age limit and the user.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import hashlib
import hmac

MAX_INIT_DATA = 8192  # bytes; Telegram's launch data is well under 2 KB
CLOCK_SKEW = 300  # seconds an auth_date may lie in the future (clocks differ)


def check_signature(token: str, init_data: str) -> bool:
    """Telegram's signature of Mini App launch data (Bot API, as aiogram checks it)."""
    try:
        fields = dict(parse_qsl(init_data, strict_parsing=True))
    except ValueError:
        return False
    given = fields.pop("hash", None)
    if given is None:
        return False
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(secret, check.encode(), hashlib.sha256).hexdigest(), given)


class InitDataError(Exception):
    """Launch data that proves nothing: ``kind`` is missing, forged or stale."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class AppUser:
    id: int  # = the chat id of the private chat with the bot
    language_code: str | None
    auth_date: int


def verify(init_data: str | None, token: str, max_age: float, now: float | None = None) -> AppUser:
    """The user ``init_data`` was signed for; ``InitDataError`` if it is absent, not
    signed with ``token``, older than ``max_age`` seconds, or not about a user."""
    if not init_data or not isinstance(init_data, str):
        raise InitDataError("missing")
    if len(init_data.encode()) > MAX_INIT_DATA:
        raise InitDataError("forged")
    try:
        fields = parse_qsl(init_data, strict_parsing=True)
    except ValueError:
        raise InitDataError("forged") from None
    keys = [k for k, _ in fields]
    if len(keys) != len(set(keys)) or not check_signature(token, init_data):
        raise InitDataError("forged")  # a repeated field could mean two things
    data = dict(fields)
    try:
        auth_date = int(data["auth_date"])
        user = json.loads(data["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("forged") from None
    now = time.time() if now is None else now
    if auth_date > now + CLOCK_SKEW:
        raise InitDataError("forged")
    if now - auth_date > max_age:
        raise InitDataError("stale")
    language = user.get("language_code")
    return AppUser(user_id, language if isinstance(language, str) else None, auth_date)
