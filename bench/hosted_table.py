"""Hosted exploration at 100,000 and 1,000,000 words: one markdown table, a column per size, from
the results files the benchmarks wrote (nothing is measured here).

Sources in bench/results/ (a missing file or row prints "not measured"):
  map.json                    bench_map.py: prepare --layout seconds and peak RSS; the Embeddings page
                              (open to map drawn, search to highlight) on a prepared set
  focus_analogy_100k.json     bench_focus_analogy.py --n 100000: prepare --index, analogy exact vs index
  focus_analogy_100k_page.json  bench_focus_analogy.py --prepared <100k set> --page: the page (exact)
  focus_analogy_1m.json       bench_focus_analogy.py --n 1000000 --dir D: prepare --index, analogies at 1M
  focus_analogy_1m_page.json  the same --dir D again with --page: the analogy and page rows at 1M
                              (falls back to the file above)
  ann_1m.json / ann.json      bench_ann.py: recall@10 and latency of the app's index (`core`)

    python bench/hosted_table.py            # prints the table (README.md, "Hosted exploration")
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NA = "not measured"


def _load(name: str) -> dict:
    try:
        return json.loads((RESULTS / name).read_text())
    except (OSError, ValueError):
        return {}


def _prepare(rows: list[dict], n: int, method: str) -> str:
    for r in rows:
        if r.get("n") == n and r.get("method") == method and r.get("exit") == 0:
            placed = (r.get("summary") or [{}])[0].get("placed")
            words = f", {placed:,} words placed" if placed and placed != n else ""
            load = f"; load {r['load_avg_1m']}" if r.get("load_avg_1m") is not None else ""
            return f"{r['seconds']:,.0f} s, {r['peak_rss_mb']:,.0f} MB{words}{load}"
    return NA


def _page_map(rows: list[dict], name: str) -> tuple[str, str]:
    for r in rows:
        if r.get("set") == name:
            drawn = r.get("drawn", {}).get("words", 0)
            extra = " + density layer" if "density" in r.get("drawn", {}) else ""
            return (f"{r['open_to_drawn_s']:.1f} s ({drawn:,} points{extra}; load {r.get('load_avg_1m', '?')})",
                    f"{r['search_to_highlight_s']:.1f} s")
    return NA, NA


def _ms(r: dict, key: str) -> str:
    v = r.get(key)
    return f"{v['median_ms']:,.1f} ms (p90 {v['p90_ms']:,.0f})" if v else NA


def _index_build(r: dict) -> str:
    if not r.get("prepare_index_s"):
        return NA
    peak = f", peak {r['prepare_peak_rss_mb']:,.0f} MB" if r.get("prepare_peak_rss_mb") else ""
    load = r.get("load_average_1_5_15", {})
    when = f" (load {load['before'][0]:.0f} at start, {load['after'][0]:.0f} at end)" if load else ""
    return f"{r['prepare_index_s']:,.0f} s{peak}{when}"


def _page(r: dict) -> tuple[str, str, str]:
    p = r.get("page")
    if not p:
        return NA, NA, NA
    typed = sorted(p.get("typed_to_answer_s", []))
    median = typed[len(typed) // 2] if typed else None
    shown = " / ".join(p.get("search_shown", [])) or "?"
    return (f"{shown}: {p['caption_ms_median']:,.1f} ms (median of {len(p.get('captions', []))})",
            f"{p['link_to_answer_s']:.1f} s",
            f"{median:.1f} s (median of {len(typed)}; load {p.get('load_avg_1m_before', '?')})" if median else NA)


def _recall(ann: dict, label: str, method: str = "core") -> str:
    m = ann.get(label, {}).get("methods", {}).get(method)
    if not m or "error" in m:
        return NA
    best = max(m["search"], key=lambda w: w["width"])
    return (f"{best['recall_at_10']:.3f} at width {best['width']} ({best['median_ms']:.2f} ms median); "
            f"{ann[label]['rows']:,} x {ann[label]['dim']}")


def table() -> str:
    mp = _load("map.json")
    f100, f100p, f1m = _load("focus_analogy_100k.json"), _load("focus_analogy_100k_page.json"), _load(
        "focus_analogy_1m.json")
    ann, ann1m = _load("ann.json"), _load("ann_1m.json")
    m100, m1m = _page_map(mp.get("page", []), "prep100000"), _page_map(mp.get("page", []), "prep1000000")
    now1m = _load("focus_analogy_1m_page.json") or f1m  # the latest run over the prepared folder
    p100, p1m = _page(f100p), _page(now1m)
    rows = [
        ("`prepare --layout pca` (time, peak RSS)", _prepare(mp.get("prepare", []), 100_000, "pca"),
         _prepare(mp.get("prepare", []), 1_000_000, "pca")),
        ("`prepare --layout umap` (time, peak RSS)", _prepare(mp.get("prepare", []), 100_000, "umap"),
         _prepare(mp.get("prepare", []), 1_000_000, "umap")),
        ("`prepare --index` (usearch HNSW, f16)", _index_build(f100), _index_build(f1m)),
        ("Embeddings: link opened to map drawn", m100[0], m1m[0]),
        ("Embeddings: search to word highlighted", m100[1], m1m[1]),
        ("3CosAdd, exact scan", _ms(f100, "add exact"), _ms(now1m, "add exact")),
        ("3CosAdd, approximate index", _ms(f100, "add approximate"), _ms(now1m, "add approximate")),
        ("3CosMul, exact scan", _ms(f100, "mul exact"), _ms(now1m, "mul exact")),
        ("3CosMul, approximate index (reranks 200)", _ms(f100, "mul approximate"), _ms(now1m, "mul approximate")),
        ("approximate top-1 = exact top-1 (add / mul)",
         *(f"{r['add top-1 agreement']:.0%} / {r['mul top-1 agreement']:.0%}" if "add top-1 agreement" in r else NA
           for r in (f100, now1m))),
        ("Analogies page: search it says ran, its server time", p100[0], p1m[0]),
        ("Analogies page: shared link opened to answer", p100[1], p1m[1]),
        ("Analogies page: word typed to answer drawn", p100[2], p1m[2]),
        ("usearch HNSW: recall@10 vs exact, single query (bench_ann)", _recall(ann, "synthetic-100000x100", "usearch"),
         _recall(ann1m, "synthetic-1000000x300")),
    ]
    out = ["| synthetic clustered set | 100,000 words | 1,000,000 words |", "| --- | --- | --- |"]
    out += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(table() + "\n")
