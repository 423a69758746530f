"""The dashboard in a real browser (Debian's headless Chromium) against a server with its
controllers, scheduler and a hollow node: log in with a token, a pod created with kubectl shows up
Running without a reload, the charts draw, a screenshot shows the page; a token without rights
sees the API's 403."""

from __future__ import annotations

from pathlib import Path

from tests.apiserver.conftest import hollow_cluster
from tests.dashboard.test_server import service_account_token
from tests.dashboard.webdriver import Browser, chromium
from tests.polling import wait_for

PNG = b"\x89PNG\r\n\x1a\n"
POD_STATUS = 'section[data-kind="pods"] tr[data-key="default/{}"] td[data-col="Status"]'


def log_in(browser: Browser, url: str, token: str) -> None:
    browser.open(url + "/dashboard/")
    login_shown = "const f = document.getElementById('login'); return f ? !f.hidden : location.href;"
    wait_for(lambda: browser.run(login_shown) is True, 30, "the login form")
    browser.type("#token", token)
    browser.click("#login button[type=submit]")


def test_a_pod_created_with_kubectl_appears_without_a_reload(tmp_path: Path) -> None:
    with hollow_cluster(tmp_path, 1) as (srv, _agent), chromium(tmp_path / "chromedriver.log") as browser:
        log_in(browser, srv.url, srv.token)
        wait_for(lambda: browser.text("#live") == "live", 30, "the event stream open")
        assert browser.text("#user") == "admin"
        wait_for(
            lambda: browser.text('section[data-kind="nodes"] tr[data-key="hollow"]'),
            60,
            "the hollow node's row",
        )
        browser.run("window.loadedOnce = 'yes';")  # a reload would lose it

        srv.kubectl("run", "dash-web", "--image=busybox", "--", "sleep", "3600", check=True)
        wait_for(lambda: browser.text(POD_STATUS.format("dash-web")), 30, "the pod's row, without a reload")
        wait_for(lambda: browser.text(POD_STATUS.format("dash-web")) == "Running", 60, "the pod Running")
        node = 'section[data-kind="pods"] tr[data-key="default/dash-web"] td[data-col="Node"]'
        assert browser.text(node) == "hollow"
        events = 'section[data-kind="events"] tbody'
        wait_for(lambda: "pod/dash-web" in (browser.text(events) or ""), 30, "the pod's events")
        wait_for(
            lambda: browser.run("return document.querySelectorAll('#chart-cpu circle').length"),
            40,
            "a chart",
        )
        assert browser.run("return window.loadedOnce") == "yes"

        png = browser.screenshot(tmp_path / "dashboard.png")
        assert png.startswith(PNG) and len(png) > 10_000
        assert (tmp_path / "dashboard.png").stat().st_size == len(png)

        srv.kubectl("delete", "pod", "dash-web", "--wait=false", check=True)
        wait_for(lambda: browser.text(POD_STATUS.format("dash-web")) is None, 60, "the row gone with the pod")
        assert browser.run("return window.loadedOnce") == "yes"

        nobody = service_account_token(srv, "default", "dash-nobody")
        browser.click("#logout")
        log_in(browser, srv.url, nobody)
        seen = wait_for(
            lambda: (browser.text("#live") or "").startswith("403") and browser.text("#live"), 30, "403"
        )
        assert "Forbidden" in seen and "system:serviceaccount:default:dash-nobody" in seen
