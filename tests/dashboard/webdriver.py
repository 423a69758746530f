"""A headless Chromium driven through chromedriver's W3C WebDriver HTTP API (Debian's packages).

The few commands the dashboard tests need (open a URL, run a script, type, click, screenshot),
sent with httpx: no browser-automation library to install, and nothing fetched at run time
(selenium-manager would try to download a driver). Chromium runs as root here, so it needs
--no-sandbox, and a fresh profile directory so that runs never share state.
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.apiserver.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1100",
]


class Browser:
    def __init__(self, http: httpx.Client, session: str) -> None:
        self.http, self.session = http, session

    def _cmd(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        r = self.http.request(method, f"/session/{self.session}{path}", json=body)
        value = r.json().get("value")
        if r.status_code >= 400:
            raise AssertionError(f"webdriver {method} {path}: {r.status_code} {value}")
        return value

    def open(self, url: str) -> None:
        self._cmd("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run `script` (a function body: `return ...`) in the page."""
        return self._cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        return str(self._cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])

    def type(self, css: str, text: str) -> None:
        self._cmd("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self._cmd("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css: str) -> str | None:
        """The text of the first element `css` picks, None while there is none."""
        return self.run(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css
        )

    def screenshot(self, path: Path) -> bytes:
        png = base64.b64decode(self._cmd("GET", "/screenshot"))
        path.write_bytes(png)
        return png


@contextmanager
def chromium(log: Path) -> Iterator[Browser]:
    """A headless Chromium session; the driver and the browser are gone afterwards."""
    port = free_port()
    with open(log, "ab") as out:
        driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=out, stderr=subprocess.STDOUT)
    profile = tempfile.TemporaryDirectory(prefix="kl-chromium-")
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    session = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http.get("/status").json()["value"]["ready"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or driver.poll() is not None:
                raise RuntimeError(f"chromedriver did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        caps = {
            "browserName": "chrome",
            "acceptInsecureCerts": True,  # the API server's certificate is signed by the cluster's CA
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [*ARGS, f"--user-data-dir={profile.name}"]},
        }
        r = http.post("/session", json={"capabilities": {"alwaysMatch": caps}})
        assert r.status_code == 200, r.text
        session = r.json()["value"]["sessionId"]
        yield Browser(http, session)
    finally:
        if session is not None:
            try:
                http.delete(f"/session/{session}")
            except httpx.HTTPError:
                pass
        http.close()
        driver.terminate()
        try:
            driver.wait(10)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()
        profile.cleanup()
