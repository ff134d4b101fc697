"""A headless Chromium driven over the DevTools protocol on a pipe, for status-page checks.

``--dump-dom`` and ``--screenshot`` cannot measure a layout, and a phone
width needs device emulation (a 390 px window in desktop mode is not a phone).
The DevTools protocol can do both; over ``--remote-debugging-pipe`` (fds 3
and 4, messages ending in NUL) it needs no port and no websocket library.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
_ONTO_FDS_3_AND_4 = (
    "import os, sys\n"
    "r, w = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2]))  # copies first: no clobbering\n"
    "os.dup2(r, 3)\n"
    "os.dup2(w, 4)\n"
    "os.set_inheritable(3, True)  # dup2 onto itself keeps os.dup's close-on-exec\n"
    "os.set_inheritable(4, True)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)
ANSWER_WITHIN_S = 60.0
"""A guard against a hung browser, not a measurement: nothing asserts on time."""

MEASURE = """(() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5); })
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (typeof e.className === 'string' && e.className ? '.' + e.className : ''));
  const refresh = document.querySelector('meta[http-equiv="refresh"]');
  return {innerWidth: window.innerWidth, clientWidth: width, scrollWidth: root.scrollWidth,
          text: document.body.innerText, wide: wide.slice(0, 20),
          refresh: refresh ? refresh.content : null,
          plotDots: document.querySelectorAll('svg.plot circle').length};
})()"""


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One browser process; :meth:`look` opens a page at a width and measures it."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # The protocol wants the pipe on fds 3 and 4 exactly; a tiny Python shim puts
        # it there and becomes Chromium (subprocess cannot renumber fds itself).
        self._process = subprocess.Popen(
            [sys.executable, "-c", _ONTO_FDS_3_AND_4, str(to_child_r), str(from_child_w),
             executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self._send("Browser.close", {})
        try:
            self._process.wait(timeout=ANSWER_WITHIN_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_child)
        os.close(self._from_child)

    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_WITHIN_S
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(left, 0))
            if not ready:
                raise RuntimeError(f"Chromium did not answer within {ANSWER_WITHIN_S:.0f} s")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (did it crash?)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        wanted = self._send(method, params or {}, kw.get("session"))
        while True:
            message = self._receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    def wait_for(self, event: str, session: str) -> None:
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    del self._events[: i + 1]
                    return
            self._events.append(self._receive())

    def look(self, url: str, *, width: int, mobile: bool, screenshot: Path) -> dict[str, Any]:
        """Open ``url`` in a new tab ``width`` CSS px wide; measure it, save a full-page PNG."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 844 if mobile else 900, "deviceScaleFactor": 1,
             "mobile": mobile},
            session=session,
        )  # fmt: skip
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        measured: dict[str, Any] = self.call(
            "Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session=session
        )["result"]["value"]
        size = self.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True,
             "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                      "scale": 1}},
            session=session,
        )  # fmt: skip
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        self.call("Target.closeTarget", {"targetId": target})
        return measured
