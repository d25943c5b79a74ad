"""Issue 12, item 5: deductions and bonuses can be listed, voided with a reason and
entered as "other (as recorded)" with their points; a same-kind duplicate for the same
evaluee is shown and asked about; the reasons reach the evaluee's rectification notice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.service import Service
from reports import tally
from storage import campaigns
from storage import tally as store
from storage.db import session_scope
from storage.models import Outbox
from tests.chat_user import ChatUser
from tests.cli_env import example

pytestmark = pytest.mark.postgres


def _events(engine, voided: bool = True):
    with session_scope(engine) as s:
        return store.list_events(s, "county-2026") if voided else store.events(s, "county-2026")


def test_duplicate_other_list_and_void(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    first = cli("record", "county-2026", "water", "deduction", "litigation", "--note", "行政诉讼败诉", "--by", "王主任")
    assert first.exit_code == 0 and "recorded #1 deduction litigation (-10) for water by 王主任" in first.output

    again = cli("record", "county-2026", "water", "deduction", "litigation", "--note", "行政诉讼败诉")
    assert again.exit_code == 1
    assert "water already has 1 deduction 'litigation' record(s)" in again.output and "#1 water" in again.output
    assert "pass --yes" in again.output and len(_events(cli.engine)) == 1
    second = cli("record", "county-2026", "water", "deduction", "litigation", "--note", "同一案件", input="y\n")
    assert second.exit_code == 0 and "record another one" in second.output and len(_events(cli.engine)) == 2
    # a different evaluee or item is no duplicate: no question
    assert cli("record", "county-2026", "finance", "deduction", "litigation").exit_code == 0

    for args, words in [(["other"], "needs --points N"),
                        (["other", "--points", "3"], "needs --note"),
                        (["other", "--points", "25", "--note", "x"], "at most the daily assessment's 20"),
                        (["litigation", "--points", "3"], "worth 10 points by the campaign file")]:
        result = cli("record", "county-2026", "transport", "deduction", *args)
        assert result.exit_code == 1 and words in result.output, (args, result.output)
    other = cli("record", "county-2026", "transport", "deduction", "other", "--points", "3", "--note", "迟报年度材料")
    assert other.exit_code == 0 and "other (-3)" in other.output

    listed = cli("record", "list", "county-2026")
    assert listed.exit_code == 0 and "4 record(s) count, 0 voided" in listed.output
    assert "迟报年度材料" in listed.output and "王主任" in listed.output

    silent = cli("record", "void", "county-2026", "2", "--reason", "录入重复")
    assert silent.exit_code == 1 and "pass --yes" in silent.output
    assert cli("record", "void", "county-2026", "2").exit_code == 2  # --reason is required
    void = cli("record", "void", "county-2026", "2", "--reason", "录入重复", "--by", "李科长", input="y\n")
    assert void.exit_code == 0 and "voided record #2: 录入重复" in void.output
    assert cli("record", "void", "county-2026", "2", "--reason", "again", "--yes").exit_code == 1  # once
    assert cli("record", "void", "county-2026", "99", "--reason", "x", "--yes").exit_code == 1
    listed = cli("record", "list", "county-2026", "--evaluee", "water")
    assert "1 record(s) count, 1 voided" in listed.output and "by 李科长: 录入重复" in listed.output
    # the voided record stays on file and no longer counts
    assert [e.id for e in _events(cli.engine)] == [1, 2, 3, 4]
    assert [e.id for e in _events(cli.engine, voided=False)] == [1, 3, 4]
    with session_scope(cli.engine) as s:
        campaign = campaigns.get_campaign(s, "county-2026")
        result = tally.compute(s, campaign, allow_sealed=True)
    assert (result.evaluees["water"].daily, result.evaluees["transport"].daily) == (10.0, 17.0)


def test_reasons_reach_the_evaluee_notice(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    cli("record", "county-2026", "water", "deduction", "litigation", "--note", "2026年5月行政诉讼败诉")
    cli("record", "county-2026", "water", "deduction", "other", "--points", "2", "--note", "误录的一条")
    cli("record", "void", "county-2026", "2", "--reason", "误录", "--yes")
    cli("record", "county-2026", "water", "bonus", "city", "--note", "市级文明窗口")
    out = cli("links", "county-2026", "--bot-username", "b", "--evaluee", "water").output
    contact = ChatUser(Service(cli.engine), 9700)
    contact.start(re.search(r"evaluee code .*start=(\S+)", out).group(1))
    assert cli("close", "county-2026", "--yes").exit_code == 0
    assert cli("publish", "county-2026", "--yes").exit_code == 0
    with session_scope(cli.engine) as s:
        notice = "\n".join(o.text for o in s.exec(select(Outbox).where(Outbox.chat_id == 9700,
                                                                        Outbox.kind == "feedback")))
    assert "日常考核扣分与加分记录" in notice
    assert "扣分 litigation −10 分：2026年5月行政诉讼败诉" in notice
    assert "加分 city +2 分（只计最高一项）：市级文明窗口" in notice
    assert "误录" not in notice  # a voided record is not held against the evaluee
