"""Where the Mini App is, for the buttons that open it."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PATH = "/app/"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def app_url(settings=None) -> str | None:  # noqa: ANN001
    """The Mini App's public URL (``MINPING_PUBLIC_URL`` + ``/app/``), or None when there
    is none to offer: unset, or not HTTPS (Telegram opens Mini Apps over HTTPS only; a
    button with another URL would make Telegram refuse the whole message). Plain http is
    accepted on a loopback host, for the local Bot API server."""
    if settings is None:
        from bot.settings import get_settings

        settings = get_settings()
    base = (settings.public_url or "").strip()
    if not base:
        return None
    parts = urlsplit(base)
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        return None
    return base.rstrip("/") + PATH


def check(settings) -> str | None:  # noqa: ANN001
    """A warning for ``minping run`` when MINPING_PUBLIC_URL is set but unusable."""
    if settings.public_url and app_url(settings) is None:
        return (f"MINPING_PUBLIC_URL={settings.public_url!r} is not an https:// URL: "
                "the Mini App button is left out of invitations and /resume")
    return None
