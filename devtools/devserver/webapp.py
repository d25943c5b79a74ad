"""Mini Apps as Telegram opens them: the signed launch data (``initData``) and the URL
with its fragment (``#tgWebAppData=…``), for a simulated user.

Signed exactly as Telegram does (Bot API, "Validating data received via the Mini App"):
secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token); hash = hex HMAC_SHA256(
key=secret_key, msg=data_check_string), the fields other than hash as ``key=value``
sorted by key and joined with newlines. Written here on its own, so that a bot checking
it with a library is checked against an independent implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import quote, urlencode

WEB_APP_VERSION = "8.0"


def sign(fields: dict[str, str], token: str) -> str:
    """``fields`` as a query string with Telegram's ``hash`` appended."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def init_data(user: dict, token: str, *, auth_date: int | None = None, chat_instance: str | None = None) -> str:
    fields = {
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "chat_instance": chat_instance or str(secrets.randbelow(10**18)),
        "chat_type": "sender",
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "query_id": "AA" + secrets.token_urlsafe(16),
    }
    return sign(fields, token)


def launch_url(url: str, data: str, platform: str = "android") -> str:
    """``url`` as Telegram opens it: the launch parameters in the fragment."""
    theme = json.dumps({"bg_color": "#ffffff", "text_color": "#000000", "button_color": "#2481cc",
                        "button_text_color": "#ffffff"}, separators=(",", ":"))
    params = urlencode({"tgWebAppData": data, "tgWebAppVersion": WEB_APP_VERSION, "tgWebAppPlatform": platform,
                        "tgWebAppThemeParams": theme}, quote_via=quote)
    return url.split("#", 1)[0] + "#" + params
