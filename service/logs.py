"""Structured logging: one line per event, ``key=value`` pairs, no secrets.

Secrets never reach a log call in the first place (settings hold them as
SecretStr, tokens stay in the database); the filter below is a second line of
defence that masks anything shaped like a bearer token or an OAuth code.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRETISH = re.compile(
    r"(?i)(access_token|refresh_token|client_secret|authorization|code|token)"
    r"([\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9._\-]{12,})"
)


def redact(text: str) -> str:
    return _SECRETISH.sub(lambda m: m.group(1) + m.group(2) + "***", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    """Route bachbot's logs to stderr as ``time level logger: message`` lines."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_bachbot", False)]
    if ours:
        for handler in ours:  # a second CLI run in one process: follow today's stderr
            if isinstance(handler, logging.StreamHandler):
                handler.stream = sys.stderr  # setStream would flush the old, maybe closed, one
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler._bachbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "apscheduler.executors", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
