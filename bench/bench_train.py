"""Side-by-side training benchmark: our Numba trainer against gensim 4.4.0 on the shared corpus.

Does: give both trainers the same plain-text corpus (a .gz is decompressed once, before any
timing, to a cached temp file), run every trainer as its own child process (read corpus, build
vocabulary, train, save vectors) and measure its wall time and peak RSS (see run_child),
score every saved vector file the same way with gensim's reference analogy evaluation
(3CosAdd over the 30,000 most frequent words, case-insensitive), then print a markdown table
with ratios against gensim and write bench/results/train.json.
Does not: compare against absolute figures from another day (the machine is shared and noisy;
only ratios from one run mean anything), use our own evaluator, or run anything in parallel.

Runs per architecture: gensim `Word2Vec` (bench/_gensim_train.py) twice, streaming the file every
epoch (`Text8Corpus`, its lean mode) and with the sentences held in a list (its fast mode, ~1.5 GB),
ours (`python -m core train` with the exact loss on, its default) and, for skip-gram, ours with
`--shared-negatives`. Two more groups of skip-gram rows: hierarchical softmax alone (`sg-hs`: ours
`--loss hs` against gensim's in-memory `hs=1, negative=0`) and the small job (`sg-small`: the first
--small-mb MB of the corpus, one epoch, where start-up weighs more). Ratios are taken within a
group (the `run` column) against whichever gensim run is best at that measure (see add_ratios).
Memory: ru_maxrss of the trainer process (the headline) and, sampled, the
summed RSS and private (anonymous) memory of its process tree.
Settings for all: size 100, window 5, negative 5, sample 1e-4, min-count 5, 5 epochs, 2 threads.

    python bench/bench_train.py                      # full corpus, SG + CBOW (~15 minutes)
    python bench/bench_train.py --only sg --head-words 2000000 --results /tmp/t.json   # quick trial
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
DEFAULT_RESULTS = BENCH / "results" / "train.json"
CORPUS_NAME = "corpora/gutenberg-100m.txt.gz"
QUESTIONS_NAME = "eval/questions-words.txt"
RESTRICT_VOCAB = 30_000
BLOCK_BYTES = 1 << 24  # 16 MB per read when copying / counting

OURS_ALPHA = {"sg": 0.025, "cbow": 0.05}  # our trainer's default start learning rates (word2vec.c's)
GENSIM_ALPHA = {"sg": 0.025, "cbow": 0.025}  # gensim's default, the same for both architectures
# Shared settings: both trainers get exactly these (alpha stays at each trainer's default, see README).
SETTINGS = {"size": 100, "window": 5, "negative": 5, "sample": 1e-4, "min_count": 5}


def shared_dir() -> Path:
    """`$W2V_SHARED`, else `../shared` beside the repository."""
    env = os.environ.get("W2V_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# corpus: one plain-text file for both trainers, prepared outside any timing


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _blocks(path: Path) -> Iterator[bytes]:
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as f:
        while block := f.read(BLOCK_BYTES):
            yield block


def _word_runs(path: Path) -> Iterator[list[bytes]]:
    """Whitespace-separated words of the file, a block at a time (a word never spans two runs)."""
    carry = b""
    for block in _blocks(path):
        block = carry + block
        words = block.split()
        carry = words.pop() if words and not block[-1:].isspace() else b""
        yield words
    if carry:
        yield [carry]


def count_words(path: Path) -> int:
    return sum(len(run) for run in _word_runs(path))


def prepare_corpus(src: Path, head_words: int | None, cache_dir: Path) -> Path:
    """A plain-text corpus file: `src` itself, or its decompression / first `head_words` words (cached)."""
    if not _is_gzip(src) and head_words is None:
        return src
    st = src.stat()
    stem = src.name.removesuffix(".gz").removesuffix(".txt")
    tag = f"-head{head_words}" if head_words is not None else ""
    dst = cache_dir / f"{stem}-{st.st_size}-{int(st.st_mtime)}{tag}.txt"
    if dst.is_file():
        log(f"corpus: reusing {dst}")
        return dst
    cache_dir.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + f".{os.getpid()}.part")
    log(f"corpus: writing {dst} (once, not timed) ...")
    with open(part, "wb") as out:
        if head_words is None:
            for block in _blocks(src):
                out.write(block)
        else:
            left, sep = head_words, b""
            for run in _word_runs(src):
                take = run[:left]
                if take:
                    out.write(sep + b" ".join(take))
                    sep = b" "
                left -= len(take)
                if left <= 0:
                    break
    os.replace(part, dst)
    return dst


def prepare_head_bytes(src: Path, n_bytes: int, cache_dir: Path) -> Path:
    """The first n_bytes of plain-text `src`, cut back to the last whitespace (cached)."""
    st = src.stat()
    dst = cache_dir / f"{src.stem}-{st.st_size}-{int(st.st_mtime)}-bytes{n_bytes}.txt"
    if dst.is_file():
        return dst
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as f:
        head = f.read(n_bytes)
    if len(head) == n_bytes:
        cut = max(head.rfind(b" "), head.rfind(b"\n"))
        head = head[:cut] if cut > 0 else head
    part = dst.with_name(dst.name + f".{os.getpid()}.part")
    part.write_bytes(head)
    os.replace(part, dst)
    return dst


# ---------------------------------------------------------------------------------------------
# one child process: wall time and peak RSS from wait4


@dataclass
class ChildStats:
    returncode: int
    wall_s: float
    maxrss_bytes: int
    user_s: float
    sys_s: float
    timed_out: bool = False
    rss_probe: str = ""  # what measured maxrss_bytes
    tree_rss_bytes: int = 0  # peak of the summed RSS of the process tree, sampled every 50 ms
    private_bytes: int = 0  # peak of the summed private memory (RssAnon) of the tree, sampled


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


class TreeSampler(threading.Thread):
    """Samples the summed VmRSS and RssAnon of a process tree every `interval` seconds (Linux).

    Why besides ru_maxrss: ru_maxrss is one process's peak, so a trainer that did part of its
    work in a child process would report only the larger of the two; and RSS counts the clean,
    shared pages of mapped libraries (Numba's LLVM is ~75 MB of them), which RssAnon does not.
    A 50 ms sampler can miss a shorter spike; ru_maxrss stays the headline figure.
    """

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_anon = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            rss = anon = 0
            for p in _tree(self.pid):
                try:
                    with open(f"/proc/{p}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                rss += int(line.split()[1]) * 1024
                            elif line.startswith("RssAnon:"):
                                anon += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.peak_rss, self.peak_anon = max(self.peak_rss, rss), max(self.peak_anon, anon)


RSS_MARK = "W2V_BENCH_MAXRSS_KB="
GNU_TIME = Path("/usr/bin/time")
# Fallback when /usr/bin/time is missing: a small Python process that forks the trainer, reaps it
# with wait4 and writes its ru_maxrss (the trainer's floor is then this launcher's ~10 MB, not ours).
LAUNCHER = f"""
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("{RSS_MARK}%d\\n" % ru.ru_maxrss)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_child(cmd: list[str], stdout_path: Path, stderr_path: Path, timeout: float) -> ChildStats:
    """Run `cmd` to completion and measure its wall time and peak RSS.

    subtle: the peak RSS cannot be read with wait4 on a child of this process. Linux seeds a
    child's ru_maxrss with the high-water RSS of the address space it execs from, and Python
    spawns with vfork, i.e. from *this* process's address space: every trainer would report at
    least the benchmark's own peak (the corpus preparation and the loaded vectors, ~0.4 GB).
    RUSAGE_CHILDREN is no better (a max over all children ever reaped). So a tiny intermediary
    (GNU time, else LAUNCHER) forks the trainer and reports the trainer's own ru_maxrss.
    """
    rss_path = stdout_path.with_suffix(".rss")
    rss_path.unlink(missing_ok=True)
    if GNU_TIME.is_file():
        wrapped = [str(GNU_TIME), "-f", RSS_MARK + "%M", "-o", str(rss_path), *cmd]
        probe = "/usr/bin/time %M"
    else:
        wrapped = [sys.executable, "-c", LAUNCHER, str(rss_path), *cmd]
        probe = "python fork+wait4 launcher"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, cwd=REPO, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )  # own process group: a timeout kills the trainer too
        timed_out = threading.Event()
        reaped = threading.Event()

        def kill() -> None:
            if not reaped.is_set():
                timed_out.set()
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            reaped.set()
            timer.cancel()
            sampler.done.set()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it is reaped
    maxrss_kb = 0
    if rss_path.is_file():
        for line in rss_path.read_text(errors="replace").splitlines():
            if line.startswith(RSS_MARK):
                maxrss_kb = int(line[len(RSS_MARK) :].strip() or 0)
    else:
        probe = "unavailable"
    sampler.join()
    # the GNU time wrapper is in the tree too (~2 MB); it is part of what was measured for every trainer
    return ChildStats(
        proc.returncode, wall, maxrss_kb * 1024, ru.ru_utime, ru.ru_stime, timed_out.is_set(), probe,
        sampler.peak_rss, sampler.peak_anon,
    )


