"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium (Playwright).

From a clean start: Home renders, "Train a small demo" trains the Demo preset to the end on the
Train page, then every page of the navigation is visited by clicking its sidebar link (so the
session and its run survive), no Streamlit exception or error element appears, and a 1280x720
screenshot per page is written to docs/screenshots/<page>.png. A second test closes the tab
while a run trains and checks the server stopped it (the session-scoped guard).

Uses Debian's /usr/bin/chromium; never `playwright install`. Skipped when it is absent.
The helpers here are also used by bench/bench_app.py.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 720}
ERROR_SELECTORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# software WebGL (SwiftShader) for plotly's Scattergl: the machines running the tests have no GPU
GL_ARGS = ("--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Start `streamlit run app.py` on a free port; yield (base URL, log file); stop it after."""
    port = free_port()
    log = log or Path(os.environ.get("TMPDIR", "/tmp")) / f"w2v-streamlit-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        base = f"http://localhost:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium(extra_args: tuple[str, ...] = ()):
    """A headless Chromium from Debian's package, through Playwright (`extra_args`: more flags,
    e.g. GL_ARGS for plotly's WebGL traces)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, **context):
    """A page in a new browser context (a new visitor): light theme, VIEWPORT unless `context` says."""
    context = {"viewport": VIEWPORT, "color_scheme": "light", "device_scale_factor": 1, **context}
    return browser.new_context(**context).new_page()


def wait_idle(page, timeout: float = 60.0, settle: float = 0.8) -> None:
    """Wait until the script run finished and nothing changed for `settle` seconds."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        state = page.eval_on_selector('[data-testid="stApp"]', "e => e.getAttribute('data-test-script-state')")
        skeletons = page.locator('[data-testid="stSkeleton"]').count()
        if state != "running" and skeletons == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        else:
            quiet_since = None
        time.sleep(0.1)
    raise AssertionError("the app kept running")


def nav_pages(page) -> list[tuple[str, str]]:
    """(title, href) of every link in the sidebar navigation, in order."""
    links = page.locator('[data-testid="stSidebarNavLink"]')
    # the link's text is "<material icon name>\n\n<title>": keep the title
    return [(links.nth(i).inner_text().strip().splitlines()[-1].strip(), links.nth(i).get_attribute("href") or "")
            for i in range(links.count())]


def slug(href: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", href).strip("/")
    return path or "home"


def errors_on(page) -> list[str]:
    return page.locator(ERROR_SELECTORS).all_inner_texts()


def click_nav(page, title: str) -> None:
    titles = [t for t, _ in nav_pages(page)]
    page.locator('[data-testid="stSidebarNavLink"]').nth(titles.index(title)).click()


def train_demo(page, timeout: float = 240.0) -> float:
    """Press 'Train a small demo' on Home and wait for the run to finish; returns seconds."""
    t0 = time.monotonic()
    page.get_by_role("button", name="Train a small demo").click()
    page.wait_for_url(re.compile(r".*/train(\?.*)?$"), timeout=60_000)  # the URL carries ?set=<run id>
    page.locator('[data-testid="stProgress"]', has_text="done:").first.wait_for(timeout=timeout * 1000)
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); browser tests need Debian's Chromium")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with chromium() as b:
        yield b


def test_demo_then_every_page_without_errors_with_screenshots(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as (base, log):
        page = new_page(browser)
        page.goto(base + "/")
        page.wait_for_selector("h1", timeout=60_000)
        wait_idle(page)
        assert not errors_on(page), errors_on(page)
        seconds = train_demo(page)
        print(f"demo preset in the browser: {seconds:.1f} s")
        wait_idle(page)
        assert not errors_on(page), errors_on(page)
        pages = nav_pages(page)
        titles = [t for t, _ in pages]
        for required in ("Home", "Train", "Objectives", "Reproduce the paper", "Vectors"):
            assert required in titles, titles
        for title, href in pages:
            click_nav(page, title)
            path = slug(href) if slug(href) != "home" else ""
            page.wait_for_url(re.compile(rf".*/{re.escape(path)}(\?.*)?$"), timeout=30_000)
            wait_idle(page)
            page.wait_for_timeout(700)  # plotly draws after the script run
            shot = SHOTS / f"{slug(href)}.png"
            page.screenshot(path=str(shot))
            found = errors_on(page)
            assert not found, f"{title}: {found}"
            assert page.locator("h1").count() >= 1, f"{title} has no title"
        # the run survived the tour: back on Train it is still listed and done
        click_nav(page, "Train")
        wait_idle(page)
        assert page.locator('[data-testid="stProgress"]', has_text="done:").count() >= 1
        assert "Traceback" not in log.read_text()


def test_closing_the_tab_stops_the_sessions_training(browser):
    with streamlit_server() as (base, log):
        page = new_page(browser)
        page.goto(base + "/")
        page.wait_for_selector("h1", timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name="Train a small demo").click()
        page.wait_for_url(re.compile(r".*/train(\?.*)?$"), timeout=60_000)  # the URL carries ?set=<run id>
        page.locator('[data-testid="stProgress"]', has_text="epoch").first.wait_for(timeout=60_000)
        page.context.close()  # the tab goes away mid-training
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "stopped 1 running run" not in log.read_text():
            time.sleep(0.2)
        assert "session closed, stopped 1 running run(s)" in log.read_text(), log.read_text()[-2000:]
