"""``minping status`` without SQLAlchemy, pydantic or typer: plain SQL on the driver
(sqlite3, or psycopg for PostgreSQL), the campaign definition read as JSON, a rich
table. Importing SQLAlchemy alone takes ~0.25 s on a small machine; this path answers
in about half the 0.3 s target (README, "A quiet, fast command line").

Read-only: it never creates a database file and never migrates. The figures come
from the same statements and the same definition as chat /status, the digests and
their chart (``storage.progress``, which ``reports.progress`` builds on).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import database_url, setting
from flows.clock import aware
from storage import progress, schema

OPTIONS = {"-h", "--help", "--install-completion", "--show-completion"}


def handles(args: list[str]) -> bool:
    """Whether the quick path answers these arguments (else typer does: help, errors,
    a rehearsal clock being set)."""
    return (bool(args) and args[0] == "status" and len(args) <= 2
            and not any(a.startswith("-") for a in args[1:]) and not setting("MINPING_CLOCK")
            and _plain_logs())


def _plain_logs() -> bool:
    """Log settings the quick path may ignore (it logs nothing). Anything else goes the
    full way, where ``bot.logs`` refuses a bad or unsafe setting (exit 2) as for every
    command."""
    level = (setting("MINPING_LOG_LEVEL") or "INFO").strip().upper()
    fmt = (setting("MINPING_LOG_FORMAT") or "text").strip().lower()
    unsafe = (setting("MINPING_LOG_UPDATE_CONTENT_UNSAFE") or "").strip().lower()
    return (level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") and fmt in ("text", "json")
            and unsafe in ("", "0", "false", "no", "off"))


class _Db:
    """A DB-API connection with ``:name`` parameters on both drivers."""

    def __init__(self, url: str) -> None:
        self.where = _hide_password(url)
        if url.startswith("sqlite:///"):
            import sqlite3

            path = url.removeprefix("sqlite:///")
            if not path or path == ":memory:" or not Path(path).exists():
                raise _Refusal(f"there is no database at {path or ':memory:'} (DATABASE_URL): create it with "
                               "`minping migrate`, or point DATABASE_URL at your database (see .env.example)", 2)
            try:
                self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            except sqlite3.Error as exc:
                raise _Refusal(f"cannot open the database {self.where}: {exc}", 2) from None
            self.pg = False
        elif url.split("://", 1)[0] in ("postgres", "postgresql", "postgresql+psycopg"):
            import psycopg

            try:
                # Gives up as storage.db.make_engine does (CONNECT_TIMEOUT), not on TCP's time.
                self.conn = psycopg.connect("postgresql://" + url.split("://", 1)[1], autocommit=True,
                                            connect_timeout=3)
            except psycopg.Error as exc:
                raise _Refusal(f"cannot open the database {self.where}: {exc}", 2) from None
            self.pg = True
        else:
            raise _Refusal(f"DATABASE_URL {self.where}: only sqlite:/// and postgresql:// are supported", 2)

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self.pg:
            for name in params:
                sql = sql.replace(f":{name}", f"%({name})s")
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def tables(self) -> set[str]:
        if self.pg:
            return {r[0] for r in self.rows("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema()")}
        return {r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}


class _Refusal(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if at and ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{creds}{at}{host}"


def _text(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        return value.get(locale) or next(iter(value.values()), "")
    return "" if value is None else str(value)


def _now(db: _Db) -> datetime:
    """Campaign time: a rehearsal database keeps its clock (``flows.clock``)."""
    rows = db.rows("SELECT value FROM minping_meta WHERE key = 'rehearsal'")
    if not rows:
        return datetime.now(UTC)
    from flows.clock import from_stored

    data = json.loads(rows[0][0])
    clock = from_stored(data["spec"], datetime.fromisoformat(data["anchor"]))
    print(f"rehearsal: {clock.describe()}", file=sys.stderr)
    return clock.now()


def suggestion(campaign_id: str, ids: list[str]) -> str:
    """'no such campaign …' with the likely meant one and what is there."""
    import difflib

    msg = f"no such campaign '{campaign_id}'"
    close = difflib.get_close_matches(campaign_id, ids, n=1, cutoff=0.6)
    if close:
        msg += f"; did you mean '{close[0]}'?"
    known = f"campaigns here: {', '.join(ids)}" if ids else "no campaign is loaded in this database"
    return f"{msg} ({known}; load one with: minping campaign load FILE)"


def status_command(campaign_id: str | None) -> int:
    """Print the status tables; returns the exit code (1: no such campaign, 2: the
    database cannot be used)."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, soft_wrap=True)
    try:
        db = _Db(database_url())
        try:
            _status(db, campaign_id)
        finally:
            db.conn.close()
    except _Refusal as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        return exc.code
    return 0


