"""Issue 12, items 2 and 4: re-loading a campaign file is a reviewed change (a diff,
the phase before → after, a confirmation), changes that would break a running campaign
are refused, ``campaign check`` shows the same review without writing, and dates in the
past are warnings that ``load`` asks about."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service import Service
from storage import campaigns
from storage.db import session_scope
from storage.models import CampaignRow
from tests.chat_user import ChatUser
from tests.cli_env import example

pytestmark = pytest.mark.postgres


def _stored(engine) -> tuple[dict, str]:
    with session_scope(engine) as s:
        row = s.get(CampaignRow, "county-2026")
        return row.definition, row.source


def _answer_everything(user: ChatUser) -> None:
    for _ in range(200):
        labels = [b.label for b in user.screen.all_buttons()]
        user.tap(next(w for w in ("满意", "跳过", "提交", "确认提交") if w in labels))
        if user.last.submitted:
            return
    raise AssertionError("the questionnaire did not end")


def test_reload_shows_the_changes_and_asks(cli):
    first = example(cli.dir, opens_in=timedelta(days=3))
    assert cli("campaign", "load", first).exit_code == 0
    before = _stored(cli.engine)
    edited = example(cli.dir, opens_in=timedelta(days=3), file="edited.yaml", edits={
        "zh: 2026年度县人大常委会": "zh: 2027年度县人大常委会", "weight: 35": "weight: 30", "weight: 10": "weight: 15"})
    check = cli("campaign", "check", edited)
    assert check.exit_code == 0
    for words in ("this file changes 3 thing(s)", "title.zh: '2026年度", "→ '2027年度",
                  "rater_groups[recipients].weight: 35 → 30", "rater_groups[public].weight: 10 → 15",
                  "phase: upcoming (unchanged)"):
        assert words in check.output, (words, check.output)
    assert _stored(cli.engine) == before  # check writes nothing

    no = cli("campaign", "load", edited, input="n\n")
    assert no.exit_code == 1 and "apply these changes to campaign county-2026? [y/N]" in no.output
    assert "rater_groups[recipients].weight: 35 → 30" in no.output
    assert _stored(cli.engine) == before
    assert cli("campaign", "load", edited).exit_code == 1  # no answer (a script): nothing either
    assert _stored(cli.engine) == before

    yes = cli("campaign", "load", edited, input="y\n")
    assert yes.exit_code == 0 and "updated campaign county-2026" in yes.output
    definition, _ = _stored(cli.engine)
    assert definition["title"]["zh"].startswith("2027") and definition["rater_groups"][0]["weight"] == 30
    same = cli("campaign", "load", edited)
    assert same.exit_code == 0 and "changes nothing" in same.output


def test_an_open_campaign_with_ballots_cannot_be_moved_back_or_past_its_close(cli):
    open_file = example(cli.dir, opens_in=-timedelta(hours=2))
    assert cli("campaign", "load", open_file, "--yes").exit_code == 0
    # one member of the public (an open group) answers and submits: a real ballot
    out = cli("links", "county-2026", "--bot-username", "b").output
    token = next(line for line in out.splitlines() if "社会群众" in line).split("start=")[1].split()[0]
    user = ChatUser(Service(cli.engine), 9100)
    user.start(token)
    user.tap("同意参加")
    _answer_everything(user)
    with session_scope(cli.engine) as s:
        assert s.get(CampaignRow, "county-2026").sealed_count == 1
    before = _stored(cli.engine)

    next_year = example(cli.dir, opens_in=timedelta(days=365), file="next-year.yaml")
    for f in (next_year, example(cli.dir, opens_in=-timedelta(days=30), lasts=timedelta(days=1), file="past.yaml")):
        check = cli("campaign", "check", f)
        assert check.exit_code == 1 and "loading it would be refused" in check.output
        result = cli("campaign", "load", f, "--yes")
        assert result.exit_code == 1, result.output
        assert "is open with 1 ballot(s)" in result.output and "Nothing was changed" in result.output
        assert ("upcoming again" in result.output) or ("past its closing time" in result.output)
        assert "minping close county-2026" in result.output
        assert _stored(cli.engine) == before
    assert "phase: open → upcoming" in cli("campaign", "check", next_year).output
    with session_scope(cli.engine) as s:
        assert campaigns.phase(s.get(CampaignRow, "county-2026")) == "open"


def test_dates_in_the_past_are_warned_on_check_and_confirmed_on_load(cli):
    past = example(cli.dir, opens_in=-timedelta(days=400), lasts=timedelta(days=19))  # a year typo
    check = cli("campaign", "check", past)
    assert check.exit_code == 0 and "warning: closes" in check.output and "is in the past" in check.output
    assert "typo in the year" in check.output
    with session_scope(cli.engine) as s:
        assert s.get(CampaignRow, "county-2026") is None  # check wrote nothing
    refused = cli("campaign", "load", past)
    assert refused.exit_code == 1 and "load it with these dates" in refused.output and "pass --yes" in refused.output
    with session_scope(cli.engine) as s:
        assert s.get(CampaignRow, "county-2026") is None
    ok = cli("campaign", "load", past, input="y\n")
    assert ok.exit_code == 0 and "loaded campaign county-2026" in ok.output


def test_a_committed_draw_keeps_its_sample_sizes(cli):
    f = example(cli.dir, opens_in=-timedelta(hours=1))
    cli("campaign", "load", f, "--yes")
    assert cli("sample", "county-2026", "--commit", "--no-beacon", "--yes").exit_code == 0
    bigger = example(cli.dir, opens_in=-timedelta(hours=1), file="bigger.yaml", edits={"sample: 400": "sample: 500"})
    result = cli("campaign", "load", bigger, "--yes")
    assert result.exit_code == 1 and "recipients 400 → 500" in result.output and "--uncommit" in result.output
    definition, _ = _stored(cli.engine)
    assert definition["rater_groups"][0]["sample"] == 400


def test_invalid_weights_and_missing_translations_are_refused_with_the_list(cli):
    bad = example(cli.dir, edits={"weight: 35": "weight: 45", "en: Transport Bureau": "zh-hant: 交通局"})
    result = cli("campaign", "check", bad)
    assert result.exit_code == 1
    assert "weights add up to 90" in result.output and "out of 80" in result.output
    assert "evaluees[1].name: has no 'en' text" in result.output
    assert cli("campaign", "load", bad, "--yes").exit_code == 1
    with session_scope(cli.engine) as s:
        assert s.get(CampaignRow, "county-2026") is None
