"""``minping demo --framework ptb``: the whole sample campaign through python-telegram-bot
over HTTP (a small crowd), with the results it prints matching the database."""

from __future__ import annotations

import re

from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine, session_scope
from storage.models import Ballot


def test_demo_on_python_telegram_bot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--raters", "12", "--framework", "ptb", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "ptb over HTTP" in result.output
    submitted = int(re.search(r"(\d+) ballots submitted", result.output).group(1))
    assert submitted > 0
    engine = make_engine(f"sqlite:///{tmp_path / 'var/demo/demo.db'}")
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == submitted
    engine.dispose()
