"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, for tests of web
pages: the Mini App, the public board, the html report.

Use the ``page`` fixture in a sync test (Playwright's sync API; run any aiohttp server the
page needs in a thread or a subprocess). ``page.requests`` lists every URL the page asked
for, so a test can check that nothing leaves the page's own host. Screenshots go to
``test-artifacts/`` (kept, not committed).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MINPING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries Google's hosts at every start.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def browser():
    """One Chromium per test: Playwright's sync API runs an event loop on this thread
    while it is open, which later asyncio tests of the session must not find."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page (its own context: no cookies or storage shared between tests), phone
    width unless the test resizes it."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    pg = context.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def foreign_requests(page, origin: str) -> list[str]:  # noqa: ANN001
    """Requests the page made to anywhere but ``origin`` (data: and blob: URLs are local)."""
    return [u for u in page.requests if not (u.startswith(origin) or u.startswith(("data:", "blob:", "about:")))]
