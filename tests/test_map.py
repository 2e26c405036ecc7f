"""The word map at scale: stored coordinates (round trip, stale and damaged files detected), the
streamed PCA against the SVD one, the figure holds every point, the CSV has a row per word,
`prepare --layout`, and the Embeddings page on a prepared set (AppTest)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import plots
from core.vectors import layout, projection, vector_io
from core.vectors.keyed import Vectors
from ui import embedding_map as emap
from ui import vector_sets

ROOT = Path(__file__).resolve().parents[1]


def clustered(n: int, dim: int = 16, seed: int = 0) -> Vectors:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (max(2, n // 200), dim))
    X = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 1, (n, dim))
    return Vectors([f"w{i}" for i in range(n)], X.astype(np.float32),
                   counts=(10 * n // np.arange(1, n + 1)).astype(np.int64))


@pytest.fixture
def prepared(tmp_path) -> tuple[Path, Vectors]:
    v = clustered(3000)
    vector_io.save(v, tmp_path / "v.bin")
    out = tmp_path / "sets" / "big"
    vector_io.convert_to_npy(tmp_path / "v.bin", out)
    return out, vector_io.open_mmap(out)


def test_stored_layout_round_trip(prepared):
    folder, v = prepared
    key = layout.content_key(v.words, v.unit)
    lay = layout.compute(v.words, v.unit, "pca", key=key)
    layout.save_layout(folder, lay)
    got = layout.load_layout(folder, "pca", key)
    assert got.coords.shape == (3000, 3) and got.placed == 3000
    np.testing.assert_array_equal(np.asarray(got.coords), lay.coords)
    assert layout.stored_methods(folder) == ["pca"]


def test_streamed_pca_equals_the_svd_pca():
    v = clustered(5000, dim=24, seed=3)
    ours = layout.pca_layout(v.unit, 3)
    ref = projection.pca(v.unit, 3)
    np.testing.assert_allclose(ours, ref, atol=2e-4)


def test_stale_layout_is_detected(prepared, tmp_path):
    folder, v = prepared
    layout.save_layout(folder, layout.compute(v.words, v.unit, "pca"))
    other = clustered(3000, seed=1)  # same words, other vectors
    with pytest.raises(layout.LayoutError, match="stale"):
        layout.load_layout(folder, "pca", layout.content_key(other.words, other.unit))
    renamed = [w + "x" for w in v.words]  # same vectors, other words
    with pytest.raises(layout.LayoutError, match="stale"):
        layout.load_layout(folder, "pca", layout.content_key(renamed, v.unit))


def test_damaged_layout_is_detected(prepared):
    folder, v = prepared
    key = layout.content_key(v.words, v.unit)
    layout.save_layout(folder, layout.compute(v.words, v.unit, "pca", key=key))
    npy = folder / "layout-pca.npy"
    raw = bytearray(npy.read_bytes())
    raw[-5] ^= 0xFF
    npy.write_bytes(bytes(raw))
    with pytest.raises(layout.LayoutError, match="damaged") as e:
        layout.load_layout(folder, "pca", key)
    assert str(folder) not in str(e.value)  # no server path
    (folder / "layout-pca.json").write_text("{not json")
    with pytest.raises(layout.LayoutError, match="cannot be read"):
        layout.load_layout(folder, "pca", key)
    with pytest.raises(layout.LayoutError, match="no stored UMAP"):
        layout.load_layout(folder, "umap", key)


def test_a_pickled_coordinates_file_is_refused(prepared):
    folder, v = prepared
    key = layout.content_key(v.words, v.unit)
    layout.save_layout(folder, layout.compute(v.words, v.unit, "pca", key=key))
    npy = folder / "layout-pca.npy"
    np.save(npy, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    info = json.loads((folder / "layout-pca.json").read_text())
    info["sha256"] = layout._sha256_file(npy)  # a consistent checksum: the pickle itself must be refused
    (folder / "layout-pca.json").write_text(json.dumps(info))
    with pytest.raises(layout.LayoutError):
        layout.load_layout(folder, "pca", key)


@pytest.mark.parametrize("categorical", [False, True])
def test_map_figure_holds_every_point(categorical):
    n = 120_000
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(n, 2)).astype(np.float32)
    words = [f"w{i}" for i in range(n)]
    colour = np.where(np.arange(n) % 7 == 0, "capital", "other").astype(object) if categorical else \
        rng.random(n).astype(np.float32)
    fig = plots.map_figure(coords, words, color=colour, labels=[0, 5], highlight=[3], neighbours=[4, 9])
    assert plots.map_points(fig) == n
    assert all(t.type == "scattergl" for t in fig.data if t.meta == plots.MAP_POINT_TRACE)
    # a click's (trace, point index) names the right word
    point_traces = [t for t in fig.data if t.meta == plots.MAP_POINT_TRACE]
    for trace, rows in zip(point_traces, plots.map_trace_rows(colour, n), strict=True):
        assert len(trace.x) == len(rows)
        assert trace.text[len(rows) // 2] == words[rows[len(rows) // 2]]
    assert [t.name for t in fig.data if t.meta != plots.MAP_POINT_TRACE] == ["labels", "neighbours", "query"]


def test_points_of_a_small_map_are_large_and_outlined_those_of_a_large_one_small():
    sizes = [plots.map_point_size(n) for n in (10, 52, 1_000, 20_000, 100_000, 1_000_000)]
    assert sizes == sorted(sizes, reverse=True) and sizes[1] >= 7 and sizes[-2:] == [3, 3]
    assert plots.map_point_size(100_000, three=True) == 2
    small = plots.map_figure(np.zeros((52, 2)), [f"w{i}" for i in range(52)], color=np.arange(52.0))
    large = plots.map_figure(np.zeros((6_000, 2)), [f"w{i}" for i in range(6_000)], color=np.arange(6_000.0))
    assert small.data[0].marker.line.width == 0.5 and large.data[0].marker.line.width is None


def test_overview_keeps_the_most_frequent_and_zoom_shows_every_word_in_the_box():
    rng = np.random.default_rng(1)
    coords = rng.uniform(-1, 1, (50_000, 2)).astype(np.float32)
    rows, cut = emap.visible(coords, 50_000, None, max_points=10_000)
    assert cut and rows.tolist() == list(range(10_000))
    box = (0.0, 0.2, 0.0, 0.2)
    rows, cut = emap.visible(coords, 50_000, box, max_points=10_000)
    inside = np.flatnonzero((coords[:, 0] >= 0) & (coords[:, 0] <= 0.2) & (coords[:, 1] >= 0) & (coords[:, 1] <= 0.2))
    assert not cut and rows.tolist() == inside.tolist()
    counts, xe, ye = emap.density(coords, 50_000)
    assert counts.sum() == 50_000 and counts.shape == (len(ye) - 1, len(xe) - 1)


def test_csv_has_a_row_per_word():
    words = ["king", 'say "hi"', "a,b", "queen"]
    coords = np.array([[1, 2], [3, 4], [5, 6], [np.nan, np.nan]], np.float32)
    f = emap.csv_file(words, coords, np.array([9, 8, 7, 6]))()
    # what Streamlit's deferred download accepts, and how it reads it
    from streamlit.runtime.download_data_util import convert_data_to_bytes_and_infer_mime

    data, _ = convert_data_to_bytes_and_infer_mime(f, unsupported_error=TypeError(type(f)))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == ["word", "x", "y", "count"]
    assert [r[0] for r in rows[1:]] == words
    assert rows[4] == ["queen", "", "", "6"] and rows[1] == ["king", "1", "2", "9"]
    big = sum(t.count("\n") for t in emap.csv_blocks([f"w{i}" for i in range(120_001)],
                                                      np.zeros((120_001, 3), np.float32), None))
    assert big == 120_002


def test_prepare_layout_cli(tmp_path):
    v = clustered(800)
    vector_io.save(v, tmp_path / "v.bin")
    out = tmp_path / "p"
    r = subprocess.run([sys.executable, "-m", "core", "prepare", str(tmp_path / "v.bin"), "-o", str(out),
                        "--layout", "pca", "--json", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["layout"][0]["method"] == "pca" and summary["layout"][0]["placed"] == 800
    m = vector_io.open_mmap(out)
    assert layout.load_layout(out, "pca", layout.content_key(m.words, m.unit)).coords.shape == (800, 3)
    r = subprocess.run([sys.executable, "-m", "core", "prepare", str(out)], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 2 and "--layout" in r.stderr


# -- the page --------------------------------------------------------------------------------
def page(monkeypatch, folder: Path, **params) -> AppTest:
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "embeddings.py"), default_timeout=120)
    at.query_params["set"] = folder.name
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def drawn(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_page_draws_a_prepared_set_from_its_stored_coordinates(monkeypatch, prepared):
    folder, v = prepared
    lay = layout.compute(v.words, v.unit, "pca")
    layout.save_layout(folder, lay)
    at = page(monkeypatch, folder, word="w10")
    assert not at.exception, [e.value for e in at.exception]
    spec = drawn(at)
    points = sum(len(t["text"]) for t in spec["data"] if t.get("meta") == plots.MAP_POINT_TRACE)
    assert points == 3000
    names = [t.get("name") for t in spec["data"]]
    assert "query" in names and "neighbours" in names
    assert any("CSV" in b.label for b in at.get("download_button"))
    assert not at.warning and not at.error
    assert not any("stale" in c.value or "damaged" in c.value for c in at.caption)


def test_page_says_one_line_for_a_stale_layout_and_still_draws(monkeypatch, prepared):
    folder, v = prepared
    other = clustered(3000, seed=5)
    layout.save_layout(folder, layout.compute(other.words, other.unit, "pca"))  # made for other vectors
    at = page(monkeypatch, folder)
    assert not at.exception
    lines = [c.value for c in at.caption if "stale" in c.value]
    assert len(lines) == 1 and str(folder) not in lines[0]
    assert sum(len(t["text"]) for t in drawn(at)["data"] if t.get("meta") == plots.MAP_POINT_TRACE) == 3000


def test_page_unknown_set_is_one_line(monkeypatch, prepared):
    folder, _ = prepared
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "embeddings.py"), default_timeout=60)
    at.query_params["set"] = "../etc"
    at.run()
    assert not at.exception and len(at.warning) == 1 and str(folder.parent) not in at.warning[0].value


def test_page_projects_a_large_set_in_the_background(monkeypatch, prepared):
    """No stored coordinates and a set over the inline limit: the request starts a background PCA
    and shows progress; a later rerun draws the map from the cached result."""
    import time

    folder, v = prepared
    monkeypatch.setattr(emap, "HOSTED_INLINE_MAX", 10)
    at = page(monkeypatch, folder)
    assert not at.exception
    key = layout.content_key(v.words, v.unit)
    job = emap._jobs[(key, "pca", 3)]
    deadline = time.monotonic() + 60
    while job.result is None and job.error is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.result is not None, job.error
    at.run()
    assert not at.exception
    assert sum(len(t["text"]) for t in drawn(at)["data"] if t.get("meta") == plots.MAP_POINT_TRACE) == 3000


def test_hosted_umap_of_a_prepared_set_without_stored_coordinates_falls_back_to_pca(monkeypatch, prepared):
    folder, v = prepared
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "embeddings.py"), default_timeout=120)
    at.query_params["set"] = folder.name
    at.session_state["emb_method"] = "UMAP"
    at.run()
    assert not at.exception
    assert any("no stored UMAP" in c.value and "PCA instead" in c.value for c in at.caption)
    assert not any(k[0] == layout.content_key(v.words, v.unit) and k[1] == "umap" for k in emap._jobs)
    assert sum(len(t["text"]) for t in drawn(at)["data"] if t.get("meta") == plots.MAP_POINT_TRACE) == 3000


def test_labels_are_the_most_frequent_words_that_do_not_cover_each_other():
    coords = np.array([[0, 0], [0.01, 0], [1, 1], [0.5, 0.5], [0.02, 0.01], [0, 1]], np.float32)
    rows = np.arange(6)
    got = emap.label_rows(rows, coords, n=10).tolist()
    assert got == [0, 2, 3, 5]  # 1 and 4 sit on 0's label
    assert emap.label_rows(rows, coords, n=2).tolist() == [0, 2]


def test_page_overview_above_the_point_limit_and_box_zoom(monkeypatch, prepared):
    """Over MAP_MAX_POINTS words: a density layer of all, the most frequent as points, a one-line
    caption; a box selection shows every word inside it; a search draws its word even when it is
    not among the points."""
    folder, v = prepared
    layout.save_layout(folder, layout.compute(v.words, v.unit, "pca"))
    monkeypatch.setattr(emap, "MAP_MAX_POINTS", 500)
    at = page(monkeypatch, folder, word="w2999")
    assert not at.exception
    spec = drawn(at)
    traces = {t.get("name"): t for t in spec["data"]}
    assert "density" in traces
    assert sum(len(t["text"]) for t in spec["data"] if t.get("meta") == plots.MAP_POINT_TRACE) == 500
    assert traces["query"]["text"] == ["w2999"]  # rank 3000, beyond the points drawn
    assert any("density of all of them" in c.value for c in at.caption)
    coords = layout.load_layout(folder, "pca", layout.content_key(v.words, v.unit)).coords
    x0, x1 = np.percentile(coords[:, 0], [40, 60])
    y0, y1 = np.percentile(coords[:, 1], [40, 60])
    at.session_state["emb_box"] = (float(x0), float(x1), float(y0), float(y1))
    at.text_input(key="emb_word").set_value("").run()
    assert not at.exception
    spec = drawn(at)
    inside = np.flatnonzero((coords[:, 0] >= x0) & (coords[:, 0] <= x1) & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    shown = [w for t in spec["data"] if t.get("meta") == plots.MAP_POINT_TRACE for w in t["text"]]
    assert 0 < len(inside) <= 500 and sorted(shown) == sorted(v.words[i] for i in inside)
    assert "density" not in {t.get("name") for t in spec["data"]}


def test_page_draws_the_set_chosen_on_the_vectors_page():
    v = clustered(1500, seed=2)
    at = AppTest.from_file(str(ROOT / "pages" / "embeddings.py"), default_timeout=120)
    report = vector_io.LoadReport("binary", len(v), len(v))
    at.session_state["loaded_vectors"] = {"mine.bin": vector_sets.VectorSet("mine.bin", v, report)}
    at.session_state["focus"] = "mine.bin"
    at.run()
    assert not at.exception
    assert "mine.bin" in at.caption[0].value
    assert sum(len(t["text"]) for t in drawn(at)["data"] if t.get("meta") == plots.MAP_POINT_TRACE) == 1500


def test_a_failing_background_job_ends_with_one_line(monkeypatch):
    import time

    def boom(*a, **k):
        raise RuntimeError("numba said no\nsecond line")

    monkeypatch.setattr(layout, "compute", boom)
    src = emap.MapSource("x", clustered(50, seed=9))
    job = emap.background(src, "umap", 2)
    deadline = time.monotonic() + 30
    while job.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.error == "RuntimeError: numba said no"