def _status(db: _Db, campaign_id: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    current = (db.rows("SELECT version_num FROM alembic_version")[0][0]
               if "alembic_version" in db.tables() else None)
    if (message := schema.problem(current, db.where)) is not None:
        raise _Refusal(message, 2)
    now = _now(db)
    columns = "id, definition, opens, closes, closed, chain_count"
    if campaign_id:
        rows = db.rows(f"SELECT {columns} FROM campaign WHERE id = :cid", cid=campaign_id)
        if not rows:
            raise _Refusal(suggestion(campaign_id, [r[0] for r in db.rows("SELECT id FROM campaign ORDER BY id")]))
    else:
        rows = db.rows(f"SELECT {columns} FROM campaign ORDER BY opens")
    if not rows:
        console.print("No campaigns yet. Load one with: minping campaign load FILE")
        return
    for cid, definition, opens, closes, closed, chain_count in rows:
        c = json.loads(definition) if isinstance(definition, str) else definition
        loc = (c.get("locales") or ["zh"])[0]
        phase = ("closed" if closed or now >= aware(closes) else "upcoming" if now < aware(opens) else "open")
        revealed = db.rows("SELECT revealed_at FROM draw WHERE campaign_id = :cid", cid=cid)
        stage = "no draw yet" if not revealed else "pool committed, not drawn" if revealed[0][0] is None else "drawn"
        withdrawn = db.rows("SELECT COUNT(*) FROM draw_withdrawn WHERE campaign_id = :cid", cid=cid)[0][0]
        if withdrawn:
            stage += f" ({withdrawn} earlier commitment(s) withdrawn)"
        groups = c["rater_groups"]
        rows_ = progress.assemble(
            [(g["key"], bool(g.get("open")) or not g.get("sample")) for g in groups],
            *(db.rows(sql, cid=cid) for sql in (progress.MEMBERS, progress.BALLOTS, progress.POOLS)))
        figures = progress.figures(rows_, {g["key"]: g.get("sample") for g in groups},
                                   revealed=bool(revealed) and revealed[0][0] is not None)
        table = Table(title=escape(f"{cid} — {_text(c['title'], loc)} — {phase} — {chain_count} ballots — {stage}"))
        cols = ("rater group", "sample", "enrolled", "pool", "drawn", "invited", "started", "submitted",
                "after service", "opted out", "unreachable", "RR1", "RR2")
        for col in cols:
            table.add_column(col, justify="left" if col == "rater group" else "right")
        by_key = {g["key"]: g for g in groups}
        for f in figures:
            p, g = f.raw, by_key.get(f.group, {"label": f.group})
            label = escape(_text(g["label"], loc))
            if p.open:
                table.add_row(label, "open", str(p.enrolled), "—", "—", "—", str(p.started), str(p.submitted),
                              str(p.after_service), str(p.opted_out), str(p.unreachable), "—", "—")
            else:
                table.add_row(label, str(g.get("sample")), str(p.enrolled), str(p.pool), str(p.drawn),
                              str(p.invited), str(p.started), str(p.drawn_submitted), str(p.after_service),
                              str(p.opted_out), str(p.unreachable), progress.rate_text(f.rate), _pct(p.rr2))
        Console(width=max(console.width, 160)).print(table)  # many columns: keep labels whole
    console.print("submitted and RR1: drawn raters who submitted, ÷ drawn (the same figure as chat /status, "
                  "the digest and its chart); RR2 = (submitted + partials) ÷ drawn, a partial being a drawn "
                  "rater who started and has not submitted ('started'). After-service ballots (一事一评) "
                  "are never drawn and are counted apart; open groups have no draw.")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"