def _parse_json_stdout(path: Path) -> dict | None:
    text = path.read_text(errors="replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):  # tolerate stray prints before the JSON line
        if line.lstrip().startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# the runs


@dataclass
class Spec:
    trainer: str  # "gensim" or "ours"
    label: str  # row name in the table
    arch: str  # "sg" or "cbow"
    extra: list[str] = field(default_factory=list)  # extra CLI flags for ours
    group: str = ""  # the rows whose ratios are taken against each other (default: arch)
    hs: bool = False  # hierarchical softmax instead of negative sampling
    small: bool = False  # the small job: the first --small-mb MB of the corpus, one epoch

    @property
    def key(self) -> str:
        return self.group or self.arch

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9.]+", "_", f"{self.key} {self.label}".lower()).strip("_")


def gensim_version() -> str:
    try:
        from importlib.metadata import version

        return version("gensim")
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        return "?"


def command(
    spec: Spec, corpus: Path, out: Path, epochs: int, threads: int, same_alpha: bool = False, seed: int = 1
) -> list[str]:
    """The child's command line. Both trainers get the same settings and `--seed`; with two or
    more threads neither is deterministic, so the seed only makes repeats differ on purpose."""
    s = SETTINGS
    if spec.trainer == "gensim":
        cmd = [
            sys.executable,
            str(BENCH / "_gensim_train.py"),
            str(corpus),
            str(out),
            "--size",
            str(s["size"]),
            "--window",
            str(s["window"]),
            "--negative",
            str(s["negative"]),
            "--sample",
            str(s["sample"]),
            "--min-count",
            str(s["min_count"]),
            "--epochs",
            str(epochs),
            "--workers",
            str(threads),
            "--binary",
            "--seed",
            str(seed),
        ]
        if spec.hs:  # hierarchical softmax alone: hs=1, negative=0
            cmd += ["--hs"]
        if same_alpha:  # ours' (word2vec.c's) start rates instead of gensim's 0.025 for both
            cmd += ["--alpha", str(OURS_ALPHA[spec.arch])]
        cmd += spec.extra
    else:
        cmd = [
            sys.executable,
            "-m",
            "core",
            "train",
            str(corpus),
            "-o",
            str(out),
            "--loss",
            "hs" if spec.hs else "ns",
            "--size",
            str(s["size"]),
            "--window",
            str(s["window"]),
            "--negative",
            str(s["negative"]),
            "--ns-exponent",
            "0.75",
            "--sample",
            str(s["sample"]),
            "--subsample-formula",
            "c",
            "--min-count",
            str(s["min_count"]),
            "--epochs",
            str(epochs),
            "--threads",
            str(threads),
            "--binary",
            "--json",
            "--seed",
            str(seed),
            *spec.extra,
        ]
    if spec.arch == "cbow":
        cmd.insert(cmd.index(str(out)) + 1, "--cbow")
    return cmd


