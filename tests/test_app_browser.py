"""The teaching app in a real browser: `kube-sim app` served locally, driven in headless Chromium.

Skips only when Chromium or Playwright is missing. Screenshots go under ``tmp_path``; with
``KUBE_SIM_REFRESH_SCREENSHOTS=1`` they are also copied to ``docs/figures/app_*.png``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from kube_sim.app.compare import COMPARED_OUTCOMES
from kube_sim.app.exports import REPLICATION_COLUMNS

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "docs" / "figures"
REFRESH_ENV = "KUBE_SIM_REFRESH_SCREENSHOTS"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 30_000

CHROMIUM = shutil.which("chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url():
    with _serve() as url:
        yield url


@contextlib.contextmanager
def _serve(*options: str):
    """Serve ``kube-sim app`` (with ``options``) on a free local port, and yield its address."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "kube_sim.cli.main", "app", "--port", str(port), *options],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"kube-sim app exited with {proc.returncode}: {proc.stdout.read()}")
                if time.monotonic() > deadline:
                    pytest.fail("kube-sim app did not answer within 60 s")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _host(url: str) -> str:
    if url.startswith("data:"):
        return "127.0.0.1"  # inline data: nothing is fetched
    if url.startswith("blob:"):
        url = url[len("blob:"):]
    return urlparse(url).hostname or ""


def _text(page, selector: str) -> str:
    return page.inner_text(selector).strip()


def _step(page, times: int) -> None:
    for _ in range(times):
        month = int(_text(page, ".kube-month"))
        page.click(".kube-step")
        page.wait_for_function(f"document.querySelector('.kube-month').innerText.trim() === '{month + 1}'",
                               timeout=TIMEOUT_MS)


def _wait_chart_month(page, month: int | str) -> None:
    """Wait until every arm's line under the chart reports ``month`` (the chart renders after the header)."""
    page.wait_for_function(
        "(m) => { const rows = [...document.querySelectorAll('.kube-chart-data > div')];"
        " return rows.length > 0 && rows.every(r => r.innerText.includes('(' + m + ')')); }",
        arg=f"Month {month}", timeout=TIMEOUT_MS)


def _set_play_to(page, month: int) -> None:
    """Type the month Play stops at, and wait until the page holds it."""
    box = page.locator(".kube-play-to input")
    box.fill(str(month))
    box.press("Enter")
    # The Play button names the month once the server holds it (the box's own value shows at once).
    page.wait_for_function(f"(document.querySelector('.kube-play') || {{innerText: ''}}).innerText"
                           f".trim().endsWith(' {month}')", timeout=TIMEOUT_MS)


def _choose(page, selector: str, text: str) -> None:
    """Pick ``text`` in the drop-down list under ``selector``."""
    page.click(f"{selector} .v-select__slot")
    page.locator(".v-menu__content.menuable__content__active .v-list-item", has_text=text).first.click()


def _shown(page, selector: str) -> str:
    """The words a drop-down list under ``selector`` shows for its value."""
    return _text(page, f"{selector} .v-select__selection")


def _menu_items(page, selector: str) -> list[str]:
    """The words of every item of the drop-down list under ``selector`` (the list is closed again)."""
    page.click(f"{selector} .v-select__slot")
    items = page.locator(".v-menu__content.menuable__content__active .v-list-item")
    items.first.wait_for(timeout=TIMEOUT_MS)
    words = [items.nth(i).inner_text().strip() for i in range(items.count())]
    page.keyboard.press("Escape")
    page.wait_for_selector(".v-menu__content.menuable__content__active", state="detached", timeout=TIMEOUT_MS)
    return words


def _shoot(page, tmp_path: Path, name: str, saved: list[Path]) -> None:
    path = tmp_path / f"app_{name}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 10_000
    saved.append(path)


