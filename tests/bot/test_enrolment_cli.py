"""The organizer's side of enrolment and the draw on the command line: links and codes,
sample --commit/--reveal/--replace with published files, verify-draw, invite, status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.service import Incoming, Service
from bot.settings import get_settings
from storage.db import make_engine, session_scope
from storage.models import Link, Outbox
from sqlmodel import select

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["campaign", "load", str(EXAMPLES / "county-2026.yaml")]).exit_code == 0
    yield runner
    get_settings.cache_clear()


def _engine(tmp_path):
    return make_engine(f"sqlite:///{tmp_path / 'cli.db'}")


def _tokens(output: str) -> list[str]:
    return re.findall(r"start=([A-Za-z0-9_-]+)", output)


def test_links_codes_service_organizer_evaluee_and_qr(cli, tmp_path):
    result = cli.invoke(app, ["links", "county-2026", "--bot-username", "@county_bot", "--codes", "2",
                              "--organizer", "1", "--evaluee", "all", "--qr", str(tmp_path / "qr")])
    assert result.exit_code == 0, result.output
    assert "https://t.me/county_bot?start=" in result.output
    with session_scope(_engine(tmp_path)) as s:
        kinds = {}
        for link in s.exec(select(Link)):
            kinds.setdefault(link.kind, []).append(link)
    assert len(kinds["group"]) == 2  # recipients, public; staff and deputies only by codes
    staff = [c for c in kinds["code"] if c.group_key == "staff"]
    assert {c.unit for c in staff} == {"transport", "water", "supervision", "finance"} and len(staff) == 8
    assert [c.unit for c in kinds["code"] if c.group_key == "deputies"] == [None, None]
    assert all(c.single_use for c in kinds["code"])
    assert {s.evaluee_key for s in kinds["service"]} == {"transport", "water", "supervision", "finance"}
    assert all(s.group_key == "recipients" and not s.single_use for s in kinds["service"])
    assert len(kinds["organizer"]) == 1 and len(kinds["evaluee"]) == 4
    assert set(_tokens(result.output)) == {link.token for ls in kinds.values() for link in ls}
    pngs = list((tmp_path / "qr").glob("*.png"))
    assert len(pngs) == len(_tokens(result.output)) and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    again = cli.invoke(app, ["links", "county-2026"])
    assert "--codes N" in again.output  # says how to get codes for the closed group
    bad = cli.invoke(app, ["links", "county-2026", "--evaluee", "nope"])
    assert bad.exit_code == 1 and "no evaluee 'nope'" in bad.output


def test_sample_verify_invite_status(cli, tmp_path):
    out = cli.invoke(app, ["links", "county-2026"]).output
    recipients = _tokens(out.split("服务对象")[1])[0]
    engine = _engine(tmp_path)
    service = Service(engine)
    for i in range(30):  # 30 people enrol as service recipients and agree
        service.handle(Incoming(5000 + i, "start", text=recipients))
        service.handle(Incoming(5000 + i, "tap", data="Cy"))
    refused = cli.invoke(app, ["sample", "county-2026", "--reveal"])
    assert refused.exit_code == 1 and "--commit" in refused.output
    commit = cli.invoke(app, ["sample", "county-2026", "--commit", "--out", "pool.json"])
    assert commit.exit_code == 0, commit.output
    pool = json.loads((tmp_path / "pool.json").read_text())
    assert len(pool["groups"]["recipients"]["pool"]) == 30 and pool["groups"]["staff"]["pool"] == []
    assert "5000" not in (tmp_path / "pool.json").read_text()  # pseudonyms, no chat ids
    assert pool["commitment"] in commit.output
    assert cli.invoke(app, ["sample", "county-2026", "--commit"]).exit_code == 1  # once only
    reveal = cli.invoke(app, ["sample", "county-2026", "--reveal", "--out", "drawn.json"])
    assert reveal.exit_code == 0, reveal.output
    assert "smaller than its sample" in reveal.output  # 30 < 400: taken whole, with a warning
    seed = json.loads((tmp_path / "drawn.json").read_text())["seed"]
    assert seed in reveal.output
    ok = cli.invoke(app, ["verify-draw", "pool.json", "--seed", seed, "--commitment", pool["commitment"],
                          "--drawn", "drawn.json"])
    assert ok.exit_code == 0 and "MATCH" in ok.output
    wrong_seed = cli.invoke(app, ["verify-draw", "pool.json", "--seed", "00" * 32, "--commitment", pool["commitment"]])
    assert wrong_seed.exit_code == 1 and "MISMATCH" in wrong_seed.output
    pool["groups"]["recipients"]["pool"][0] = "0123456789abcdef"
    (tmp_path / "forged.json").write_text(json.dumps(pool))
    forged = cli.invoke(app, ["verify-draw", "forged.json", "--seed", seed, "--commitment", pool["commitment"]])
    assert forged.exit_code == 1 and "pool" in forged.output
    junk = cli.invoke(app, ["verify-draw", "missing.json", "--seed", seed, "--commitment", "x"])
    assert junk.exit_code == 2 and "cannot read" in junk.output
    early = cli.invoke(app, ["invite", "county-2026"])  # the example opens in December
    assert early.exit_code == 1 and "invite_on_open" in early.output
    status = cli.invoke(app, ["status", "county-2026"])
    assert status.exit_code == 0 and "RR1" in status.output
    row = next(line for line in status.output.splitlines() if "服务对象" in line)
    assert re.findall(r"\d+", row)[:4] == ["400", "30", "30", "30"]  # sample, enrolled, pool, drawn


def test_invite_queues_once_per_drawn_person(cli, tmp_path):
    from datetime import UTC, datetime, timedelta

    out = cli.invoke(app, ["links", "county-2026"]).output
    recipients = _tokens(out.split("服务对象")[1])[0]
    engine = _engine(tmp_path)
    with session_scope(engine) as s:  # run the example as if it were open now
        from storage.models import CampaignRow
        row = s.get(CampaignRow, "county-2026")
        row.opens = datetime.now(UTC) - timedelta(hours=1)
    service = Service(engine)
    for i in range(5):
        service.handle(Incoming(6000 + i, "start", text=recipients))
        service.handle(Incoming(6000 + i, "tap", data="Cy"))
    cli.invoke(app, ["sample", "county-2026", "--commit"])
    cli.invoke(app, ["sample", "county-2026", "--reveal"])
    first = cli.invoke(app, ["invite", "county-2026"])
    assert first.exit_code == 0 and "5 invitation(s)" in first.output
    second = cli.invoke(app, ["invite", "county-2026"])
    assert "0 invitation(s)" in second.output
    with session_scope(engine) as s:
        assert sorted(o.chat_id for o in s.exec(select(Outbox))) == list(range(6000, 6005))


def test_replace_draws_a_second_round_for_non_responders(cli, tmp_path):
    from datetime import UTC, datetime, timedelta

    from storage.models import CampaignRow

    engine = _engine(tmp_path)
    with session_scope(engine) as s:
        s.get(CampaignRow, "county-2026").opens = datetime.now(UTC) - timedelta(hours=1)
    cli.invoke(app, ["links", "county-2026", "--codes", "120"])
    with session_scope(engine) as s:
        deputies = [c.token for c in s.exec(select(Link).where(Link.kind == "code", Link.group_key == "deputies"))]
    service = Service(engine)
    for i in range(120):  # deputies (each with a personal code) draw 100
        service.handle(Incoming(8000 + i, "start", text=deputies[i]))
        service.handle(Incoming(8000 + i, "tap", data="Cy"))
    cli.invoke(app, ["sample", "county-2026", "--commit", "--out", "pool.json"])
    cli.invoke(app, ["sample", "county-2026", "--reveal"])
    early = cli.invoke(app, ["sample", "county-2026", "--replace", "deputies"])
    assert early.exit_code == 1 and "minping invite" in early.output
    cli.invoke(app, ["invite", "county-2026"])
    unknown = cli.invoke(app, ["sample", "county-2026", "--replace", "public"])
    assert unknown.exit_code == 1 and "not a sampled rater group" in unknown.output
    result = cli.invoke(app, ["sample", "county-2026", "--replace", "deputies", "--out", "drawn.json"])
    assert result.exit_code == 0 and "round 2 drew 20 replacement(s)" in result.output  # nobody answered
    drawn = json.loads((tmp_path / "drawn.json").read_text())
    assert [len(r) for r in drawn["drawn"]["deputies"]] == [100, 20]
    pool = json.loads((tmp_path / "pool.json").read_text())
    ok = cli.invoke(app, ["verify-draw", "pool.json", "--seed", drawn["seed"], "--commitment", pool["commitment"],
                          "--drawn", "drawn.json"])
    assert ok.exit_code == 0 and "MATCH" in ok.output
    both = cli.invoke(app, ["sample", "county-2026", "--commit", "--reveal"])
    assert both.exit_code == 1 and "exactly one" in both.output
