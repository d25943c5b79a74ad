"""``minping backup`` and ``minping restore`` on both databases: backup → a fresh
database → restore → every closed campaign verified OK, the ballots exactly as they were;
a restore never writes into a database that has data, and a tampered backup fails its
check."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from flows.campaign import Campaign
from reports.verify import verify
from storage import backup, campaigns
from storage import tally as store
from storage.db import make_engine, session_scope
from storage.models import Answer, Ballot, Membership
from tests.conftest import PG_URL
from tests.factories import campaign_data
from tests.feedback_setup import closed_campaign
from tests.run_process import database_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def run(url: str, *args: str):  # noqa: ANN202
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield run
    get_settings.cache_clear()


@contextmanager
def fresh_database(engine, tmp_path: Path):  # noqa: ANN001
    """An empty database of the same kind, as a new server would have: its URL."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'minping.db'}"
        return
    name = "restore_" + secrets.token_hex(5)
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        # the dump holds the test's schema: the same search path, in the new database
        yield database_url(engine).replace(f"/{engine.url.database}?", f"/{name}?")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def stored(url: str) -> dict:
    eng = make_engine(url)
    try:
        with session_scope(eng) as s:
            return {"ballots": sorted((b.id, b.seq, b.hash) for b in s.exec(select(Ballot))),
                    "answers": sorted((a.ballot_id, a.evaluee_key, a.dimension_key, a.option_key or "")
                                      for a in s.exec(select(Answer))),
                    "submitted": sorted((m.group_key, m.submitted) for m in s.exec(select(Membership))),
                    "chain": [(r.id, r.chain_head, r.chain_count) for r in campaigns.list_campaigns(s)],
                    "tally": store.load(s, "test-2026").data}
    finally:
        eng.dispose()


def test_backup_to_a_fresh_database_and_restore_verifies_ok(engine, cli, tmp_path):
    closed = closed_campaign(engine)
    with session_scope(engine) as s:  # and one still open, not verified at restore
        campaigns.store_campaign(s, Campaign.model_validate(campaign_data(id="open-2027")), "")
    url = database_url(engine)
    out = tmp_path / "backups" / "nightly.backup"
    made = cli(url, "backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert "backed up 2 campaign(s), 4 ballot(s)" in made.output
    assert backup.kind_of(out) == engine.dialect.name
    before = stored(url)

    with fresh_database(engine, tmp_path) as target:
        restored = cli(target, "restore", str(out))
        assert restored.exit_code == 0, restored.output
        assert "restored 2 campaign(s), 4 ballot(s)" in restored.output
        assert f"OK verify {closed.id}" in restored.output and "open-2027" not in restored.output
        assert stored(target) == before
        eng = make_engine(target)
        with session_scope(eng) as s:
            assert verify(s, campaigns.get_campaign(s, closed.id)).ok
        eng.dispose()
        # A second restore into it is refused: it has data now, and nothing changes.
        again = cli(target, "restore", str(out))
        assert again.exit_code == 1 and "not empty" in again.output
        assert stored(target) == before


def test_restore_refuses_what_is_not_a_backup_or_of_the_other_kind(cli, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    result = cli(f"sqlite:///{tmp_path / 'new.db'}", "restore", str(junk))
    assert result.exit_code == 1 and "not a minping backup" in result.output
    missing = cli(f"sqlite:///{tmp_path / 'new.db'}", "restore", str(tmp_path / "nope.backup"))
    assert missing.exit_code == 1 and "cannot read" in missing.output
    sqlite_backup = tmp_path / "s.backup"
    sqlite3.connect(sqlite_backup).execute("CREATE TABLE x (a)").connection.commit()
    cross = cli(PG_URL, "restore", str(sqlite_backup))
    assert cross.exit_code == 1 and "sqlite backup but DATABASE_URL is postgresql" in cross.output
    assert not (tmp_path / "new.db").exists()


def test_a_tampered_backup_fails_the_check_after_restore(cli, tmp_path):
    src = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(src)
    from storage.db import migrate

    migrate(engine)
    closed_campaign(engine)
    out = tmp_path / "b.backup"
    assert cli(src, "backup", "--out", str(out)).exit_code == 0
    with sqlite3.connect(out) as conn:  # someone changes one answer in the file
        conn.execute("UPDATE answer SET option_key = 'satisfied' WHERE id = (SELECT min(id) FROM answer "
                     "WHERE option_key = 'dissatisfied')")
    result = cli(f"sqlite:///{tmp_path / 'restored.db'}", "restore", str(out))
    assert result.exit_code == 1 and "FAILED verify test-2026" in result.output