def test_app_in_a_browser(app_url, tmp_path):
    requests: list[str] = []
    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1250})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(app_url)
        page.wait_for_selector(".kube-step", timeout=60_000)
        assert _text(page, ".kube-month") == "0"
        assert page.locator(".kube-group-chip").count() == 0
        assert page.locator(".kube-kec").count() == 16

        # Move the caseload slider from 1:10 to about 1:5.
        value = ".kube-ctl-groups_per_facilitator .kube-value"
        assert _text(page, value) == "10"
        track = page.locator(".kube-ctl-groups_per_facilitator .v-slider").bounding_box()
        page.mouse.click(track["x"] + track["width"] * 0.125, track["y"] + track["height"] / 2)
        page.wait_for_function(f"document.querySelector('{value}').innerText.trim() !== '10'", timeout=TIMEOUT_MS)
        assert 3 <= int(_text(page, value)) <= 7

        # The menus show plain words; the legend names the policy, changed by the slider.
        assert _shown(page, ".kube-ctl-scenario") == "Baseline"
        assert _shown(page, ".kube-ctl-district") == "Polewali Mandar"
        assert _shown(page, ".kube-ctl-pattern") == "round robin"
        assert _shown(page, ".kube-language") == "English"
        page.wait_for_function("document.querySelector('.kube-chart-data').innerText.includes('Baseline (changed)')",
                               timeout=TIMEOUT_MS)

        # Step several months: the district fills with groups and the charts' data change.
        charts_before = _text(page, ".kube-chart-data")
        lines_before = page.inner_html(".kube-chart-image")
        legend_before = _text(page, ".kube-legend")
        _step(page, 2)
        legend_mid = _text(page, ".kube-legend")
        caseloads_mid = _text(page, ".kube-caseloads")
        _step(page, 5)
        assert _text(page, ".kube-month") == "7"
        assert page.locator(".kube-group-chip").count() > 20
        assert legend_mid != legend_before
        assert _text(page, ".kube-caseloads") != caseloads_mid  # visits accumulate on the caseloads
        assert _text(page, ".kube-chart-data") != charts_before
        assert page.inner_html(".kube-chart-image") != lines_before  # the browser draws the charts' new lines
        assert page.locator(".kube-chart-image svg.kube-svg-panel").count() == 6
        assert page.locator(".kube-chart-image polyline.kube-svg-line").count() >= 6
        assert int(_text(page, ".kube-count-active")) + int(_text(page, ".kube-count-conflict")) > 0
        assert page.locator(".kube-caseloads thead th").count() >= 1 + 5  # 1:5 needs more facilitators than 1:10

        # Quick clicks never queue: ten fast Steps move exactly ten months, without waiting for each drawing.
        for _ in range(10):
            page.click(".kube-step")
        page.wait_for_function("document.querySelector('.kube-month').innerText.trim() === '17'", timeout=TIMEOUT_MS)

        # Play at full speed to month 24: it stops there on its own.
        _set_play_to(page, 24)
        track = page.locator(".kube-speed .v-slider").bounding_box()
        page.mouse.click(track["x"] + track["width"] - 1, track["y"] + track["height"] / 2)
        page.wait_for_function("document.querySelector('.kube-speed').innerText.includes('12')", timeout=TIMEOUT_MS)
        page.click(".kube-play")
        page.wait_for_function("document.querySelector('.kube-month').innerText.trim() === '24' && "
                               "document.querySelector('.kube-play') !== null", timeout=60_000)
        assert _text(page, ".kube-month") == "24"
        # The legend's count and the chips agree once the browser has applied every update of the month.
        page.wait_for_function("Number(document.querySelector('.kube-count-failed').innerText) === "
                               "document.querySelectorAll('.kube-state-failed').length", timeout=TIMEOUT_MS)
        assert page.locator(".kube-state-failed").count() > 0
        assert "✕" in page.locator(".kube-state-failed").first.inner_text()  # not by colour alone
        _shoot(page, tmp_path, "district", saved)

        # A failed group's story: its facts and its event log, from the funding decree to why it failed.
        page.locator(".kube-state-failed").first.click()
        page.wait_for_selector(".kube-story-events", timeout=TIMEOUT_MS)
        story = _text(page, ".kube-story")
        assert "funded: UEP grant" in story and "Members active" in story and "Cash" in story
        assert "Why it failed" in story and "group failed" in story
        causes = ("conflict left unsettled", "too few active members", "fell apart", "no capital left")
        assert sum(cause in _text(page, ".kube-story-cause") for cause in causes) == 1
        assert page.locator(".kube-story-events tbody tr").count() >= 3
        _shoot(page, tmp_path, "story", saved)

        # The facts and the member marks agree: as many members counted as marks, a failed group's all gone.
        marks = page.locator(".kube-member-marks span").count()
        gone = page.locator(".kube-member-marks .kube-member_left").count()
        assert marks > 0 and gone == marks == int(_text(page, ".kube-member_left-count"))
        assert re.search(rf"Members active \(of those at the start\)\s+0 / {marks}\b", story), story

        # Bahasa Indonesia: labels, menus in plain Indonesian words, numbers with Indonesian separators.
        chart_english = _text(page, ".kube-chart-data")
        assert re.search(r"Rp \d{1,3}(,\d{3})+", chart_english), chart_english
        _choose(page, ".kube-language", "Bahasa Indonesia")
        page.wait_for_function("document.querySelector('.kube-story').innerText.includes('Kisah kelompok')",
                               timeout=TIMEOUT_MS)
        assert "Kas" in _text(page, ".kube-story")
        assert _shown(page, ".kube-ctl-scenario") == "Dasar"
        assert _shown(page, ".kube-ctl-pattern") == "bergiliran"
        scenarios = _menu_items(page, ".kube-ctl-scenario")
        assert "Dasar" in scenarios and "Satu pendamping per 5 kelompok" in scenarios
        assert not any("_" in item or item == "baseline" for item in scenarios), scenarios
        assert "Polewali Mandar seperti digambarkan" in _text(page, ".kube-description")
        page.wait_for_function("document.querySelector('.kube-chart-data').innerText.includes('Dasar (diubah)')",
                               timeout=TIMEOUT_MS)
        chart_indonesian = _text(page, ".kube-chart-data")
        assert re.search(r"Rp \d{1,3}(\.\d{3})+", chart_indonesian), chart_indonesian
        assert not re.search(r"\d,\d{3}", chart_indonesian), chart_indonesian
        assert "Kelangsungan sejak pendanaan, pada 12 bulan" in chart_indonesian
        cash = page.locator(".kube-story-facts tr", has_text="Kas").inner_text()
        assert not re.search(r"\d,\d{3}", cash), cash
        _choose(page, ".kube-language", "English")
        page.wait_for_function("document.querySelector('.kube-story').innerText.includes(\"A group's story\")",
                               timeout=TIMEOUT_MS)

        # Play, Pause, Play and Reset in quick succession end on month 0 of the current settings, and stays there.
        _set_play_to(page, 60)
        page.click(".kube-play")
        page.click(".kube-pause", timeout=TIMEOUT_MS)
        page.click(".kube-play", timeout=TIMEOUT_MS)
        page.click(".kube-reset")
        page.wait_for_function("document.querySelector('.kube-month').innerText.trim() === '0' && "
                               "document.querySelectorAll('.kube-group-chip').length === 0 && "
                               "document.querySelector('.kube-play') !== null", timeout=TIMEOUT_MS)
        page.click(".kube-step")
        page.wait_for_function("document.querySelector('.kube-month').innerText.trim() === '1'", timeout=TIMEOUT_MS)
        # the clock still runs after the burst (the chips may land a moment after the month's number)
        page.wait_for_function("document.querySelectorAll('.kube-group-chip').length > 0", timeout=TIMEOUT_MS)

        # Back to the scenario's own values: the caseload returns to 1:10 and the run to month 0.
        page.click(".kube-scenario-values")
        page.wait_for_function(f"document.querySelector('{value}').innerText.trim() === '10' && "
                               "document.querySelector('.kube-month').innerText.trim() === '0'", timeout=TIMEOUT_MS)
        page.wait_for_function("document.querySelector('.kube-chart-data').innerText.includes('Baseline') && "
                               "!document.querySelector('.kube-chart-data').innerText.includes('(changed)')",
                               timeout=TIMEOUT_MS)
        _set_play_to(page, 24)

        # Side by side: 1:10 against 1:5 with the same seed, stepping together.
        page.click(".kube-mode-compare")
        page.wait_for_selector(".kube-replicate", timeout=TIMEOUT_MS)
        assert _text(page, ".kube-month") == "0"
        _step(page, 3)
        _wait_chart_month(page, 3)
        arms = page.locator(".kube-chart-data > div")
        assert arms.count() == 2
        assert "A: Baseline" in arms.nth(0).inner_text()
        assert "B: One facilitator per 5 groups" in arms.nth(1).inner_text()
        assert _shown(page, ".kube-arm-b") == "One facilitator per 5 groups"
        assert "(Month 3)" in arms.nth(0).inner_text() and "(Month 3)" in arms.nth(1).inner_text()
        page.click(".kube-play")
        page.wait_for_function("document.querySelector('.kube-month').innerText.trim() === '24' && "
                               "document.querySelector('.kube-play') !== null", timeout=60_000)
        month = _text(page, ".kube-month")
        _wait_chart_month(page, month)
        assert f"(Month {month})" in arms.nth(0).inner_text() and f"(Month {month})" in arms.nth(1).inner_text()
        assert arms.nth(0).inner_text().split("—")[1] != arms.nth(1).inner_text().split("—")[1]
        page.click(".kube-replicate")
        page.wait_for_selector(".kube-replication-table", timeout=60_000)
        table = _text(page, ".kube-replication-table")
        assert "n = 20" in table
        assert page.locator(".kube-replication-table tbody tr").count() == len(COMPARED_OUTCOMES)
        # Halving the caseload cuts the share of unaccompanied groups, and the interval shows it.
        unvisited = page.locator(".kube-replication-table tbody tr", has_text="unvisited").inner_text()
        assert "clear difference" in unvisited and "-" in unvisited.split("\t")[3]
        _shoot(page, tmp_path, "compare", saved)

        # Results never outlive their inputs: changing arm B takes the old numbers off the page.
        _choose(page, ".kube-arm-b", "One facilitator per 20 groups")
        page.wait_for_selector(".kube-stale", timeout=TIMEOUT_MS)
        assert page.locator(".kube-replication-table").count() == 0
        assert "n = 20" not in _text(page, ".kube-replications")
        browser.close()

    assert requests, "the page made no requests"
    outside = sorted({url for url in requests if _host(url) not in LOCAL_HOSTS})
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    print(f"the page made {len(requests)} requests, none outside 127.0.0.1")
    if os.environ.get(REFRESH_ENV) == "1":
        for path in saved:
            shutil.copyfile(path, FIGURES / path.name)


