"""The HTML report in a real browser: headless Debian Chromium driven by Selenium.

Opens ``report.html`` from disk with the network off (every request goes to a dead
proxy, loopback included) and checks that plotly drew every chart and that the browser
logged no error. Skipped only when Chromium, chromedriver or Selenium is missing.

pytest runs with ``--disable-socket``; Selenium talks to chromedriver over HTTP on
loopback, so this module allows connections to 127.0.0.1 and ::1 only
(``allow_hosts``, pytest-socket). Every other test stays without sockets.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

import pytest

from .test_html import EVENTS, build_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install chromium chromium-driver && pip install 'selenium>=4.20'"
#: Where a copy of the screenshot is left for people to look at.
SCREENSHOT = Path("/tmp/report.png")
DRAW_TIMEOUT = 20.0

pytestmark = [pytest.mark.browser, pytest.mark.allow_hosts(["127.0.0.1", "::1"])]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)  # with the driver path: no Selenium Manager
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--proxy-server=http://127.0.0.1:9",  # discard port: nothing answers
        "--proxy-bypass-list=<-loopback>",  # loopback too goes to the dead proxy
        "--window-size=1300,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def opened(driver, tmp_path_factory: pytest.TempPathFactory):
    """The report loaded in the browser, once plotly has drawn every chart."""
    run_dir = build_run(tmp_path_factory.mktemp("browser") / "april_2025_selloff")
    driver.get((run_dir / "report.html").resolve().as_uri())
    deadline = time.monotonic() + DRAW_TIMEOUT
    drawn = "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
    while driver.execute_script(drawn) == 0 or not _all_drawn(driver):
        if time.monotonic() > deadline:
            pytest.fail(f"plotly drew nothing within {DRAW_TIMEOUT:g} s")
        time.sleep(0.1)
    return driver


def _all_drawn(driver) -> bool:
    return bool(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".every(d => d.querySelector('svg.main-svg') !== null)"
        )
    )


def test_every_chart_is_drawn(opened):
    divs = opened.execute_script(
        "return Array.from(document.querySelectorAll('.plotly-graph-div'))"
        ".map(d => [d.id, d.querySelectorAll('svg.main-svg').length, d.offsetWidth])"
    )
    # pooled CAAR, heatmap, timeline, one CAR figure per event
    assert len(divs) == 3 + len(EVENTS)
    for div_id, svgs, width in divs:
        assert svgs > 0, div_id
        assert width > 300, div_id  # laid out at page width, not collapsed


def test_heatmap_text_is_rendered(opened):
    texts = opened.execute_script(
        "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
    )
    assert any(t.startswith("+28.0 bp") for t in texts)  # UST10Y, liberation_day
    assert "liberation_day" in texts


def test_no_errors_and_no_network(opened):
    severe = [e for e in opened.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    fetched = opened.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert [u for u in fetched if not u.startswith(("file:", "data:", "blob:"))] == []


def test_screenshot(opened, tmp_path):
    height = opened.execute_script("return document.documentElement.scrollHeight")
    opened.set_window_size(1300, min(int(height), 16000))
    time.sleep(0.5)  # let plotly's responsive resize settle
    shot = tmp_path / "report.png"
    assert opened.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    with contextlib.suppress(OSError):  # a copy for people to look at, not a check
        shutil.copyfile(shot, SCREENSHOT)
