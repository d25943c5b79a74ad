"""Issue 12, item 3: the draw is committed when it makes sense. --commit shows pool
against sample per group and per unit, warns about short pools and asks; own-unit staff
are drawn per unit; --uncommit before the reveal keeps the old commitment on record;
someone enrolling after the freeze is told before consenting."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.service import Service
from storage import draw
from storage.db import session_scope
from storage.models import Link
from tests.chat_user import ChatUser
from tests.cli_env import example

pytestmark = pytest.mark.postgres


def _enrol(engine, tokens: list[str], first_chat: int) -> None:
    service = Service(engine)
    for i, token in enumerate(tokens):
        user = ChatUser(service, first_chat + i)
        user.start(token)
        assert "冻结" not in user.texts()  # before the freeze: no such note
        user.tap("同意参加")


def _setup(cli) -> None:
    assert cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes").exit_code == 0
    out = cli("links", "county-2026", "--bot-username", "b", "--codes", "3").output
    recipients = re.search(r"服务对象\s.*start=(\S+)", out).group(1)
    with session_scope(cli.engine) as s:
        codes = {unit: [c.token for c in s.exec(select(Link).where(Link.kind == "code", Link.group_key == "staff",
                                                                   Link.unit == unit))]
                 for unit in ("transport", "water")}
    _enrol(cli.engine, [recipients] * 5, 9300)
    _enrol(cli.engine, codes["transport"], 9400)  # three staff of the transport bureau
    _enrol(cli.engine, codes["water"][:1], 9500)  # one of the water bureau
    return recipients


def test_commit_shows_pool_against_sample_per_group_and_unit_and_asks(cli):
    _setup(cli)
    no = cli("sample", "county-2026", "--commit", "--no-beacon", input="n\n")
    assert no.exit_code == 1
    rows = {tuple(re.findall(r"[^│\s]+", line)[:4]) for line in no.output.splitlines() if line.count("│") >= 5}
    assert ("服务对象", "400", "5", "pool") in rows
    assert ("所在单位干部职工", "transport", "15", "3") in rows and ("所在单位干部职工", "water", "15", "1") in rows
    assert ("所在单位干部职工", "finance", "15", "0") in rows
    assert "drawn per unit: the sample is split in equal shares" in no.output
    assert "warning: 6 pool(s) smaller than their sample" in no.output and "staff/water (1 < 15)" in no.output
    assert "campaign county-2026 is open (opened" in no.output  # the phase and its dates
    assert "freeze these pools and commit the draw of county-2026? [y/N]" in no.output
    with session_scope(cli.engine) as s:
        assert draw.get(s, "county-2026") is None  # nothing frozen

    yes = cli("sample", "county-2026", "--commit", "--no-beacon", "--yes", "--out", "pool.json")
    assert yes.exit_code == 0, yes.output
    assert "the committed seed alone decides the sample" in yes.output  # --no-beacon says what it means
    assert json.loads((cli.dir / "pool.json").read_text())["beacon"] is None
    pool = json.loads((cli.dir / "pool.json").read_text())
    assert {k: (v["sample"], len(v["pool"])) for k, v in pool["groups"].items()} == {
        "recipients": (400, 5), "deputies": (100, 0), "staff/transport": (15, 3), "staff/water": (15, 1),
        "staff/supervision": (15, 0), "staff/finance": (15, 0)}

    reveal = cli("sample", "county-2026", "--reveal", "--yes", "--out", "drawn.json")
    assert reveal.exit_code == 0, reveal.output
    drawn = json.loads((cli.dir / "drawn.json").read_text())
    assert [len(r[0]) for k, r in sorted(drawn["drawn"].items())] == [0, 5, 0, 0, 3, 1]  # each unit its own staff
    check = cli("verify-draw", "pool.json", "--seed", drawn["seed"], "--commitment", pool["commitment"],
                "--drawn", "drawn.json")
    assert check.exit_code == 0 and "MATCH" in check.output
    late = cli("sample", "county-2026", "--uncommit", "--yes")
    assert late.exit_code == 1 and "it is final and cannot be withdrawn" in late.output


def test_commit_before_opening_needs_to_be_told(cli):
    cli("campaign", "load", example(cli.dir, opens_in=timedelta(days=1)))
    refused = cli("sample", "county-2026", "--commit", "--no-beacon", "--yes")
    assert refused.exit_code == 1 and "is upcoming" in refused.output and "--before-opens" in refused.output
    with session_scope(cli.engine) as s:
        assert draw.get(s, "county-2026") is None
    told = cli("sample", "county-2026", "--commit", "--no-beacon", "--before-opens", "--yes")
    assert told.exit_code == 0 and "commitment" in told.output


def test_uncommit_before_reveal_keeps_the_old_commitment_on_record(cli, caplog):
    recipients = _setup(cli)
    assert cli("sample", "county-2026", "--commit", "--no-beacon", "--yes", "--out", "first.json").exit_code == 0
    first = json.loads((cli.dir / "first.json").read_text())

    # Someone who opens the link now is told, before agreeing, that they miss this draw.
    late = ChatUser(Service(cli.engine), 9600)
    late.start(recipients)
    assert "抽签名单已经冻结" in late.texts() and "同意参加" in [b.label for b in late.screen.all_buttons()]
    late.tap("English")
    assert "already frozen" in late.texts()

    silent = cli("sample", "county-2026", "--uncommit")
    assert silent.exit_code == 1 and "pass --yes" in silent.output
    with session_scope(cli.engine) as s:
        assert draw.get(s, "county-2026") is not None
    gone = cli("sample", "county-2026", "--uncommit", "--reason", "deputies' codes not yet handed out",
               input="y\n")
    assert gone.exit_code == 0, gone.output
    seed = re.search(r"its seed, now public: ([0-9a-f]{64})", gone.output).group(1)
    assert any("withdrawn" in r.getMessage() and first["commitment"] in r.getMessage() for r in caplog.records)
    with session_scope(cli.engine) as s:
        assert draw.get(s, "county-2026") is None
        [old] = draw.withdrawn(s, "county-2026")
        assert (old.commitment, old.seed, old.reason) == (first["commitment"], seed, "deputies' codes not yet handed out")
    assert "1 earlier commitment(s) withdrawn" in cli("status", "county-2026").output

    late.tap("I agree")  # enrolled now, with the pool open again: in the next draw
    assert cli("sample", "county-2026", "--commit", "--no-beacon", "--yes", "--out", "second.json").exit_code == 0
    second = json.loads((cli.dir / "second.json").read_text())
    assert len(second["groups"]["recipients"]["pool"]) == 6 and second["commitment"] != first["commitment"]
    [published] = second["withdrawn"]
    assert published["commitment"] == first["commitment"] and published["seed"] == seed
    # anyone can check that the withdrawn commitment was honest: seed + its pool digest
    assert hashlib.sha256(f"{seed}\n{first['pool_digest']}".encode()).hexdigest() == first["commitment"]


def test_a_withdrawn_draw_stays_recomputable_from_what_is_published(cli):
    """An organizer who withdraws after the named public draw cannot hide what that draw
    would have chosen: its pools, seed and public draw stay in every later pool.json."""
    from flows import sampling

    _setup(cli)
    lottery = "中国福利彩票双色球 2026-12-03 开奖号码"
    assert cli("sample", "county-2026", "--commit", "--beacon", lottery, "--beacon-shape", "6+1", "--yes",
               "--out", "first.json").exit_code == 0
    first = json.loads((cli.dir / "first.json").read_text())
    assert cli("sample", "county-2026", "--uncommit", "--yes").exit_code == 0
    assert cli("sample", "county-2026", "--commit", "--beacon", lottery.replace("03", "05"), "--beacon-shape", "6+1", "--yes",
               "--out", "second.json").exit_code == 0
    [old] = json.loads((cli.dir / "second.json").read_text())["withdrawn"]
    assert old["beacon"] == f"{lottery} [6+1]" and old["groups"] == first["groups"]
    assert sampling.pool_digest({g: v["pool"] for g, v in old["groups"].items()}) == old["pool_digest"]
    # With the lottery's result, whom it would have drawn, e.g. the recipients:
    would = sampling.draw(sampling.beacon_seed(old["seed"], "03 07 12 19 25 31 + 09"),
                          old["groups"]["recipients"]["pool"], old["groups"]["recipients"]["sample"])
    assert would and set(would) <= set(first["groups"]["recipients"]["pool"])
