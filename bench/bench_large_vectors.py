"""Large vector sets: convert a GoogleNews-size word2vec binary to memory-mapped .npy and query it.

Generates a synthetic N x D word2vec binary file (random float32, written in blocks; 1,000,000 x
300 is 1.2 GB), then measures, each stage in a fresh child process so its memory is its own:
  convert   convert_to_npy: one streaming pass -> vectors.npy + unit.npy + vocab.txt
  open      open_mmap, then the first exact top-10 query (cold: our files dropped from the page
            cache with posix_fadvise first; warm: straight after)
  query     mean time of further exact top-10 queries (blocked matrix product over unit.npy)
Memory is read from /proc/self/status: VmHWM (peak), RssAnon (heap), RssFile (mapped file pages,
reclaimable by the kernel; a full scan of unit.npy maps all of it).

Does not: approximate search. SEARCHERS below is the hook: a later pynndescent index plugs in
as another entry with the same signature and gets the same table row.

    python bench/bench_large_vectors.py                  # 1,000,000 x 300, a few minutes
    python bench/bench_large_vectors.py --n 100000       # quick
    python bench/bench_large_vectors.py --dir /data/tmp --keep
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import vector_io  # noqa: E402


# -- search ----------------------------------------------------------------------------------
def exact_top_k(unit: np.ndarray, query: np.ndarray, k: int = 10,
                block_rows: int = 65536) -> list[tuple[int, float]]:
    """Exact cosine top-k over (V, D) unit rows for a unit query (D,): one block of rows at a
    time, so only a block of scores is in memory besides the running best k."""
    best_i = np.empty(0, dtype=np.int64)
    best_s = np.empty(0, dtype=np.float32)
    for start in range(0, unit.shape[0], block_rows):
        scores = unit[start:start + block_rows] @ query
        top = np.argpartition(-scores, min(k, len(scores)) - 1)[:k]
        cand_i = np.concatenate([best_i, top + start])
        cand_s = np.concatenate([best_s, scores[top]])
        keep = np.argsort(-cand_s, kind="stable")[:k]
        best_i, best_s = cand_i[keep], cand_s[keep]
    return [(int(i), float(s)) for i, s in zip(best_i, best_s, strict=True)]


# name -> searcher(unit (V, D), query (D,), k) -> [(row, cosine)]; "pynndescent" is a later task
SEARCHERS: dict[str, Callable[..., list[tuple[int, float]]]] = {"exact": exact_top_k}


# -- measurements ----------------------------------------------------------------------------
def memory() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile of this process in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    return out


def drop_from_page_cache(paths: list[Path]) -> None:
    """Evict only our own files' clean pages, for a cold-cache measurement."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def generate(path: Path, n: int, dim: int, seed: int = 0, block: int = 20_000) -> None:
    """A word2vec binary file with words w0000000.. and N(0, 1) vectors, written in blocks of
    fixed-size records (word, space, D float32, newline) as word2vec.c lays them out."""
    width = len(str(n - 1)) + 1
    record = np.dtype([("word", f"S{width}"), ("space", "S1"), ("vec", "<f4", (dim,)), ("nl", "S1")])
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(f"{n} {dim}\n".encode())
        for start in range(0, n, block):
            rows = min(block, n - start)
            rec = np.empty(rows, dtype=record)
            ids = np.arange(start, start + rows).astype(bytes)
            rec["word"] = np.char.add(b"w", np.char.zfill(ids, width - 1))
            rec["space"] = b" "
            rec["vec"] = rng.standard_normal((rows, dim), dtype=np.float32)
            rec["nl"] = b"\n"
            rec.tofile(f)


def stage_convert(src: Path, out: Path) -> dict:
    t = time.perf_counter()
    vector_io.convert_to_npy(src, out)
    return {"seconds": time.perf_counter() - t, **memory()}


def stage_open(out: Path, cold: bool, queries: int, searcher: str) -> dict:
    if cold:
        drop_from_page_cache([out / "vectors.npy", out / "unit.npy", out / "vocab.txt"])
    search = SEARCHERS[searcher]
    t0 = time.perf_counter()
    v = vector_io.open_mmap(out)
    t_open = time.perf_counter() - t0
    mem_open = memory()
    first = search(v.unit, v.unit[12345 % len(v)], 11)
    t_first = time.perf_counter() - t0
    assert first[0][0] == 12345 % len(v)  # the query word is its own nearest neighbour
    rng = np.random.default_rng(1)
    t1 = time.perf_counter()
    for i in rng.integers(0, len(v), queries):
        search(v.unit, v.unit[i], 11)
    t_query = (time.perf_counter() - t1) / max(queries, 1)
    check = [v.words[i] for i, _ in first[1:]] == [w for w, _ in v.most_similar(v.words[12345 % len(v)])]
    return {"open_s": t_open, "open_plus_first_query_s": t_first, "query_s": t_query,
            "agrees_with_most_similar": check, "rss_after_open_mb": mem_open["VmRSS"], **memory()}


def child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="words (default 1,000,000)")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--queries", type=int, default=20, help="timed queries after the first")
    ap.add_argument("--searcher", default="exact", choices=sorted(SEARCHERS))
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--stage", choices=["convert", "open"], help=argparse.SUPPRESS)
    ap.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stage == "convert":
        print(json.dumps(stage_convert(args.src, args.out)))
        return
    if args.stage == "open":
        print(json.dumps(stage_open(args.out, args.cold, args.queries, args.searcher)))
        return

    work = Path(tempfile.mkdtemp(prefix="w2v-large-", dir=args.dir))
    try:
        src, out = work / "vectors.bin", work / "npy"
        t = time.perf_counter()
        generate(src, args.n, args.dim)
        t_gen = time.perf_counter() - t
        size_gb = src.stat().st_size / 1e9
        conv = child("--stage", "convert", "--src", str(src), "--out", str(out))
        common = ["--stage", "open", "--out", str(out), "--queries", str(args.queries),
                  "--searcher", args.searcher]
        cold = child(*common, "--cold")
        warm = child(*common)
        report(args, size_gb, t_gen, conv, cold, warm)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def report(args: argparse.Namespace, size_gb: float, t_gen: float,
           conv: dict, cold: dict, warm: dict) -> None:
    print(f"\n{args.n:,} x {args.dim} word2vec binary, {size_gb:.2f} GB (generated in {t_gen:.1f} s); "
          f"searcher: {args.searcher}\n")
    print(f"{'stage':<34}{'time':>12}{'VmHWM MB':>11}{'RssAnon MB':>12}{'RssFile MB':>12}")
    print(f"{'convert_to_npy (one pass)':<34}{conv['seconds']:>10.1f} s{conv['VmHWM']:>11.0f}"
          f"{conv['RssAnon']:>12.0f}{conv['RssFile']:>12.0f}")
    for name, r in (("cold", cold), ("warm", warm)):
        print(f"{'open_mmap (' + name + ')':<34}{r['open_s']:>10.3f} s{'':>11}{'':>12}{'':>12}"
              f"  (RSS after open {r['rss_after_open_mb']:.0f} MB)")
        print(f"{'open + first top-10 (' + name + ')':<34}{r['open_plus_first_query_s']:>10.3f} s"
              f"{r['VmHWM']:>11.0f}{r['RssAnon']:>12.0f}{r['RssFile']:>12.0f}")
    print(f"{'exact top-10 query (mean of ' + str(args.queries) + ')':<34}{warm['query_s'] * 1000:>9.0f} ms")
    print(f"\nfirst query agrees with Vectors.most_similar: {cold['agrees_with_most_similar']}")


if __name__ == "__main__":
    main()
