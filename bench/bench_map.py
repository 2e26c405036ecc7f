"""The word map at scale: which WebGL route draws 100,000 and 1,000,000 points, and what
`python -m core prepare --layout` costs.

Browser stage (`--browser`, default on): for each kind and N, a fresh `streamlit run
bench/_map_app.py` (MAP_KIND, MAP_N) and a fresh headless Chromium (Debian's, through Playwright;
software WebGL: --use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader, as the machine
has no GPU) measure
  open->drawn  page.goto until the map is on screen: plotly, its graph div holds N points and
               two animation frames passed; deck.gl, its canvas exists and two frames passed
  payload      bytes received over Streamlit's websocket (the figure travels in it)
  browser MB   proportional set size (Pss) of every Chromium process, after drawing
  JS heap MB   performance.memory.usedJSHeapSize of the page
  server MB    peak RSS (VmHWM) of the Streamlit server
kinds: none (the page without a map: Streamlit's own boot, the baseline), plotly (go.Scattergl
via st.plotly_chart), page-figure (core.plots.map_figure, what the
Embeddings page sends: Scattergl + colour + labels), pydeck (deck.gl ScatterplotLayer via
st.pydeck_chart, OrthographicView; pydeck serialises the rows as JSON records).
Prepare stage (`--prepare`): a synthetic clustered N x 300 word2vec binary
(bench_large_vectors.generate), converted once, then `python -m core prepare DIR --layout pca`
(and umap for N <= --umap-max) in a child: wall time and the child's peak RSS (wait4).

    python bench/bench_map.py                          # both stages, 100k and 1M (~10 min)
    python bench/bench_map.py --sizes 100000 --no-prepare
    python bench/bench_map.py --no-browser --no-prepare --page /tmp/bench-map-work/prep100000
Page stage (`--page DIR`): the real app in hosted mode with DIR's parent as W2V_VECTORS_DIR:
/embeddings?set=NAME opened until the map is drawn, then a word typed into the search box until
it is highlighted (the page's figure rebuilt and redrawn).
Writes bench/results/map.json (or --results).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

GL_ARGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
KINDS = ("none", "plotly", "page-figure", "pydeck")


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def descendants(root: int) -> list[int]:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    parent = {p: _ppid(p) for p in pids}
    out, todo = [], [root]
    while todo:
        cur = todo.pop()
        kids = [p for p, q in parent.items() if q == cur]
        out += kids
        todo += kids
    return out


def pss_mb(pids: list[int], name: str = "chrom") -> float:
    total = 0
    for p in pids:
        try:
            if name not in Path(f"/proc/{p}/comm").read_text():
                continue
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


DRAWN_JS = {
    "plotly": """n => { const gd = document.querySelector('.js-plotly-plot');
        if (!gd || !gd._fullData || !document.querySelector('.js-plotly-plot canvas')) return false;
        let c = 0; for (const t of gd._fullData) if (t.meta === 'words' || t.type === 'scattergl') c += t._length || 0;
        return c >= n ? c : false; }""",
    "none": """n => document.querySelector('[data-testid="stMarkdown"]') ? -1 : false""",
    "pydeck": """n => { const c = document.querySelector('[data-testid="stDeckGlJsonChart"] canvas');
        return c && c.width > 0 ? -1 : false; }""",
}
FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def browser_run(kind: str, n: int, timeout: float) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "MAP_KIND": kind, "MAP_N": str(n)}
    log = open(Path(tempfile.gettempdir()) / f"bench-map-{port}.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "bench/_map_app.py",
                               "--server.headless", "true", "--server.port", str(port),
                               "--browser.gatherUsageStats", "false", "--server.maxMessageSize", "1000"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    row: dict = {"kind": kind, "n": n, "load_avg_1m": round(os.getloadavg()[0], 1)}
    try:
        import urllib.request
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *GL_ARGS])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            received = [0]
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda f: received.__setitem__(0, received[0] + len(f if isinstance(f, (bytes, str))
                                                                                   else f.get("payload", b"")))))
            t0 = time.perf_counter()
            page.goto(f"http://localhost:{port}/", timeout=timeout * 1000)
            try:
                handle = page.wait_for_function(DRAWN_JS.get(kind, DRAWN_JS["plotly"]), arg=n,
                                                timeout=timeout * 1000, polling=100)
                page.evaluate(FRAMES_JS)
                row["open_to_drawn_s"] = round(time.perf_counter() - t0, 2)
                row["points_drawn"] = handle.json_value()
            except Exception as e:  # noqa: BLE001 - a kind that never draws is a result, not a crash
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
                row["open_to_drawn_s"] = None
            time.sleep(1.0)
            row["payload_mb"] = round(received[0] / 1e6, 2)
            row["js_heap_mb"] = round(page.evaluate("() => performance.memory.usedJSHeapSize") / 1e6, 1)
            row["browser_pss_mb"] = round(pss_mb(descendants(os.getpid())), 1)
            row["server_peak_mb"] = round(vm_hwm_mb(server.pid), 1)
            errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
            if errors:
                row["page_error"] = errors[0][:200]
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    return row


PAGE_COUNT_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData) return null; const out = {};
    for (const t of gd._fullData) {
        const k = t.meta === 'words' ? 'words' : t.name; out[k] = (out[k] || 0) + (t._length || 0); }
    return out; }"""


