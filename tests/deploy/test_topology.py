"""The production topology without containers: PostgreSQL, two ``minping run`` workers in
webhook mode behind the real nginx with the production config (HTTPS, both workers in
its upstream), the local Bot API server posting to the proxy's URL, one scheduler among
the workers by the database lease. Both workers are restarted one after the other
(SIGTERM, as ``docker compose up`` or systemd does) while 60 raters answer.

Nothing is lost: every rater's ballot is what they answered and what their review
showed, verify is OK, nothing is parked; at no moment do both workers hold the lease,
and every digest firing reaches the organizer exactly once."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import func, select

from devtools.devserver import BotAPIServer
from flows.campaign import Campaign
from reports.verify import verify
from storage import campaigns, links, parked
from storage.db import session_scope
from storage.models import Answer, Ballot, JobFiring, Opinion
from tests.conftest import BACKENDS
from tests.deploy.nginx import Nginx, render_nginx
from tests.e2e.test_crash import DIMS, EVALUEES, KEYS, SCALE, Walker, review_counts
from tests.factories import campaign_data, chain_pending
from tests.run_process import MinpingRun, database_url, free_port

pytestmark = pytest.mark.postgres

RATERS = 60
ORGANIZER = 7_400_000_001
DIGEST_MARK = "【汇总通报】"


class Rater(Walker):
    """A rater of tests/e2e/test_crash.py who starts 0.6 s after the one before and reads
    a moment before each step: the raters keep answering for about a minute, through both
    restarts."""

    async def walk(self, deadline: float) -> None:
        await asyncio.sleep(0.6 * self.n)
        await super().walk(deadline)

    async def act(self) -> None:
        await asyncio.sleep(0.5 + random.random())
        await super().act()


def campaign_with_digests(engine) -> tuple[Campaign, str]:  # noqa: ANN001
    data = campaign_data(organizers=[ORGANIZER], schedule={"digest_cron": "* * * * *"})
    for g in data["rater_groups"]:
        if g["key"] == "recipients":
            g.pop("sample", None)
            g["open"] = True
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    return campaign, token


async def metrics(port: int) -> dict[tuple[str, frozenset], float] | None:
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as resp:
            body = await resp.text()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None  # restarting
    return {(s.name, frozenset(s.labels.items())): s.value
            for fam in text_string_to_metric_families(body) for s in fam.samples}


async def ready(port: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"worker on {port} not ready"
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("engine", [b for b in BACKENDS if b == "postgres"], indirect=True)
async def test_two_workers_behind_nginx_survive_a_rolling_restart(engine, tmp_path):
    campaign, token = campaign_with_digests(engine)
    https, ports = free_port(), (free_port(), free_port())
    prefix = render_nginx(tmp_path / "nginx", upstreams=tuple(f"127.0.0.1:{p}" for p in ports),
                          http_port=free_port(), https_port=https)
    lease_samples: list[tuple[float, float]] = []
    served = [0.0, 0.0]  # updates applied, per worker (the most any of its processes reported)

    async def watch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            got = [await metrics(p) for p in ports]
            held = [m.get(("minping_scheduler_lease_held", frozenset()), 0.0) if m else 0.0 for m in got]
            lease_samples.append((held[0], held[1]))
            for i, m in enumerate(got):
                if m:
                    n = sum(v for (name, labels), v in m.items() if name == "minping_updates_total"
                            and ("outcome", "applied") in labels)
                    served[i] = max(served[i], n)
            await asyncio.sleep(0.5)

    with Nginx(prefix, https) as proxy, \
            BotAPIServer(token="4747:topology", rate_limit=False, webhook_cafile=proxy.cafile) as srv:
        org = srv.user(ORGANIZER, language_code="zh")
        workers = []
        for i, port in enumerate(ports, 1):
            (tmp_path / f"w{i}").mkdir()
            w = MinpingRun(tmp_path / f"w{i}", srv, database_url(engine), mode="webhook")
            w.port = port  # the upstream nginx was given
            w.env |= {"MINPING_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                      "MINPING_WEBHOOK_URL": f"https://127.0.0.1:{https}/telegram"}  # the proxy, not the worker
            workers.append(w)
        try:
            for w in workers:
                await asyncio.to_thread(w.start)
                await ready(w.port)
            assert srv.webhook_url == f"https://127.0.0.1:{https}/telegram"
            stop_watch = asyncio.Event()
            watcher = asyncio.create_task(watch(stop_watch))
            walkers = [Rater(srv, n, token) for n in range(RATERS)]
            walking = asyncio.gather(*(w.walk(time.monotonic() + 300) for w in walkers))
            # A rolling restart: one worker, and once it is ready again, the other.
            await asyncio.sleep(5)
            for w in workers:
                assert not walking.done(), "the raters finished before the restart"
                assert await asyncio.to_thread(w.term) == 0, w.output
                await asyncio.to_thread(w.start)
                await ready(w.port)
            try:
                await walking
            except AssertionError:  # a rater stuck: what the workers and the proxy said
                for i, w in enumerate(workers, 1):
                    print(f"==== worker {i}\n{w.output}", file=sys.stderr)
                print("==== nginx\n", (prefix / "error.log").read_text()[-5000:], file=sys.stderr)
                raise
            # Each digest firing once: wait for two firings, their messages sent.
            deadline = time.monotonic() + 150
            while True:
                with session_scope(engine) as s:
                    firings = s.exec(select(func.count()).select_from(JobFiring).where(JobFiring.job == "digest")).one()
                got = [m.text for m in org.messages() if DIGEST_MARK in (m.text or "")]
                if firings >= 2 and len(got) >= firings:
                    break
                assert time.monotonic() < deadline, (firings, got)
                await asyncio.sleep(1)
            await asyncio.sleep(2)  # a twin would have arrived by now
            stop_watch.set()
            await watcher
        finally:
            codes = [await asyncio.to_thread(w.term) if w.proc and w.proc.poll() is None else 0 for w in workers]
        assert codes == [0, 0], [w.output for w in workers]
        with session_scope(engine) as s:
            firings = s.exec(select(func.count()).select_from(JobFiring).where(JobFiring.job == "digest")).one()
        assert len([m for m in org.messages() if DIGEST_MARK in (m.text or "")]) == firings

    assert all(a + b <= 1 for a, b in lease_samples), "both workers held the scheduler lease at once"
    assert any(a or b for a, b in lease_samples)
    assert served[0] > 0 and served[1] > 0, served  # the proxy spread the updates
    chain_pending(engine, campaign.id)  # the sealed ballots still in envelopes, as close would
    with session_scope(engine) as s:
        ballots = list(s.exec(select(Ballot)))
        opinions = {o.ballot_id: o.text for o in s.exec(select(Opinion))}
        answers: dict[str, dict] = {}
        for a in s.exec(select(Answer)):
            answers.setdefault(a.ballot_id, {})[(a.evaluee_key, a.dimension_key)] = a.option_key
        assert parked.listing(s) == []
        result = verify(s, campaign)
    assert result.ok, (result.chain, result.counts)
    assert len(ballots) == RATERS
    by_rater = {int(text.removeprefix("意见")): bid for bid, text in opinions.items()}
    assert sorted(by_rater) == list(range(RATERS))
    for w in walkers:
        assert w.done and w.review, w.u.transcript()
        got = answers[by_rater[w.n]]
        assert got == {(EVALUEES[e], DIMS[d]): KEYS[i] for (e, d), i in w.plan.items()}, w.n
        for evaluee, counts in review_counts(w.review).items():
            assert counts == Counter(SCALE[KEYS.index(got[(evaluee, dim)])] for dim in DIMS.values()), w.n
