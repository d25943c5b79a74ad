"""One definition of progress (issue 13): a sampled group's drawn raters who submitted ÷
the drawn; after-service ballots and open groups as counts apart. ``minping status``,
chat /status, the digest's text and its chart show the same figures at the same moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from bot.service import Incoming, Service
from bot.settings import get_settings
from flows.campaign import Campaign
from flows.questionnaire import SealBallot
from reports import charts, digest, progress
from storage import ballots, campaigns, draw, people
from storage.db import session_scope
from tests.factories import campaign_data
from tests.run_process import database_url

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
ORGANIZER = 777
EXPECTED = {
    "服务对象": "服务对象：2/3（66.7%）；另有一事一评 2 份",
    "所在单位": "所在单位：1/2（50.0%）",
    "社会群众": "社会群众：3 份（开放参与，不抽样）",
}


def make_campaign() -> Campaign:
    return Campaign.model_validate(campaign_data(organizers=[ORGANIZER], rater_groups=[
        {"key": "recipients", "label": {"zh": "服务对象"}, "weight": 35, "sample": 3},
        {"key": "staff", "label": {"zh": "所在单位"}, "weight": 15, "sample": 5, "rates": "own_unit"},
        {"key": "public", "label": {"zh": "社会群众"}, "weight": 10, "open": True}]))


def _ballot(s, campaign, person, group, evaluees):
    answers = {e: {d.key: "satisfied" for d in campaign.dimensions} for e in evaluees}
    ballots.submit_ballot(s, campaign.id, person.id, SealBallot(group, answers, {}))


@pytest.fixture
def campaign(engine):
    """recipients: 6 in the pool, 3 drawn, 2 of them answered, and 2 after-service ballots
    (the old digest said 4/3, 133%); staff: 2 in the pool, both drawn (sample 5), 1
    answered; public (open): 3 ballots."""
    c = make_campaign()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, c, "")
        recipients = [people.get_or_create_person(s, 100 + i) for i in range(6)]
        for p in recipients:
            people.enrol(s, c.id, p, "recipients")
        staff = [people.get_or_create_person(s, 200 + i) for i in range(2)]
        for p in staff:
            people.enrol(s, c.id, p, "staff", unit="transport")
        served = [people.get_or_create_person(s, 300 + i) for i in range(2)]
        for p in served:
            people.enrol(s, c.id, p, "recipients").only_evaluee = "water"
        public = [people.get_or_create_person(s, 400 + i) for i in range(3)]
        for p in public:
            people.enrol(s, c.id, p, "public")
    with session_scope(engine) as s:
        draw.commit(s, c, NOW)
        draw.reveal(s, c, NOW)
    with session_scope(engine) as s:
        drawn = [p for p in recipients if people.membership(s, c.id, p.id).drawn_round]
        assert len(drawn) == 3
        for p in drawn[:2]:
            _ballot(s, c, p, "recipients", ["transport", "water"])
        _ballot(s, c, staff[0], "staff", ["transport"])
        for p in served:
            _ballot(s, c, p, "recipients", ["water"])
        for p in public:
            _ballot(s, c, p, "public", ["transport", "water"])
    return c


def test_progress_is_the_same_in_the_cli_the_chat_the_digest_and_its_chart(engine, campaign, monkeypatch,
                                                                              tmp_path):
    with session_scope(engine) as s:
        figures = progress.progress(s, campaign)
        lines = [progress.line(campaign, f, "zh") for f in figures]
        built = digest.build(s, campaign, "zh", NOW)
        chart = charts.progress(campaign, figures, "zh")
    assert lines == list(EXPECTED.values())
    # chat /status (bot/chat/organizer.py)
    svc = Service(engine, clock=lambda: NOW)
    status = "\n".join(m.text for m in svc.handle(Incoming(ORGANIZER, "command", command="status",
                                                           language_code="zh")).messages)
    # the digest, its progress chart, and the chart drawn on its own
    assert [c.name for c in built.charts] == ["progress"]
    for shown in (status, built.text, built.charts[0].alt, chart.alt):
        for line in EXPECTED.values():
            assert line in shown, (line, shown)
    assert "4/3" not in built.text and "133" not in built.text
    # minping status: the same numbers in its columns
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    monkeypatch.setattr(common.console, "width", 200)
    out = CliRunner().invoke(app, ["status", campaign.id])
    get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    head = next(line for line in out.output.splitlines() if "rater group" in line)
    names = [c.strip() for c in head.split("┃")[1:-1]]
    rows = {cells[0]: dict(zip(names, cells, strict=True)) for line in out.output.splitlines()
            if line.count("│") > 10 for cells in [[c.strip() for c in line.split("│")[1:-1]]]}
    rec, staff, public = rows["服务对象"], rows["所在单位"], rows["社会群众"]
    assert (rec["drawn"], rec["submitted"], rec["after service"], rec["RR1"]) == ("3", "2", "2", "66.7%")
    assert (staff["drawn"], staff["submitted"], staff["RR1"]) == ("2", "1", "50.0%")
    assert (public["sample"], public["submitted"], public["RR1"]) == ("open", "3", "—")


def test_before_the_draw_no_rate_against_the_yaml_target(engine):
    c = make_campaign()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, c, "")
        for i in range(4):
            people.enrol(s, c.id, people.get_or_create_person(s, 500 + i), "recipients")
        figures = progress.progress(s, c)
    assert progress.line(c, figures[0], "zh") == "服务对象：尚未抽签（已报名 4 人，计划抽取 3 人）"
    assert progress.line(c, figures[0], "en") == "服务对象: not drawn yet (4 enrolled, 3 to draw)"
    assert figures[0].rate is None
