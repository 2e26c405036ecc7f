"""Hosted exploration in a real browser (issue 14's "done when"): one freshly started hosted-mode
server (`streamlit run app.py`, W2V_HOSTED=1) whose W2V_VECTORS_DIR holds a 100,000-word set made
by `python -m core prepare ... --layout pca` from generated vectors and a small real set trained
by `python -m core train` on sample_corpora/small_world.txt, driven by headless Chromium:

1. the server's very first visit is a shared Analogies link naming the small set: the page runs
   inside the app's frame (the sidebar lists the pages by title, with the app's own controls),
   uses the link's words, answers them and shows the link to copy. This was a bug: Streamlit 1.67
   treats a main script beside a `pages/` folder as an old-style multipage app until some session
   has called st.navigation, so the first visitor got pages/analogies.py run alone (a sidebar of
   file names, no frame, the query ignored); ui/links.py ensure_frame runs app.py in such a run;
2. Embeddings on the 100,000-word set draws every word (counted in plotly's figure in the
   browser), highlights the searched word and its neighbours, a click on a neighbour or on a plain
   WebGL point searches for its word, and the CSV download has a row per word plus the header;
3. a small word2vec text file uploaded on Vectors comes into focus and drives Embeddings (every
   uploaded word drawn) and Analogies (the answers are the upload's words, queen first).
Screenshots go to docs/screenshots/hosted-*.png.

One server and one browser for all three, to keep CI time down (this replaced
tests/test_map_browser.py and test_load.py's first-visit test). Uses Debian's /usr/bin/chromium
through Playwright (never `playwright install`), with software WebGL; skipped when either is missing.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.vectors import vector_io
from core.vectors.keyed import Vectors
from tests.conftest import SMALL_WORLD
from tests.test_browser import (
    CHROMIUM,
    GL_ARGS,
    SHOTS,
    chromium,
    click_nav,
    errors_on,
    nav_pages,
    new_page,
    streamlit_server,
    wait_idle,
)
from tests.test_links import write_link_set

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
N_BIG = 100_000
DIM_BIG = 16  # cheap to prepare and to send; the map does not depend on the dimension
SMALL = "small-world.bin"
VIEWPORT = {"width": 1280, "height": 900}
MAIN = '[data-testid="stMain"]'

# words per kind of trace of the plotly figure on the page ('words': the map's points)
COUNT_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData) return null;
    const out = {}; for (const t of gd._fullData) { const k = t.meta === 'words' ? 'words' : t.name;
        out[k] = (out[k] || 0) + (t._length || 0); }
    return out; }"""
