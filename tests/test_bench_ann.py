"""bench/bench_ann.py --prepared: a set prepared with `python -m core prepare --index` is measured
with the index prepare built (copied, never rebuilt, the prepared folder left as it was); a plain
work folder still builds its own. The measurements themselves are not checked here (bench/ does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_ann  # noqa: E402
from bench_large_vectors import generate  # noqa: E402


def _prepared(tmp_path: Path) -> Path:
    src, out = tmp_path / "src.bin", tmp_path / "prepared"
    generate(src, 400, 16)
    subprocess.run([sys.executable, "-m", "core", "prepare", str(src), "-o", str(out), "--index", "--quiet"],
                   cwd=ROOT, check=True, capture_output=True)
    return out


def test_prepared_index_is_reused_not_rebuilt(tmp_path):
    prepared = _prepared(tmp_path)
    manifest_path = next(prepared.glob("ann/ann-*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    index_bytes = (manifest_path.parent / "index.usearch").read_bytes()
    work, results = tmp_path / "work", tmp_path / "ann.json"
    r = subprocess.run([sys.executable, "bench/bench_ann.py", "--prepared", str(prepared), "--dir", str(work),
                        "--methods", "exact,core", "--queries", "40", "--latency-queries", "5",
                        "--out", str(results)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    entry = json.loads(results.read_text())["prepared"]
    assert entry["rows"] == 400 and entry["dim"] == 16
    core = entry["methods"]["core"]
    assert "error" not in core, core
    assert core["built_by"] == "prepare --index"
    assert core["build_s"] == round(manifest["build_seconds"], 2)
    assert not core["unpickles"]
    assert max(w["recall_at_10"] for w in core["search"]) >= 0.9  # the index answers for these very rows
    # the prepared folder keeps its index untouched; the work folder's copy is gone after measuring
    assert (manifest_path.parent / "index.usearch").read_bytes() == index_bytes
    assert not [p for p in (work / "core").rglob("*") if p.is_file()]
    assert (work / "unit.npy").is_symlink()


def test_plain_folder_has_no_prepared_index(tmp_path):
    np.save(tmp_path / "unit.npy", np.eye(3, dtype=np.float32))
    assert bench_ann._prepared_index(tmp_path) is None
    prepared = _prepared(tmp_path)
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "unit.npy").symlink_to(prepared / "unit.npy")
    assert bench_ann._prepared_index(tmp_path / "linked") == next(prepared.glob("ann/ann-*"))


def test_exact_truth_is_reused_only_for_the_same_rows_and_vectors(tmp_path):
    unit = np.eye(12, dtype=np.float32)
    np.save(tmp_path / "unit.npy", unit)
    rows = np.array([1, 5, 7])
    assert not bench_ann._same_rows(tmp_path, rows, len(unit))  # nothing there yet
    np.save(tmp_path / "truth.npy", bench_ann.exact_truth(unit, rows))
    np.save(tmp_path / "rows.npy", rows)
    assert bench_ann._same_rows(tmp_path, rows, len(unit))
    assert not bench_ann._same_rows(tmp_path, np.array([1, 5, 8]), len(unit))  # other query rows
    assert not bench_ann._same_rows(tmp_path, rows, 6)  # a truth that names rows the vectors lack
    later = (tmp_path / "truth.npy").stat().st_mtime_ns + 10**9
    os.utime(tmp_path / "unit.npy", ns=(later, later))  # vectors rewritten after the truth
    assert not bench_ann._same_rows(tmp_path, rows, len(unit))
