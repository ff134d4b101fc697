"""The database's reachability as the daemon sees it: one line when it goes, one when it is back.

During an outage every cycle used to log a full traceback (57 in three
minutes in the fault trials).  Home Assistant's coordinator logs a failure
once when it starts and once when it recovers; so does this: the daemon's
cycle, its heartbeat and its lock check report what they meet, and only a
change of state is a log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from service.store.connect import cause_of

log = logging.getLogger("bachbot.daemon")


class Outage:
    """Whether the database answers, and since when it has not."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since: float | None = None
        self._mutex = threading.Lock()

    @property
    def down_now(self) -> bool:
        return self._since is not None

    def down(self, err: BaseException) -> None:
        with self._mutex:
            if self._since is not None:
                return
            self._since = self._clock()
        log.error(
            "database unreachable (%s); jobs pause, and /, /metrics and /healthz answer 503, "
            "until it answers again",
            cause_of(err),
        )

    def up(self) -> None:
        with self._mutex:
            if self._since is None:
                return
            seconds, self._since = self._clock() - self._since, None
        log.warning("database reachable again after %.0f s; jobs resume", seconds)
