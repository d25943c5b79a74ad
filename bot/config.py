"""The few settings a quick command reads, without pydantic: ``minping status`` must
start in a fraction of a second, and pydantic-settings alone takes ~0.2 s to import.

Same sources and precedence as ``bot.settings``: the environment first, then ``.env``
in the working directory. The default database is an absolute path, so a command run
from another directory finds the same database instead of silently starting an empty
one: ``$XDG_DATA_HOME/minping/minping.db``, i.e. ``~/.local/share/minping/minping.db``.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_database_url() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'minping' / 'minping.db'}"


def _dotenv(path: Path = Path(".env")) -> dict[str, str]:
    """``KEY=value`` lines of ``.env`` (comments, blank lines and ``export`` ignored;
    matching quotes removed), as python-dotenv reads the simple cases."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key.strip()] = value
    return out


def setting(name: str, default: str | None = None) -> str | None:
    if name in os.environ:
        return os.environ[name]
    return _dotenv().get(name, default)


def database_url() -> str:
    return setting("DATABASE_URL") or default_database_url()
