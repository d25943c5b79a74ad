"""The process's view of the database: says once that it is unreachable and once that it
is back, whoever noticed (the intake, the outbox sender, the scheduler)."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Outage:
    def __init__(self) -> None:
        self.since: float | None = None  # monotonic time of the first failure
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        from bot import metrics

        metrics.DATABASE_OUTAGES.inc()
        log.warning("database unreachable (%s): updates wait and are retried, the outbox and the scheduler pause",
                    type(exc).__name__)

    def succeeded(self) -> None:
        if self.since is None:  # the common case: no lock taken
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("database reachable again after %.0f s", time.monotonic() - since)


database = Outage()
