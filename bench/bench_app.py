"""App benchmark: how the explorer feels on this machine.

Measures, in order:
1. server start to first page rendered: `streamlit run app.py` launched, until Home's title is
   drawn in headless Chromium and the script run is over (the browser is started beforehand);
2. the Demo preset's training with a cold and a warm Numba compile cache, each in a fresh
   Python process (cold: NUMBA_CACHE_DIR set to an empty temporary directory): wall time of the
   whole process (imports, compile, reading small_world, training) and the training alone;
3. the Demo preset in the browser, from the click on "Train a small demo" to "done" (warm cache);
4. page switch time: a click on each sidebar link until the page's script run is over;
5. PCA (scikit-learn and core.projection's NumPy SVD) and UMAP (umap-learn) of 5,000 x 100
   vectors (random normal: the projection cost does not depend on what the vectors mean).

Usage: python bench/bench_app.py [--skip-browser] [--skip-umap] [--json PATH]
The machine may be shared: run it when it is quiet, and compare numbers from one run only.
Does not: compare against other tools (bench_train.py does) or assert anything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_SCRIPT = r"""
import json, time
t0 = time.perf_counter()
from ui import presets
from core.corpus import read_corpus
from core.train.trainer import Trainer
t_import = time.perf_counter() - t0
corpus = read_corpus("sample_corpora/small_world.txt", min_count=5)
t_read = time.perf_counter() - t0 - t_import
cfg = presets.to_config(presets.preset_params(presets.PRESETS["demo"]))
t1 = time.perf_counter()
result = Trainer(corpus, cfg).train()
t_train_call = time.perf_counter() - t1
print(json.dumps({"import_s": t_import, "read_s": t_read, "train_call_s": t_train_call,
                  "trainer_s": result.seconds, "wall_in_process_s": time.perf_counter() - t0,
                  "words_per_sec": result.words_per_sec}))
"""


def demo_in_subprocess(cache_dir: str | None) -> dict:
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", DEMO_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    data["process_wall_s"] = wall
    return data


def bench_projections(skip_umap: bool) -> dict:
    import numpy as np
    from sklearn.decomposition import PCA

    from core.vectors.projection import pca, umap_project

    X = np.random.default_rng(0).standard_normal((5000, 100)).astype(np.float32)
    out = {}
    t = time.perf_counter()
    PCA(n_components=2, random_state=0).fit_transform(X)
    out["pca_sklearn_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pca(X, 2)
    out["pca_core_s"] = time.perf_counter() - t
    if not skip_umap:
        t = time.perf_counter()
        umap_project(X, 2)
        out["umap_first_s"] = time.perf_counter() - t  # includes importing umap-learn and its JIT
        t = time.perf_counter()
        umap_project(X, 2)
        out["umap_second_s"] = time.perf_counter() - t
    return out


def timed_switch(page, title: str) -> float:
    """Click a sidebar link; seconds until the new page's script run is over and its title shows."""
    from tests.test_browser import click_nav

    t0 = time.perf_counter()
    click_nav(page, title)
    seen_running = False
    deadline = t0 + 60
    while time.perf_counter() < deadline:
        state = page.eval_on_selector('[data-testid="stApp"]', "e => e.getAttribute('data-test-script-state')")
        if state == "running":
            seen_running = True
        elif (seen_running or time.perf_counter() - t0 > 2.0) and page.locator("h1").count():
            return time.perf_counter() - t0
        time.sleep(0.01)
    raise RuntimeError(f"page {title} did not finish")


def bench_browser() -> dict:
    from tests.test_browser import CHROMIUM, chromium, nav_pages, new_page, streamlit_server, train_demo, wait_idle

    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not found"}
    out: dict = {}
    with chromium() as browser:
        page = new_page(browser)
        t0 = time.perf_counter()
        with streamlit_server() as (base, _log):
            out["server_health_s"] = time.perf_counter() - t0
            page.goto(base + "/")
            page.wait_for_selector("h1", timeout=60_000)
            wait_idle(page, settle=0.0)
            out["server_start_to_first_page_s"] = time.perf_counter() - t0
            time.sleep(3)  # let the kernel warm-up thread finish, as a visitor reading Home would
            out["demo_in_browser_s"] = train_demo(page)
            wait_idle(page)
            switches: dict[str, list[float]] = {}
            titles = [t for t, _ in nav_pages(page)]
            for _ in range(2):
                for title in titles:
                    switches.setdefault(title, []).append(timed_switch(page, title))
                    wait_idle(page, settle=0.3)
            out["page_switch_s"] = {t: round(min(v), 3) for t, v in switches.items()}
            allv = [min(v) for v in switches.values()]
            out["page_switch_median_s"] = statistics.median(allv)
            out["page_switch_max_s"] = max(allv)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--skip-umap", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    results: dict = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    if not args.skip_browser:
        print("browser: server start, demo in the browser, page switches …", flush=True)
        results["browser"] = bench_browser()
    print("demo preset, cold Numba cache …", flush=True)
    with tempfile.TemporaryDirectory(prefix="numba-cold-") as empty:
        results["demo_cold"] = demo_in_subprocess(empty)
    print("demo preset, warm Numba cache …", flush=True)
    demo_in_subprocess(None)  # make sure the default cache is populated
    results["demo_warm"] = demo_in_subprocess(None)
    print("projections of 5,000 words …", flush=True)
    results["projections"] = bench_projections(args.skip_umap)
    results["load_avg_at_end"] = os.getloadavg()

    def f(x: float) -> str:
        return f"{x:7.2f} s"

    print("\n== word2vec explorer: app benchmark ==")
    print(f"cores: {results['cpus']}, load average at start {results['load_avg_at_start'][0]:.1f}, "
          f"at end {results['load_avg_at_end'][0]:.1f}")
    b = results.get("browser", {})
    if "server_start_to_first_page_s" in b:
        print(f"server start -> health ok          {f(b['server_health_s'])}")
        print(f"server start -> first page drawn   {f(b['server_start_to_first_page_s'])}")
        print(f"demo preset in the browser (warm)  {f(b['demo_in_browser_s'])}  (click -> 'done')")
        print(f"page switch, median / max          {f(b['page_switch_median_s'])} / {f(b['page_switch_max_s'])}")
        for t, v in b["page_switch_s"].items():
            print(f"    {t:<20} {f(v)}")
    elif b:
        print(f"browser: {b.get('skipped')}")
    for kind in ("cold", "warm"):
        d = results[f"demo_{kind}"]
        print(f"demo preset, {kind} Numba cache: process {f(d['process_wall_s'])}, training call "
              f"{f(d['train_call_s'])} (trainer {d['trainer_s']:.2f} s, {d['words_per_sec'] / 1e6:.2f} M words/s)")
    p = results["projections"]
    print(f"PCA 5,000 x 100: scikit-learn {f(p['pca_sklearn_s'])}, core.projection {f(p['pca_core_s'])}")
    if "umap_first_s" in p:
        print(f"UMAP 5,000 x 100: first {f(p['umap_first_s'])} (import + JIT), second {f(p['umap_second_s'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
