"""A real ``minping run`` process against the local Bot API server, for tests that must
see the product as an operator runs it: restarts, kills, signals, logs.

    with MinpingRun(tmp_path, srv, database_url(engine), framework="ptb", mode="webhook") as run:
        run.start()            # waits until the bot is serving
        ...                    # simulated users talk to ``srv``
        run.kill()             # SIGKILL, as a crash
        run.start()            # same database, same webhook port
        assert run.term() == 0 # SIGTERM, graceful
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import Engine

READY = "running"  # what ``minping run`` prints once it serves


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(engine: Engine) -> str:
    """The URL a separate process uses for the test's database (PostgreSQL: with the
    test's schema on the search path)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        schema = engine.dialect.default_schema_name
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("select current_schema()").scalar()
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    return url


class MinpingRun:
    def __init__(self, cwd: Path, api_server, database_url: str, *, framework: str = "aiogram",  # noqa: ANN001
                 mode: str = "polling", token: str | None = None, env: dict[str, str] | None = None,
                 stderr_apart: bool = False) -> None:
        self.cwd, self.server, self.framework, self.mode = Path(cwd), api_server, framework, mode
        self.token = token or api_server.token
        self.port = free_port() if mode == "webhook" else None
        self.env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": self.token,
                    "TELEGRAM_API_BASE": api_server.base_url, "BOT_FRAMEWORK": framework,
                    "MINPING_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **(env or {})}
        if mode == "webhook":
            self.env |= {"MINPING_WEBHOOK_URL": f"http://127.0.0.1:{self.port}/hook",
                         "MINPING_WEBHOOK_LISTEN": f"127.0.0.1:{self.port}",
                         "MINPING_WEBHOOK_SECRET": "test-secret"}
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []  # everything every run printed, in order
        # stderr_apart: the logs (stderr) in ``err_lines``, the console (stdout) in ``lines``
        self.stderr_apart = stderr_apart
        self.err_lines: list[str] = []
        self._err_reader: threading.Thread | None = None
        self._reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def start(self, timeout: float = 90.0) -> None:
        """Spawn ``minping run`` and wait until it serves (it prints ``running``)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        minping = Path(sys.executable).with_name("minping")
        seen = len(self.lines)
        self.proc = subprocess.Popen([str(minping), "run"], env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE if self.stderr_apart else subprocess.STDOUT,
                                     text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if self.stderr_apart:
            self._err_reader = threading.Thread(target=self._read_err, args=(self.proc,), daemon=True)
            self._err_reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(READY in line for line in self.lines[seen:]):
                return
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise AssertionError(f"minping run exited with {self.proc.returncode}:\n{self.output}")
            time.sleep(0.05)
        raise AssertionError(f"minping run did not start within {timeout} s:\n{self.output}")

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line)

    def _read_err(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self.err_lines.append(line)

    def kill(self) -> None:
        """SIGKILL: a crash at whatever moment this is."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._join()

    def term(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` (SIGTERM as systemd and docker do) and wait for the exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            self._join()
        return code

    def _join(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self._err_reader is not None:
            self._err_reader.join(5)
            self._err_reader = None

    def __enter__(self) -> MinpingRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
