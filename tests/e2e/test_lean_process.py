"""Issue 19: the real ``minping run`` process never draws a chart.

After start-up, after taps, and while a digest is drawn, its memory maps hold no
matplotlib, numpy or PIL library (``/proc/PID/maps``: every imported extension module
is a mapped ``.so``); the digest's charts still reach the organizer (drawn by the worker
process); and while the digest is drawn the bot's event loop is never late by more than
50 ms (its own lag histogram, read from ``/metrics`` before and after). A chart of the
live public board is drawn by the board's renderer process, not the bot's.
"""

from __future__ import annotations

import time
import urllib.request

import pytest

from devtools.devserver import BotAPIServer
from flows.campaign import Campaign
from storage import campaigns, links
from storage.db import session_scope
from tests.factories import campaign_data
from tests.run_process import MinpingRun, database_url, free_port

pytestmark = pytest.mark.postgres

ORGANIZER = 777
HEAVY = ("/matplotlib/", "/numpy/", "/numpy.libs/", "/PIL/", "/pillow.libs/", "/contourpy/", "/kiwisolver/")
LAG = "minping_event_loop_lag_seconds"


def heavy_libraries(pid: int) -> set[str]:
    """The heavy libraries mapped into the process (their extension modules)."""
    with open(f"/proc/{pid}/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line}
    return {p for p in paths if any(h in p for h in HEAVY)}


def lag(port: int) -> tuple[float, float]:
    """(samples, samples of at most 50 ms) of the event-loop lag histogram."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in body.splitlines():
        if line.startswith(LAG):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values[f"{LAG}_count"], values[f'{LAG}_bucket{{le="0.05"}}']


def card(dimension: str):
    return lambda m: m.buttons and "交通局" in (m.text or "") and dimension in (m.text or "")


def edit(u, label, expect):  # noqa: ANN001
    """Tap ``label`` on the card and wait until the bot has edited it into ``expect``."""
    before = u.last().edit_count
    u.tap(label)
    deadline = time.monotonic() + 10
    while not ((m := u.last()).edit_count > before and expect(m)):
        assert time.monotonic() < deadline, u.transcript()
        time.sleep(0.005)
    return m


def test_the_bot_process_never_loads_matplotlib_and_a_digest_does_not_stall_it(tmp_path, engine):
    data = campaign_data(organizers=[ORGANIZER], sealed=False)  # live results: every chart is drawn
    for g in data["rater_groups"]:
        if g["key"] == "recipients":
            g.pop("sample", None)
            g["open"] = True
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    port = free_port()
    with BotAPIServer(token="19:lean") as srv, \
            MinpingRun(tmp_path, srv, database_url(engine), env={"MINPING_LISTEN": f"127.0.0.1:{port}"}) as run:
        run.start()
        pid = run.proc.pid
        assert heavy_libraries(pid) == set()  # after start-up
        assert any("/aiogram/" in p or "pydantic_core" in p for p in open(f"/proc/{pid}/maps").read().split())
        rater = srv.user(501, "评议人", language_code="zh")
        rater.send(f"/start {token}")
        rater.wait_for(lambda m: "同意参加" in m.labels, 30)
        rater.tap("同意参加")
        rater.wait_for(card("工作作风"), 10, new=True)
        rater.tap("满意")
        rater.wait_for(card("工作效能"), 10, new=True)
        assert heavy_libraries(pid) == set()  # after taps

        before = lag(port)
        org = srv.user(ORGANIZER, "组织者", language_code="zh")
        org.send("/digest")
        org.wait_for("正在生成", 10, new=True)  # answered at once; drawn elsewhere
        taps, deadline = 0, time.monotonic() + 90
        while len([m for m in org.messages() if m.kind == "photo"]) < 4:  # the charts arrive meanwhile
            assert time.monotonic() < deadline, org.transcript()
            back = edit(rater, "← 上一题", card("工作作风"))
            edit(rater, "满意" if "满意" in back.labels else "比较满意", card("工作效能"))  # the other answer
            taps += 2
            time.sleep(0.1)  # a brisk person, not a loop
        after = lag(port)
        photos = [m for m in org.messages() if m.kind == "photo"]
        assert all(p.photo.data[:4] == b"\x89PNG" for p in photos)
        assert any("【汇总通报】" in (m.text or "") for m in org.messages())
        assert heavy_libraries(pid) == set()  # the charts were drawn by another process
        # The live public board's chart too: drawn by the board's renderer process.
        png = urllib.request.urlopen(f"http://127.0.0.1:{port}/board/{campaign.id}/charts/progress.png",
                                     timeout=60).read()
        assert png[:4] == b"\x89PNG" and heavy_libraries(pid) == set()
        samples, within = after[0] - before[0], after[1] - before[1]
        assert taps >= 4 and samples >= 20, (taps, samples)
        assert within == samples, f"{samples - within:.0f} of {samples:.0f} loop-lag samples over 50 ms"
        assert run.term() == 0