def page_run(folder: Path, word: str, timeout: float) -> dict:
    """The real Embeddings page on a prepared set (hosted mode, W2V_VECTORS_DIR = its parent):
    open to map drawn, then a search typed in the box until its word is highlighted."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import streamlit_server, wait_idle

    row: dict = {"set": folder.name, "word": word, "load_avg_1m": round(os.getloadavg()[0], 1)}
    env = {"W2V_HOSTED": "1", "W2V_VECTORS_DIR": str(folder.parent)}
    with streamlit_server(env) as (base, _log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *GL_ARGS])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        wait_idle(page, timeout=120)
        t0 = time.perf_counter()
        page.goto(f"{base}/embeddings?set={folder.name}")
        page.wait_for_function(PAGE_COUNT_JS.replace("return out;", "return out.words ? out : null;"),
                               timeout=timeout * 1000, polling=100)
        page.evaluate(FRAMES_JS)
        row["open_to_drawn_s"] = round(time.perf_counter() - t0, 2)
        row["drawn"] = page.evaluate(PAGE_COUNT_JS)
        wait_idle(page, timeout=timeout)
        box = page.get_by_label("find a word")
        t0 = time.perf_counter()
        box.fill(word)
        box.press("Enter")
        page.wait_for_function(PAGE_COUNT_JS.replace("return out;", "return out.query ? out : null;"),
                               timeout=timeout * 1000, polling=100)
        page.evaluate(FRAMES_JS)
        row["search_to_highlight_s"] = round(time.perf_counter() - t0, 2)
        row["browser_pss_mb"] = round(pss_mb(descendants(os.getpid())), 1)
        browser.close()
    return row


def prepare_run(n: int, method: str, work: Path, src: Path, umap_words: int | None = None) -> dict:
    out = work / f"prep{n}"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "core", "prepare", str(src), "-o", str(out), "--quiet"],
                       cwd=ROOT, check=True)
    t0 = time.perf_counter()
    extra = ["--umap-max", str(umap_words)] if method == "umap" and umap_words else []
    proc = subprocess.Popen([sys.executable, "-m", "core", "prepare", str(out), "--layout", method, *extra,
                             "--json", "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    row = {"n": n, "method": method, "seconds": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
           "exit": os.waitstatus_to_exitcode(status), "load_avg_1m": round(os.getloadavg()[0], 1)}
    if row["exit"] != 0:
        row["error"] = stderr.decode(errors="replace").strip().splitlines()[-1:]
    else:
        row["summary"] = json.loads(stdout.decode().strip().splitlines()[-1]).get("layout")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-prepare", action="store_true")
    ap.add_argument("--umap-max", type=int, default=100_000, help="run --layout umap only up to this N")
    ap.add_argument("--umap-words", type=int, default=None,
                    help="prepare --umap-max: UMAP lays out this many most frequent words (default all up to N)")
    ap.add_argument("--page", action="append", default=[], metavar="DIR",
                    help="also time the real Embeddings page on this prepared folder (repeatable)")
    ap.add_argument("--page-word", default=None, help="the word the page stage searches for (default: the 43rd)")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--work", default=None, help="folder for the synthetic sets (default a temp folder)")
    ap.add_argument("--results", default=str(ROOT / "bench" / "results" / "map.json"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"machine": f"{os.cpu_count()} cores", "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "browser": [], "prepare": []}
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every row: a long run that is stopped keeps what it measured
        out.write_text(json.dumps(results, indent=1) + "\n")

    if not args.no_browser:
        for n in sizes:
            for kind in args.kinds.split(","):
                row = browser_run(kind, n, args.timeout)
                print(json.dumps(row), flush=True)
                results["browser"].append(row)
                save()
    for folder in args.page:
        word = args.page_word or (Path(folder) / "vocab.txt").read_text(encoding="utf-8").split("\n")[42]
        row = page_run(Path(folder), word, args.timeout)
        print(json.dumps(row), flush=True)
        results.setdefault("page", []).append(row)
        save()
    if not args.no_prepare:
        from bench.bench_large_vectors import generate

        work = Path(args.work or tempfile.mkdtemp(prefix="bench-map-"))
        work.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            src = work / f"synthetic{n}.bin"
            if not src.exists():
                generate(src, n, args.dim)
            for method in ("pca", "umap"):
                if method == "umap" and n > args.umap_max:
                    continue
                row = prepare_run(n, method, work, src, args.umap_words)
                print(json.dumps(row), flush=True)
                results["prepare"].append(row)
                save()
    save()


if __name__ == "__main__":
    main()
