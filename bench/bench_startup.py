"""Interleaved A/B of the whole `python -m core train` process on a small job (start-up included).

Does: cut the first --mb MB of the shared corpus (decompressed, cut back to a space) into a cached
file once, then for each of --rounds rounds run, alternating A and B (the order flips every
round), one `python -m core train` per checkout with bench_train.py's skip-gram settings (one
epoch, --threads threads, binary output), and report per side the medians of: wall seconds of
the whole child, its CPU seconds (user + system, from wait4), the trainer's own `train_seconds`,
and wall minus train_seconds (start-up, reading and saving, exit); then the ratios A / B (> 1:
B is faster). One untimed warm-up run per checkout first, so each has its kernels cached.
Does not: compare with gensim (bench_train.py's sg-small rows do), check quality, or mean
anything across runs: the machine is shared, only the interleaved ratio counts.

    python bench/bench_startup.py --a /work/wt/ref --b . --rounds 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_train import shared_dir  # noqa: E402

ARGS = ["--loss", "ns", "--size", "100", "--window", "5", "--negative", "5", "--ns-exponent", "0.75",
        "--sample", "1e-4", "--subsample-formula", "c", "--min-count", "5", "--epochs", "1", "--binary",
        "--json", "--quiet"]


def head_file(mb: float, cache: Path) -> Path:
    """The first `mb` MB of the shared corpus as plain text, cut back to the last space (cached)."""
    src = shared_dir() / "corpora" / "gutenberg-100m.txt.gz"
    if not src.is_file():
        print(f"SKIP: {src} not found")
        sys.exit(0)
    n = int(mb * 1e6)
    dst = cache / f"startup-head-{n}.txt"
    if not dst.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with gzip.open(src, "rb") as f:
            head = f.read(n)
        cut = max(head.rfind(b" "), head.rfind(b"\n"))
        part = dst.with_name(dst.name + f".{os.getpid()}.part")
        part.write_bytes(head[:cut] if len(head) == n and cut > 0 else head)
        os.replace(part, dst)
    return dst


def run_once(checkout: Path, corpus: Path, threads: int) -> dict:
    """One whole `python -m core train` in `checkout`: wall, CPU and the trainer's JSON."""
    out = Path(tempfile.mkdtemp(prefix="w2v-startup-")) / "v.bin"
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    cmd = [sys.executable, "-m", "core", "train", str(corpus), "-o", str(out), "--threads", str(threads), *ARGS]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{checkout}: exit {os.waitstatus_to_exitcode(status)}: {stderr.decode()[-500:]}")
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    out.parent.rmdir()
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "train": report["train_seconds"],
            "outside": wall - report["train_seconds"], "loss": report["epochs"][0]["loss"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", type=Path, required=True, help="checkout A (e.g. the reference)")
    ap.add_argument("--b", type=Path, default=REPO, help="checkout B (default: this one)")
    ap.add_argument("--mb", type=float, default=24.0, help="MB of the corpus (default 24: bench_train's sg-small)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cache-dir", type=Path,
                    default=Path(os.environ.get("W2V_BENCH_CACHE", Path(tempfile.gettempdir()) / "w2v-bench")))
    args = ap.parse_args()
    corpus = head_file(args.mb, args.cache_dir)
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    for name, path in sides.items():  # warm-up: each checkout's kernels cached, the file in the page cache
        run_once(path, corpus, args.threads)
        print(f"warm-up {name}: {path}", file=sys.stderr)
    rows: dict[str, list[dict]] = {"A": [], "B": []}
    for r in range(args.rounds):
        order = ("A", "B") if r % 2 == 0 else ("B", "A")
        for name in order:
            m = run_once(sides[name], corpus, args.threads)
            rows[name].append(m)
            print(f"round {r + 1} {name}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s, train {m['train']:.2f} s, "
                  f"outside training {m['outside']:.2f} s, loss {m['loss']:.4f}", file=sys.stderr)
    med = {n: {k: statistics.median(m[k] for m in rows[n]) for k in ("wall", "cpu", "train", "outside")}
           for n in rows}
    print(f"{args.mb:g} MB, {args.threads} threads, {args.rounds} rounds, medians (load {os.getloadavg()[0]:.1f}):")
    print("| side | wall s | CPU s | train s | wall - train s |")
    print("|---|---|---|---|---|")
    for n in ("A", "B"):
        m = med[n]
        print(f"| {n} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['train']:.2f} | {m['outside']:.2f} |")
    print(f"A / B: wall {med['A']['wall'] / med['B']['wall']:.3f}, CPU {med['A']['cpu'] / med['B']['cpu']:.3f}, "
          f"outside training {med['A']['outside'] / med['B']['outside']:.3f}")


if __name__ == "__main__":
    main()
