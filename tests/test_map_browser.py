"""The Embeddings map in a real browser: a hosted-mode server with a 100,000-word prepared set (with
stored PCA coordinates) in W2V_VECTORS_DIR; headless Chromium opens Embeddings with ?set= and a
searched word, counts the points plotly drew (every word), sees the word and its neighbours
highlighted, clicks a neighbour (which becomes the search), downloads the CSV (a row per word)
and saves docs/screenshots/embeddings-100k.png.

Software WebGL (SwiftShader): the machine has no GPU. Uses Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from core.vectors import layout, vector_io
from core.vectors.keyed import Vectors
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, errors_on, streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
N = 100_000
GL_ARGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
COUNT_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData) return null;
    const out = {}; for (const t of gd._fullData) out[t.meta === 'words' ? 'words' : t.name] =
        (out[t.meta === 'words' ? 'words' : t.name] || 0) + (t._length || 0);
    return out; }"""

CLICK_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    const t = gd._fullData.find(t => t.name === 'neighbours'); const L = gd._fullLayout;
    const r = gd.getBoundingClientRect();
    return {word: t.text[0], x: r.left + L.xaxis._offset + L.xaxis.l2p(t.x[0]),
            y: r.top + L.yaxis._offset + L.yaxis.l2p(t.y[0])}; }"""

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
        let alone = true;  // no other point within 4 px, so the click picks this one
        for (let j = 0; j < t._length && alone; j++) if (j !== i && Math.hypot(L.xaxis.l2p(t.x[j]) - px,
            L.yaxis.l2p(t.y[j]) - py) < 4) alone = false;
        if (alone) return {word: t.text[i], x: r.left + L.xaxis._offset + px, y: r.top + L.yaxis._offset + py};
    }
    return null; }"""


@pytest.fixture(scope="module")
def big_set(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sets")
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (N // 500, 32))
    X = (centres[rng.integers(0, len(centres), N)] + rng.normal(0, 1, (N, 32))).astype(np.float32)
    vector_io.save(Vectors([f"w{i}" for i in range(N)], X), root / "big.bin")
    folder = root / "big"
    vector_io.convert_to_npy(root / "big.bin", folder)
    (root / "big.bin").unlink()
    v = vector_io.open_mmap(folder)
    layout.save_layout(folder, layout.compute(v.words, v.unit, "pca"))
    return folder


def test_embeddings_draws_every_word_of_a_100k_set(big_set, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    env = {"W2V_HOSTED": "1", "W2V_VECTORS_DIR": str(big_set.parent)}
    with streamlit_server(env) as (base, log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *GL_ARGS])
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
            page.goto(base + "/")  # the frame first (a first visit straight to a page is issue 14 item 4)
            wait_idle(page, timeout=120)
            page.goto(f"{base}/embeddings?set=big&word=w42")
            page.wait_for_function(COUNT_JS.replace("return out;", "return out.words >= 1 ? out : null;"),
                                   timeout=240_000, polling=250)
            wait_idle(page, timeout=240)
            counts = page.evaluate(COUNT_JS)
            assert counts["words"] == N, counts
            assert counts.get("query") == 1 and counts.get("neighbours", 0) >= 5, counts
            assert errors_on(page) == [], errors_on(page)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "embeddings-100k.png"))
            # a click on the first neighbour searches for it: the map centres on it, the box shows it
            target = page.evaluate(CLICK_JS)
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function(f"() => document.querySelector('input[aria-label=\"find a word\"]')"
                                   f".value === '{target['word']}'", timeout=120_000, polling=250)
            wait_idle(page, timeout=240)
            assert page.evaluate(COUNT_JS).get("query") == 1
            # a click on a plain WebGL point (away from the labelled markers) searches for its word
            target = page.evaluate(POINT_JS)
            assert target is not None
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function(f"() => document.querySelector('input[aria-label=\"find a word\"]')"
                                   f".value === '{target['word']}'", timeout=120_000, polling=250)
            wait_idle(page, timeout=240)
            button = page.get_by_role("button", name="Download coordinates of all 100,000 words (CSV)")
            with page.expect_download(timeout=180_000) as dl:
                button.click()
            rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
            assert rows[0][:3] == ["word", "x", "y"] and len(rows) == N + 1
            assert rows[43][0] == "w42"
        finally:
            browser.close()
