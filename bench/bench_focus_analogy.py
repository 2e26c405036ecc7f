"""The Analogies playground on a large prepared set: exact scan vs the approximate index, as the page
calls them (Vectors.analogy(b, a, c, topn=5, method=..., approximate=...)).

Generates an N x D word2vec binary (bench_large_vectors.generate, clustered rows), prepares it with
the operator's command (`python -m core prepare SRC -o DIR --index`), opens it the way the app does
(vector_io.open_mmap + ui.vector_sets.attach_cached_index), reads the files through once (warm page
cache, the steady state of a server), then times --queries random a - b + c questions per method and
path, interleaved. Reports the median and the 90th percentile per path and the exact/approximate ratio,
and how often the approximate top-1 equals the exact one.

    python bench/bench_focus_analogy.py --n 100000          # ~1-2 min here
    python bench/bench_focus_analogy.py                     # 1,000,000 x 300: the index build takes minutes
"""

from __future__ import annotations

import argparse
import json
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

from core.vectors import vector_io  # noqa: E402
from ui.vector_sets import attach_cached_index, search_mode  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="w2v-focus-bench-"))
    src, out = work / "src.bin", work / "prepared"
    t = time.perf_counter()
    generate(src, args.n, args.dim)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", "prepare", str(src), "-o", str(out), "--index", "--quiet"],
                   cwd=ROOT, check=True)
    prep_s = time.perf_counter() - t
    v = vector_io.open_mmap(out)
    assert attach_cached_index(v, out / vector_io.INDEX_DIR), "prepare --index left no usable index"
    read_through([p for p in out.rglob("*") if p.is_file()])
    rng = np.random.default_rng(0)
    triples = [tuple(v.words[i] for i in rng.choice(min(len(v), 30_000), 3, replace=False))
               for _ in range(args.queries)]
    times: dict[str, list[float]] = {}
    same = {"add": 0, "mul": 0}
    for a, b, c in triples:
        for method in ("add", "mul"):
            got = {}
            for approximate in (False, True):  # interleaved: the machine's noise hits both
                t = time.perf_counter()
                got[approximate] = v.analogy(b, a, c, topn=5, method=method, approximate=approximate)
                times.setdefault(f"{method} {'approximate' if approximate else 'exact'}", []).append(
                    time.perf_counter() - t)
            same[method] += got[True][0][0] == got[False][0][0]
    result = {"n": len(v), "dim": v.dim, "generate_s": gen_s, "prepare_index_s": prep_s,
              "page_would_use_index": search_mode(v), "queries": args.queries}
    for key, ts in times.items():
        result[key] = {"median_ms": 1e3 * float(np.median(ts)), "p90_ms": 1e3 * float(np.percentile(ts, 90))}
    for method in ("add", "mul"):
        result[f"{method} exact/approximate"] = (result[f"{method} exact"]["median_ms"]
                                                 / result[f"{method} approximate"]["median_ms"])
        result[f"{method} top-1 agreement"] = same[method] / args.queries
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
