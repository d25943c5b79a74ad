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
from flows import sampling
from bot.settings import get_settings
from tests.cli_env import example
from storage.db import make_engine, session_scope
from storage.models import Link, Outbox
from sqlmodel import select

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOTTERY = "中国福利彩票双色球 2026-12-03 开奖号码"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["campaign", "load", str(example(tmp_path))]).exit_code == 0
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
    again = cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot"])
    assert "--codes N" in again.output  # says how to get codes for the closed group
    bad = cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot", "--evaluee", "nope"])
    assert bad.exit_code == 1 and "no evaluee 'nope'" in bad.output


def test_sample_verify_invite_status(cli, tmp_path):
    out = cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot"]).output
    recipients = _tokens(out.split("服务对象")[1])[0]
    engine = _engine(tmp_path)
    service = Service(engine)
    for i in range(30):  # 30 people enrol as service recipients and agree
        service.handle(Incoming(5000 + i, "start", text=recipients))
        service.handle(Incoming(5000 + i, "tap", data="Cy"))
    refused = cli.invoke(app, ["sample", "county-2026", "--reveal"])
    assert refused.exit_code == 1 and "--commit" in refused.output
    unnamed = cli.invoke(app, ["sample", "county-2026", "--commit", "--before-opens", "--yes"])
    assert unnamed.exit_code == 1 and "--beacon" in unnamed.output and "choose" in unnamed.output
    assert not (tmp_path / "pool.json").exists()
    for args, message in ((["--commit", "--beacon", LOTTERY, "--no-beacon"], "choose one"),
                          (["--commit", "--beacon", "  "], "it is empty"),
                          (["--commit", "--no-beacon", "--beacon-value", "1 2"], "--beacon-value goes with --reveal"),
                          (["--reveal", "--beacon", LOTTERY], "--beacon and --no-beacon go with --commit"),
                          (["--commit", "--beacon", LOTTERY], "--beacon-shape 6+1"),
                          (["--commit", "--beacon", LOTTERY, "--beacon-shape", "6-1"], "must be like 6+1"),
                          (["--commit", "--no-beacon", "--beacon-shape", "6+1"], "--beacon-shape goes with --beacon")):
        misused = cli.invoke(app, ["sample", "county-2026", "--before-opens", "--yes", *args])
        assert misused.exit_code == 1 and message in misused.output, (args, misused.output)
    commit = cli.invoke(app, ["sample", "county-2026", "--commit", "--before-opens", "--yes", "--out", "pool.json",
                              "--beacon", LOTTERY, "--beacon-shape", "6 + 1"])
    assert commit.exit_code == 0, commit.output
    pool = json.loads((tmp_path / "pool.json").read_text())
    assert pool["beacon"] == f"{LOTTERY} [6+1]" and LOTTERY in commit.output
    assert len(pool["groups"]["recipients"]["pool"]) == 30 and pool["groups"]["staff/water"]["pool"] == []
    published = set(re.findall(r"[0-9a-f]+", (tmp_path / "pool.json").read_text()))
    assert not published & {str(5000 + i) for i in range(30)}  # pseudonyms, no chat ids
    assert pool["commitment"] in commit.output
    assert cli.invoke(app, ["sample", "county-2026", "--commit", "--before-opens", "--yes"]).exit_code == 1  # once only
    unvalued = cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes"])
    assert unvalued.exit_code == 1 and "--beacon-value" in unvalued.output and LOTTERY in unvalued.output
    # One spelling of the result: the one who reveals cannot pick another that gives another seed.
    for spelling in ("03 07 12 19 25 31 09", "红球 03 07 12 19 25 31 + 蓝球 09", "3 7 12 19 25 + 31 + 9"):
        other = cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes", "--beacon-value", spelling])
        assert other.exit_code == 1 and "[6+1]" in other.output, (spelling, other.output)
    empty = cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes", "--beacon-value", "  "])
    assert empty.exit_code == 1 and "empty" in empty.output
    reveal = cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes", "--out", "drawn.json",
                              "--beacon-value", "03 07 12 19 25 31 + 09"])
    assert reveal.exit_code == 0, reveal.output
    assert "3.7.12.19.25.31./9./" in reveal.output  # the canonical value is shown before asking
    assert "smaller than its sample" in reveal.output  # 30 < 400: taken whole, with a warning
    published = json.loads((tmp_path / "drawn.json").read_text())
    seed = published["seed"]
    assert seed in reveal.output and published["draw_seed"] in reveal.output
    assert published["draw_seed"] == sampling.beacon_seed(seed, "3.7.12.19.25.31./9./") != seed
    ok = cli.invoke(app, ["verify-draw", "pool.json", "--seed", seed, "--commitment", pool["commitment"],
                          "--drawn", "drawn.json", "--beacon-value", "３１，25，19，12，07，03＋9"])  # typed otherwise
    assert ok.exit_code == 0 and "MATCH" in ok.output, ok.output
    valueless = cli.invoke(app, ["verify-draw", "pool.json", "--seed", seed, "--commitment", pool["commitment"]])
    assert valueless.exit_code == 1 and "--beacon-value" in valueless.output
    other = cli.invoke(app, ["verify-draw", "pool.json", "--seed", seed, "--commitment", pool["commitment"],
                             "--drawn", "drawn.json", "--beacon-value", "03 07 12 19 25 32 + 09"])
    assert other.exit_code == 1 and "draw seed" in other.output  # the whole pool was drawn: the seed tells
    wrong_seed = cli.invoke(app, ["verify-draw", "pool.json", "--seed", "00" * 32, "--commitment", pool["commitment"],
                                  "--beacon-value", "03 07 12 19 25 31 + 09"])
    assert wrong_seed.exit_code == 1 and "MISMATCH" in wrong_seed.output
    pool["groups"]["recipients"]["pool"][0] = "0123456789abcdef"
    (tmp_path / "forged.json").write_text(json.dumps(pool))
    forged = cli.invoke(app, ["verify-draw", "forged.json", "--seed", seed, "--commitment", pool["commitment"],
                              "--beacon-value", "03 07 12 19 25 31 + 09"])
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

    out = cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot"]).output
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
    assert cli.invoke(app, ["sample", "county-2026", "--commit", "--yes", "--no-beacon"]).exit_code == 0
    assert cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes"]).exit_code == 0
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
    cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot", "--codes", "120"])
    with session_scope(engine) as s:
        deputies = [c.token for c in s.exec(select(Link).where(Link.kind == "code", Link.group_key == "deputies"))]
    service = Service(engine)
    for i in range(120):  # deputies (each with a personal code) draw 100
        service.handle(Incoming(8000 + i, "start", text=deputies[i]))
        service.handle(Incoming(8000 + i, "tap", data="Cy"))
    assert cli.invoke(app, ["sample", "county-2026", "--commit", "--yes", "--out", "pool.json",
                            "--beacon", LOTTERY, "--beacon-shape", "6+1"]).exit_code == 0
    assert cli.invoke(app, ["sample", "county-2026", "--reveal", "--yes", "--beacon-value", "1 2 3 4 5 6 + 7"]).exit_code == 0
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
                          "--drawn", "drawn.json", "--beacon-value", "1 2 3 4 5 6 + 7"])
    assert ok.exit_code == 0 and "MATCH" in ok.output
    other = cli.invoke(app, ["verify-draw", "pool.json", "--seed", drawn["seed"], "--commitment", pool["commitment"],
                             "--drawn", "drawn.json", "--beacon-value", "1 2 3 4 5 6 + 8"])
    assert other.exit_code == 1 and "round 1: recomputed draw differs" in other.output  # another sample
    both = cli.invoke(app, ["sample", "county-2026", "--commit", "--reveal"])
    assert both.exit_code == 1 and "exactly one" in both.output
