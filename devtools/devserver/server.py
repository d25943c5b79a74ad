"""The HTTP side: an aiohttp app speaking the Bot API, long polling, webhook delivery,
and :class:`BotAPIServer`, which runs it in its own thread or in the caller's loop."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any, Callable

import aiohttp
from aiohttp import web

from . import webapp
from .client import UserHandle, message_view
from .methods import BotApi
from .params import ApiError, Upload, get_int, get_json
from .ratelimit import RateLimitConfig, RateLimiter
from .state import CallbackAnswer, CallRecord, QueuedUpdate, State, StoredMessage, chat_of_update

__all__ = ["BotAPIServer"]

log = logging.getLogger("devtools.devserver")

CONFLICT_WEBHOOK = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")
CONFLICT_OTHER = ("Conflict: terminated by other getUpdates request; "
                  "make sure that only one bot instance is running")
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
_DESCRIPTIONS = {"setwebhook": "Webhook was set", "deletewebhook": "Webhook was deleted"}


class BotAPIServer:
    """A local Telegram Bot API server plus in-process "users" to drive a bot.

    Threaded: ``with BotAPIServer() as srv: ...`` (its own thread and event loop).
    In a running loop: ``await srv.start()`` … ``await srv.stop()`` (or ``async with``).
    """

    def __init__(self, token: str = "123:ABC", *, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: bool | RateLimitConfig = True, bot_username: str = "minping_dev_bot",
                 bot_first_name: str = "Minping Dev Bot", check_photo_bytes: bool = True,
                 callback_query_ttl: float | None = None, webhook_retry_min: float = 0.05,
                 webhook_retry_max: float = 2.0, webhook_timeout: float = 10.0,
                 calls_maxlen: int = 5000, duplicate_updates: bool = False, redeliver_after: float = 1.0,
                 webhook_chat_order: bool = True, webhook_cafile: str | None = None) -> None:
        head, sep, tail = token.partition(":")
        if not sep or not head.isdigit() or not tail:
            raise ValueError(f"token must look like '123:ABC', got {token!r}")
        self.token = token
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        bot_user = {"id": int(head), "is_bot": True, "first_name": bot_first_name, "username": bot_username}
        self.state = State(bot_user, calls_maxlen=calls_maxlen)
        self.limiter = RateLimiter(self._rate_config(rate_limit))
        self.api = BotApi(self.state, self.limiter, check_photo_bytes=check_photo_bytes,
                          callback_query_ttl=callback_query_ttl)
        self.webhook_retry_min = webhook_retry_min
        self.webhook_retry_max = webhook_retry_max
        self.webhook_timeout = webhook_timeout
        self.webhook_chat_order = webhook_chat_order
        # An extra certificate authority trusted for HTTPS webhooks (as Telegram trusts a
        # self-signed certificate uploaded with setWebhook): a test proxy's own.
        self.webhook_cafile = webhook_cafile
        self.duplicate_updates = duplicate_updates
        self.state.redeliver_after = redeliver_after
        self.state.on_queue_change = self._notify
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._updates_ev: asyncio.Event | None = None
        self._webhook_task: asyncio.Task | None = None
        self._poller: object | None = None
        self._closing = False

    # ================================================================ configuration
    @property
    def duplicate_updates(self) -> bool:
        """Misbehave as Telegram may: every update twice in its batch (twice posted to a
        webhook) and once more ``redeliver_after`` seconds later, with the same update_id."""
        return self.state.duplicates

    @duplicate_updates.setter
    def duplicate_updates(self, value: bool) -> None:
        self.state.duplicates = bool(value)

    @staticmethod
    def _rate_config(value: bool | RateLimitConfig | None) -> RateLimitConfig:
        if isinstance(value, RateLimitConfig):
            return value
        return RateLimitConfig(enabled=bool(value))

    @property
    def rate_limit(self) -> RateLimitConfig:
        return self.limiter.config

    @rate_limit.setter
    def rate_limit(self, value: bool | RateLimitConfig) -> None:
        """Switch limits at runtime: ``srv.rate_limit = False`` or a RateLimitConfig."""
        with self.state.lock:
            self.limiter.reconfigure(self._rate_config(value))

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — for aiogram's ``TelegramAPIServer.from_base``."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    @property
    def ptb_base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — for PTB's ``base_url``."""
        return self.base_url + "/bot"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot{self.token}"

    @property
    def bot_user(self) -> dict:
        return dict(self.state.bot_user)

    # ================================================================ lifecycle
    async def start(self) -> None:
        """Serve in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._closing = False
        self._updates_ev = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self._webhook_task = asyncio.create_task(self._webhook_loop(), name="devserver-webhook")

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_thread(self, timeout: float = 10.0) -> "BotAPIServer":
        """Serve from a background thread with its own event loop."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="devserver", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("dev server did not start")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "BotAPIServer":
        return self.start_thread()

    def __exit__(self, *exc: Any) -> None:
        self.stop_thread()

    async def __aenter__(self) -> "BotAPIServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ================================================================ wake-ups
    def _wake(self) -> None:  # in the server loop
        ev = self._updates_ev
        if ev is not None:
            self._updates_ev = asyncio.Event()
            ev.set()

    def _notify(self) -> None:  # from any thread
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread_id:
            self._wake()
        else:
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # loop closed meanwhile
                pass

    def in_server_thread(self) -> bool:
        return threading.get_ident() == self._loop_thread_id

    # ================================================================ HTTP
    async def _read_params(self, request: web.Request) -> tuple[dict, dict[str, Upload]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if not request.body_exists:
            return params, files
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON encoded request parameters") from None
                if isinstance(body, dict):
                    params.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, (bytes, bytearray)):
                    files[key] = Upload(None, None, bytes(value))
                else:
                    params[key] = value
        return params, files

    @staticmethod
    def _loggable(params: dict, files: dict[str, Upload]) -> dict:
        d = dict(params)
        for key, up in files.items():
            d[key] = f"<file {up.filename or key!r}, {len(up.data)} bytes>"
        return d

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.state.record_call(CallRecord(method=method, params={}, ok=False, error_code=401,
                                              description="Unauthorized", at=time.time()))
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        key = method.lower()
        name = self.api.canonical.get(key, method)
        st = self.state
        polling = key == "getupdates"
        if not polling:
            with st.lock:
                st.inflight += 1
        params: dict = {}
        files: dict[str, Upload] = {}
        try:
            params, files = await self._read_params(request)
            if polling:
                result = await self._get_updates(params, request)
            else:
                fn = self.api.methods.get(key)
                if fn is None:
                    raise ApiError(404, "Not Found")
                with st.lock:
                    result = fn(params, files)
            body: dict[str, Any] = {"ok": True, "result": result}
            if key in _DESCRIPTIONS:
                body["description"] = _DESCRIPTIONS[key]
            status = 200
        except ApiError as exc:
            body, status = exc.to_json(), exc.code
        except Exception as exc:  # a bug in the dev server: tell the bot loudly
            log.exception("devserver: %s failed", name)
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"}
            status = 500
        finally:
            with st.lock:
                if not polling:
                    st.inflight -= 1
                    st.last_activity = time.monotonic()
        st.record_call(CallRecord(method=name, params=self._loggable(params, files), ok=body["ok"],
                                  error_code=body.get("error_code"), description=body.get("description"),
                                  at=time.time()))
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        path = request.match_info["path"]
        with self.state.lock:
            for f in self.state.files.values():
                if f.data is not None and f.file_path == path:
                    return web.Response(body=f.data, content_type=f.mime_type or "application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").to_json(), status=404)

    # ================================================================ getUpdates
    async def _get_updates(self, p: dict, request: web.Request) -> list[dict]:
        st = self.state
        loop = asyncio.get_running_loop()
        offset = get_int(p, "offset")
        limit = min(max(get_int(p, "limit", 100) or 100, 1), 100)
        timeout = max(get_int(p, "timeout", 0) or 0, 0)
        allowed = get_json(p, "allowed_updates")
        with st.lock:
            if st.webhook is not None:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if allowed is not None:
                st.allowed_updates = [str(a) for a in allowed] or None
            if offset is not None:
                st.confirm(offset)
        me = object()
        previous, self._poller = self._poller, me
        if previous is not None:
            self._wake()  # the older long poll ends with 409, as on Telegram
        deadline = loop.time() + timeout
        try:
            while True:
                ev = self._updates_ev
                gone = request.transport is None or request.transport.is_closing()
                with st.lock:
                    if self._poller is not me:
                        raise ApiError(409, CONFLICT_OTHER)
                    if st.webhook is not None:
                        raise ApiError(409, CONFLICT_SET_WEBHOOK)
                    if gone or self._closing:
                        return []
                    updates = st.fetch(limit)
                if updates:
                    return updates
                remaining = deadline - loop.time()
                if remaining <= 0 or ev is None:
                    return []
                try:
                    await asyncio.wait_for(ev.wait(), min(remaining, 0.5))
                except asyncio.TimeoutError:
                    pass
        finally:
            if self._poller is me:
                self._poller = None

    # ================================================================ webhook
    async def _webhook_loop(self) -> None:
        """Post queued updates to the webhook with up to ``max_connections`` requests at
        once, as Telegram does; an update is retried (with back-off) until the webhook
        answers 2xx. With ``webhook_chat_order`` a chat's next update waits for its
        previous one; without, a chat's updates (and duplicates) may be in flight together."""
        st = self.state
        connector = None
        if self.webhook_cafile:
            import ssl

            connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=self.webhook_cafile))
        session = aiohttp.ClientSession(connector=connector)
        workers: list[asyncio.Task] = []
        try:
            while not self._closing:
                ev = self._updates_ev
                with st.lock:
                    wh = st.webhook
                if wh is None:
                    if ev is not None:
                        await ev.wait()
                    continue
                workers = [asyncio.create_task(self._webhook_worker(session, wh))
                           for _ in range(max(1, min(wh.max_connections, 100)))]
                await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await session.close()

    def _next_for_webhook(self) -> QueuedUpdate | None:
        """The next update to post: with chat order, only each chat's oldest queued one."""
        now = time.monotonic()
        seen: set = set()
        for q in self.state.queue:
            chat = chat_of_update(q.payload)
            if self.webhook_chat_order and chat is not None:
                if chat in seen:
                    continue
                seen.add(chat)
            if not q.in_flight and q.not_before <= now:
                return q
        return None

    async def _webhook_worker(self, session: aiohttp.ClientSession, wh) -> None:  # noqa: ANN001
        st = self.state
        while not self._closing:
            ev = self._updates_ev
            st.release_redeliveries()
            with st.lock:
                if st.webhook is not wh:
                    return  # changed or deleted: the loop starts again
                entry = self._next_for_webhook()
                if entry is not None:
                    entry.in_flight = entry.delivered = True
                    st.inflight += 1
            if entry is None:
                if ev is not None:
                    try:
                        await asyncio.wait_for(ev.wait(), 0.2)
                    except asyncio.TimeoutError:
                        pass
                continue
            headers = {"X-Telegram-Bot-Api-Secret-Token": wh.secret_token} if wh.secret_token else {}
            error = None
            reply = None
            try:
                async with session.post(wh.url, json=entry.payload, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)) as resp:
                    if 200 <= resp.status < 300:
                        reply = await self._webhook_reply(resp)
                    else:
                        await resp.read()
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except asyncio.CancelledError:
                raise
            except asyncio.TimeoutError:
                error = "Read timeout expired"
            except Exception as exc:
                error = f"Connection failed: {exc}"
            finally:
                with st.lock:
                    st.inflight -= 1
                    entry.in_flight = False
                    st.last_activity = time.monotonic()
            with st.lock:
                if error is None:
                    st.queue = [q for q in st.queue if q is not entry]
                else:
                    if st.webhook is wh:
                        wh.last_error_date = int(time.time())
                        wh.last_error_message = error
                    entry.delay = min(max(entry.delay * 2, self.webhook_retry_min), self.webhook_retry_max)
                    entry.not_before = time.monotonic() + entry.delay
                st.on_queue_change()
            if reply:
                self._run_webhook_reply(reply)

    @staticmethod
    async def _webhook_reply(resp: aiohttp.ClientResponse) -> dict | None:
        """A method call the bot put in its webhook response (Telegram executes it)."""
        ctype = resp.content_type
        try:
            if ctype == "application/json":
                data = await resp.json()
                return data if isinstance(data, dict) and data.get("method") else None
            if ctype == "multipart/form-data":
                fields: dict[str, Any] = {}
                reader = aiohttp.MultipartReader.from_response(resp)
                async for part in reader:
                    if part is None:
                        break
                    fields[part.name] = await part.text()  # type: ignore[union-attr]
                return fields if fields.get("method") else None
            await resp.read()
        except Exception:
            log.debug("devserver: unreadable webhook reply", exc_info=True)
        return None

    def _run_webhook_reply(self, reply: dict) -> None:
        params = {k: v for k, v in reply.items() if k != "method"}
        name = str(reply["method"])
        fn = self.api.methods.get(name.lower())
        ok, code, desc = True, None, None
        try:
            if fn is None:
                raise ApiError(404, "Not Found")
            with self.state.lock:
                fn(params, {})
        except ApiError as exc:
            ok, code, desc = False, exc.code, exc.description
        self.state.record_call(CallRecord(method=self.api.canonical.get(name.lower(), name), params=params,
                                          ok=ok, error_code=code, description=desc, at=time.time()))

    # ================================================================ user side
    def user(self, user_id: int, first_name: str | None = None, *, last_name: str | None = None,
             username: str | None = None, language_code: str | None = None) -> UserHandle:
        """A user (and their private chat, id = user id), created on first use."""
        self.state.ensure_user(user_id, first_name=first_name, last_name=last_name,
                               username=username, language_code=language_code)
        return UserHandle(self, user_id)

    def web_app_init_data(self, user_id: int, *, auth_date: int | None = None, token: str | None = None) -> str:
        """The signed launch data Telegram gives a Mini App that ``user_id`` opens (signed
        with this server's token, or ``token`` to forge another bot's)."""
        with self.state.lock:
            user = self.state.ensure_user(user_id).to_api()
            chat = self.state.chats.get(user_id)
            instance = chat.chat_instance if chat is not None else None
        return webapp.init_data(user, token or self.token, auth_date=auth_date, chat_instance=instance)

    def inject_update(self, update: dict) -> int | None:
        """Queue a raw update; keeps its update_id if it has one (e.g. a duplicate).
        Returns the update_id, or None if the bot's allowed_updates excludes the type."""
        return self.state.enqueue(update)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self.state.lock:
            return list(self.state.callback_answers)

    @property
    def calls(self) -> list[CallRecord]:
        with self.state.lock:
            return list(self.state.calls)

    def calls_of(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def rate_limited_count(self) -> int:
        """How many 429 responses were sent."""
        return self.state.rate_limited

    @property
    def stats(self) -> dict[str, int]:
        with self.state.lock:
            return dict(self.state.stats)

    @property
    def pending_updates(self) -> int:
        return self.state.pending_count()

    @property
    def webhook_url(self) -> str | None:
        wh = self.state.webhook
        return wh.url if wh else None

    def commands(self, language_code: str = "", scope: dict | None = None) -> list[dict]:
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self.state.lock:
            return [dict(c) for c in self.state.commands.get(key, [])]

    def file_bytes(self, file_id: str) -> bytes | None:
        with self.state.lock:
            f = self.state.files.get(file_id)
            return f.data if f else None

    def add_listener(self, fn: Callable[[str, Any], None]) -> None:
        """fn(event, MessageView) for every bot send/edit/delete; runs in the server
        thread under the state lock, so keep it short (print, append)."""

        def adapter(event: str, msg: StoredMessage) -> None:
            fn(event, message_view(self.state, msg))

        with self.state.lock:
            self.state.listeners.append(adapter)

    def _idle(self, quiet: float) -> bool:
        st = self.state
        with st.lock:
            return not st.queue and st.inflight == 0 and time.monotonic() - st.last_activity >= quiet

    def _idle_report(self) -> str:
        st = self.state
        with st.lock:
            return (f"{len(st.queue)} update(s) not yet confirmed/delivered, "
                    f"{st.inflight} request(s) in flight")

    def wait_idle(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        """Block until every update was confirmed (getUpdates offset) or delivered
        (webhook), no request is in flight and nothing happened for `quiet` seconds."""
        if self.in_server_thread():
            raise RuntimeError("wait_idle() would block the server loop; use await wait_idle_async()")
        deadline = time.monotonic() + timeout
        while not self._idle(quiet):
            if time.monotonic() > deadline:
                raise TimeoutError("bot not idle after %.1fs: %s" % (timeout, self._idle_report()))
            time.sleep(0.01)

    async def wait_idle_async(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        deadline = time.monotonic() + timeout
        while not self._idle(quiet):
            if time.monotonic() > deadline:
                raise TimeoutError("bot not idle after %.1fs: %s" % (timeout, self._idle_report()))
            await asyncio.sleep(0.01)
