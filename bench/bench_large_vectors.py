"""Large vector sets: convert a GoogleNews-size word2vec binary to memory-mapped .npy and query it,
exactly and through the approximate index (core/vectors/ann.py).

Generates a synthetic N x D word2vec binary file (float32, written in blocks; 1,000,000 x 300 is
1.2 GB), then measures, each stage in a fresh child process so its memory is its own:
  convert   convert_to_npy: one streaming pass -> vectors.npy + unit.npy + vocab.txt
  open      open_mmap, then the first exact top-10 query (cold: our files dropped from the page
            cache with posix_fadvise first; warm: our files read through first)
  query     mean time of further exact top-10 queries (blocked matrix product over unit.npy)
  build     AnnIndex.build over unit.npy, written to npy/ann-<key>/ (the first, uncached build)
  ann open  open_mmap + the cached index read back + the first approximate query (cold, warm)
  ann query mean time of further approximate top-10 queries (raw row vectors):
            the first ones after the cold open (rows read from disk as the search reaches them),
            after the warm open (pages in the page cache but not yet mapped: one minor fault
            per new page) and steady (every page mapped, after the recall pass scanned them)
  recall    recall@10 of the approximate answers against exact search over --recall-queries
            random queries: words (Vectors.most_similar), the same rows as raw vectors
            (AnnIndex.query), and analogies b - a + c (3CosAdd)
Memory is read from /proc/self/status: VmHWM (peak), RssAnon (heap), RssFile (mapped file pages,
reclaimable by the kernel; a full scan of unit.npy maps all of it).

--data clustered (default) draws rows from a two-level Gaussian mixture (N/1000 topics, N/10
sub-topics, noise of the same scale as the sub-topic spread): nearest cosines of about 0.66 (top
1) and 0.54 (top 10) at 1M rows, in the range of real word2vec neighbours. --data iid draws N(0, 1) rows,
which have no neighbour structure at all (every cosine is about N(0, 1/D)); exact timings are the
same on both, but approximate recall on iid data measures nothing useful (about 0.3 at 100k).

    python bench/bench_large_vectors.py                  # 1,000,000 x 300, 4-6 min (the index build 3.5-5)
    python bench/bench_large_vectors.py --n 100000       # quick
    python bench/bench_large_vectors.py --skip-ann       # exact search only
    python bench/bench_large_vectors.py --dir /data/tmp --keep
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _page_cache import drop_from_page_cache  # noqa: E402  (bench/ is the script's folder)

from core.vectors import vector_io  # noqa: E402
from core.vectors.ann import AnnIndex  # noqa: E402


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


def exact_top_k_batch(unit: np.ndarray, queries: np.ndarray, k: int, exclude: np.ndarray,
                      block_rows: int = 65536) -> np.ndarray:
    """(Q, k) exact top-k row ids for (Q, D) queries, rows in exclude[q] (Q, E) never answers:
    one block of rows against all queries at a time (the reference for recall)."""
    nq = len(queries)
    best_i = np.empty((nq, 0), dtype=np.int64)
    best_s = np.empty((nq, 0), dtype=np.float32)
    rows = np.arange(nq)[:, None]
    for start in range(0, unit.shape[0], block_rows):
        scores = queries @ unit[start:start + block_rows].T              # (Q, block)
        local = exclude - start
        ok = (local >= 0) & (local < scores.shape[1])
        scores[np.broadcast_to(rows, local.shape)[ok], local[ok]] = -np.inf
        kk = min(k, scores.shape[1])
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        cand_i = np.concatenate([best_i, top + start], axis=1)
        cand_s = np.concatenate([best_s, np.take_along_axis(scores, top, axis=1)], axis=1)
        keep = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_i, best_s = np.take_along_axis(cand_i, keep, axis=1), np.take_along_axis(cand_s, keep, axis=1)
    return best_i


def ann_dir(out: Path) -> Path:
    return out / "ann"


def open_exact(v, out: Path) -> Callable[[np.ndarray, int], list[tuple[int, float]]]:
    return lambda query, k: exact_top_k(v.unit, query, k)


def open_ann(v, out: Path) -> Callable[[np.ndarray, int], list[tuple[int, float]]]:
    """Read the index built by stage_build back from its cache (fail rather than rebuild) and
    attach it, so Vectors.most_similar answers from it (1M words > EXACT_MAX)."""
    index = AnnIndex.build(v.unit, cache_dir=ann_dir(out))
    if not index.from_cache:
        raise SystemExit("the cached index was not found or not valid: the build stage must run first")
    v.use_index(index)

    def search(query: np.ndarray, k: int) -> list[tuple[int, float]]:
        ids, sims = index.query(query, k)
        return [(int(i), float(s)) for i, s in zip(ids, sims, strict=True)]
    return search


# name -> opener(vectors, npy dir) -> searcher(query (D,), k) -> [(row, cosine)], best first
SEARCHERS: dict[str, Callable[..., Callable[[np.ndarray, int], list[tuple[int, float]]]]] = {
    "exact": open_exact, "ann": open_ann}


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


def generate(path: Path, n: int, dim: int, data: str = "clustered", seed: int = 0, block: int = 20_000) -> None:
    """A word2vec binary file with words w0000000.. and float32 vectors (see --data in the module
    docstring), written in blocks of fixed-size records (word, space, D float32, newline) as
    word2vec.c lays them out."""
    width = len(str(n - 1)) + 1
    record = np.dtype([("word", f"S{width}"), ("space", "S1"), ("vec", "<f4", (dim,)), ("nl", "S1")])
    rng = np.random.default_rng(seed)
    if data == "clustered":
        topics = rng.standard_normal((max(n // 1000, 4), dim), dtype=np.float32)
        n_sub = max(n // 10, 8)
        sub = topics[rng.integers(0, len(topics), n_sub)] + 0.8 * rng.standard_normal((n_sub, dim), dtype=np.float32)
    with open(path, "wb") as f:
        f.write(f"{n} {dim}\n".encode())
        for start in range(0, n, block):
            rows = min(block, n - start)
            rec = np.empty(rows, dtype=record)
            ids = np.arange(start, start + rows).astype(bytes)
            rec["word"] = np.char.add(b"w", np.char.zfill(ids, width - 1))
            rec["space"] = b" "
            vec = rng.standard_normal((rows, dim), dtype=np.float32)
            if data == "clustered":
                vec += sub[rng.integers(0, n_sub, rows)]
            rec["vec"] = vec
            rec["nl"] = b"\n"
            rec.tofile(f)


def stage_convert(src: Path, out: Path) -> dict:
    t = time.perf_counter()
    vector_io.convert_to_npy(src, out)
    return {"seconds": time.perf_counter() - t, **memory()}


def stage_build(out: Path) -> dict:
    """The first (uncached) index build, as the app would run it: open_mmap, then build."""
    v = vector_io.open_mmap(out)
    shutil.rmtree(ann_dir(out), ignore_errors=True)
    t = time.perf_counter()
    index = AnnIndex.build(v.unit, cache_dir=ann_dir(out))
    seconds = time.perf_counter() - t
    files = sum(p.stat().st_size for p in ann_dir(out).rglob("*") if p.is_file())
    return {"seconds": seconds, "rows": index.n, "cache_mb": files / 1e6,
            "params": vars(index.params), **memory()}


def our_files(out: Path) -> list[Path]:
    files = [out / "vectors.npy", out / "unit.npy", out / "vocab.txt"]
    return files + sorted(p for p in ann_dir(out).rglob("*") if p.is_file())


def read_through(paths: list[Path]) -> None:
    """Read files once so their pages are in the page cache (the "warm" case)."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(16 << 20):
                pass


