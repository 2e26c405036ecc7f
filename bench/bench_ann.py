"""Approximate nearest-neighbour libraries side by side on the same unit vectors (issue 14 item 5).

Methods (cosine = inner product of unit rows, top-10 of a word's row, the word itself left out):
  exact        blocked matrix product over the memory-mapped unit.npy (the reference)
  core         core.vectors.ann.AnnIndex as it is at this commit, built and cached as the app does
  usearch      usearch.Index, HNSW, metric "ip", f32, connectivity 16, expansion_add 128; saved
               with Index.save, opened with Index.restore(path, view=True) (memory-mapped)
  faiss        faiss.IndexHNSWFlat(D, 16, METRIC_INNER_PRODUCT), efConstruction 128; saved with
               write_index, opened with read_index(path, IO_FLAG_MMAP)
  pynndescent  pynndescent.NNDescent(metric "dot", n_neighbors 30) + prepare(), queried with its
               own NNDescent.query; it can only be saved by pickling the object, so it is
Each stage runs in a fresh child process, so its memory is its own (VmHWM of /proc/self/status):
  build   build the index from unit.npy and write it: seconds, peak RSS, size on disk
  open    cold (the index files and unit.npy dropped from the page cache with posix_fadvise):
          time to open the saved index, time of the first query, RSS after it
  query   warm: single-query latency (median, p95) and recall@10 against exact search at a few
          search widths (ef for HNSW and ours, epsilon for pynndescent)
Every child records audit events "pickle.find_class" (raised whenever an unpickler resolves a
class, i.e. whenever loading rebuilds an object from a pickle): `unpickles` says whether opening
the saved index did that.

Data: --n/--dim draw a clustered synthetic set (the two-level Gaussian mixture of
bench/bench_large_vectors.py: N/1000 topics, N/10 sub-topics; nearest cosines ~0.5-0.65 at 1M
rows, so recall measures something); --vectors FILE uses a real vector file (any format
core.vectors.vector_io reads; e.g. vectors trained by `python -m core train` on the shared corpus).

    python bench/bench_ann.py --n 100000 --dim 100                 # quick, ~3 min
    python bench/bench_ann.py --n 1000000 --dim 300                # ~25 min on 2 busy cores
    python bench/bench_ann.py --vectors gutenberg-cbow100.bin --label gutenberg-70k
    python bench/bench_ann.py --prepared /tmp/focus1m/prepared --methods exact,core --dir /tmp/ann1m
--prepared DIR measures a folder made by `python -m core prepare SRC -o DIR --index` (e.g. the one
bench/bench_focus_analogy.py leaves in its --dir): its unit.npy is the data, and `core` opens the
index prepare built instead of building a second one (one 1M x 300 build takes an hour or more on
this shared machine); its build seconds are then the manifest's, its build memory not measured here
(bench_focus_analogy.py reports prepare's peak RSS).
Results are merged into bench/results/ann.json under the set's label (one entry per set).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _page_cache import drop_from_page_cache  # noqa: E402  (bench/ is the script's folder)

K = 10
METHODS = ("usearch", "faiss", "core", "pynndescent", "exact")
# search widths per method: HNSW ef / our ef / pynndescent's epsilon
WIDTHS = {"usearch": (16, 32, 64, 128, 256), "faiss": (16, 32, 64, 128, 256), "core": (64, 128, 256),
          "pynndescent": (0.0, 0.1, 0.2), "exact": (0,)}
HNSW_M, HNSW_EF_ADD = 16, 128
IMPORTS = {"usearch": ("usearch.index",), "faiss": ("faiss",), "core": ("core.vectors.ann",),
           "pynndescent": ("pynndescent",)}


# -- measuring -------------------------------------------------------------------------------
def memory() -> dict[str, float]:
    """Peak and current RSS of this process in MB (peak = VmHWM)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


_PICKLE_CLASSES: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "pickle.find_class":
        _PICKLE_CLASSES.append(f"{args[0]}.{args[1]}")


def dir_mb(d: Path) -> float:
    return round(sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) / 1e6, 1)


