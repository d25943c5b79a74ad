"""Core statements compiled once per dialect and run straight on the driver connection.

For the few statements of a questionnaire tap only. SQLAlchemy's per-execution work
(cache key, execution context, result object, events) cost 5-10x what SQLite spends on
such a one-row statement (bench/throughput.py); here it is paid once, at compile time.
Values still pass through the column types' own bind and result processors, so a row
reads and writes exactly as through the ORM, on SQLite and on PostgreSQL.
The statement joins the session's current transaction (``Session.connection()``).
Driver errors come through as the driver raises them (``sqlite3.IntegrityError``, …),
not wrapped by SQLAlchemy; statements with expanding IN or literal-execute parameters
are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlmodel import Session


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in placeholder order (positional paramstyles)
    positional: bool
    binds: dict[str, Callable[[Any], Any]]  # name -> bind processor
    results: tuple[Callable[[Any], Any] | None, ...]  # per selected column
    defaults: dict[str, Any]  # values written into the statement itself


class Direct:
    """``Direct(stmt).rows(session, **params)``; ``.run(session, **params)`` for DML."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        done = self._compiled.get(key)
        if done is None:
            compiled = self.statement.compile(dialect=dialect)
            if "__[POSTCOMPILE" in compiled.string or compiled.literal_execute_params:
                raise ValueError("Direct runs plain statements only (no expanding IN, no literal_execute)")
            binds, defaults = {}, {}
            for name, bind in compiled.binds.items():
                proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if proc is not None:
                    binds[name] = proc
                if not bind.required:  # a value written into the statement, e.g. ``col == "x"``
                    defaults[name] = bind.effective_value
            results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                            for c in getattr(self.statement, "selected_columns", ()))
            positional = bool(compiled.positional)
            names = tuple(compiled.positiontup or ()) if positional else ()
            done = _Compiled(compiled.string, names, positional, binds, results, defaults)
            self._compiled[key] = done
        return done

    def _execute(self, session: Session, params: Mapping[str, Any]):  # noqa: ANN202
        conn = session.connection()
        c = self._for(conn.dialect)
        given = {**c.defaults, **params}
        values = {k: (c.binds[k](v) if k in c.binds else v) for k, v in given.items()}
        args: Sequence[Any] | Mapping[str, Any] = tuple(values[n] for n in c.names) if c.positional else values
        dbapi = conn.connection.driver_connection
        cursor = dbapi.cursor()
        try:
            cursor.execute(c.sql, args)
        except BaseException as exc:
            # SQLAlchemy never sees this driver error: drop a dead connection ourselves,
            # or the pool would hand it out again after the database came back.
            if isinstance(exc, conn.dialect.loaded_dbapi.Error) and conn.dialect.is_disconnect(exc, dbapi, cursor):
                conn.invalidate(exc)
            else:
                cursor.close()
            raise
        return c, cursor

    def rows(self, session: Session, **params: Any) -> list[tuple]:
        c, cursor = self._execute(session, params)
        try:
            raw = cursor.fetchall()
        finally:
            cursor.close()
        procs = c.results
        return [tuple(p(v) if p is not None and v is not None else v for p, v in zip(procs, row, strict=True))
                for row in raw]

    def run(self, session: Session, **params: Any) -> int:
        """Run a DML statement; the number of rows it touched."""
        _, cursor = self._execute(session, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()
