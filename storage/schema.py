"""Is the database's schema the one this code needs? Checked on every command, so it
must be cheap: the newest revision is read from the migration files' text (no alembic
machinery, no imports), the database's from its ``alembic_version`` table.

Migrating is one explicit step, ``minping migrate`` (``storage.db.migrate``): a command
against a database that is behind refuses and says so, instead of changing the schema
of a production database as a side effect of ``minping status``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


@lru_cache
def head() -> str:
    """The newest migration: the one no other migration revises."""
    revisions, downs = set(), set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if rev:
            revisions.add(rev.group(1))
        if down and down.group(1):
            downs.add(down.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        raise RuntimeError(f"migrations in {VERSIONS} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


@lru_cache
def known() -> frozenset[str]:
    return frozenset(m.group(1) for p in VERSIONS.glob("*.py")
                     for m in [_REVISION.search(p.read_text(encoding="utf-8"))] if m)


class SchemaMismatch(Exception):
    """The database's schema is not the one this code needs (the message says what to do)."""


def problem(current: str | None, where: str) -> str | None:
    """None when ``current`` (the database's revision) is the head; else what to do."""
    newest = head()
    if current == newest:
        return None
    if current is None:
        return f"the database {where} has no minping tables yet: create them with `minping migrate`"
    if current in known():
        return (f"the database {where} has schema {current}, this minping needs {newest}: "
                "run `minping migrate` (back the database up first)")
    return (f"the database {where} has schema {current}, which this minping does not know "
            f"(its newest is {newest}): it was written by a newer minping; upgrade minping")
