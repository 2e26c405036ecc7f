"""Load test: many browser sessions exploring while two train, against one real server on loopback.

Starts `streamlit run app.py` on a free 127.0.0.1 port (hosted mode, W2V_HOSTED=1, unless
--no-hosted), with W2V_VECTORS_DIR pointing at a folder holding one word2vec binary trained up
front on the small-world sample (`python -m core train ...`; reused when already there). One
headless Chromium (Debian's /usr/bin/chromium through Playwright's async API; never
`playwright install`) opens one browser context per visitor: every context is its own Streamlit
session.

Setup (not timed as load): every explorer opens a shared link to the operator's vector set
(`/vectors?set=small_world.bin&word=...`, timed as `open_link`), then presses "Train a small demo"
on Home and waits for its own run (timed as `setup_demo`; all explorers press at once, so this
includes the wait in the training queue). Explorers need that run: the Analogies and Embeddings
pages work on the session's own run only, never on a loaded vector set, and reloading a URL
would start a new session without it.
Window (--seconds): the trainers start the Demo preset (Home) and, when it is done, train again
(Train's "Start training") until the window is over; so two trainings run during the whole
window. Meanwhile every explorer cycles through realistic interactions, with a think time
between them: switch to Analogies (`page_switch`), type a, b, c of two questions of the
small-world analogy set (`analogy`, one commit per word), switch to Vectors, look up the
neighbours of three words in the shared set (`neighbours`), switch to Embeddings and find two
words in the projection of its own run (`embeddings_find`).

Latency of an interaction: from the action (Enter in a text box, a click on a sidebar link, a
click on a button) until the page shows the expected new result (the analogy's "a - b + c"
label drawn by plotly, the "Closest to “w”" title, the query word's highlighted trace, "done:"
in the run's progress) and the app's script-run state (`data-test-script-state` on stApp, which
drives the "Running..." status widget) is back to `notRunning`. The page is polled every 50 ms.

Checks: the server answers /_stcore/health at the end and its process is alive; no page ever
shows an exception or error element; every run id a page shows ("#12 skip-gram ...") belongs to
that session, and at the end the sidebar's run list of every session is exactly the runs it
started (one for an explorer); no run id is claimed by two sessions; every interaction completes
within --timeout. The server's RSS (its process and any children, from /proc) is sampled every
0.5 s. Prints a markdown table, writes JSON (--results, default bench/results/load.json) and exits
1 when a check failed.

Usage: python bench/load_test.py [--sessions 12] [--trainers 2] [--seconds 90] [--port N]
       [--no-hosted] [--think 1.0] [--results PATH]
Does not: fix anything it finds, or measure the browser's own memory. Client and server share the
machine's cores, so latencies include the browsers' rendering time under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, ERROR_SELECTORS, VIEWPORT, free_port  # noqa: E402

CORPUS = ROOT / "sample_corpora" / "small_world.txt"
ANALOGIES = ROOT / "sample_corpora" / "small_world_analogies.txt"
VECTOR_FILE = "small_world.bin"
POLL_MS = 50
RUN_ID = re.compile(r"#(\d+):? (?:skip-gram|CBOW)")  # how every page names a run: "#12 skip-gram · NS · ..."

# Records every change of the app's script-run and connection state (attributes on stApp).
OBSERVER_JS = """
window.__w2v = {states: [], conns: [], blank: ''};
// Streamlit's frontend unmounts the whole app on an uncaught render error (a blank tab)
window.addEventListener('error', (e) => { window.__w2v.blank = String(e.message || e.error || 'error'); });
new MutationObserver((records) => {
  for (const r of records) {
    const v = r.target.getAttribute(r.attributeName);
    const list = r.attributeName === 'data-test-script-state' ? window.__w2v.states : window.__w2v.conns;
    if (list[list.length - 1] !== v) list.push(v);
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ['data-test-script-state', 'data-test-connection-state']});
"""
# true once the script run is over and `expect(arg)` holds; the error text when the tab went blank
DONE_JS = """([expect, arg]) => {
  if (window.__w2v.blank && !document.querySelector('[data-testid="stApp"]')) return 'blank: ' + window.__w2v.blank;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return (new Function('arg', 'return (' + expect + ')(arg)'))(arg);
}"""
# expectations: JS functions of one argument, true when the page shows the new result
SVG_TEXT = "(s) => [...document.querySelectorAll('.js-plotly-plot text')].some(t => t.textContent === s)"
TITLE = "(s) => [...document.querySelectorAll('.js-plotly-plot .gtitle')].some(t => t.textContent.includes(s))"
H1_AND_SVG = """([h, s]) =>
  [...document.querySelectorAll('[data-testid="stMain"] h1')].some(e => e.textContent.includes(h))
  && [...document.querySelectorAll('.js-plotly-plot text')].some(t => t.textContent.includes(s))"""
QUERY_TRACE = """(w) => { const tr = document.querySelectorAll('.js-plotly-plot .scatterlayer .trace');
  return tr.length > 0 && [...tr[tr.length - 1].querySelectorAll('text')].some(t => t.textContent === w); }"""
CORPUS_SHOWN = """(name) => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stCaptionContainer"]')]
  .some(e => e.textContent.includes('Corpus: ' + name))"""
INPUT_VALUE = """([label, v]) => [...document.querySelectorAll('input')]
  .some(i => i.getAttribute('aria-label') === label && i.value === v)"""
MAIN_PROGRESS = '[data-testid="stMain"] [data-testid="stProgress"]'


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- the server ----------------------------------------------------------------------------------------
def ensure_vectors(folder: Path) -> Path:
    """The operator's vector file, trained once on the small-world sample (3 epochs, binary)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / VECTOR_FILE
    if out.is_file() and out.stat().st_mtime >= CORPUS.stat().st_mtime:
        return out
    tmp = folder / (VECTOR_FILE + ".part")
    subprocess.run([sys.executable, "-m", "core", "train", str(CORPUS), "-o", str(tmp), "--binary", "--epochs", "3",
                    "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    tmp.replace(out)
    return out


def word_lists(vectors_file: Path) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """(analogy questions a b c d whose words are all in the vocabulary, content words to look up)."""
    from core.vectors import vector_io

    vocab = set(vector_io.load(vectors_file).words)
    questions, words = [], []
    for line in ANALOGIES.read_text().splitlines():
        parts = line.lower().split()
        if len(parts) == 4 and not line.startswith(":") and all(p in vocab for p in parts) and len(set(parts)) == 4:
            questions.append(tuple(parts))
            words.extend(p for p in parts if p not in words)
    return questions, words


def health(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def start_server(port: int, hosted: bool, vectors_dir: Path, log: Path, watch_files: bool = False,
                 cwd: Path = ROOT, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:`port`. Without `watch_files` Streamlit does not watch the
    sources: an edit of the checkout during the run (another job, a `git pull`) would otherwise
    reload every module of the app mid-test (see bench/README.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("W2V_")}
    env["W2V_VECTORS_DIR"] = str(vectors_dir)
    if hosted:
        env["W2V_HOSTED"] = "1"
    env.update(extra_env or {})
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
             "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "auto" if watch_files else "none"],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_healthy(proc: subprocess.Popen, base: str, log: Path, timeout: float = 90.0) -> float:
    t0 = time.monotonic()
    while not health(base):
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    return time.monotonic() - t0


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc/*/stat)."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def rss_bytes(pid: int) -> int:
    """VmRSS of `pid` and its descendants, in bytes (0 when it is gone)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields_ = f.read().rsplit(")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class RssSampler(threading.Thread):
    """Samples the server's RSS every `every` seconds; `peak` and `samples` (t, bytes)."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.peak = 0
        self._halt = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self._halt.is_set():
            rss = rss_bytes(self.pid)
            self.samples.append((time.monotonic() - self.t0, rss))
            self.peak = max(self.peak, rss)
            self._halt.wait(self.every)

    def now(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)


# -- one browser session ---------------------------------------------------------------------------------
@dataclass
class Interaction:
    session: str
    kind: str
    seconds: float | None  # None: it did not complete
    phase: str  # setup | window
    at: float  # seconds since the setup began
    error: str = ""


@dataclass
class Session:
    name: str
    role: str  # explorer | trainer
    page: object = None
    run_ids: list[int] = field(default_factory=list)  # runs this session started, in order
    problems: list[str] = field(default_factory=list)  # error elements, failed interactions
    isolation: list[str] = field(default_factory=list)  # run ids of other sessions shown, a wrong run list
    seen_ids: set[int] = field(default_factory=set)  # every run id any of its pages showed
    sidebar_runs: list[int] | None = None  # the sidebar's run list at the end
    console: list[str] = field(default_factory=list)  # the browser console's error messages
    last_status: str = ""  # the Train page's status line when last read
    resource_errors: int = 0  # "Failed to load resource" console messages
    blank: str = ""  # the JavaScript error after which the tab went blank ("" while it works)
    js_error: str = ""  # the first uncaught JavaScript error
    blank_events: list[str] = field(default_factory=list)  # each time the tab went blank (then reloaded)
    lost_runs: list[int] = field(default_factory=list)  # runs of the sessions lost to a blank tab
    needs_setup: bool = False  # reloaded: open the app again before going on
    # what the explorer's pages currently show (so the next expected result is known)
    triple: tuple[str, str, str] = ("king", "man", "woman")
    nn_word: str = ""
    emb_word: str = ""


class BlankTab(RuntimeError):
    """The session's tab went blank (Streamlit's frontend died): nothing more can be done in it."""


class Load:
    def __init__(self, args: argparse.Namespace, base: str, questions, words):
        self.args, self.base = args, base
        self.questions, self.words = questions, words
        self.interactions: list[Interaction] = []
        self.window_start: float | None = None
        self.window_end: float | None = None
        self.trainers_done = 0
        self.shot_dir = args.shots / time.strftime("%Y%m%d-%H%M%S") if args.shots else None

    def clock(self) -> float:
        return time.monotonic() - self.window_start if self.window_start is not None else -1.0

    def record(self, s: Session, kind: str, seconds: float | None, error: str = "") -> None:
        phase = "setup" if self.window_start is None else "window"
        self.interactions.append(Interaction(s.name, kind, seconds, phase, round(time.monotonic() - self.t_setup, 2),
                                             error))
        if error:
            s.problems.append(f"{kind}: {error}")

    # -- page helpers ------------------------------------------------------------------------------------
    async def wait_done(self, s: Session, expect: str, arg, timeout: float | None = None) -> None:
        """Wait for the end of the script run with `expect(arg)` true; BlankTab when the app died."""
        self.alive(s)
        handle = await s.page.wait_for_function(DONE_JS, arg=[expect, arg], polling=POLL_MS,
                                                timeout=(timeout or self.args.timeout) * 1000)
        value = await handle.json_value()
        if isinstance(value, str) and value.startswith("blank: "):
            s.blank = value.removeprefix("blank: ")
            self.alive(s)

    @staticmethod
    def alive(s: Session) -> None:
        if s.blank:
            raise BlankTab(f"the tab went blank earlier (Streamlit frontend error: {s.blank})")

    async def dead(self, s: Session) -> bool:
        """True when the tab went blank: a JavaScript error was seen and the app is gone from the page."""
        if not s.blank and s.js_error:
            try:
                if await s.page.locator('[data-testid="stApp"]').count() == 0:
                    s.blank = s.js_error
            except Exception:  # noqa: BLE001 - a closed or crashed page is dead too
                s.blank = s.js_error
        return bool(s.blank)

    async def still_drawn(self, s: Session) -> None:
        """BlankTab when the tab went blank."""
        if await self.dead(s):
            self.alive(s)

    def forget(self, s: Session) -> None:
        """After a blank tab: what a visitor pressing reload gets, a new session without runs."""
        s.blank_events.append(s.blank)
        say(f"{s.name}: the tab went blank ({s.blank}); reloading")
        s.lost_runs += s.run_ids
        s.run_ids, s.seen_ids = [], set()
        s.blank = s.js_error = ""
        s.triple, s.nn_word, s.emb_word = ("king", "man", "woman"), "", ""
        s.needs_setup = True

    async def with_reloads(self, s: Session, work) -> None:
        """Run `work()`; when the tab went blank, reload and run it again (at most --reloads times)."""
        while True:
            try:
                await work()
            except BlankTab:
                pass
            if not await self.dead(s) or len(s.blank_events) >= self.args.reloads:
                return
            self.forget(s)
            if self.window_start is not None and self.over(trainers=s.role == "explorer"):
                return

    async def timed(self, s: Session, kind: str, action, expect: str, arg, timeout: float | None = None) -> bool:
        """Run `action` and wait for `expect(arg)` and the end of the script run; record the latency.
        Raises BlankTab when the tab is (or went) blank."""
        await self.still_drawn(s)
        t0 = time.monotonic()
        try:
            await action()
            await self.wait_done(s, expect, arg, timeout)
        except Exception as e:  # noqa: BLE001 - a stuck page is a result to report, not a crash
            if await self.dead(s):
                self.record(s, kind, None, f"the tab went blank ({s.blank})")
                self.alive(s)
            self.record(s, kind, None, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
            await self.snapshot(s, kind)
            return False
        self.record(s, kind, time.monotonic() - t0)
        await self.check_page(s, kind)
        return True

    async def snapshot(self, s: Session, what: str) -> None:
        if self.shot_dir is None:
            return
        try:
            self.shot_dir.mkdir(parents=True, exist_ok=True)
            await s.page.screenshot(path=str(self.shot_dir / f"{s.name}-{what}-{int(time.time())}.png"))
        except Exception:  # noqa: BLE001 - best effort
            pass

    @staticmethod
    def page_error(s: Session, error) -> None:
        """An uncaught JavaScript error; Streamlit's frontend then usually shows a blank page."""
        text = str(error).splitlines()[0][:300]
        s.problems.append(f"JavaScript error: {text}")
        s.js_error = s.js_error or text

    @staticmethod
    def console(s: Session, message) -> None:
        """Keep the console's errors; count failed resource loads apart (fonts and the like from the
        internet, which a loopback test cannot reach)."""
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource"):
            s.resource_errors += 1
        elif len(s.console) < 20:
            s.console.append(message.text[:300])

    async def check_page(self, s: Session, where: str) -> None:
        """No exception/error element; every run id shown belongs to this session."""
        page = s.page
        errors = await page.locator(ERROR_SELECTORS).all_inner_texts()
        if errors:
            s.problems.append(f"{where}: error element: {' | '.join(e[:300] for e in errors)}")
            await self.snapshot(s, "error")
        text = await page.evaluate("document.querySelector('[data-testid=\"stApp\"]')?.innerText || ''")
        shown = {int(m) for m in RUN_ID.findall(text)}
        s.seen_ids |= shown
        foreign = shown - set(s.run_ids)
        if foreign:
            s.isolation.append(f"{where}: shows run(s) {sorted(foreign)} it did not start (its own: {s.run_ids})")

    async def nav(self, s: Session, title: str) -> None:
        """Click the sidebar link of page `title` (a link's text is "<icon name>\\n\\n<title>")."""
        links = s.page.locator('[data-testid="stSidebarNavLink"]')
        titles = [t.strip().splitlines()[-1].strip() for t in await links.all_inner_texts()]
        await links.nth(titles.index(title)).click()

    async def commit_text(self, s: Session, label: str, value: str) -> None:
        box = s.page.get_by_label(label, exact=True)
        await box.fill(value)
        await box.press("Enter")

    async def new_run_id(self, s: Session, timeout: float) -> int:
        """The id of the run this session just started, read from the Train page's status line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.still_drawn(s)
            for text in await s.page.locator(MAIN_PROGRESS).all_inner_texts():
                for m in RUN_ID.findall(text):
                    if int(m) not in s.run_ids:
                        return int(m)
            await asyncio.sleep(POLL_MS / 1000)
        raise TimeoutError("no new run appeared on Train")

    async def train(self, s: Session, kind: str, click) -> bool:
        """Start a training with `click`, then wait for the Train page to show it done.
        Raises BlankTab when the tab is (or went) blank."""
        await self.still_drawn(s)
        t0 = time.monotonic()
        try:
            await click()
            await s.page.wait_for_url(re.compile(r".*/train(\?.*)?$"), timeout=self.args.timeout * 1000)
            rid = await self.new_run_id(s, self.args.timeout)
            s.run_ids.append(rid)
            await self.wait_trained(s, rid, time.monotonic() + self.args.train_timeout)
        except Exception as e:  # noqa: BLE001
            if await self.dead(s):
                self.record(s, kind, None, f"the tab went blank ({s.blank})")
                self.alive(s)
            self.record(s, kind, None,
                        f"{type(e).__name__}: {str(e).splitlines()[0][:200]}; last status: {s.last_status!r}")
            await self.snapshot(s, kind)
            return False
        self.record(s, kind, time.monotonic() - t0)
        say(f"{s.name}: {kind} run #{rid} done in {time.monotonic() - t0:.1f} s")
        await self.check_page(s, kind)
        return True

    async def wait_trained(self, s: Session, rid: int, deadline: float) -> None:
        """Wait until the Train page says run `rid` is done (its status line, redrawn every second)."""
        pattern = re.compile(rf"#{rid} .*done:")
        while time.monotonic() < deadline:
            await self.still_drawn(s)
            texts = await s.page.locator(MAIN_PROGRESS).all_inner_texts()
            s.last_status = " | ".join(texts)[:300]
            if any(pattern.search(t) for t in texts):
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(f"run #{rid} not done after {self.args.train_timeout:.0f} s")

    async def think(self, rng: random.Random) -> None:
        if self.args.think > 0:
            await asyncio.sleep(self.args.think * rng.uniform(0.5, 1.5))

    # -- roles ---------------------------------------------------------------------------------------------
    async def open_session(self, browser, s: Session) -> None:
        ctx = await browser.new_context(viewport=VIEWPORT, color_scheme="light")
        ctx.set_default_timeout(self.args.timeout * 1000)
        await ctx.add_init_script(OBSERVER_JS)
        s.page = await ctx.new_page()
        s.page.on("crash", lambda *_: s.problems.append("the browser tab crashed"))
        s.page.on("pageerror", lambda e: self.page_error(s, e))
        s.page.on("console", lambda m: self.console(s, m))

    async def explorer_setup(self, s: Session, rng: random.Random) -> None:
        """Open a shared link to the operator's vector set, then train a run of its own."""
        s.nn_word = rng.choice(self.words)
        s.needs_setup = False
        await self.timed(s, "open_link", lambda: s.page.goto(f"{self.base}/vectors?set={VECTOR_FILE}&word={s.nn_word}"),
                         TITLE, f"Closest to “{s.nn_word}”")
        await self.still_drawn(s)
        if self.args.setup_epochs is None:  # the Demo preset as is, from Home's button
            await self.nav(s, "Home")
            await s.page.get_by_role("button", name="Train a small demo").wait_for()
            await self.train(s, "setup_demo", lambda: s.page.get_by_role("button", name="Train a small demo").click())
            return
        # Train: use the Demo preset, lower its epochs, start
        await self.nav(s, "Train")
        await s.page.get_by_role("button", name="Use preset").click()
        await self.wait_done(s, CORPUS_SHOWN, "small_world")
        await self.commit_text(s, "Epochs", str(self.args.setup_epochs))
        await self.wait_done(s, INPUT_VALUE, ["Epochs", str(self.args.setup_epochs)])
        await s.page.wait_for_timeout(500)  # the rerun of the new value may not have started yet
        await self.wait_done(s, INPUT_VALUE, ["Epochs", str(self.args.setup_epochs)])
        await self.train(s, "setup_demo", s.page.get_by_role("button", name="Start training").click)

    async def explorer_loop(self, s: Session, rng: random.Random) -> None:
        if s.needs_setup:  # reloaded after a blank tab: a new session needs its own run again
            await self.explorer_setup(s, rng)
        if not s.run_ids:
            s.problems.append("no run of its own after the setup: nothing to explore")
            return
        while not self.over():
            a, b, c = s.triple
            await self.timed(s, "page_switch", lambda: self.nav(s, "Analogies"), H1_AND_SVG,
                             ["Analogies", f"{a} - {b} + {c}"])
            await self.think(rng)
            for _ in range(2):
                q = rng.choice(self.questions)  # q: a b c d reads a : b :: c : d, so d = b - a + c
                target = (q[1], q[0], q[2])
                for i, label in enumerate(("a", "- b", "+ c")):
                    if s.triple[i] == target[i]:
                        continue
                    triple = tuple(target[i] if j == i else s.triple[j] for j in range(3))
                    ok = await self.timed(s, "analogy", lambda lb=label, v=target[i]: self.commit_text(s, lb, v),
                                          SVG_TEXT, f"{triple[0]} - {triple[1]} + {triple[2]}")
                    if ok:
                        s.triple = triple
                    await self.think(rng)
                if self.over():
                    return
            await self.timed(s, "page_switch", lambda: self.nav(s, "Vectors"), H1_AND_SVG,
                             ["Vectors", f"Closest to “{s.nn_word}”"])
            await self.think(rng)
            for _ in range(3):
                w = rng.choice([x for x in self.words if x != s.nn_word])
                if await self.timed(s, "neighbours", lambda w=w: self.commit_text(s, "Word", w), TITLE,
                                    f"Closest to “{w}”"):
                    s.nn_word = w
                await self.think(rng)
            if self.over():
                return
            await self.timed(s, "page_switch", lambda: self.nav(s, "Embeddings"), H1_AND_SVG,
                             ["Embeddings", "PCA of the top"])
            await self.think(rng)
            for _ in range(2):
                w = rng.choice([x for x in self.words if x != s.emb_word])
                if await self.timed(s, "embeddings_find", lambda w=w: self.commit_text(s, "find a word", w),
                                    QUERY_TRACE, w):
                    s.emb_word = w
                await self.think(rng)

    async def trainer_setup(self, s: Session) -> None:
        s.needs_setup = False
        await s.page.goto(self.base + "/")
        await s.page.get_by_role("button", name="Train a small demo").wait_for()

    async def trainer_loop(self, s: Session) -> None:
        """The Demo preset from Home, then "Start training" again on Train until the window is over."""
        if s.needs_setup:
            await self.trainer_setup(s)
        if not s.run_ids:
            await self.train(s, "train", lambda: s.page.get_by_role("button", name="Train a small demo").click())
        while not self.over(trainers=False):
            await self.train(s, "train", s.page.get_by_role("button", name="Start training").click)

    async def trainer(self, s: Session) -> None:
        try:
            await self.with_reloads(s, lambda: self.trainer_loop(s))
        finally:
            self.trainers_done += 1

    def over(self, trainers: bool = True) -> bool:
        """The window is over (for explorers: and the trainers have finished their last run)."""
        late = self.window_start is not None and self.clock() >= self.args.seconds
        if late and self.clock() >= self.args.seconds + self.args.train_timeout:
            return True  # a trainer that never finishes must not keep the explorers forever
        return late and (not trainers or self.trainers_done >= self.args.trainers)

    async def final_checks(self, s: Session) -> None:
        """The sidebar's run list must be exactly this session's runs."""
        if s.blank:
            return  # already a problem; a blank tab lists nothing
        try:
            await s.page.wait_for_function(DONE_JS, arg=["() => true", None], polling=POLL_MS)
            box = s.page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
            if await box.count() == 0:
                s.sidebar_runs = []
            else:
                await box.first.click()
                options = s.page.locator('[role="option"]')
                await options.first.wait_for()
                texts = await options.all_inner_texts()
                await s.page.keyboard.press("Escape")
                s.sidebar_runs = sorted(int(m) for t in texts for m in RUN_ID.findall(t))
        except Exception as e:  # noqa: BLE001
            s.problems.append(f"final check: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
            return
        if s.sidebar_runs != sorted(s.run_ids):
            s.isolation.append(f"sidebar lists runs {s.sidebar_runs}, the session started {sorted(s.run_ids)}")
        await self.check_page(s, "final")
        conns = await s.page.evaluate("window.__w2v.conns")
        first = conns.index("CONNECTED") if "CONNECTED" in conns else len(conns)
        lost = [c for c in conns[first:] if c != "CONNECTED"]
        if lost:
            s.problems.append(f"connection states after connecting: {conns[first:]}")

    async def first_visit(self, browser) -> None:
        """Open Home once before anyone else (as an operator checking a restarted server would).

        subtle: until some session has run app.py (and so st.navigation), Streamlit runs a
        process with a pages/ folder in its old multipage mode: a deep link such as
        /vectors?set=... opened first runs pages/vectors.py alone, without app.py's frame
        (lower-case file names in the sidebar, no run selector, no session guard). ui/links.py's
        ensure_frame fixes that (tests/test_hosted_browser.py); this visit keeps a first run's
        start-up out of the load numbers.
        """
        ctx = await browser.new_context(viewport=VIEWPORT)
        try:
            page = await ctx.new_page()
            await page.goto(self.base + "/")
            await page.get_by_role("button", name="Train a small demo").wait_for(timeout=self.args.timeout * 1000)
        finally:
            await ctx.close()

    async def guarded(self, s: Session, coro) -> None:
        """Run one session's part; an unexpected failure is that session's problem, not the others'."""
        try:
            await coro
        except BlankTab:
            pass  # reported when it happened
        except Exception as e:  # noqa: BLE001
            s.problems.append(f"stopped early: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
            await self.snapshot(s, "stopped")

    async def run(self, sessions: list[Session]) -> None:
        from playwright.async_api import async_playwright

        explorers = [s for s in sessions if s.role == "explorer"]
        trainers = [s for s in sessions if s.role == "trainer"]
        rngs = {s.name: random.Random(f"{self.args.seed}-{s.name}") for s in sessions}
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                self.t_setup = time.monotonic()
                await self.first_visit(browser)
                await asyncio.gather(*(self.open_session(browser, s) for s in sessions))
                await asyncio.gather(
                    *(self.guarded(s, self.with_reloads(s, lambda s=s: self.explorer_setup(s, rngs[s.name])))
                      for s in explorers),
                    *(self.guarded(s, self.with_reloads(s, lambda s=s: self.trainer_setup(s))) for s in trainers))
                self.setup_seconds = time.monotonic() - self.t_setup
                say(f"setup done in {self.setup_seconds:.1f} s; the window opens")
                self.rss_after_setup = self.sampler.now()
                self.window_start = time.monotonic()
                await asyncio.gather(
                    *(self.guarded(s, self.trainer(s)) for s in trainers),
                    *(self.guarded(s, self.with_reloads(s, lambda s=s: self.explorer_loop(s, rngs[s.name])))
                      for s in explorers))
                self.window_end = time.monotonic()
                say(f"window over after {self.window_end - self.window_start:.1f} s; final checks")
                await asyncio.gather(*(self.guarded(s, self.final_checks(s)) for s in sessions))
            finally:
                await browser.close()


# -- report ------------------------------------------------------------------------------------------------
def git_state() -> dict:
    """The commit tested, and whether the app's files had uncommitted changes."""
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"),
            "app_dirty": bool(git("status", "--porcelain", "--", "app.py", "pages", "ui", "core"))}


def stats(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    a = np.array(values)
    return {"count": len(values), "p50_s": round(float(np.percentile(a, 50)), 3),
            "p95_s": round(float(np.percentile(a, 95)), 3), "max_s": round(float(a.max()), 3),
            "mean_s": round(float(a.mean()), 3)}


KIND_ORDER = ["open_link", "setup_demo", "page_switch", "analogy", "neighbours", "embeddings_find", "train"]
WINDOW_KINDS = {"page_switch", "analogy", "neighbours", "embeddings_find"}


def summarize(load: Load, sessions: list[Session], server: dict) -> dict:
    by_kind: dict[str, dict] = {}
    for kind in KIND_ORDER:
        items = [i for i in load.interactions if i.kind == kind]
        if items:
            by_kind[kind] = {**stats([i.seconds for i in items if i.seconds is not None]),
                             "failed": sum(i.seconds is None for i in items)}
    window = [i.seconds for i in load.interactions if i.kind in WINDOW_KINDS and i.seconds is not None]
    owners: dict[int, list[str]] = {}
    for s in sessions:
        for rid in s.run_ids + s.lost_runs:
            owners.setdefault(rid, []).append(s.name)
    shared = {rid: names for rid, names in owners.items() if len(names) > 1}
    isolation = [f"{s.name}: {p}" for s in sessions for p in s.isolation]
    isolation += [f"run #{rid} claimed by {names}" for rid, names in shared.items()]
    problems = isolation + [f"{s.name}: {p}" for s in sessions for p in s.problems]
    problems += [f"{s.name}: the tab went blank (Streamlit's frontend died: {b})"
                 for s in sessions for b in s.blank_events + ([s.blank] if s.blank else [])]
    if not server["healthy_at_end"]:
        problems.append("server not healthy at the end")
    if server["log_tracebacks"]:
        problems.append(f"server log has {server['log_tracebacks']} traceback(s)")
    return {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(load.args).items()},
        "machine": {"cpus": os.cpu_count(), "load_avg_start": load.load_start, "load_avg_end": os.getloadavg()},
        "git": git_state(),
        "server": server,
        "setup_s": round(load.setup_seconds, 1),
        "window_s": round((load.window_end or time.monotonic()) - (load.window_start or time.monotonic()), 1),
        "interactions": by_kind,
        "explorer_interactions_in_window": stats(window),
        "sessions": [{"name": s.name, "role": s.role, "runs": s.run_ids, "sidebar_runs": s.sidebar_runs,
                      "blank_tabs": s.blank_events + ([s.blank] if s.blank else []), "lost_runs": s.lost_runs,
                      "interactions": sum(i.session == s.name and i.seconds is not None for i in load.interactions),
                      "isolation": s.isolation, "problems": s.problems, "console_errors": s.console,
                      "failed_resource_loads": s.resource_errors}
                     for s in sessions],
        "trainings_done_in_window": sum(i.kind == "train" and i.seconds is not None for i in load.interactions),
        "isolation_ok": not isolation,
        "problems": problems,
        "ok": not problems and all(v["failed"] == 0 for v in by_kind.values()),
        "log": [{"session": i.session, "kind": i.kind, "s": None if i.seconds is None else round(i.seconds, 3),
                 "phase": i.phase, "at": i.at, **({"error": i.error} if i.error else {})} for i in load.interactions],
    }


def table(result: dict) -> str:
    rows = ["| interaction | count | p50 s | p95 s | max s | failed |", "|---|---|---|---|---|---|"]
    for kind, v in result["interactions"].items():
        if v["count"]:
            rows.append(f"| {kind} | {v['count']} | {v['p50_s']:.2f} | {v['p95_s']:.2f} | {v['max_s']:.2f} | "
                        f"{v['failed']} |")
        else:
            rows.append(f"| {kind} | 0 | - | - | - | {v['failed']} |")
    w = result["explorer_interactions_in_window"]
    if w["count"]:
        rows.append(f"| **all explorer interactions in the window** | {w['count']} | {w['p50_s']:.2f} | "
                    f"{w['p95_s']:.2f} | {w['max_s']:.2f} | |")
    srv = result["server"]
    s = result["settings"]
    lines = [
        f"{s['sessions']} sessions ({s['sessions'] - s['trainers']} explorers, {s['trainers']} trainers), "
        f"{'hosted' if s['hosted'] else 'not hosted'}, window {result['window_s']} s (asked {s['seconds']} s), "
        f"setup {result['setup_s']} s, think time {s['think']} s; {result['trainings_done_in_window']} trainings "
        f"finished in the window; load average {result['machine']['load_avg_start'][0]:.1f} at start, "
        f"{result['machine']['load_avg_end'][0]:.1f} at end ({result['machine']['cpus']} CPUs)",
        "",
        *rows,
        "",
        f"server RSS: {srv['rss_start_mb']} MB after start, {srv['rss_after_setup_mb']} MB after setup, "
        f"peak {srv['rss_peak_mb']} MB, {srv['rss_end_mb']} MB at the end; server CPU {srv['cpu_s']} s; "
        f"healthy at the end: {srv['healthy_at_end']}",
        f"isolation: {'ok' if result['isolation_ok'] else 'BROKEN'}; problems: {len(result['problems'])}",
    ]
    lines += [f"- {p}" for p in result["problems"][:30]]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=12, help="browser sessions in all (explorers + trainers)")
    ap.add_argument("--trainers", type=int, default=2, help="sessions that train during the window")
    ap.add_argument("--seconds", type=float, default=90.0, help="length of the exploring window")
    ap.add_argument("--port", type=int, default=0, help="server port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--no-hosted", dest="hosted", action="store_false", help="run without W2V_HOSTED=1")
    ap.add_argument("--watch-files", action="store_true",
                    help="let Streamlit watch the sources (its default); off here so that edits of the checkout "
                         "during the test do not reload the app")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between an explorer's interactions (s)")
    ap.add_argument("--timeout", type=float, default=120.0, help="longest wait for one interaction (s)")
    ap.add_argument("--train-timeout", type=float, default=600.0, help="longest wait for one training (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reloads", type=int, default=3,
                    help="when a tab goes blank, reload it (a new session) at most this many times per visitor")
    ap.add_argument("--setup-epochs", type=int, default=None,
                    help="explorers train the Demo preset with this many epochs (Train page) instead of "
                         "pressing Home's 'Train a small demo' (5 epochs): a shorter setup")
    ap.add_argument("--vectors-dir", type=Path, default=Path("/tmp/load_vectors"),
                    help="the operator's folder (W2V_VECTORS_DIR); the vector file is trained there once")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "load.json")
    ap.add_argument("--log", type=Path, default=None, help="server log (default /tmp/load_streamlit-PORT.log)")
    ap.add_argument("--shots", type=Path, default=Path("/tmp/load_shots"),
                    help="screenshots of failed interactions go here")
    args = ap.parse_args(argv)
    if not 0 <= args.trainers < args.sessions:
        ap.error("--trainers must be at least 0 and less than --sessions")
    return args


def run(args: argparse.Namespace) -> dict:
    """Start the server, drive the sessions, check, stop; returns the result dict (also written as JSON)."""
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    vectors = ensure_vectors(args.vectors_dir)
    questions, words = word_lists(vectors)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = args.log or Path(f"/tmp/load_streamlit-{port}.log")
    load_start = os.getloadavg()
    proc = start_server(port, args.hosted, args.vectors_dir, log, args.watch_files)
    sampler = RssSampler(proc.pid)
    try:
        start_s = wait_healthy(proc, base, log)
        sampler.start()
        time.sleep(0.6)
        rss_start = sampler.now()
        n_explorers = args.sessions - args.trainers
        sessions = [Session(f"explorer{i + 1}", "explorer") for i in range(n_explorers)]
        sessions += [Session(f"trainer{i + 1}", "trainer") for i in range(args.trainers)]
        load = Load(args, base, questions, words)
        load.sampler, load.load_start, load.setup_seconds, load.rss_after_setup = sampler, load_start, 0.0, 0
        crashed = None
        try:
            asyncio.run(load.run(sessions))
        except Exception as e:  # noqa: BLE001 - report what was measured up to here
            crashed = f"{type(e).__name__}: {e}"
        healthy = health(base) and proc.poll() is None
        cpu = cpu_seconds(proc.pid)
        sampler.stop()
        text = log.read_text(errors="replace")
        server = {"start_to_health_s": round(start_s, 2), "rss_start_mb": round(rss_start / 2**20),
                  "rss_after_setup_mb": round(load.rss_after_setup / 2**20),
                  "rss_peak_mb": round(sampler.peak / 2**20), "rss_end_mb": round(sampler.now() / 2**20),
                  "cpu_s": round(cpu, 1), "healthy_at_end": healthy, "exit_code": proc.poll(),
                  "log": str(log), "log_tracebacks": text.count("Traceback"),
                  "rss_samples_mb": [(round(t, 1), round(b / 2**20)) for t, b in sampler.samples[::4]]}
        result = summarize(load, sessions, server)
        if crashed:
            result["problems"].append(f"load driver crashed: {crashed}")
            result["ok"] = False
    finally:
        sampler.stop()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(table(result))
    print(f"\nJSON: {args.results}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
