"""Issue 12, items 1 and 10: every command checks the campaign's phase and refuses what
makes no sense, naming the phase and what to do instead; irreversible commands show
what they will do and ask; typo'd campaign ids say "no such campaign". A refusal exits
1 and leaves the database as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from storage import tally as store
from storage.db import session_scope
from storage.models import CampaignRow, Link
from tests.cli_env import example

pytestmark = pytest.mark.postgres


def _row(engine) -> CampaignRow:
    with session_scope(engine) as s:
        return s.get(CampaignRow, "county-2026")


def _links(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Link)).one()


def _tally(engine):
    with session_scope(engine) as s:
        return store.load(s, "county-2026")


def test_close_before_opening_is_refused_and_force_still_asks(cli):
    assert cli("campaign", "load", example(cli.dir, opens_in=timedelta(days=1))).exit_code == 0
    refused = cli("close", "county-2026", "--yes")  # even --yes does not close an upcoming campaign
    assert refused.exit_code == 1
    assert "is upcoming (opens" in refused.output and "has not opened" in refused.output
    assert "--force" in refused.output and "Check the campaign id" in refused.output
    assert not _row(cli.engine).closed and _tally(cli.engine) is None

    no = cli("close", "county-2026", "--force", input="n\n")
    assert no.exit_code == 1 and "not confirmed: nothing was changed" in no.output
    assert "has not opened yet: nobody will be able to answer it" in no.output
    silent = cli("close", "county-2026", "--force")  # a script without --yes: no answer on stdin
    assert silent.exit_code == 1 and "pass --yes" in silent.output
    assert not _row(cli.engine).closed and _tally(cli.engine) is None

    yes = cli("close", "county-2026", "--force", input="y\n")
    assert yes.exit_code == 0, yes.output
    assert "close campaign county-2026 now? [y/N]" in yes.output and "closed county-2026: 0 ballots" in yes.output
    assert _row(cli.engine).closed and _tally(cli.engine) is not None


def test_after_close_nothing_that_changes_the_campaign_is_possible(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    assert cli("close", "county-2026", "--yes").exit_code == 0
    links_before = _links(cli.engine)
    for args, words in [
        (["sample", "county-2026", "--commit", "--no-beacon", "--yes"], "committing the draw is not possible now"),
        (["links", "county-2026", "--bot-username", "b", "--codes", "5"], "issuing enrolment codes is not possible"),
        (["invite", "county-2026"], "inviting is not possible now"),
        (["record", "county-2026", "water", "bonus", "city", "--yes"], "its scores are final"),
        (["close", "county-2026", "--yes"], "it is already closed"),
    ]:
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "is closed (closed with `minping close`" in result.output and words in result.output, result.output
    assert _links(cli.engine) == links_before  # not one code was minted
    with session_scope(cli.engine) as s:
        assert store.list_events(s, "county-2026") == []
    # Evaluee contacts are still bound after close (for the notices): those codes are fine.
    ok = cli("links", "county-2026", "--bot-username", "b", "--evaluee", "water")
    assert ok.exit_code == 0 and "enrolment is over" in ok.output and ok.output.count("start=") == 1


def test_close_of_an_open_campaign_shows_what_it_does_and_asks(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    no = cli("close", "county-2026", input="n\n")
    assert no.exit_code == 1
    assert "county-2026 is open (opened" in no.output and "closes" in no.output
    assert "seals the ballot chain at 0 ballot(s)" in no.output and "It cannot be reopened" in no.output
    assert "服务对象: 0 submitted of 0 drawn, 0 answering" in no.output
    assert not _row(cli.engine).closed


def test_commands_in_the_wrong_phase_say_what_to_do_instead(cli):
    cli("campaign", "load", example(cli.dir, opens_in=timedelta(days=2)))
    invite = cli("invite", "county-2026")
    assert invite.exit_code == 1 and "is upcoming" in invite.output and "invite_on_open" in invite.output
    commit = cli("sample", "county-2026", "--commit", "--no-beacon", "--yes")
    assert commit.exit_code == 1 and "--before-opens" in commit.output and "pools would be frozen" in commit.output
    replace = cli("sample", "county-2026", "--replace", "deputies")
    assert replace.exit_code == 1 and "drawing replacements is not possible now" in replace.output
    publish = cli("publish", "county-2026", "--yes")
    assert publish.exit_code == 1 and "the campaign must run and be closed first" in publish.output
    from storage import draw

    with session_scope(cli.engine) as s:
        assert draw.get(s, "county-2026") is None


def test_verify_before_close_says_what_it_checked(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    result = cli("verify", "county-2026")
    assert result.exit_code == 0
    assert "OK county-2026 (open (opened" in result.output
    assert "Checked the ballot chain: 0 ballot(s)" in result.output
    assert "Only these: the campaign is sealed and not closed" in result.output
    assert "again after close" in result.output and "agree" not in result.output


def test_typo_in_a_campaign_id_says_no_such_campaign(cli):
    cli("campaign", "load", example(cli.dir))
    for args in (["close", "county-2062", "--yes"], ["status", "county-2062"], ["verify", "county-2062"],
                 ["links", "county-2062", "--bot-username", "b"], ["record", "list", "county-2062"],
                 ["sample", "county-2062", "--commit", "--no-beacon", "--yes"], ["publish", "county-2062", "--yes"]):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "no such campaign 'county-2062'; did you mean 'county-2026'?" in result.output, (args, result.output)
    assert not _row(cli.engine).closed