def ours_available() -> tuple[bool, str]:
    """Whether `python -m core train --help` works in this checkout; the reason when not."""
    try:
        p = subprocess.run(
            [sys.executable, "-m", "core", "train", "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return False, "`python -m core train --help` did not finish in 300 s"
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        return False, f"`python -m core train --help` exited {p.returncode}: {last}"
    return True, ""


def warmup_commands(specs: list[Spec], tiny: Path, workdir: Path, threads: int) -> list[list[str]]:
    """One untimed command per distinct option set of our specs: each spec's own command on the
    warm-up corpus (write_warmup_corpus), one epoch. So every compiled function a timed row needs
    is compiled (or loaded) here, not inside that row: the Huffman tree's builder, for one,
    compiles only for `--loss hs` (~3 s in a process that compiles nothing else: run e's and f's
    HS rows paid it)."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for spec in specs:
        if spec.trainer != "ours":
            continue
        cmd = command(spec, tiny, workdir / "warmup.bin", 1, threads)
        key = tuple(cmd)
        if key not in seen:
            seen.add(key)
            out.append(cmd)
    return out


WARMUP_WORDS = 40_000  # distinct words: past a word table's first capacity (2^15), so it grows
WARMUP_LINES = 34  # of all WARMUP_WORDS each: ~9 MB, two reader ranges (corpus_parts.MIN_RANGE_BYTES: 4 MB)


def write_warmup_corpus(path: Path) -> None:
    """The warm-up's corpus, big enough to take the reader's every path: read_corpus cuts it into
    two byte ranges and merges their word tables, and a table outgrows its first size. A 200 KB
    corpus took neither, so the first timed row compiled `word_table._absorb` and `_rehash` (run
    i, by their cache entries' times: its first skip-gram round 0.138 GB against 0.129; runs f, g
    and h, with the same warm-up, 0.137)."""
    line = " ".join(f"w{i}" for i in range(WARMUP_WORDS)) + "\n"
    with open(path, "w") as f:
        f.writelines([line] * WARMUP_LINES)


def warm_up(workdir: Path, threads: int, specs: list[Spec]) -> float:
    """Compile (or load) our kernels once, untimed, for every option set the run times: a first
    run after installing or editing the kernels spends ~20 s in Numba's compiler, later runs load
    the machine code from the on-disk cache in well under a second. Returns the warm-up's wall time
    (reported in the JSON)."""
    tiny = workdir / "warmup.txt"
    write_warmup_corpus(tiny)
    t0 = time.perf_counter()
    codes = []
    for cmd in warmup_commands(specs, tiny, workdir, threads):
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
        codes.append(p.returncode)
    dt = time.perf_counter() - t0
    failed = [c for c in codes if c != 0]
    log(f"warm-up of our kernels ({len(codes)} option sets, untimed): {dt:.1f} s"
        + (f", exits {failed}" if failed else ""))
    return dt


def evaluate(path: Path, questions: Path) -> dict:
    """Reference analogy score: gensim's evaluate_word_analogies over the first 30k words of the file."""
    from gensim.models import KeyedVectors

    t0 = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    score, sections = kv.evaluate_word_analogies(
        str(questions), restrict_vocab=RESTRICT_VOCAB, case_insensitive=True
    )

    def tally(secs: list[dict]) -> tuple[int, int]:
        return sum(len(s["correct"]) for s in secs), sum(
            len(s["correct"]) + len(s["incorrect"]) for s in secs
        )

    parts = [s for s in sections if s["section"] != "Total accuracy"]
    sem_c, sem_n = tally([s for s in parts if not s["section"].startswith("gram")])
    syn_c, syn_n = tally([s for s in parts if s["section"].startswith("gram")])
    return {
        "accuracy": float(score),
        "correct": sem_c + syn_c,
        "questions": sem_n + syn_n,  # questions whose 4 words are all in the top 30k (coverage check)
        "semantic": sem_c / sem_n if sem_n else None,
        "syntactic": syn_c / syn_n if syn_n else None,
        "vocab_size": len(kv),
        "top_words": kv.index_to_key[:5],  # sanity: frequency order is what restrict_vocab relies on
        "seconds": time.perf_counter() - t0,
    }


def do_run(
    spec: Spec,
    corpus: Path,
    words: int,
    epochs: int,
    threads: int,
    workdir: Path,
    questions: Path | None,
    timeout: float,
    same_alpha: bool = False,
    seed: int = 1,
) -> dict:
    out = workdir / f"{spec.slug}.bin"
    cmd = command(spec, corpus, out, epochs, threads, same_alpha, seed)
    stdout_path, stderr_path = workdir / f"{spec.slug}.stdout", workdir / f"{spec.slug}.stderr"
    log(f"[{spec.arch}] {spec.label}: {' '.join(cmd[1:])}")
    stats = run_child(cmd, stdout_path, stderr_path, timeout)
    report = _parse_json_stdout(stdout_path)
    row: dict = {
        "trainer": spec.trainer,
        "label": spec.label,
        "arch": spec.arch,
        "group": spec.key,
        "epochs": epochs,
        "words": words,
        "seed": seed,
        "cmd": cmd[1:],
        "returncode": stats.returncode,
        "wall_s": stats.wall_s,
        "peak_rss_gb": stats.maxrss_bytes / 1e9,
        "peak_tree_rss_gb": stats.tree_rss_bytes / 1e9,
        "peak_private_gb": stats.private_bytes / 1e9,
        "cpu_user_s": stats.user_s,
        "cpu_sys_s": stats.sys_s,
        "cpu_s": stats.user_s + stats.sys_s,
        "rss_probe": stats.rss_probe,
        "timed_out": stats.timed_out,
        "report": report,
    }
    if stats.returncode != 0 or not out.is_file():
        why = "timed out" if stats.timed_out else f"exited {stats.returncode}"
        row["error"] = f"{why}; stderr tail:\n{_tail(stderr_path)}"
        log(f"[{spec.arch}] {spec.label}: FAILED ({why})\n{_tail(stderr_path)}")
        return row
    # "train_seconds" when the trainer reports it apart from "seconds" (ours: seconds = read + train)
    train_s = (report.get("train_seconds", report.get("seconds"))) if isinstance(report, dict) else None
    row["train_s"] = float(train_s) if isinstance(train_s, int | float) and train_s > 0 else None
    row["words_per_sec"] = words * epochs / (row["train_s"] or stats.wall_s)
    row["words_per_sec_basis"] = "train" if row["train_s"] else "wall"
    train = f"{row['train_s']:.1f}" if row["train_s"] else "?"
    log(
        f"[{spec.arch}] {spec.label}: wall {stats.wall_s:.1f} s, train {train} s, peak RSS {row['peak_rss_gb']:.2f} GB"
    )
    if questions is not None:
        try:
            row["analogy"] = evaluate(out, questions)
            log(
                f"[{spec.arch}] {spec.label}: analogy {100 * row['analogy']['accuracy']:.1f} % "
                f"({row['analogy']['correct']}/{row['analogy']['questions']})"
            )
        except Exception as e:  # noqa: BLE001 - a bad file is a result, not a crash of the benchmark
            row["analogy_error"] = f"{type(e).__name__}: {e}"
            log(f"[{spec.arch}] {spec.label}: evaluation failed: {row['analogy_error']}")
    return row


# ---------------------------------------------------------------------------------------------
# report


def _fmt(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def merge_repeats(got: list[dict]) -> dict:
    """One row per trainer from its repeats (one seed each): the fastest wall, train and CPU time,
    the highest peak memory, and the analogy score's mean over the repeats (`accuracy_runs` keeps
    each, `accuracy_sd` their sample standard deviation): two-thread runs of either trainer spread
    by 1-2 points from seed to seed, so one run per side cannot say "within 1 point"."""
    row = dict(got[0])
    ok = [g for g in got if "error" not in g]
    if len(got) == 1 or not ok or "error" in row:
        return row
    row["repeats"] = [
        {k: g.get(k) for k in ("seed", "wall_s", "train_s", "cpu_s", "peak_rss_gb", "peak_private_gb", "error")}
        | {"accuracy": g.get("analogy", {}).get("accuracy")}
        for g in got
    ]
    scores = [g["analogy"]["accuracy"] for g in ok if "analogy" in g]
    if scores:
        mean = sum(scores) / len(scores)
        row["analogy"] = dict(row.get("analogy") or ok[0]["analogy"], accuracy=mean)
        row["accuracy_runs"] = scores
        if len(scores) > 1:
            row["accuracy_sd"] = (sum((x - mean) ** 2 for x in scores) / (len(scores) - 1)) ** 0.5
    row["wall_s"] = min(g["wall_s"] for g in ok)
    row["cpu_s"] = min(g["cpu_s"] for g in ok)
    trains = [g["train_s"] for g in ok if g.get("train_s")]
    row["train_s"] = min(trains) if trains else None
    row["words_per_sec"] = row["words"] * row["epochs"] / (row["train_s"] or row["wall_s"])
    row["peak_rss_gb"] = max(g["peak_rss_gb"] for g in ok)
    row["peak_private_gb"] = max(g.get("peak_private_gb", 0.0) for g in ok)
    row["peak_tree_rss_gb"] = max(g.get("peak_tree_rss_gb", 0.0) for g in ok)
    return row


def add_ratios(rows: list[dict]) -> None:
    """Ratios against the gensim run that is best at each measure, per architecture.

    gensim runs twice (streaming the file each epoch; sentences held in a list): speed ratios use
    the faster of the two (gensim wall / ours wall, and the same for train and CPU seconds),
    memory ratios the leaner (ours / gensim, for ru_maxrss and for private memory), accuracy
    deltas (points) the better. So no ratio flatters us by picking gensim's worse mode.
    """
    for arch in {r.get("group", r["arch"]) for r in rows}:
        gs = [r for r in rows if r.get("group", r["arch"]) == arch and r["trainer"] == "gensim" and "error" not in r]
        if not gs:
            continue
        fast = min(gs, key=lambda g: g["wall_s"])
        fast_train = min((g for g in gs if g.get("train_s")), key=lambda g: g["train_s"], default=None)
        fast_cpu = min((g for g in gs if g.get("cpu_s")), key=lambda g: g["cpu_s"], default=None)
        lean = min(gs, key=lambda g: g["peak_rss_gb"] or float("inf"))
        lean_private = min(gs, key=lambda g: g.get("peak_private_gb") or float("inf"))
        scored = [g for g in gs if "analogy" in g]
        best = max(scored, key=lambda g: g["analogy"]["accuracy"], default=None)
        for r in rows:
            if r.get("group", r["arch"]) != arch or r["trainer"] == "gensim" or "error" in r:
                continue
            r["speed_ratio"] = fast["wall_s"] / r["wall_s"]
            r["speed_ref"] = fast["label"]
            if fast_cpu is not None and r.get("cpu_s"):
                r["cpu_ratio"] = fast_cpu["cpu_s"] / r["cpu_s"]  # steadier than wall time on a busy machine
            if fast_train is not None and r.get("train_s"):
                r["train_speed_ratio"] = fast_train["train_s"] / r["train_s"]
            r["rss_ratio"] = r["peak_rss_gb"] / lean["peak_rss_gb"] if lean["peak_rss_gb"] else None
            r["rss_ref"] = lean["label"]
            if lean_private.get("peak_private_gb") and r.get("peak_private_gb"):
                r["private_ratio"] = r["peak_private_gb"] / lean_private["peak_private_gb"]
            if best is not None and "analogy" in r:
                r["accuracy_delta_pts"] = 100 * (r["analogy"]["accuracy"] - best["analogy"]["accuracy"])
                r["accuracy_ref"] = best["label"]
                se = _mean_difference_se(r, best)
                if se is not None:
                    r["accuracy_delta_se_pts"] = 100 * se


def _mean_difference_se(a: dict, b: dict) -> float | None:
    """Standard error of the difference of two rows' mean accuracies (Welch), when both repeated."""
    if "accuracy_sd" not in a or "accuracy_sd" not in b:
        return None
    return (a["accuracy_sd"] ** 2 / len(a["accuracy_runs"]) + b["accuracy_sd"] ** 2 / len(b["accuracy_runs"])) ** 0.5


def table(rows: list[dict]) -> str:
    head = [
        "trainer",
        "run",
        "wall s",
        "train s",
        "CPU s",
        "M words/s",
        "peak RSS GB",
        "private GB",
        "analogy %",
        "speed × gensim",
        "train speed × gensim",
        "CPU × gensim",
        "Δ acc (pts)",
        "RSS × gensim",
        "private × gensim",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "error" in r:
            cells = [r["label"], r.get("group", r["arch"]), _fmt(r["wall_s"], ".1f"), "failed"] + [""] * (len(head) - 4)
        else:
            acc = r.get("analogy", {}).get("accuracy")
            cells = [
                r["label"],
                r.get("group", r["arch"]),
                _fmt(r["wall_s"], ".1f"),
                _fmt(r.get("train_s"), ".1f"),
                _fmt(r.get("cpu_s"), ".0f"),
                _fmt(r["words_per_sec"] / 1e6, ".3f")
                + ("" if r["words_per_sec_basis"] == "train" else " (wall)"),
                _fmt(r["peak_rss_gb"], ".2f"),
                _fmt(r.get("peak_private_gb") or None, ".2f"),
                _fmt(None if acc is None else 100 * acc, ".1f")
                + ("" if r.get("accuracy_sd") is None else f" ± {100 * r['accuracy_sd']:.1f}"),
                _fmt(r.get("speed_ratio"), ".2f"),
                _fmt(r.get("train_speed_ratio"), ".2f"),
                _fmt(r.get("cpu_ratio"), ".2f"),
                _fmt(r.get("accuracy_delta_pts"), "+.1f")
                + ("" if r.get("accuracy_delta_se_pts") is None else f" ± {r['accuracy_delta_se_pts']:.1f}"),
                _fmt(r.get("rss_ratio"), ".2f"),
                _fmt(r.get("private_ratio"), ".2f"),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _git_state() -> dict:
    def git(*a: str) -> str:
        p = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty_core": bool(git("status", "--porcelain", "core")),
    }


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--only", choices=["sg", "cbow"], help="one architecture only")
    ap.add_argument("--skip-gensim", action="store_true", help="do not run gensim (no ratios then)")
    ap.add_argument("--no-gensim-in-memory", action="store_true",
                    help="skip gensim's second run with the sentences held in a list (faster, ~1.5 GB)")
    ap.add_argument("--no-gensim-file", action="store_true",
                    help="skip gensim's streaming run (slower than in memory, so never the speed reference)")
    ap.add_argument("--skip-ours", action="store_true", help="do not run our trainer")
    ap.add_argument(
        "--no-shared-negatives",
        action="store_true",
        help="skip the extra skip-gram run of ours with --shared-negatives",
    )
    ap.add_argument(
        "--corpus", type=Path, help=f"corpus file (default: $W2V_SHARED or ../shared/{CORPUS_NAME})"
    )
    ap.add_argument("--head-words", type=int, help="train on the first N words of the corpus (quick trials)")
    ap.add_argument("--no-hs", action="store_true",
                    help="skip the skip-gram rows with hierarchical softmax (gensim hs=1, negative=0)")
    ap.add_argument("--no-small", action="store_true", help="skip the small-job rows")
    ap.add_argument("--only-small", action="store_true", help="only the small-job rows (run sg-small)")
    ap.add_argument("--small-mb", type=float, default=24.0,
                    help="the small job: skip-gram on the first N MB of the corpus, one epoch (default 24)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="threads for ours, workers for gensim")
    ap.add_argument(
        "--same-alpha",
        action="store_true",
        help="give gensim our start learning rates (0.025 SG, 0.05 CBOW) instead of its 0.025 for both",
    )
    ap.add_argument("--no-eval", action="store_true", help="skip the analogy evaluation")
    ap.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="where to write the JSON results")
    ap.add_argument("--keep", type=Path, help="keep vectors and child logs in this directory")
    ap.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("W2V_BENCH_CACHE", Path(tempfile.gettempdir()) / "w2v-bench")),
        help="where the decompressed corpus is cached (default: $W2V_BENCH_CACHE or /tmp/w2v-bench)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every trainer N times, interleaved, repeat i with seed i + 1; report the fastest "
        "times, the highest memory and the mean analogy score (± its standard deviation)",
    )
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a training run is killed")
    args = ap.parse_args(argv)

    shared = shared_dir()
    src = args.corpus or shared / CORPUS_NAME
    if not src.is_file():
        log(f"SKIP: corpus not found at {src} (set W2V_SHARED to the shared/ directory or pass --corpus)")
        return 0
    questions = shared / QUESTIONS_NAME
    if args.no_eval:
        questions = None
    elif not questions.is_file():
        log(f"note: {questions} not found; analogy evaluation skipped (set W2V_SHARED)")
        questions = None

    archs = [args.only] if args.only else ["sg", "cbow"]
    specs: list[Spec] = []
    ours_note = ""
    run_ours = not args.skip_ours
    if run_ours:
        ok, why = ours_available()
        if not ok:
            ours_note = f"our trainer skipped: {why}"
            log(f"note: {ours_note}")
            run_ours = False
    if args.only_small:
        archs, args.no_hs, args.no_small = ["sg"], True, False
    for arch in archs if not args.only_small else []:
        if not args.skip_gensim:
            if not args.no_gensim_file:
                specs.append(Spec("gensim", f"gensim {gensim_version()}", arch))
            if not args.no_gensim_in_memory:
                specs.append(Spec("gensim", f"gensim {gensim_version()} in memory", arch, ["--in-memory"]))
        if run_ours:
            specs.append(Spec("ours", "ours", arch))
            if arch == "sg" and not args.no_shared_negatives:
                specs.append(Spec("ours", "ours --shared-negatives", arch, ["--shared-negatives"]))
    if "sg" in archs and not args.no_hs:  # gensim's faster (in-memory) mode only: the target's reference
        if not args.skip_gensim:
            specs.append(Spec("gensim", f"gensim {gensim_version()} in memory hs", "sg", ["--in-memory"],
                              group="sg-hs", hs=True))
        if run_ours:
            specs.append(Spec("ours", "ours --loss hs", "sg", group="sg-hs", hs=True))
    if "sg" in archs and not args.no_small:  # start-up weighs more here: imports, caches, reading
        if not args.skip_gensim:
            if not args.no_gensim_file:
                specs.append(Spec("gensim", f"gensim {gensim_version()}", "sg", group="sg-small", small=True))
            specs.append(Spec("gensim", f"gensim {gensim_version()} in memory", "sg", ["--in-memory"],
                              group="sg-small", small=True))
        if run_ours:
            specs.append(Spec("ours", "ours", "sg", group="sg-small", small=True))
    if not specs:
        log("nothing to run")
        return 1 if ours_note else 0

    corpus = prepare_corpus(src, args.head_words, args.cache_dir)
    words = count_words(corpus)
    log(
        f"corpus: {corpus} ({words:,} words); {len(specs)} runs, {args.epochs} epochs, {args.threads} threads"
    )
    small, small_words = None, 0
    if any(sp.small for sp in specs):
        small = prepare_head_bytes(corpus, int(args.small_mb * 1e6), args.cache_dir)
        small_words = count_words(small)
        log(f"small job: {small} ({small_words:,} words), 1 epoch")

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="w2v-bench-runs-"))
    workdir.mkdir(parents=True, exist_ok=True)
    warmup_s = warm_up(workdir, args.threads, specs) if run_ours else None
    runs: list[list[dict]] = [[] for _ in specs]
    try:
        for rep in range(args.repeat):  # interleaved, so a noisy minute hits every trainer alike
            for spec, got in zip(specs, runs, strict=True):
                if rep and "error" in got[0]:
                    continue
                got.append(
                    do_run(
                        spec,
                        small if spec.small else corpus,
                        small_words if spec.small else words,
                        1 if spec.small else args.epochs,
                        args.threads,
                        workdir,
                        questions,
                        args.timeout,
                        args.same_alpha,
                        seed=rep + 1,
                    )
                )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = [merge_repeats(got) for got in runs]
    add_ratios(rows)
    md = table(rows)

    result = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "gensim": gensim_version(),
        },
        "git": _git_state(),
        "corpus": {"source": str(src), "file": str(corpus), "words": words, "head_words": args.head_words},
        "settings": {
            **SETTINGS,
            "epochs": args.epochs,
            "threads": args.threads,
            "repeat": args.repeat,
            "small_mb": None if args.no_small else args.small_mb,
            "loss": "ns",
            "subsample_formula": "c",
            "ns_exponent": 0.75,
            "alpha": {"ours": OURS_ALPHA, "gensim": OURS_ALPHA if args.same_alpha else GENSIM_ALPHA},
        },
        "evaluation": {
            "questions": str(questions) if questions else None,
            "restrict_vocab": RESTRICT_VOCAB,
            "case_insensitive": True,
            "method": "gensim KeyedVectors.evaluate_word_analogies (3CosAdd)",
        },
        "notes": [n for n in [ours_note] if n],
        "ours_warmup_s": warmup_s,
        "runs": rows,
        "table": md,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.results.with_name(args.results.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n")
    os.replace(tmp, args.results)

    print(
        f"\ncorpus: {corpus.name} ({words:,} words), {args.epochs} epochs, {args.threads} threads; "
        f"M words/s = corpus words x epochs / train s (or wall)\n"
    )
    print(md)
    ga = OURS_ALPHA if args.same_alpha else GENSIM_ALPHA
    print(
        f"\nstart learning rate (sg / cbow): ours {OURS_ALPHA['sg']} / {OURS_ALPHA['cbow']}, "
        f"gensim {ga['sg']} / {ga['cbow']}"
        + ("" if args.same_alpha else " (its default; --same-alpha to match)")
    )
    if ours_note:
        print(f"\n{ours_note}")
    print(f"\nresults: {args.results}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