# the screen position of the first highlighted neighbour
NEIGHBOUR_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    const t = gd._fullData.find(t => t.name === 'neighbours'); const L = gd._fullLayout;
    const r = gd.getBoundingClientRect();
    return {word: t.text[0], x: r.left + L.xaxis._offset + L.xaxis.l2p(t.x[0]),
            y: r.top + L.yaxis._offset + L.yaxis.l2p(t.y[0])}; }"""
# a plain WebGL point near the middle, no other point within 4 px and away from the labelled markers
POINT_JS = """() => { const gd = document.querySelector('.js-plotly-plot'); const L = gd._fullLayout;
    const r = gd.getBoundingClientRect(); const [x0, x1] = L.xaxis.range, [y0, y1] = L.yaxis.range;
    const marked = gd._fullData.filter(t => t.meta !== 'words' && t.x).flatMap(t =>
        Array.from(t.x, (x, i) => [L.xaxis.l2p(x), L.yaxis.l2p(t.y[i])]));
    const t = gd._fullData.find(t => t.meta === 'words');
    for (let i = 0; i < t._length; i++) {
        const x = t.x[i], y = t.y[i];
        const fx = (x - x0) / (x1 - x0), fy = (y - y0) / (y1 - y0);
        if (fx < 0.2 || fx > 0.8 || fy < 0.2 || fy > 0.8) continue;
        const px = L.xaxis.l2p(x), py = L.yaxis.l2p(y);
        if (marked.some(([mx, my]) => Math.hypot(mx - px, my - py) < 25)) continue;
        let alone = true;
        for (let j = 0; j < t._length && alone; j++) if (j !== i && Math.hypot(L.xaxis.l2p(t.x[j]) - px,
            L.yaxis.l2p(t.y[j]) - py) < 4) alone = false;
        if (alone) return {word: t.text[i], x: r.left + L.xaxis._offset + px, y: r.top + L.yaxis._offset + py};
    }
    return null; }"""
SEARCH_IS_JS = "w => document.querySelector('input[aria-label=\"find a word\"]').value === w"
# the map's bottom at the window's bottom: the search box and the whole map in view (as a visitor scrolls)
SCROLL_TO_MAP_JS = "() => document.querySelector('.js-plotly-plot').scrollIntoView({block: 'end'})"


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory) -> Path:
    """The operator's folder: `big` (100,000 generated clustered vectors, prepared with stored PCA
    coordinates by the CLI) and `small-world.bin` (trained on the sample corpus by the CLI: two
    epochs, seeded, so one thread and the same vectors every time; berlin - germany + france is
    paris there by a margin of ~0.03 in cosine). The two commands run side by side."""
    root = tmp_path_factory.mktemp("hosted")
    served = root / "served"
    served.mkdir()
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (N_BIG // 500, DIM_BIG))
    X = centres[rng.integers(0, len(centres), N_BIG)] + rng.normal(0, 1, (N_BIG, DIM_BIG))
    vector_io.save(Vectors([f"w{i}" for i in range(N_BIG)], X.astype(np.float32)), root / "big.bin")
    logs = {name: root / f"{name}.log" for name in ("prepare", "train")}
    commands = {
        "prepare": ["prepare", str(root / "big.bin"), "-o", str(served / "big"), "--layout", "pca", "--quiet"],
        "train": ["train", str(SMALL_WORLD), "-o", str(served / SMALL), "--binary", "--epochs", "2", "--size", "32",
                  "--seed", "1", "--quiet"],
    }
    procs = {}
    for name, args in commands.items():
        with open(logs[name], "w") as out:
            procs[name] = subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, stdout=out,
                                           stderr=subprocess.STDOUT)
    for name, proc in procs.items():
        assert proc.wait(600) == 0, f"{name} failed:\n{logs[name].read_text()[-2000:]}"
    return served


def settled(page, timeout: float = 120.0) -> None:
    wait_idle(page, timeout=timeout)
    assert errors_on(page) == [], errors_on(page)


def shown_link(page) -> str:
    """The link the page shows to copy (its code box)."""
    return page.locator(f'{MAIN} [data-testid="stCode"]').first.inner_text().strip()


def answers(page, timeout: float = 60.0) -> list[str]:
    """The words of the first table on the page (drawn on a canvas; its cells are also in an
    accessible grid, filled after the table appears): the playground's answers on Analogies."""
    table = page.locator(f'{MAIN} [data-testid="stDataFrame"]').first
    deadline = time.monotonic() + timeout
    while True:
        cells = table.locator('[role="gridcell"]').all_text_contents()
        if cells or time.monotonic() > deadline:
            return cells[::2]  # words, not scores
        time.sleep(0.2)


def map_counts(page, at_least: int, timeout: float = 240.0) -> dict:
    """Points per kind of trace once the map holds `at_least` words."""
    page.wait_for_function(COUNT_JS.replace("return out;", f"return out.words >= {at_least} ? out : null;"),
                           timeout=timeout * 1000, polling=250)
    settled(page, timeout)
    return page.evaluate(COUNT_JS)


def click_searches(page, where: str) -> str:
    """Click the point that script `where` finds (its screen position, the map scrolled into view):
    the search box must then hold its word (the page reran). Returns the word."""
    page.evaluate(SCROLL_TO_MAP_JS)
    target = page.evaluate(where)
    assert target is not None, f"no point to click ({where[:40]}...)"
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function(SEARCH_IS_JS, arg=target["word"], timeout=120_000, polling=250)
    settled(page, 240)
    return target["word"]


