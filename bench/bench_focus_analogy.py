"""The Analogies playground on a large prepared set: exact scan vs the approximate index, as the page
calls them (Vectors.analogy(b, a, c, topn=5, method=..., approximate=...)).

Generates an N x D word2vec binary (bench_large_vectors.generate, clustered rows), prepares it with
the operator's command (`python -m core prepare SRC -o DIR --index`), opens it the way the app does
(vector_io.open_mmap + ui.vector_sets.attach_cached_index), reads the files through once (warm page
cache, the steady state of a server), then times --queries random a - b + c questions per method and
path, interleaved. Reports the median and the 90th percentile per path and the exact/approximate ratio,
and how often the approximate top-1 equals the exact one.

    python bench/bench_focus_analogy.py --n 100000          # ~1-2 min here
    python bench/bench_focus_analogy.py --dir /tmp/focus1m --out bench/results/focus_analogy_1m.json
                                                            # 1,000,000 x 300: the index build takes 10s of minutes
With --page, the real Analogies page is then opened in Chromium on the prepared set (hosted mode,
W2V_VECTORS_DIR = the prepared folder's parent, `/analogies?set=NAME&a=..&b=..&c=..`): seconds from the link
to the answer, then --page-queries new words typed into the `a` box, each until the page's figure
shows the new question; the page's caption says which search answered and its server-side milliseconds.

With --prepared DIR, an existing prepared folder is timed instead (without an index: the exact path
only), e.g. bench_map.py's 100,000-word set.

With --dir, a folder generated and prepared by an earlier run is reused (generate and prepare are
skipped, their seconds reported as null), so the timing can be repeated without rebuilding the index.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_large_vectors import generate, read_through  # noqa: E402

from core.vectors import keyed, vector_io  # noqa: E402
from ui.vector_sets import attach_cached_index, search_mode  # noqa: E402

CAPTION_JS = """() => { for (const e of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    const t = e.innerText; if (/(Approximate index|Exact search), [0-9,]+ words: /.test(t)) return t; }
    return null; }"""


DRAWN_JS = """label => [...document.querySelectorAll('.js-plotly-plot')].some(
    gd => gd.data && JSON.stringify(gd.data).includes(label))"""


def page_stage(prepared: Path, triples: list[tuple[str, str, str]], timeout: float = 600) -> dict:
    """The Analogies page as a visitor opens it: the link, then words typed into the `a` box."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle

    a, b, c = triples[0]
    row: dict = {"load_avg_1m_before": round(os.getloadavg()[0], 1)}
    env = {"W2V_HOSTED": "1", "W2V_VECTORS_DIR": str(prepared.parent)}
    with streamlit_server(env) as (base, _log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        t0 = time.perf_counter()
        page.goto(f"{base}/analogies?set={prepared.name}&a={a}&b={b}&c={c}")
        page.wait_for_function(DRAWN_JS, arg=f"{a} - {b} + {c}", timeout=timeout * 1000, polling=100)
        row["link_to_answer_s"] = round(time.perf_counter() - t0, 2)  # includes opening the set once
        wait_idle(page, timeout=timeout)
        row["captions"] = [page.evaluate(CAPTION_JS)]
        row["typed_to_answer_s"] = []
        for new_a, _, _ in triples[1:]:
            box = page.get_by_label("a", exact=True)
            t0 = time.perf_counter()
            box.fill(new_a)
            box.press("Enter")
            # subtle: done when the figure shows the new question (the caption alone may repeat itself)
            page.wait_for_function(DRAWN_JS, arg=f"{new_a} - {b} + {c}", timeout=timeout * 1000, polling=50)
            row["typed_to_answer_s"].append(round(time.perf_counter() - t0, 2))
            wait_idle(page, timeout=timeout, settle=0.3)
            row["captions"].append(page.evaluate(CAPTION_JS))
        errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
        row["page_errors"] = [e[:200] for e in errors]
        browser.close()
    ms = [float(m.group(1).replace(",", "")) for t in row["captions"]
          if t and (m := re.search(r"words: ([0-9,.]+) ms", t))]
    row["caption_ms_median"] = float(np.median(ms)) if ms else None
    row["search_shown"] = sorted({t.split(",")[0] for t in row["captions"] if t})
    row["load_avg_1m_after"] = round(os.getloadavg()[0], 1)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--dir", type=Path, default=None, help="work folder, reused when already prepared")
    ap.add_argument("--prepared", type=Path, default=None,
                    help="a folder prepared earlier (with or without --index) instead of generating one")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--page", action="store_true", help="also time the real Analogies page in Chromium")
    ap.add_argument("--page-queries", type=int, default=5)
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="w2v-focus-bench-"))
    src, out = work / "src.bin", args.prepared or work / "prepared"
    load_before = os.getloadavg()
    gen_s = prep_s = None
    prepare_peak_mb = None
    if args.prepared is None and not any(out.glob(f"{vector_io.INDEX_DIR}/ann-*/manifest.json")):
        work.mkdir(parents=True, exist_ok=True)  # a finished prepare is reused, anything else redone
        t = time.perf_counter()
        generate(src, args.n, args.dim)
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "prepare", str(src), "-o", str(out), "--index"],
                       cwd=ROOT, check=True)
        prep_s = time.perf_counter() - t
        # subtle: the only child so far, so this is its peak (it can include this process's own
        # small peak at spawn time, ~0.1 GB: generate writes in blocks)
        prepare_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        src.unlink()  # the prepared folder holds the vectors; 1.2 GB less on disk
    v = vector_io.open_mmap(out)
    indexed = attach_cached_index(v, out / vector_io.INDEX_DIR)
    assert indexed or args.prepared, "prepare --index left no usable index"
    read_through([p for p in out.rglob("*") if p.is_file()])
    rng = np.random.default_rng(0)
    triples = [tuple(v.words[i] for i in rng.choice(min(len(v), 30_000), 3, replace=False))
               for _ in range(args.queries)]
    times: dict[str, list[float]] = {}
    same = {"add": 0, "mul": 0}
    for a, b, c in triples:
        for method in ("add", "mul"):
            got = {}
            for approximate in (False, True) if indexed else (False,):  # interleaved: noise hits both
                t = time.perf_counter()
                got[approximate] = v.analogy(b, a, c, topn=5, method=method, approximate=approximate)
                times.setdefault(f"{method} {'approximate' if approximate else 'exact'}", []).append(
                    time.perf_counter() - t)
            same[method] += indexed and got[True][0][0] == got[False][0][0]
    result = {"n": len(v), "dim": v.dim, "set": out.name, "generate_s": gen_s, "prepare_index_s": prep_s,
              "prepare_peak_rss_mb": prepare_peak_mb,
              "index_build_s": v.ann_index.build_seconds if indexed else None,
              "page_would_use_index": search_mode(v), "queries": args.queries,
              "composed_ef": getattr(keyed, "COMPOSED_EF", None),  # the index's candidates per analogy
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                      "after": [round(x, 2) for x in os.getloadavg()]}}
    for key, ts in times.items():
        result[key] = {"median_ms": 1e3 * float(np.median(ts)), "p90_ms": 1e3 * float(np.percentile(ts, 90))}
    for method in ("add", "mul") if indexed else ():
        result[f"{method} exact/approximate"] = (result[f"{method} exact"]["median_ms"]
                                                 / result[f"{method} approximate"]["median_ms"])
        result[f"{method} top-1 agreement"] = same[method] / args.queries
    if args.page:
        del v  # subtle: the page's server opens the set itself; this process's mapping only costs memory
        result["page"] = page_stage(out, triples[:args.page_queries + 1])
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
