"""``minping run`` and the opening of the configured database, without typer or rich.

The long-running process carries only what it uses (issue 19): ``bot.cli.main`` runs
``minping run`` from here directly, so the CLI's framework (typer, rich, click) and the
other commands' modules never load into it (~2 MB, ~0.1 s of start-up). The typer
command ``run`` (``bot/cli/runtime.py``, also used by tests in-process) calls the same
``run``; both print refusals as ``error: …`` on stderr with the same exit codes.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable

from flows.clock import REAL, Clock

log = logging.getLogger(__name__)
STOP_WITHIN = 8  # seconds for a graceful stop (systemd and docker wait 10 before SIGKILL)


class Refused(Exception):
    """A command cannot go on: ``message`` for the operator, ``code`` to exit with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def open_database(run: bool = False):  # noqa: ANN201
    """The configured database and the clock to act by: ``(engine, clock)``. Refuses
    (``Refused``, code 2) when it cannot be opened or its schema is not this minping's
    (``minping migrate`` creates and upgrades it). The clock is a rehearsal's when
    MINPING_CLOCK is set or the database is a rehearsal database; ``minping run`` on the
    real clock refuses a rehearsal database."""
    from bot.settings import get_settings
    from flows.clock import ClockError
    from storage import rehearsal
    from storage.db import DatabaseUnavailable, check, make_engine, session_scope
    from storage.schema import SchemaMismatch

    settings = get_settings()
    eng = make_engine(settings.database_url)
    try:
        check(eng)
    except DatabaseUnavailable as exc:
        raise Refused(f"{exc}\nCheck DATABASE_URL in .env (see .env.example).", 2) from None
    except SchemaMismatch as exc:
        raise Refused(str(exc), 2) from None
    try:
        with session_scope(eng) as s:
            stored = rehearsal.stored(s)
            if settings.clock:
                return eng, rehearsal.begin(s, settings.clock)
            if stored is not None and run:
                raise Refused("this database was used for a rehearsal (its ballots are not real): `minping run` on "
                              "the real clock refuses it. Use a fresh database for the real campaign (DATABASE_URL, "
                              "then `minping migrate`), or set MINPING_CLOCK to go on rehearsing", 2)
            return eng, stored or REAL
    except ClockError as exc:
        raise Refused(str(exc), 2) from None
    except rehearsal.RehearsalRefused as exc:
        raise Refused(str(exc)) from None


def run(say: Callable[[str], None], opened: Callable[[], tuple[object, Clock]]) -> None:
    """Run the bot with the outbox sender and the scheduler until SIGTERM or SIGINT.
    ``say`` prints a line for the operator; ``opened`` opens the database (``open_database``
    or the CLI's wrapper of it). Raises ``Refused`` for a setting or a database that will
    not do."""
    import asyncio

    from bot.runtime import BotRuntime, StartupError
    from bot.settings import get_settings
    from bot.telegram.webhook import WebhookConfig, WebhookConfigError
    from bot.web import BoardPathError, ListenError, parse_listen, parse_path

    settings = get_settings()  # logging is set up before (setup_logs)
    webhook = None
    if settings.webhook_url:
        try:
            webhook = WebhookConfig.from_settings(settings.webhook_url, settings.webhook_secret,
                                                  settings.webhook_listen)
        except WebhookConfigError as exc:
            raise Refused(str(exc), 2) from None
    try:
        parse_path(settings.board_path)
    except BoardPathError as exc:
        raise Refused(str(exc), 2) from None
    try:
        listen = parse_listen(settings.listen) if settings.listen else (webhook.host, webhook.port) if webhook else None
    except ListenError as exc:
        raise Refused(str(exc), 2) from None
    eng, clock = opened()  # refuses a database that is behind; a rehearsal's clock (MINPING_CLOCK)
    from bot import metrics

    metrics.count_errors()  # error log records show in /metrics

    async def serve() -> None:
        from bot.digest_worker import DigestWorker
        from bot.scheduler import Scheduler
        from bot.sender import Sender
        from bot.service import Service
        from bot.web import WebServer

        service = Service(eng, clock=clock.now)
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
        scheduler = Scheduler(eng, clock=clock.now, tick_seconds=clock.tick_seconds)
        scheduler.start()
        mode = f"webhook {webhook.url} (listening on {webhook.host}:{webhook.port})" if webhook else "long polling"
        say(f"running @{runtime.username} on {settings.bot_framework}, {mode}; Ctrl-C stops")
        await stopping.wait()
        say("stopping: finishing the updates in hand")
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
        raise Refused(str(exc), 2) from None
    say("stopped")


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


def main() -> int:
    """``minping run`` from the console entry: logs set up as for every command, then
    ``run``; a refusal printed as ``error: …`` on stderr. Returns the exit code."""
    from bot.logs import LogSettingsError, redact, setup
    from bot.settings import get_settings

    def database() -> tuple[object, Clock]:
        eng, clock = open_database(run=True)
        if clock.rehearsal:
            print(f"rehearsal: {clock.describe()}", file=sys.stderr, flush=True)
        return eng, clock

    try:
        setup(get_settings())
        run(lambda line: print(line, flush=True), database)
    except (Refused, LogSettingsError) as exc:
        print(f"error: {redact(getattr(exc, 'message', str(exc)))}", file=sys.stderr, flush=True)
        return getattr(exc, "code", 2)
    except KeyboardInterrupt:  # Ctrl-C while starting, before the graceful stop is set up
        print("Aborted!", file=sys.stderr, flush=True)  # as typer (click) says it
        return 1
    return 0