def test_hosted_first_visit_link_then_a_100k_map_then_an_upload(vectors_dir, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); browser tests need Debian's Chromium")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "my-vectors.txt"
    write_link_set(upload)  # 52 words, word2vec text: rome - italy + france is paris, king - man + woman is queen
    env = {"W2V_HOSTED": "1", "W2V_VECTORS_DIR": str(vectors_dir)}
    with streamlit_server(env) as (base, log), chromium(GL_ARGS) as browser:
        page = new_page(browser, viewport=VIEWPORT, accept_downloads=True)
        script_errors: list[str] = []
        page.on("pageerror", lambda e: script_errors.append(str(e).splitlines()[0]))

        started = time.monotonic()
        # 1. the fresh server's first visit: a shared link to an analogy on one of its sets
        page.goto(f"{base}/analogies?set={SMALL}&a=berlin&b=germany&c=france")
        page.locator(f"{MAIN} h1", has_text=re.compile("Analogies", re.I)).wait_for(timeout=120_000)
        page.locator(f'{MAIN} [data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
        settled(page)
        first = answers(page)
        titles = [t for t, _ in nav_pages(page)]
        assert "Home" in titles and "Analogies" in titles and "Embeddings" in titles and "app" not in titles, \
            f"sidebar lists {titles}: the page ran without app.py's frame"
        assert page.get_by_text("Large text (projector)").count() == 1, "app.py's sidebar controls are missing"
        inputs = [page.get_by_label(label, exact=True).input_value() for label in ("a", "- b", "+ c")]
        assert inputs == ["berlin", "germany", "france"], f"the link's words were not used: {inputs}"
        assert first and first[0] == "paris" and "queen" not in first, f"answers: {first}"
        link = shown_link(page)
        assert link.startswith(f"{base}/analogies?") and f"set={SMALL}" in link and "a=berlin" in link, link
        assert f"set={SMALL}" in page.url and "a=berlin" in page.url, page.url
        page.screenshot(path=str(SHOTS / "hosted-first-visit.png"))
        print(f"first visit answered: {time.monotonic() - started:.1f} s")

        # 2. the 100,000-word prepared set: every word drawn, search, clicks, the CSV
        page.goto(f"{base}/embeddings?set=big&word=w42")
        counts = map_counts(page, N_BIG)
        assert counts["words"] == N_BIG, counts
        print(f"100,000 words drawn: {time.monotonic() - started:.1f} s")
        assert counts.get("query") == 1 and counts.get("neighbours", 0) >= 5, counts
        link = shown_link(page)
        assert link.startswith(f"{base}/embeddings?") and "set=big" in link and "word=w42" in link, link
        page.evaluate(SCROLL_TO_MAP_JS)
        page.screenshot(path=str(SHOTS / "hosted-embeddings-100k.png"))
        word = click_searches(page, NEIGHBOUR_JS)  # a click on a highlighted neighbour searches for it
        assert page.evaluate(COUNT_JS).get("query") == 1
        assert f"word={word}" in shown_link(page)
        click_searches(page, POINT_JS)  # so does a click on a plain WebGL point
        with page.expect_download(timeout=180_000) as download:
            page.get_by_role("button", name=f"Download coordinates of all {N_BIG:,} words (CSV)").click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert rows[0][:3] == ["word", "x", "y"] and len(rows) == N_BIG + 1, (rows[:2], len(rows))
        assert rows[43][0] == "w42" and len({r[0] for r in rows[1:]}) == N_BIG
        print(f"clicks and CSV done: {time.monotonic() - started:.1f} s")

        # 3. an uploaded file comes into focus and drives Embeddings and Analogies
        page.goto(f"{base}/vectors")
        settled(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
        page.locator(f'{MAIN} [data-testid="stFileUploader"]', has_text=upload.name).wait_for()
        settled(page)  # the upload's rerun
        page.get_by_role("button", name="Load vectors").click()
        page.get_by_text(f"Loaded 52 words x 16 dimensions from {upload.name}").wait_for(timeout=60_000)
        settled(page)
        click_nav(page, "Embeddings")
        page.wait_for_url(re.compile(rf".*/embeddings\?.*set={re.escape(upload.name)}"), timeout=60_000)
        counts = map_counts(page, 52)
        assert counts["words"] == 52, counts
        assert page.get_by_text(f"loaded set {upload.name} · 52 words x 16 dimensions").count() >= 1
        page.evaluate(SCROLL_TO_MAP_JS)
        page.screenshot(path=str(SHOTS / "hosted-upload.png"))
        click_nav(page, "Analogies")
        page.wait_for_url(re.compile(r".*/analogies\?"), timeout=60_000)
        settled(page)
        got = answers(page)  # the page's default question (king - man + woman), answered from the upload
        uploaded = {line.split()[0] for line in upload.read_text().splitlines()[1:]}
        assert got[0] == "queen" and set(got) <= uploaded, got
        assert page.get_by_text(f"loaded set {upload.name} · 52 words x 16 dimensions").count() >= 1
        assert f"set={upload.name}" in shown_link(page) and "a=king" in shown_link(page)
        print(f"upload explored: {time.monotonic() - started:.1f} s")
        assert not script_errors, script_errors
        assert "Traceback" not in log.read_text()
