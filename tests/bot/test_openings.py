"""Issue 12, item 6: openings reach people. Whoever enrolled in an open group or through
an after-service link before the opening is messaged (once, through the outbox) when the
campaign opens; open-group partials get the campaign's reminders; after-service rating
is once per service visit, each visit a ballot, with the organizer's cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.jobs import openings, reminders
from reports import progress
from bot.scheduler import Scheduler
from bot.service import Service
from flows.campaign import Campaign
from storage import campaigns, links
from storage.db import session_scope
from storage.models import Ballot, Membership, Outbox
from tests.chat_user import ChatUser
from tests.factories import campaign_data

pytestmark = pytest.mark.postgres
OPENS = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def world(engine):
    data = campaign_data(opens=datetime(2026, 6, 1, 9, 0), closes=datetime(2026, 6, 30, 18, 0),
                         schedule={"reminders_after_hours": [24, 72]}, service_cooldown_hours=12)
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        tokens = {"public": links.group_link(s, campaign.id, "public").token,
                  "recipients": links.group_link(s, campaign.id, "recipients").token,
                  **{f"service-{e}": links.service_link(s, campaign.id, "recipients", e).token
                     for e in ("transport", "water")}}
    clock = Clock(OPENS - timedelta(days=1))
    return Service(engine, clock=clock), campaign, tokens, clock


def _outbox(engine, chat_id: int | None = None, kind: str | None = None) -> list[Outbox]:
    with session_scope(engine) as s:
        q = select(Outbox).order_by(Outbox.id)
        if chat_id is not None:
            q = q.where(Outbox.chat_id == chat_id)
        if kind is not None:
            q = q.where(Outbox.kind == kind)
        return list(s.exec(q))


def _ballots(engine) -> int:
    """Ballots sealed: in the chain or still in their envelopes."""
    from storage.models import Envelope

    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Ballot)).one() + s.exec(
            select(func.count()).select_from(Envelope)).one()


def _after_service(engine, campaign) -> int:
    """The after-service figure of ``minping status``, chat /status and the digest."""
    with session_scope(engine) as s:
        return next(p for p in progress.progress(s, campaign) if p.group == "recipients").after_service


def _answer(user: ChatUser) -> None:
    for _ in range(60):
        labels = [b.label for b in user.screen.all_buttons()]
        user.tap(next(w for w in ("满意", "跳过", "提交", "确认提交") if w in labels))
        if user.last.submitted:
            return
    raise AssertionError("the questionnaire did not end")


def test_people_waiting_are_told_once_when_the_campaign_opens(engine, world):
    service, campaign, tokens, clock = world
    public, after_service, drawn_group, stopped = (ChatUser(service, c) for c in (9801, 9802, 9803, 9804))
    for user, token in ((public, "public"), (after_service, "service-water"), (drawn_group, "recipients"),
                        (stopped, "public")):
        user.start(tokens[token])
        user.tap("同意参加")
    assert "将于 2026-06-01 09:00 开始" in public.texts()  # upcoming: they can only wait
    stopped.command("stop")
    scheduler = Scheduler(engine, clock=clock, jobs={"openings": openings.openings_job}, holder="t")
    assert scheduler.tick() == {"openings": 0}  # not open yet
    clock.t = OPENS + timedelta(minutes=1)
    assert scheduler.tick() == {"openings": 2}
    assert scheduler.tick() == {"openings": 0}  # once
    told = {o.chat_id: o for o in _outbox(engine, kind="invitation")}
    assert set(told) == {9801, 9802}  # not the drawn group's member (invited after the draw), not /stop
    assert "「测试评议」现已开始" in told[9801].text and told[9801].buttons == [[["开始评议", "Cs"]]]
    public.tap_data("Cs")  # the button of that message
    assert "交通局" in public.screen.text  # the questionnaire, at once
    after_service.tap_data("Cs")
    assert "水利局" in after_service.screen.text and "交通局" not in after_service.screen.text


def test_open_group_partials_get_the_reminders(engine, world):
    service, campaign, tokens, clock = world
    clock.t = OPENS + timedelta(hours=1)
    started, finished, never = (ChatUser(service, c) for c in (9811, 9812, 9813))
    for user in (started, finished, never):
        user.start(tokens["public"])
    started.tap("同意参加")
    started.tap("满意")  # one answer, then gone: a partial
    finished.tap("同意参加")
    _answer(finished)
    with session_scope(engine) as s:
        assert reminders.remind(s, campaign, OPENS + timedelta(hours=24)) == 0  # 24 h not yet up
        assert reminders.remind(s, campaign, OPENS + timedelta(hours=26)) == 1
        assert reminders.remind(s, campaign, OPENS + timedelta(hours=30)) == 0  # once each
        assert reminders.remind(s, campaign, OPENS + timedelta(hours=74)) == 1  # the second one
    sent = _outbox(engine, kind="reminder")
    assert [o.chat_id for o in sent] == [9811, 9811] and "还没有完成" in sent[0].text
    assert sent[0].buttons == [[["继续评议", "Cs"]]]


def test_after_service_rating_is_once_per_visit_with_a_cooldown(engine, world):
    service, campaign, tokens, clock = world
    clock.t = OPENS + timedelta(hours=1)
    user = ChatUser(service, 9821)
    user.start(tokens["service-water"])
    user.tap("同意参加")
    assert "水利局" in user.screen.text
    _answer(user)
    assert _ballots(engine) == 1
    assert _after_service(engine, campaign) == 1

    clock.t += timedelta(hours=2)  # back the same afternoon, at another window
    user.start(tokens["service-transport"])
    assert "每 12 小时可评价一次" in user.texts() and "2026-06-01 22:00" in user.texts()
    assert _ballots(engine) == 1
    clock.t += timedelta(hours=11)  # 13 h after the first visit: a new visit, a new ballot
    user.start(tokens["service-transport"])
    assert "交通局" in user.screen.text and "水利局" not in user.screen.text
    assert _after_service(engine, campaign) == 1  # the visit being answered is no ballot yet
    _answer(user)
    assert _ballots(engine) == 2
    assert _after_service(engine, campaign) == 2  # progress counts each visit's ballot
    with session_scope(engine) as s:
        m = s.exec(select(Membership).where(Membership.campaign_id == campaign.id)).one()
        assert (m.visits, m.submitted, m.only_evaluee) == (2, True, "transport")
    # each visit's reminders and opening notice are its own: nothing pending for a finished visit
    with session_scope(engine) as s:
        assert reminders.remind(s, campaign, clock.t + timedelta(hours=100)) == 0
