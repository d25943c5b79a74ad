"""Issue 12, item 8: a quiet, fast command line. The schema is migrated by one explicit
step (``minping migrate``); every other command checks it cheaply and refuses a
database that is behind or missing, changing nothing. ``minping status`` answers
without importing SQLAlchemy, pydantic or typer, from the same figures as the digests.
The default database is one absolute path, the same from any directory. (Its speed is
measured by bench/cli.py, not here.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.service import Service
from storage import campaigns
from storage.db import alembic_config, make_engine, session_scope
from storage.models import CampaignRow
from storage.status import group_progress
from tests.chat_user import ChatUser
from tests.cli_env import example

MINPING = Path(sys.executable).with_name("minping")


def _run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(MINPING), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MINPING_CLOCK", "XDG_DATA_HOME")}
    return env | extra


def test_a_database_that_is_behind_is_refused_until_migrated(tmp_path):
    from alembic import command

    db = tmp_path / "old.db"
    eng = make_engine(f"sqlite:///{db}")
    command.upgrade(alembic_config(eng), "0011")  # a database of the previous minping
    eng.dispose()
    env = _env(DATABASE_URL=f"sqlite:///{db}", TELEGRAM_BOT_TOKEN="1:x")
    county = example(tmp_path, opens_in=timedelta(days=3))
    for args in (["status"], ["campaign", "load", str(county), "--yes"], ["run"], ["record", "list", "county-2026"]):
        result = _run(*args, env=env, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "has schema 0011, this minping needs 0017: run `minping migrate`" in result.stderr, args
        assert "alembic" not in result.stderr.lower()  # no migration machinery ran
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0011",)
        assert conn.execute("SELECT COUNT(*) FROM campaign").fetchone() == (0,)
    migrated = _run("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0 and "schema 0011 → 0017" in migrated.stdout
    assert "already the newest" in _run("migrate", env=env, cwd=tmp_path).stdout
    loaded = _run("campaign", "load", str(county), env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "alembic" not in (loaded.stdout + loaded.stderr).lower()


def test_no_database_is_never_created_silently_and_the_default_is_absolute(tmp_path):
    home = tmp_path / "home"
    env = _env(HOME=str(home))
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    default = home / ".local" / "share" / "minping" / "minping.db"
    missing = _run("status", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and f"there is no database at {default}" in missing.stderr
    assert "minping migrate" in missing.stderr and not default.exists()
    assert _run("campaign", "load", str(example(tmp_path)), env=env, cwd=tmp_path).returncode == 2
    assert not default.exists()
    assert _run("migrate", env=env, cwd=tmp_path).returncode == 0 and default.exists()
    assert _run("campaign", "load", str(example(tmp_path)), env=env, cwd=tmp_path).returncode == 0
    there = _run("status", env=env, cwd=elsewhere)  # another working directory: the same database
    assert there.returncode == 0 and "county-2026" in there.stdout


def test_the_quick_status_refuses_bad_log_settings_like_every_command(tmp_path):
    """Issue 20 meets the quick path: a bad or unsafe log setting stops ``minping status``
    too (exit 2, the setting named), though the quick path itself logs nothing."""
    db = tmp_path / "q.db"
    from storage.db import migrate

    eng = make_engine(f"sqlite:///{db}")
    migrate(eng)
    eng.dispose()
    url = f"sqlite:///{db}"
    for extra, message in (({"MINPING_LOG_LEVEL": "LOUD"}, "MINPING_LOG_LEVEL must be one of"),
                           ({"MINPING_LOG_FORMAT": "xml"}, "MINPING_LOG_FORMAT must be text or json"),
                           ({"MINPING_LOG_UPDATE_CONTENT_UNSAFE": "1",
                             "DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/db"}, "refused with a PostgreSQL")):
        result = _run("status", env=_env(**({"DATABASE_URL": url} | extra)), cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, (extra, result.stdout, result.stderr)
    fine = _run("status", env=_env(DATABASE_URL=url, MINPING_LOG_LEVEL="debug", MINPING_LOG_FORMAT="json"),
                cwd=tmp_path)
    assert fine.returncode == 0 and "No campaigns yet" in fine.stdout, fine.stderr


def test_status_imports_no_sqlalchemy_pydantic_or_typer(tmp_path):
    db = tmp_path / "q.db"
    from storage.db import migrate

    eng = make_engine(f"sqlite:///{db}")
    migrate(eng)
    eng.dispose()
    probe = ("import sys\nsys.argv = ['minping', 'status']\nfrom bot.cli import main\n"
             "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'pydantic', "
             "'pydantic_settings', 'typer', 'alembic', 'aiogram', 'telegram', 'matplotlib'})\n"
             "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", probe], env=_env(DATABASE_URL=f"sqlite:///{db}"), cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "No campaigns yet" in out.stdout and "HEAVY []" in out.stdout


@pytest.mark.postgres
def test_quick_status_shows_the_digest_figures(cli):
    assert cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes").exit_code == 0
    out = cli("links", "county-2026", "--bot-username", "b").output
    public = re.search(r"社会群众、网络\s*│.*start=(\S+)", out).group(1)
    recipients = re.search(r"服务对象\s*│.*start=(\S+)", out).group(1)
    service = Service(cli.engine)
    for i in range(3):  # an open group: each starts at once after agreeing (a partial until submitted)
        u = ChatUser(service, 9950 + i)
        u.start(public)
        u.tap("同意参加")
    for i in range(4):
        u = ChatUser(service, 9960 + i)
        u.start(recipients)
        u.tap("同意参加")
    assert cli("sample", "county-2026", "--commit", "--no-beacon", "--yes").exit_code == 0
    status = cli("status", "county-2026")  # the quick path (raw SQL on the driver)
    assert status.exit_code == 0 and "county-2026" in status.output and "pool committed, not drawn" in status.output
    with session_scope(cli.engine) as s:
        figures = {p.group: p for p in group_progress(s, campaigns.get_campaign(s, "county-2026"))}
    rows = {re.split(r"\s*│\s*", line.strip("│ "))[0]: re.split(r"\s*│\s*", line.strip("│ "))
            for line in status.output.splitlines() if line.startswith("│")}
    assert rows["社会群众、网络"][1:4] == ["open", str(figures["public"].enrolled), "—"] == ["open", "3", "—"]
    assert rows["社会群众、网络"][6] == str(figures["public"].started) == "3"
    assert rows["服务对象"][1:5] == ["400", "4", "4", "0"]
    assert figures["recipients"].pool == 4
    with session_scope(cli.engine) as s:
        assert s.exec(select(func.count()).select_from(CampaignRow)).one() == 1


@pytest.mark.postgres
def test_model_and_migrations_agree(engine):
    """The tables the code declares are exactly those the migrations create."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.tables  # noqa: F401  (every table)
    from storage.schema import head

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == head()
