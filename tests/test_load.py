"""The real server under the conditions a hosted deployment meets, driven by Chromium.

Regression tests for what bench/load_test.py found: training again and again never blanks the tab;
editing a source file while serving keeps run ids unique (one training queue). The third, a shared
link opened as the first visit of a fresh server (it ran the page file without the app's frame), is
step 1 of tests/test_hosted_browser.py. The many-session measurement itself is `python bench/load_test.py`
(12 sessions, 90 s), kept out of CI: on a 2-core machine its timing depends on everything else
running there.

Uses Debian's /usr/bin/chromium through Playwright (never `playwright install`); skipped when
either is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def load_test():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); the load test needs Debian's Chromium")
    pytest.importorskip("playwright.async_api", reason="the playwright Python package is not installed")
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_test"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def numba_cache_for_copy(app: Path, cache: Path) -> dict[str, str]:
    """The environment for a server run from `app`, a copy of the checkout, whose Numba cache (in
    `cache`) already holds the checkout's compiled kernels, so its first training loads them
    instead of compiling for ~40 s.

    subtle: Numba files a kernel's cache under a folder named by a hash of its source folder's
    absolute path (numba.core.caching's get_suitable_cache_subpath), so a copy misses the
    checkout's cache even with identical sources and times (copytree keeps the times Numba
    compares). Copying those folders under the copy's names is all it takes; if a Numba version
    names them differently this finds nothing and the test only gets slower."""
    from core import _numba_setup

    source = Path(_numba_setup._dir)
    if not source.name.startswith("numba-") or not source.is_dir():
        return {}
    target = cache / source.name  # the digest's name, so the server's core._numba_setup keeps it
    target.mkdir(parents=True)
    for folder in [ROOT / "core", *(d for d in (ROOT / "core").rglob("*") if d.is_dir())]:
        name = f"{folder.name}_{hashlib.sha1(str(folder).encode()).hexdigest()}"
        if (source / name).is_dir():
            copy = app / folder.relative_to(ROOT)
            shutil.copytree(source / name, target / f"{copy.name}_{hashlib.sha1(str(copy).encode()).hexdigest()}")
    return {"NUMBA_CACHE_DIR": str(target)}


@contextmanager
def hosted_server(load_test, tmp_path: Path, **kwargs):
    """A hosted-mode Streamlit server on a free port, answering its health check; yields its base
    URL and stops it afterwards (kwargs go to bench/load_test.py's start_server)."""
    port = load_test.free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "streamlit.log"
    proc = load_test.start_server(port, True, tmp_path, log, **kwargs)
    try:
        load_test.wait_healthy(proc, base, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # a server busy training: never let this hide the test's own failure
            proc.kill()
            proc.wait(15)


def test_editing_a_source_file_while_serving_keeps_run_ids_unique(load_test, tmp_path):
    """The server keeps running while its files change (a `git pull` on the server, a push on
    Community Cloud, another job editing the checkout). A session trains, a module of the app
    is edited, the session trains again: the two runs must have different ids.

    Known failure (reported to the lead): Streamlit watches the sources, and on any change it
    evicts every module of the app from sys.modules, so the next script run re-imports
    ui/runs.py: the run-id counter restarts at #1 (the second run is #1 again, the sidebar
    lists "#1" twice, and the Train page keeps showing the old run, so "Start training" seems
    to do nothing) and a new, empty training QUEUE admits W2V_MAX_TRAININGS more runs next to
    the ones the old queue admitted.
    """
    from playwright.sync_api import sync_playwright

    app = tmp_path / "app"  # a copy, so the edit never touches the checkout
    shutil.copytree(ROOT, app, ignore=shutil.ignore_patterns(".git", "*.pyc", "docs", "tests", "bench", ".*cache"))
    env = numba_cache_for_copy(app, tmp_path / "numba")
    progress = '[data-testid="stMain"] [data-testid="stProgress"]'

    def shown_ids(page) -> set[int]:
        return {int(m) for t in page.locator(progress).all_inner_texts() for m in re.findall(r"#(\d+) ", t)}

    def train_once(page, errors: list[str], known: set[int]) -> int | None:
        """Start a run; its id once done, or None when no new id appears (or the tab died)."""
        page.get_by_role("button", name="Start training").click(timeout=60_000)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not errors:
            done = {int(m) for t in page.locator(progress).all_inner_texts()
                    for m in re.findall(r"#(\d+) .*done:", t)}
            if done - known:
                return min(done - known)
            if time.monotonic() > deadline - 60 and shown_ids(page) <= known:
                return None  # 30 s and the page still shows only old runs
            time.sleep(0.2)
        return None

    with hosted_server(load_test, tmp_path, watch_files=True, cwd=app, extra_env=env) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=load_test.CHROMIUM_ARGS)
        try:
            for _attempt in range(3):  # a tab that goes blank before the edit (the bug below) is retried
                errors: list[str] = []
                page = browser.new_page(viewport=load_test.VIEWPORT)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e).splitlines()[0]))
                page.goto(base + "/")  # the frame first: a first visit straight to /train is test_hosted_browser's
                page.get_by_role("button", name="Train a small demo").wait_for()
                page.locator('[data-testid="stSidebarNavLink"]', has_text="Train").first.click()
                page.get_by_role("button", name="Use preset").click()
                page.get_by_text("Corpus: small_world").first.wait_for()
                epochs = page.get_by_label("Epochs", exact=True)
                epochs.fill("1")
                epochs.press("Enter")
                page.wait_for_timeout(1500)
                first = train_once(page, errors, set())
                if first is not None and not errors:
                    break
                page.close()
            assert first is not None and not errors, f"could not train before the edit: {errors}"

            with open(app / "core" / "download.py", "a") as f:
                f.write("\n# edited while the server runs\n")
            time.sleep(3)  # the file watcher's turn

            second = train_once(page, errors, {first})
            assert not errors, f"the tab went blank after the edit: {errors}"
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
            page.locator('[role="option"]').first.wait_for()
            listed = [int(m) for t in page.locator('[role="option"]').all_inner_texts()
                      for m in re.findall(r"#(\d+) ", t)]
        finally:
            browser.close()
    assert len(listed) == 2 and len(set(listed)) == 2, \
        f"after the edit the session's runs are {listed}: run ids restarted (first run #{first})"
    assert second is not None, f"the Train page still shows only run #{first} after Start training"
    assert not errors, errors


