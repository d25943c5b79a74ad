"""Running things: ``minping run``, ``demo``, ``devserver``."""

from __future__ import annotations

import logging
import os
import signal

import typer

from bot.cli.common import app, clock, console, engine, fail, setup_logs
from bot.settings import get_settings

log = logging.getLogger(__name__)
STOP_WITHIN = 8  # seconds for a graceful stop (systemd and docker wait 10 before SIGKILL)


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
    import asyncio

    from bot.digest_worker import DigestWorker
    from bot.runtime import BotRuntime, StartupError
    from bot.scheduler import Scheduler
    from bot.sender import Sender
    from bot.service import Service
    from bot.telegram.webhook import WebhookConfig, WebhookConfigError
    from bot.web import ListenError, WebServer, parse_listen

    settings = get_settings()  # logging is set up for every command (bot/cli/common.py)
    webhook = None
    if settings.webhook_url:
        try:
            webhook = WebhookConfig.from_settings(settings.webhook_url, settings.webhook_secret,
                                                  settings.webhook_listen)
        except WebhookConfigError as exc:
            fail(str(exc), 2)
    from bot.web import BoardPathError, parse_path

    try:
        parse_path(settings.board_path)
    except BoardPathError as exc:
        fail(str(exc), 2)
    try:
        listen = parse_listen(settings.listen) if settings.listen else (webhook.host, webhook.port) if webhook else None
    except ListenError as exc:
        fail(str(exc), 2)
    eng = engine(run=True)  # refuses a database that is behind; sets a rehearsal's clock (MINPING_CLOCK)
    from bot import metrics

    metrics.count_errors()  # error log records show in /metrics

    async def serve() -> None:
        service = Service(eng, clock=clock().now)
        web = None
        if listen is not None:
            web = WebServer(*listen)
            for part in web_parts(settings, eng, service):
                web.mount(part)
        runtime = BotRuntime(service, settings.bot_framework, settings.telegram_bot_token,
                             settings.telegram_api_base, webhook=webhook, web=web)
        # SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) stop gracefully.
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await runtime.start()
        # In the same process: the outbox sender drains proactive messages (invitations,
        # reminders, digests) within Telegram's limits, and the scheduler decides what is
        # due (one process at a time: a database lease).
        sender_stop = asyncio.Event()
        sender = asyncio.create_task(Sender(eng, runtime.transport).run(sender_stop))
        # Digests are drawn by a worker process this one starts when a request waits.
        drawer = asyncio.create_task(DigestWorker(eng).run(sender_stop))
        lag = asyncio.create_task(metrics.watch_loop_lag(sender_stop))
        scheduler = Scheduler(eng, clock=clock().now, tick_seconds=clock().tick_seconds)
        scheduler.start()
        mode = f"webhook {webhook.url} (listening on {webhook.host}:{webhook.port})" if webhook else "long polling"
        console.print(f"[green]running[/] @{runtime.username} on {settings.bot_framework}, {mode}; Ctrl-C stops")
        await stopping.wait()
        console.print("stopping: finishing the updates in hand")
        # Stop taking updates and finish those in hand; the sender's sends in flight
        # finish; the scheduler's tick in progress commits and the lease is handed back
        # so that another process takes over at once. All at once, within STOP_WITHIN.
        sender_stop.set()
        stopped = asyncio.gather(runtime.stop(), sender, drawer, lag, scheduler.stop_async(), return_exceptions=True)
        try:
            for result in await asyncio.wait_for(stopped, STOP_WITHIN):
                if isinstance(result, Exception):
                    log.error("stopping: %s", result, exc_info=result)
        except asyncio.TimeoutError:
            log.error("not stopped within %d s: exiting anyway (what did not commit is rolled back)", STOP_WITHIN)
            os._exit(1)

    try:
        asyncio.run(serve())
    except StartupError as exc:
        fail(str(exc), 2)
    console.print("stopped")


def web_parts(settings, eng, service) -> list:  # noqa: ANN001
    """The web parts ``minping run`` serves besides the webhook (``bot.web``)."""
    from bot.miniapp.web import MiniApp
    from bot.web.board import BoardPart, parse_path
    from bot.web.health import HealthPart

    parts = [MiniApp.from_settings(settings, service), HealthPart(eng)]  # the Mini App; /healthz, /readyz, /metrics
    board_path = parse_path(settings.board_path)
    if board_path is not None:  # the public board (五公开)
        parts.append(BoardPart(eng, board_path, clock=service.clock))
    return parts
