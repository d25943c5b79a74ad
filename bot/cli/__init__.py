"""The ``minping`` command line (typer + rich). One module per area registers its
commands on the shared ``app``."""

from bot.cli.common import app
from bot.cli import campaign, enrolment, feedback, results, runtime  # noqa: F401,E402  (registers commands)

__all__ = ["app"]


def main() -> None:  # pragma: no cover - console entry
    app()