def timed(search: Callable, queries: list[np.ndarray], k: int = 11) -> tuple[float, float]:
    """Mean and median seconds per query. The median is reported too because other jobs on a
    shared machine stretch single queries several-fold (one memory-bound query is ~1 ms)."""
    times = []
    for q in queries:
        t = time.perf_counter()
        search(q, k)
        times.append(time.perf_counter() - t)
    return (float(np.mean(times)), float(np.median(times))) if times else (0.0, 0.0)


def stage_open(out: Path, cold: bool, queries: int, searcher: str, recall_queries: int) -> dict:
    if cold:
        drop_from_page_cache(our_files(out))
    else:
        read_through(our_files(out))
    t0 = time.perf_counter()
    v = vector_io.open_mmap(out)
    t_open = time.perf_counter() - t0
    mem_open = memory()
    search = SEARCHERS[searcher](v, out)
    t_ready = time.perf_counter() - t0
    probe = 12345 % len(v)
    first = search(v.unit[probe], 11)
    t_first = time.perf_counter() - t0
    assert first[0][0] == probe  # the query word is its own nearest neighbour
    rng = np.random.default_rng(1)
    t_query, t_query_median = timed(search, [v.unit[i] for i in rng.integers(0, len(v), queries)])
    check = [v.words[i] for i, _ in first[1:]] == [w for w, _ in v.most_similar(v.words[probe])]
    result = {"open_s": t_open, "ready_s": t_ready, "open_plus_first_query_s": t_first, "query_s": t_query,
              "query_median_s": t_query_median,
              "agrees_with_most_similar": check, "rss_after_open_mb": mem_open["VmRSS"], **memory()}
    if recall_queries and searcher == "ann":
        result.update(recall(v, search, recall_queries))
    return result