def test_training_again_and_again_never_blanks_the_tab(load_test, tmp_path):
    """Three visitors each train the Demo preset (1 epoch) five times on Train, pressing Start as
    soon as the previous run is done. No tab may die.

    Known failure (reported to the lead): at the end of a run, the live fragments of the page
    (ui/widgets.py `live`: the Train page's status and loss fragments, the sidebar's) each call
    st.rerun() from inside a `run_every` fragment; now and then Streamlit's frontend then gets a
    delta for a path that no longer exists, throws "Cannot set a node at a delta path" or "'setIn'
    cannot be called on an ElementNode", and the whole tab goes blank. On this 2-core machine one
    of the three sessions died in every one of four runs (and one session alone died within ten
    trainings in two of three runs).

    Also caught here: a run that finished while the Train page showed an earlier one (CI of
    2026-12-05: runs #5 and #6 never showed "done" to their visitors; not reproduced in 20 runs here,
    the likely cause, a stale `set=` taking the focus back, is tested in tests/test_focus.py), and
    two Start buttons at once (seen twice in 20 runs here: the notes above Start moved it to another
    delta path, tests/test_app_train.py). A run not seen done within 90 s is listed with the text
    the page showed instead.
    """
    import asyncio

    from playwright.async_api import async_playwright

    progress = '[data-testid="stMain"] [data-testid="stProgress"]'

    async def visitor(browser, base: str, name: str, errors: dict[str, list[str]], done: dict[str, list[int]]):
        page = await (await browser.new_context(viewport=load_test.VIEWPORT)).new_page()
        errors[name], done[name] = [], []
        page.on("pageerror", lambda e: errors[name].append(str(e).splitlines()[0]))
        await page.goto(base + "/train")
        await page.get_by_role("button", name="Use preset").click()
        await page.get_by_text("Corpus: small_world").first.wait_for()
        epochs = page.get_by_label("Epochs", exact=True)
        await epochs.fill("1")
        await epochs.press("Enter")
        await page.wait_for_timeout(1500)
        for _ in range(5):
            if errors[name]:
                return
            await page.get_by_role("button", name="Start training").click(timeout=60_000)
            deadline = time.monotonic() + 90
            text = ""
            while time.monotonic() < deadline and not errors[name]:
                text = " ".join(await page.locator(progress).all_inner_texts())
                m = re.search(r"#(\d+) .*done:", text)
                if m and int(m.group(1)) not in done[name]:
                    done[name].append(int(m.group(1)))
                    break
                await asyncio.sleep(0.1)
            else:
                done[name].append(f"not done after 90 s: {text!r}")

    async def drive(base: str) -> tuple[dict, dict]:
        errors: dict[str, list[str]] = {}
        done: dict[str, list[int]] = {}
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=load_test.CHROMIUM_ARGS)
            try:
                first = await browser.new_page()  # the frame first (a first visit by link: test_hosted_browser.py)
                await first.goto(base + "/")
                await first.get_by_role("button", name="Train a small demo").wait_for()
                await first.close()
                await asyncio.gather(*(visitor(browser, base, f"visitor{i + 1}", errors, done) for i in range(3)))
            finally:
                await browser.close()
        return errors, done

    with hosted_server(load_test, tmp_path) as base:
        errors, done = asyncio.run(drive(base))
    assert not any(errors.values()), f"tabs went blank: {errors} (runs done per visitor: {done})"
    assert all(len(ids) == 5 and all(isinstance(i, int) for i in ids) for ids in done.values()), done