# -- data ------------------------------------------------------------------------------------
def synthetic(path: Path, n: int, dim: int, seed: int = 0, block: int = 50_000) -> None:
    """unit.npy of n clustered rows (bench_large_vectors.generate's mixture), normalised."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((max(n // 1000, 4), dim), dtype=np.float32)
    n_sub = max(n // 10, 8)
    sub = topics[rng.integers(0, len(topics), n_sub)] + 0.8 * rng.standard_normal((n_sub, dim), dtype=np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, block):
        rows = min(block, n - start)
        vec = rng.standard_normal((rows, dim), dtype=np.float32) + sub[rng.integers(0, n_sub, rows)]
        out[start:start + rows] = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    out.flush()
    del out


def real(path: Path, src: Path) -> None:
    from core.vectors import vector_io

    v = vector_io.load(src)
    unit = np.ascontiguousarray(v.unit, dtype=np.float32)
    ok = np.isfinite(unit).all(axis=1) & (np.abs(unit).sum(axis=1) > 0)
    np.save(path, unit[ok], allow_pickle=False)


def exact_truth(unit: np.ndarray, rows: np.ndarray, k: int = K, block: int = 65536) -> np.ndarray:
    """(Q, k) exact top-k row ids for the given rows, each row itself excluded."""
    q = np.ascontiguousarray(unit[rows])
    best_i = np.empty((len(q), 0), dtype=np.int64)
    best_s = np.empty((len(q), 0), dtype=np.float32)
    for start in range(0, unit.shape[0], block):
        s = q @ unit[start:start + block].T
        local = rows - start
        inside = (local >= 0) & (local < s.shape[1])
        s[np.nonzero(inside)[0], local[inside]] = -np.inf
        kk = min(k, s.shape[1])
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        ci = np.concatenate([best_i, top + start], axis=1)
        cs = np.concatenate([best_s, np.take_along_axis(s, top, axis=1)], axis=1)
        keep = np.argsort(-cs, axis=1, kind="stable")[:, :k]
        best_i, best_s = np.take_along_axis(ci, keep, axis=1), np.take_along_axis(cs, keep, axis=1)
    return best_i


# -- methods: build(unit, dir) -> None; open(dir, unit) -> search(q (D,), k, width) -> ids ---------
def build_usearch(unit: np.ndarray, d: Path) -> None:
    from usearch.index import Index

    index = Index(ndim=unit.shape[1], metric="ip", dtype="f32", connectivity=HNSW_M, expansion_add=HNSW_EF_ADD)
    index.add(np.arange(len(unit), dtype=np.uint64), unit, threads=os.cpu_count() or 1)
    index.save(str(d / "index.usearch"))


def open_usearch(d: Path, unit: np.ndarray):
    from usearch.index import Index

    index = Index.restore(str(d / "index.usearch"), view=True)

    def search(q: np.ndarray, k: int, width) -> np.ndarray:
        index.expansion_search = int(width)
        return np.asarray(index.search(q, k, threads=1).keys, dtype=np.int64)
    return search


def build_faiss(unit: np.ndarray, d: Path) -> None:
    import faiss

    index = faiss.IndexHNSWFlat(unit.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_ADD
    index.add(np.ascontiguousarray(unit))
    faiss.write_index(index, str(d / "index.faiss"))


def open_faiss(d: Path, unit: np.ndarray):
    import faiss

    faiss.omp_set_num_threads(1)  # subtle: one query at a time; OpenMP threads only add waiting
    index = faiss.read_index(str(d / "index.faiss"), faiss.IO_FLAG_MMAP)

    def search(q: np.ndarray, k: int, width) -> np.ndarray:
        index.hnsw.efSearch = int(width)
        return index.search(q.reshape(1, -1), k)[1][0].astype(np.int64)
    return search


def build_core(unit: np.ndarray, d: Path) -> dict | None:
    from core.vectors.ann import AnnIndex, prepared_key

    built = _prepared_index(d.parent)
    if built is not None:  # the index `prepare --index` wrote for this very unit.npy: copied, not rebuilt
        shutil.copytree(built, d / built.name, dirs_exist_ok=True)
        index = AnnIndex.cached(unit, d, key=prepared_key(unit))
        if index is None:
            raise SystemExit("core: the prepared folder's index is not valid for its unit.npy")
        return {"build_s": round(index.build_seconds or float("nan"), 2), "built_by": "prepare --index"}
    AnnIndex.build(unit, cache_dir=d, key=prepared_key(unit))
    return None


def _prepared_index(data: Path) -> Path | None:
    """The ann-* folder of the prepared set whose unit.npy `data/unit.npy` links to, if any."""
    link = data / "unit.npy"
    if not link.is_symlink():
        return None
    found = sorted(link.resolve().parent.glob("ann/ann-*/manifest.json"))
    return found[0].parent if found else None


def open_core(d: Path, unit: np.ndarray):
    from core.vectors.ann import AnnIndex, prepared_key

    index = AnnIndex.cached(unit, d, key=prepared_key(unit))
    if index is None:
        raise SystemExit("core: no valid cached index (the build stage must run first)")

    def search(q: np.ndarray, k: int, width) -> np.ndarray:
        return np.asarray(index.query(q, k, ef=int(width))[0], dtype=np.int64)
    return search


def build_pynndescent(unit: np.ndarray, d: Path) -> None:
    import pynndescent

    nnd = pynndescent.NNDescent(unit, metric="dot", n_neighbors=30, random_state=0, low_memory=True)
    nnd.prepare()
    with open(d / "index.pickle", "wb") as f:
        pickle.dump(nnd, f, protocol=pickle.HIGHEST_PROTOCOL)


def open_pynndescent(d: Path, unit: np.ndarray):
    with open(d / "index.pickle", "rb") as f:
        nnd = pickle.load(f)  # the only way pynndescent persists an index (our own file here)

    def search(q: np.ndarray, k: int, width) -> np.ndarray:
        return nnd.query(q.reshape(1, -1), k=k, epsilon=float(width))[0][0].astype(np.int64)
    return search


def build_exact(unit: np.ndarray, d: Path) -> None:
    pass


def open_exact(d: Path, unit: np.ndarray):
    def search(q: np.ndarray, k: int, width) -> np.ndarray:
        best_i, best_s = np.empty(0, np.int64), np.empty(0, np.float32)
        for start in range(0, unit.shape[0], 65536):
            s = unit[start:start + 65536] @ q
            top = np.argpartition(-s, k - 1)[:k]
            ci, cs = np.concatenate([best_i, top + start]), np.concatenate([best_s, s[top]])
            keep = np.argsort(-cs)[:k]
            best_i, best_s = ci[keep], cs[keep]
        return best_i
    return search


# -- child stages ----------------------------------------------------------------------------
def child_build(method: str, data: Path) -> dict:
    unit = np.load(data / "unit.npy", mmap_mode="r")
    d = data / method
    d.mkdir(exist_ok=True)
    t = time.perf_counter()
    instead = globals()[f"build_{method}"](unit, d)
    out = {"build_s": round(time.perf_counter() - t, 2), "size_mb": dir_mb(d), "build_mem_mb": memory()}
    if instead:  # built earlier by another process: its own seconds, and this process's memory means nothing
        out.update(instead, build_mem_mb={})
    return out


def child_open(method: str, data: Path) -> dict:
    unit = np.load(data / "unit.npy", mmap_mode="r")
    rows = np.load(data / "rows.npy")
    t = time.perf_counter()
    for module in IMPORTS.get(method, ()):
        __import__(module)  # timed apart: a server imports once, opens each set once
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    search = globals()[f"open_{method}"](data / method, unit)
    t_open = time.perf_counter() - t
    unpickled = list(_PICKLE_CLASSES)
    t = time.perf_counter()
    search(np.array(unit[rows[0]]), K + 1, WIDTHS[method][len(WIDTHS[method]) // 2])
    t_first = time.perf_counter() - t
    return {"import_s": round(t_import, 3), "open_s": round(t_open, 4), "first_query_s": round(t_first, 4),
            "open_mem_mb": memory(),
            "unpickles": bool(unpickled), "unpickled_classes": sorted(set(unpickled))[:5]}


def child_query(method: str, data: Path, n_latency: int) -> dict:
    unit = np.load(data / "unit.npy", mmap_mode="r")
    rows, truth = np.load(data / "rows.npy"), np.load(data / "truth.npy")
    search = globals()[f"open_{method}"](data / method, unit)
    queries = np.ascontiguousarray(unit[rows])
    out = []
    for width in WIDTHS[method]:
        n = len(rows) if method != "exact" else min(len(rows), 50)
        for i in range(min(n, 20)):  # warm-up: pages mapped, code compiled
            search(queries[i], K + 1, width)
        lat, hits = [], 0
        for i in range(n):
            t = time.perf_counter()
            ids = search(queries[i], K + 1, width)
            if i < n_latency:
                lat.append(time.perf_counter() - t)
            ids = [j for j in ids.tolist() if j != rows[i]][:K]
            hits += len(set(ids) & set(truth[i].tolist()))
        out.append({"width": width, "recall_at_10": round(hits / (n * K), 4), "queries": n,
                    "median_ms": round(1e3 * float(np.median(lat)), 3),
                    "p95_ms": round(1e3 * float(np.percentile(lat, 95)), 3)})
    return {"search": out, "query_mem_mb": memory()}


def run_child(*args: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def method_files(data: Path, method: str) -> list[Path]:
    d = data / method
    return [p for p in d.rglob("*") if p.is_file()] if d.is_dir() else []


def save(path: Path, label: str, result: dict) -> None:
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        results = {}
    # subtle: a run of some methods replaces only those; the others measured earlier stay
    old = results.get(label, {}).get("methods", {}) if results.get(label, {}).get("rows") == result["rows"] else {}
    results[label] = {**result, "methods": {**old, **result["methods"]}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")


def table(results: dict) -> str:
    """Markdown tables of a results file, one per set: a row per method, the search columns at
    each method's widths as `recall@10 (median / p95 ms)`."""
    out = []
    for label, r in results.items():
        out.append(f"**{label}**: {r['rows']:,} x {r['dim']}, {r['data']}, {r['queries']:,} queries, {r['date']}\n")
        out.append("| method | build s | build peak RSS MB | index MB | open s (cold) | first query s (cold) "
                   "| heap after open MB | unpickles | recall@10 (median / p95 ms) by search width |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for name, m in r["methods"].items():
            if "error" in m:
                out.append(f"| {name} | {m['error']} |||||||")
                continue
            widths = "; ".join(f"{w['width']}: {w['recall_at_10']:.3f} ({w['median_ms']:.2f} / {w['p95_ms']:.1f})"
                               for w in m.get("search", []))
            peak = m["build_mem_mb"].get("VmHWM")
            peak = f"{peak:,.0f}" if peak is not None else m.get("built_by", "")
            out.append(f"| {name} | {m['build_s']:,.1f} | {peak} | {m['size_mb']:,.1f} "
                       f"| {m.get('open_s', float('nan')):.3f} | {m.get('first_query_s', float('nan')):.3f} "
                       f"| {m.get('open_mem_mb', {}).get('RssAnon', float('nan')):,.0f} "
                       f"| {'yes' if m.get('unpickles') else 'no'} | {widths} |")
        out.append("")
    return "\n".join(out)


def _same_rows(data: Path, rows: np.ndarray, n: int) -> bool:
    """Whether data/ already holds the exact truth of these query rows for an n-row unit.npy
    (an earlier run over the same folder, e.g. one method at a time)."""
    try:
        old, truth = np.load(data / "rows.npy"), np.load(data / "truth.npy")
    except (OSError, ValueError):
        return False
    return (old.shape == rows.shape and bool((old == rows).all()) and truth.shape == (len(rows), K)
            and (data / "truth.npy").stat().st_mtime >= (data / "unit.npy").stat().st_mtime and int(truth.max()) < n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--vectors", type=Path, help="a real vector file instead of synthetic data")
    ap.add_argument("--prepared", type=Path, help="a folder of `python -m core prepare --index` (see above)")
    ap.add_argument("--label", help="key in the results file (default: synthetic-NxD or the file's name)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--queries", type=int, default=1000, help="rows whose top-10 is checked for recall")
    ap.add_argument("--latency-queries", type=int, default=500)
    ap.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ann.json")
    ap.add_argument("--table", action="store_true", help="print the results file as markdown tables and exit")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    if args.child:
        sys.addaudithook(_audit)
        stage, method, data = args.child[0], args.child[1], Path(args.child[2])
        if stage == "build":
            r = child_build(method, data)
        elif stage == "open":
            r = child_open(method, data)
        else:
            r = child_query(method, data, int(args.child[3]))
        print(json.dumps(r))
        return

    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="bench_ann_")
    data = args.dir or Path(tmp.name)
    data.mkdir(parents=True, exist_ok=True)
    label = args.label or (args.vectors.stem if args.vectors else args.prepared.name if args.prepared
                           else f"synthetic-{args.n}x{args.dim}")
    t = time.perf_counter()
    if args.prepared and not (data / "unit.npy").exists():
        (data / "unit.npy").symlink_to((args.prepared / "unit.npy").resolve())
    if not (data / "unit.npy").exists():
        real(data / "unit.npy", args.vectors) if args.vectors else synthetic(data / "unit.npy", args.n, args.dim)
    unit = np.load(data / "unit.npy", mmap_mode="r")
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(len(unit), min(args.queries, len(unit)), replace=False))
    if not _same_rows(data, rows, len(unit)):  # subtle: exact truth of 1,000 rows of 1M x 300 costs minutes
        np.save(data / "truth.npy", exact_truth(unit, rows))
        np.save(data / "rows.npy", rows)
    print(f"{label}: {unit.shape[0]:,} x {unit.shape[1]} ready in {time.perf_counter() - t:.0f} s", flush=True)
    result = {"rows": int(unit.shape[0]), "dim": int(unit.shape[1]), "queries": len(rows), "k": K,
              "data": ("real: " + args.vectors.name if args.vectors else f"prepared folder {args.prepared.name}"
                       if args.prepared else "synthetic clustered (seed 0)"),
              "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()],
              "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "methods": {}}
    for method in args.methods.split(","):
        r: dict = {}
        r.update(run_child("build", method, str(data)))
        print(f"  {method} build: {r}", flush=True)
        if "error" not in r:
            drop_from_page_cache([data / "unit.npy", *method_files(data, method)])
            r.update(run_child("open", method, str(data)))
            r.update(run_child("query", method, str(data), str(args.latency_queries)))
        result["methods"][method] = r
        print(f"  {method}: {json.dumps(r)}", flush=True)
        for p in method_files(data, method):
            p.unlink()  # subtle: the next build should not compete with this one's files for page cache
        save(args.out, label, result)  # after each method: a long run keeps what it measured
    print(f"wrote {args.out} [{label}]")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