def recall(v, search: Callable, n_queries: int, k: int = 10) -> dict:
    """recall@k against exact_top_k_batch for random words, the same rows as raw vectors, and
    random analogies; the mean time per Vectors-level approximate query too."""
    rng = np.random.default_rng(2)
    unit = v.unit
    rows = rng.choice(len(v), n_queries, replace=False)
    exact_words = exact_top_k_batch(unit, unit[rows], k, rows[:, None])
    t = time.perf_counter()
    approx_words = [[v.index[w] for w, _ in v.most_similar(v.words[i], topn=k, approximate=True)] for i in rows]
    t_word = (time.perf_counter() - t) / n_queries
    raw = [[i for i, _ in search(unit[r], k + 1) if i != r][:k] for r in rows]
    abc = np.stack([rng.choice(len(v), 3, replace=False) for _ in range(n_queries)])
    q = unit[abc[:, 1]] - unit[abc[:, 0]] + unit[abc[:, 2]]
    exact_analogy = exact_top_k_batch(unit, q, k, abc)
    t = time.perf_counter()
    approx_analogy = [[v.index[w] for w, _ in v.analogy(*(v.words[i] for i in t3), topn=k, approximate=True)]
                      for t3 in abc]
    t_analogy = (time.perf_counter() - t) / n_queries

    # every page of unit.npy is mapped now (exact_top_k_batch scanned it): the steady state
    t_steady, t_steady_median = timed(search, [unit[r] for r in rows])

    def rate(approx: list[list[int]], exact: np.ndarray) -> float:
        return float(np.mean([len(set(a) & set(e.tolist())) / k for a, e in zip(approx, exact, strict=True)]))

    return {"recall_words": rate(approx_words, exact_words), "recall_raw": rate(raw, exact_words),
            "recall_analogies": rate(approx_analogy, exact_analogy), "most_similar_s": t_word,
            "analogy_s": t_analogy, "query_steady_s": t_steady,
            "query_steady_median_s": t_steady_median, "recall_queries": n_queries}


