"""Running things: ``minping run``, ``demo``, ``devserver``."""

from __future__ import annotations

import logging

import typer

from bot.cli.common import app, console, engine, fail
from bot.settings import get_settings


@app.command()
def demo(raters: int = typer.Option(300, min=1, max=100_000, help="How many simulated raters."),
         seed: int = typer.Option(2026, help="Random seed (same seed, same demo)."),
         framework: str = typer.Option("aiogram", help="aiogram or ptb."),
         telegram_limits: bool = typer.Option(False, help="Enforce Telegram's flood limits (slower).")) -> None:
    """Run a whole sample campaign on a fresh SQLite file under var/demo/, with simulated
    raters talking to the real bot through a local Bot API server."""
    from bot.demo import run_demo

    if framework not in ("aiogram", "ptb"):
        fail("--framework must be aiogram or ptb")
    logging.basicConfig(level=logging.WARNING)
    run_demo(raters=raters, seed=seed, console=console, framework=framework, limits=telegram_limits)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def devserver(ctx: typer.Context) -> None:
    """Run the local Telegram Bot API server with an interactive prompt to act as users
    (options: --port 8081 --token 123:ABC --no-rate-limit)."""
    from bot.devserver.cli import main as devserver_main

    raise typer.Exit(devserver_main(ctx.args))


@app.command()
def run() -> None:
    """Run the bot with the outbox sender and the scheduler, reading .env: long polling, or
    a webhook server when MINPING_WEBHOOK_URL is set."""
    import asyncio

    from bot.runtime import BotRuntime, StartupError
    from bot.scheduler import Scheduler
    from bot.sender import Sender
    from bot.service import Service
    from bot.telegram.webhook import WebhookConfig, WebhookConfigError

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    webhook = None
    if settings.webhook_url:
        try:
            webhook = WebhookConfig.from_settings(settings.webhook_url, settings.webhook_secret,
                                                  settings.webhook_listen)
        except WebhookConfigError as exc:
            fail(str(exc), 2)
    eng = engine()

    async def serve() -> None:
        runtime = BotRuntime(Service(eng), settings.bot_framework, settings.telegram_bot_token,
                             settings.telegram_api_base, webhook=webhook)
        async with runtime:
            # In the same process: the outbox sender drains proactive messages
            # (invitations, reminders, digests) within Telegram's limits, and the
            # scheduler decides what is due (one process at a time: a database lease).
            stop = asyncio.Event()
            sender = asyncio.create_task(Sender(eng, runtime.transport).run(stop))
            scheduler = Scheduler(eng)
            scheduler.start()
            mode = f"webhook {webhook.url} (listening on {webhook.host}:{webhook.port})" if webhook else "long polling"
            console.print(f"[green]running[/] @{runtime.username} on {settings.bot_framework}, {mode}; Ctrl-C stops")
            try:
                await asyncio.Event().wait()
            finally:
                await scheduler.stop_async()
                stop.set()
                await sender

    try:
        asyncio.run(serve())
    except StartupError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        console.print("stopped")
