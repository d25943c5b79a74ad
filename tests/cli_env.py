"""The ``minping`` command line against the test database (SQLite or PostgreSQL, from
the ``engine`` fixture), as an organizer runs it; example campaign files placed in time
relative to now, so a test does not depend on the date it runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from bot.settings import get_settings
from tests.run_process import database_url

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class Cli:
    def __init__(self, engine, tmp_path: Path) -> None:  # noqa: ANN001
        self.engine, self.dir, self.runner = engine, tmp_path, CliRunner()

    def __call__(self, *args: str, input: str | None = None):  # noqa: A002, ANN204
        from bot.cli import app

        return self.runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture
def cli(engine, tmp_path, monkeypatch):
    """The CLI on the test's (migrated) database, in an empty working directory."""
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    for name in ("MINPING_CLOCK", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield Cli(engine, tmp_path)
    get_settings.cache_clear()


def example(tmp_path: Path, name: str = "county-2026.yaml", *, opens_in: timedelta = timedelta(days=1),
            lasts: timedelta = timedelta(days=19), edits: dict[str, str] | None = None,
            file: str | None = None) -> Path:
    """A copy of an example with ``opens`` ``opens_in`` from now (negative: already
    open), lasting ``lasts``; ``edits`` are exact text replacements."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    tz = ZoneInfo(re.search(r"^timezone: (\S+)", text, re.M).group(1))
    opens = (datetime.now(UTC) + opens_in).astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
    closes = opens + lasts
    text = re.sub(r"^opens: .*$", f"opens: {opens:%Y-%m-%dT%H:%M}", text, count=1, flags=re.M)
    text = re.sub(r"^closes: .*$", f"closes: {closes:%Y-%m-%dT%H:%M}", text, count=1, flags=re.M)
    for old, new in (edits or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / (file or name)
    path.write_text(text, encoding="utf-8")
    return path