def child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="words (default 1,000,000)")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--data", choices=["clustered", "iid"], default="clustered", help="see the module docstring")
    ap.add_argument("--queries", type=int, default=20, help="timed queries after the first")
    ap.add_argument("--recall-queries", type=int, default=100, help="random queries for recall@10")
    ap.add_argument("--skip-ann", action="store_true", help="exact search only (no index build)")
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--stage", choices=["convert", "build", "open"], help=argparse.SUPPRESS)
    ap.add_argument("--searcher", default="exact", choices=sorted(SEARCHERS), help=argparse.SUPPRESS)
    ap.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stage == "convert":
        print(json.dumps(stage_convert(args.src, args.out)))
        return
    if args.stage == "build":
        print(json.dumps(stage_build(args.out)))
        return
    if args.stage == "open":
        print(json.dumps(stage_open(args.out, args.cold, args.queries, args.searcher, args.recall_queries)))
        return

    work = Path(tempfile.mkdtemp(prefix="w2v-large-", dir=args.dir))
    try:
        src, out = work / "vectors.bin", work / "npy"
        t = time.perf_counter()
        generate(src, args.n, args.dim, args.data)
        t_gen = time.perf_counter() - t
        size_gb = src.stat().st_size / 1e9
        results: dict = {"n": args.n, "dim": args.dim, "data": args.data, "queries": args.queries,
                         "generate_s": t_gen, "size_gb": size_gb}
        results["convert"] = child("--stage", "convert", "--src", str(src), "--out", str(out))
        common = ["--stage", "open", "--out", str(out), "--queries", str(args.queries),
                  "--recall-queries", str(args.recall_queries)]
        results["cold"] = child(*common, "--searcher", "exact", "--cold")
        results["warm"] = child(*common, "--searcher", "exact")
        if not args.skip_ann:
            results["build"] = child("--stage", "build", "--out", str(out))
            results["ann_cold"] = child(*common, "--searcher", "ann", "--cold", "--recall-queries", "0")
            results["ann_warm"] = child(*common, "--searcher", "ann")
        report(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def report(r: dict) -> None:
    print(f"\n{r['n']:,} x {r['dim']} word2vec binary ({r['data']}), {r['size_gb']:.2f} GB "
          f"(generated in {r['generate_s']:.1f} s)\n")
    print(f"{'stage':<44}{'time':>12}{'VmHWM MB':>11}{'RssAnon MB':>12}{'RssFile MB':>12}")

    def row(name: str, seconds: float, m: dict | None = None, unit: str = "s", median: float | None = None) -> None:
        t = f"{seconds * 1000:>9.1f} ms" if unit == "ms" else f"{seconds:>10.3f} s"
        mem = f"{m['VmHWM']:>11.0f}{m['RssAnon']:>12.0f}{m['RssFile']:>12.0f}" if m else ""
        med = f"   (median {median * 1000:.2f} ms)" if median is not None else ""
        print(f"{name:<44}{t}{mem}{med}")

    row("convert_to_npy (one pass)", r["convert"]["seconds"], r["convert"])
    searchers = [("exact", "cold", "warm")] + ([("ann", "ann_cold", "ann_warm")] if "build" in r else [])
    if "build" in r:
        b = r["build"]
        row("index build (first, uncached)", b["seconds"], b)
        print(f"{'':<44}{b['rows']:,} rows, cache {b['cache_mb']:.0f} MB")
    for name, cold, warm in searchers:
        for label, key in (("cold", cold), ("warm", warm)):
            x = r[key]
            row(f"open_mmap ({label})", x["open_s"])
            if name == "ann":
                row(f"index load from cache ({label})", x["ready_s"] - x["open_s"])
            both = "open + load" if name == "ann" else "open"
            row(f"{both} + first {name} top-10 ({label})", x["open_plus_first_query_s"], x)
    w = r["warm"]
    row(f"exact top-10 query (mean of {r['queries']})", w["query_s"], unit="ms", median=w["query_median_s"])
    if "build" in r:
        n, c, w = r["queries"], r["ann_cold"], r["ann_warm"]
        row(f"ann top-10 query (first {n} after cold open)", c["query_s"], unit="ms", median=c["query_median_s"])
        row(f"ann top-10 query (first {n} after warm open)", w["query_s"], unit="ms", median=w["query_median_s"])
        row(f"ann top-10 query (steady, mean of {w['recall_queries']})", w["query_steady_s"], unit="ms",
            median=w["query_steady_median_s"])
        row("  Vectors.most_similar (approximate)", w["most_similar_s"], unit="ms")
        row("  Vectors.analogy (approximate)", w["analogy_s"], unit="ms")
        print(f"\nrecall@10 against exact search, {w['recall_queries']} random queries: "
              f"words {w['recall_words']:.3f}, raw row vectors {w['recall_raw']:.3f}, "
              f"analogies b - a + c {w['recall_analogies']:.3f}")
    print(f"first query agrees with Vectors.most_similar: exact {r['cold']['agrees_with_most_similar']}"
          + (f", approximate {r['ann_cold']['agrees_with_most_similar']}" if "build" in r else ""))


if __name__ == "__main__":
    main()
