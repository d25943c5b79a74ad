"""Running things: ``minping run`` (its body: ``bot/cli/serve.py``), ``demo``, ``devserver``."""

from __future__ import annotations

import typer

from bot.cli.common import app, clock, console, engine, fail, setup_logs
from bot.settings import get_settings



def _devtool(name: str):  # noqa: ANN202
    """A development tool, which an installation without ``devtools/`` (the container
    image) does not have: say so rather than print a traceback."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("devtools"):
            raise
        fail("the development tools (devtools/: the demo and the local Bot API server) are not "
             "installed here; run this from a checkout of the repository (make demo)")


@app.command()
def demo(raters: int = typer.Option(300, min=1, max=100_000, help="How many simulated raters."),
         seed: int = typer.Option(2026, help="Random seed (same seed, same demo)."),
         framework: str = typer.Option("aiogram", help="aiogram or ptb."),
         telegram_limits: bool = typer.Option(False, help="Enforce Telegram's flood limits (slower).")) -> None:
    """Run a whole sample campaign on a fresh SQLite file under var/demo/, with simulated
    raters talking to the real bot through a local Bot API server."""
    run_demo = _devtool("devtools.demo").run_demo

    if framework not in ("aiogram", "ptb"):
        fail("--framework must be aiogram or ptb")
    if get_settings().log_level.strip().upper() == "INFO":
        setup_logs("WARNING")  # the demo shows its own progress; DEBUG if asked for
    run_demo(raters=raters, seed=seed, console=console, framework=framework, limits=telegram_limits)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def devserver(ctx: typer.Context) -> None:
    """Run the local Telegram Bot API server with an interactive prompt to act as users
    (options: --port 8081 --token 123:ABC --no-rate-limit)."""
    raise typer.Exit(_devtool("devtools.devserver.cli").main(ctx.args))


@app.command()
def run() -> None:
    """Run the bot with the outbox sender and the scheduler, reading .env: long polling, or
    a webhook server when MINPING_WEBHOOK_URL is set."""
    from bot.cli.serve import Refused
    from bot.cli.serve import run as serve

    def opened():  # noqa: ANN202
        return engine(run=True), clock()  # refuses a database that is behind; a rehearsal's clock

    try:
        serve(lambda line: console.print(line, markup=False), opened)
    except Refused as exc:
        fail(exc.message, exc.code)