VILLAGE_DISTRICT = """# name = Test Hills
kecamatan,population,terrain,travel_hours,villages,village_names
Alpha,30000,coast,1,3,Lero|Ambo Tengah|Lapeo
Beta,20000,lowland,3,2,
"""


def test_village_names_from_the_district_file_show_on_the_page(tmp_path):
    path = tmp_path / "test_hills.csv"
    path.write_text(VILLAGE_DISTRICT, encoding="utf-8")
    with _serve("--district", str(path)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        page.wait_for_selector(".kube-step", timeout=60_000)
        assert _shown(page, ".kube-ctl-district") == "Test Hills"
        assert page.locator(".kube-kec").count() == 2
        titles = [page.locator(".kube-village").nth(i).get_attribute("title") for i in range(5)]
        assert titles == ["Lero", "Ambo Tengah", "Lapeo", "Village 1", "Village 2"]
        assert [t.strip() for t in page.locator(".kube-village-name").all_inner_texts()] == titles[:3]
        _choose(page, ".kube-language", "Bahasa Indonesia")
        page.wait_for_function("document.querySelectorAll('.kube-village')[3].title === 'Desa 1'", timeout=TIMEOUT_MS)
        assert "Majene" in _menu_items(page, ".kube-ctl-district")
        browser.close()


def _font_px(page, selector: str) -> float:
    """The rendered height in pixels of the first element under ``selector`` (for SVG text: its drawn size)."""
    return page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().height")


def test_projector_mode_and_the_save_buttons(app_url, tmp_path):
    """Projector mode at 1366x768: large type, results above the fold, kept on reload; Save gives real files."""
    saved: list[Path] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(app_url)
        page.wait_for_selector(".kube-step", timeout=60_000)
        _step(page, 8)
        normal_chip = _font_px(page, ".kube-group-chip")
        normal_title = _font_px(page, ".kube-svg-title")
        assert page.locator(".v-navigation-drawer--open").count() == 1  # the sidebar is open by default

        # The switch in the app bar turns projector mode on: the address says so, the sidebar folds.
        page.click(".kube-projector-switch .v-input--selection-controls__ripple")
        page.wait_for_function("location.search.includes('projector=1')", timeout=TIMEOUT_MS)
        page.wait_for_function("document.querySelectorAll('.v-navigation-drawer--open').length === 0",
                               timeout=TIMEOUT_MS)
        assert _text(page, ".kube-month") == "8"  # turning it on keeps the run
        page.wait_for_function(f"document.querySelector('.kube-group-chip').getBoundingClientRect().height"
                               f" > {normal_chip * 1.3}", timeout=TIMEOUT_MS)
        chip = page.evaluate("getComputedStyle(document.querySelector('.kube-group-chip')).fontSize")
        assert float(chip.removesuffix("px")) >= 16
        assert _font_px(page, ".kube-svg-title") >= max(20.0, normal_title * 1.4)  # chart text readable at 3 m
        assert _font_px(page, ".kube-svg-tick") >= 14
        page.wait_for_function("document.querySelectorAll('.kube-unvisited').length > 0", timeout=TIMEOUT_MS)
        ring = page.evaluate("getComputedStyle(document.querySelector('.kube-unvisited')).outlineWidth")
        assert float(ring.removesuffix("px")) >= 4
        # The results come first: the latest values and the top of the district are above the fold.
        assert page.locator(".kube-chart-data").bounding_box()["y"] + 20 < 768
        assert page.locator(".kube-district-card").bounding_box()["y"] < 768 - 200
        assert page.locator(".kube-chart-data").count() == 1

        page.locator(".kube-unvisited").first.click()
        page.wait_for_selector(".kube-story-events", timeout=TIMEOUT_MS)
        _shoot(page, tmp_path, "projector_en", saved)

        # Save the charts as a PNG picture, drawn when the button is clicked.
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.click(".kube-save-png button")
        png = Path(download.value.path()).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
        assert download.value.suggested_filename == "kube-charts.png"

        # The mode is the tab's: a reload keeps it.
        page.reload()
        page.wait_for_selector(".kube-step", timeout=60_000)
        assert "projector=1" in page.url
        page.wait_for_function("document.querySelectorAll('.v-navigation-drawer--open').length === 0",
                               timeout=TIMEOUT_MS)
        assert float(page.evaluate("getComputedStyle(document.querySelector('.kube-month-box')).fontSize")
                     .removesuffix("px")) >= 30

        # Side by side in Bahasa Indonesia: the replication table and its Save buttons above the fold.
        page.goto(app_url)  # the laptop's layout, side by side, then the switch again
        page.wait_for_selector(".kube-mode-compare", timeout=60_000)
        page.click(".kube-mode-compare")
        page.wait_for_selector(".kube-replicate", timeout=TIMEOUT_MS)
        page.click(".kube-projector-switch .v-input--selection-controls__ripple")
        page.wait_for_function("location.search.includes('projector=1')", timeout=TIMEOUT_MS)
        page.wait_for_function("document.querySelectorAll('.v-navigation-drawer--open').length === 0",
                               timeout=TIMEOUT_MS)
        _choose(page, ".kube-language", "Bahasa Indonesia")
        page.wait_for_function("document.querySelector('.kube-play').innerText.toLowerCase().includes('jalankan')",
                               timeout=TIMEOUT_MS)
        play = page.evaluate("(() => { const e = document.querySelector('.kube-play');"
                             " return [e.scrollWidth, e.clientWidth]; })()")
        assert play[0] <= play[1], play  # the Indonesian Play label is not cut short
        box = page.evaluate("(() => { const e = document.querySelector('.kube-play-to label');"
                            " return [e.scrollWidth, e.clientWidth]; })()")
        assert box[0] <= box[1], box
        _step(page, 6)
        page.click(".kube-replicate")
        page.wait_for_selector(".kube-replication-table", timeout=60_000)
        page.evaluate("window.scrollTo(0, 0)")
        table = page.locator(".kube-replication-table").bounding_box()
        assert table["y"] + table["height"] <= 768, table
        assert page.locator(".kube-save-csv").bounding_box()["y"] < 768
        assert "n = 20" in _text(page, ".kube-replication-table")
        _shoot(page, tmp_path, "projector_id", saved)

        # The table as CSV and as a workbook: the exact numbers, each row naming what it belongs to.
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.click(".kube-save-csv button")
        assert download.value.suggested_filename.endswith(".csv")
        frame = pd.read_csv(download.value.path())
        assert list(frame.columns) == list(REPLICATION_COLUMNS)
        assert list(frame["outcome"]) == list(COMPARED_OUTCOMES)
        assert set(frame["n"]) == {20} and set(frame["scenario_b"]) == {"ratio_1_5"}
        assert (frame["low"] <= frame["diff"]).all() and (frame["diff"] <= frame["high"]).all()
        assert "Kelangsungan sejak pendanaan, pada 12 bulan" in set(frame["label"])
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.click(".kube-save-xlsx button")
        workbook = pd.read_excel(download.value.path())
        pd.testing.assert_frame_equal(workbook, frame, check_dtype=False)

        # Turning the switch off gives the laptop's layout back.
        page.click(".kube-projector-switch .v-input--selection-controls__ripple")
        page.wait_for_function("!location.search.includes('projector=1')", timeout=TIMEOUT_MS)
        page.wait_for_function("parseFloat(getComputedStyle(document.querySelector('.kube-month-box')).fontSize)"
                               " < 30", timeout=TIMEOUT_MS)
        browser.close()

    outside = sorted({url for url in requests if _host(url) not in LOCAL_HOSTS})
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    if os.environ.get(REFRESH_ENV) == "1":
        for path in saved:
            shutil.copyfile(path, FIGURES / path.name)
