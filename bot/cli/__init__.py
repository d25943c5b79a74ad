"""The ``minping`` command line (typer + rich). One module per area registers its
commands on the shared ``app``.

``main`` (the console entry) answers ``minping status`` without importing the rest
(``bot.cli.quick``: no SQLAlchemy, no pydantic, no typer), so it starts in a fraction
of a second, and runs ``minping run`` by ``bot.cli.serve`` (the bot process does not carry the
CLI's framework); everything else goes through the typer ``app``, imported on first use.
"""

from __future__ import annotations

import sys

__all__ = ["app", "main"]


def __getattr__(name: str):  # noqa: ANN202
    if name == "app":
        from bot.cli.common import app
        from bot.cli import (  # noqa: F401  (registers commands)
            backup, board, campaign, database, enrolment, links, records, rectification, results, retention,
            runtime, updates)

        globals()["app"] = app
        return app
    raise AttributeError(name)


def main() -> None:  # pragma: no cover - console entry
    from bot.cli import quick

    args = sys.argv[1:]
    if quick.handles(args):
        raise SystemExit(quick.status_command(args[1] if len(args) > 1 else None))
    if args == ["run"]:  # the long-running process: without typer, rich and the other commands
        from bot.cli import serve

        raise SystemExit(serve.main())
    from bot.cli import app

    app()
