"""The ``minping`` command line as an organizer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from tests.cli_env import example

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0  # one explicit step creates the database
    yield runner
    get_settings.cache_clear()


def test_load_then_status_shows_phase_and_groups(cli, tmp_path):
    result = cli.invoke(app, ["campaign", "load", str(example(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output and "county-2026" in result.output
    again = cli.invoke(app, ["campaign", "load", str(example(tmp_path))])
    assert again.exit_code == 0 and "changes nothing" in again.output
    status = cli.invoke(app, ["status", "county-2026"])
    assert status.exit_code == 0
    assert "服务对象" in status.output and "upcoming" in status.output


def test_broken_file_exits_nonzero_and_writes_nothing(cli, tmp_path):
    broken = tmp_path / "broken.yaml"
    text = (EXAMPLES / "county-2026.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("category: gov", "category: govt", 1), encoding="utf-8")
    result = cli.invoke(app, ["campaign", "load", str(broken)])
    assert result.exit_code == 1
    assert "broken.yaml, line" in result.output and "govt" in result.output
    status = cli.invoke(app, ["status"])
    assert "No campaigns yet" in status.output


def test_unknown_campaign_is_a_clear_error(cli):
    result = cli.invoke(app, ["status", "nope"])
    assert result.exit_code == 1 and "no such campaign 'nope'" in result.output


def test_links_print_one_deep_link_per_group_and_unit(cli, tmp_path):
    cli.invoke(app, ["campaign", "load", str(example(tmp_path))])
    result = cli.invoke(app, ["links", "county-2026", "--bot-username", "county_bot"])
    lines = [line for line in result.output.splitlines() if "https://t.me/county_bot?start=" in line]
    # recipients and public; an after-service link per bureau (four); staff and deputies
    # enrol by single-use codes only (--codes N)
    assert len(lines) == 2 + 4
    assert len({line.rsplit("=", 1)[1] for line in lines}) == len(lines)


def test_previous_must_name_a_closed_round_sharing_evaluees(cli, tmp_path):
    """``previous:`` links rounds for the trend; a wrong link is refused at load, nothing
    stored, with a message naming the file."""
    text = example(tmp_path, file="dated.yaml").read_text(encoding="utf-8")  # opens tomorrow
    linked = tmp_path / "county-2027.yaml"
    linked.write_text(text.replace("id: county-2026", "id: county-2027") + "previous: county-2026\n", encoding="utf-8")
    missing = cli.invoke(app, ["campaign", "load", str(linked)])
    assert missing.exit_code == 1 and "no campaign 'county-2026' is loaded" in missing.output
    cli.invoke(app, ["campaign", "load", str(example(tmp_path))])
    still_open = cli.invoke(app, ["campaign", "load", str(linked)])
    assert still_open.exit_code == 1 and "county-2027.yaml" in still_open.output
    assert "is not closed yet" in still_open.output
    assert cli.invoke(app, ["close", "county-2026", "--force", "--yes"]).exit_code == 0
    ok = cli.invoke(app, ["campaign", "load", str(linked)])
    assert ok.exit_code == 0, ok.output
    itself = tmp_path / "self.yaml"
    itself.write_text(text + "previous: county-2026\n", encoding="utf-8")
    refused = cli.invoke(app, ["campaign", "check", str(itself)])
    assert refused.exit_code == 1 and "previous: 'county-2026' is this campaign itself" in refused.output
