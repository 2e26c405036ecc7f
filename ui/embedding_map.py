"""The Embeddings page's word map: which vectors, which coordinates, what is drawn, the CSV.

Does:
- `MapSource`: the vectors the page draws (a core Vectors object) plus, for a prepared folder, the
  folder whose stored coordinates (core/vectors/layout.py) the map loads; `source_in_focus()` picks
  it: `?set=NAME` of the operator's folder, else the set chosen on the Vectors page, else the
  session's current run (to be replaced by the app-wide "vectors in focus"). The map logic below
  never sees a run.
- `coordinates()`: stored coordinates when the folder has valid ones (a stale or damaged file is
  one line, then PCA); otherwise PCA, computed at once for a set of up to INLINE_MAX rows x dims
  (HOSTED_INLINE_MAX when hosted), else in a background thread; UMAP always in a background
  thread (one at a time per process), cached by the set's content key, with progress. A hosted
  page request never runs a projection of a large set.
- `visible()`: which words become points: every placed word up to MAP_MAX_POINTS; above, the
  MAP_MAX_POINTS most frequent plus a density layer of all, and every word inside a zoom box
  (kept in the URL as `box=x0,x1,y0,y1`: `box_text` / `box_from_text`).
- `csv_file()`: coordinates with their words as a CSV written in blocks to a temporary file (no
  giant string), handed to st.download_button as a callable (built only on click).
Does not: draw (core/plots.py builds the figure), compute projections (core/vectors/layout.py),
load vector files (ui/vector_sets.py).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st

from core.vectors import layout
from core.vectors.keyed import Vectors

from . import hosted, vector_sets

MAP_MAX_POINTS = 200_000  # points drawn at once in 2-D (bench/bench_map.py: 100k draw in ~1 s of WebGL work)
MAP_MAX_3D = 20_000       # points of a 3-D map (Scatter3d is far slower to rotate than 2-D WebGL)
INLINE_MAX = 30_000_000   # rows x dims projected by PCA inside the request (~1 s); larger: background
HOSTED_INLINE_MAX = 5_000_000  # the same when hosted (a 20 MB upload is at most ~5M floats)
DENSITY_BINS = 160        # density layer cells along the longer side
KEEP_RESULTS = 6          # finished background layouts kept in this process (by content key)
CSV_BLOCK = 50_000        # rows formatted at a time


@dataclass
class MapSource:
    """Vectors to draw. `folder`: a prepared folder whose stored layout files are read (or None).
    `label`: what the page calls it ("run 'x'", "set 'y'")."""

    name: str
    vectors: Vectors
    folder: Path | None = None
    label: str = ""
    run: object | None = None  # the run, when the source is one (snapshots, semantic axes)
    _key: str | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """Content key of the set (layout.content_key), computed once per source object."""
        if self._key is None:
            self._key = layout.content_key(self.vectors.words, self.vectors.unit)
        return self._key


def source_in_focus() -> MapSource | None:
    """The vectors in focus (ui/focus.py: a run, or a loaded set) as a map source; a prepared set of
    the operator's folder brings its stored layouts."""
    from . import focus  # deferred: focus imports session and runs (numba) only when a page needs them

    problem = focus.from_url()  # the frame's sidebar applied ?set= already; the page alone (tests) does it here
    if problem:
        st.warning(problem)
    chosen = focus.current()
    if chosen is None or chosen.vectors is None:
        return None
    if chosen.run is not None:
        return MapSource(chosen.run.name, chosen.vectors, label=f"run '{chosen.run.name}'", run=chosen.run)
    folder = None
    if chosen.vset is not None and chosen.vset.prepared:
        try:
            folder = vector_sets.resolve_in_folder(chosen.vset.name)
        except vector_sets.VectorSetError:
            folder = None  # a prepared folder opened from a local path: no stored layouts, PCA here
    return _cached_source(chosen.token, chosen.vectors, folder)


def _cached_source(key: str, vectors: Vectors, folder: Path | None, name: str | None = None) -> MapSource:
    """One MapSource per shared set per session, so its content key is computed once."""
    cache = st.session_state.setdefault("_map_sources", {})
    hit = cache.get(key)
    name = name or key
    if hit is None or hit.vectors is not vectors:
        hit = cache[key] = MapSource(name, vectors, folder, label=f"set '{name}'")
    return hit


# -- coordinates ---------------------------------------------------------------------------------
@dataclass
class Coordinates:
    coords: np.ndarray | None  # (V, k) float32 (NaN rows have no position), None while computing
    placed: int  # the first `placed` rows have a position
    origin: str  # "stored", "computed", "background"
    note: str | None = None  # one line for the page (stale file, fallback, progress)
    progress: float | None = None  # 0..1 while a background job runs


@dataclass
class _Job:
    label: str
    progress: float = 0.0
    what: str = "queued"
    result: layout.Layout | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)


_jobs: OrderedDict[tuple, _Job] = OrderedDict()
_jobs_lock = threading.Lock()
_worker_lock = threading.Lock()  # subtle: one projection at a time per process (2 cores, shared)


def _run_job(job_key: tuple, job: _Job, words: list[str], unit: np.ndarray, method: str, dims: int) -> None:
    def progress(what: str, frac: float) -> None:
        job.what, job.progress = what, frac

    with _worker_lock:
        job.what = "starting"
        try:
            job.result = layout.compute(words, unit, method, dims=dims, key=job_key[0], progress=progress)
        except Exception as e:  # noqa: BLE001 - any failure becomes one line on the page, never a hang
            job.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        job.progress = 1.0


def background(source: MapSource, method: str, dims: int) -> _Job:
    """The (possibly finished) background job computing `method` in `dims` for the source."""
    job_key = (source.key, method, dims)
    with _jobs_lock:
        job = _jobs.get(job_key)
        if job is not None and job.error is None:
            _jobs.move_to_end(job_key)
            return job
        job = _jobs[job_key] = _Job(f"{method} {dims}-D")
        while len(_jobs) > KEEP_RESULTS:
            _jobs.popitem(last=False)
    threading.Thread(target=_run_job, daemon=True, name=f"w2v-layout-{method}",
                     args=(job_key, job, list(source.vectors.words), source.vectors.unit, method, dims)).start()
    return job


@st.cache_resource(max_entries=8, show_spinner=False)
def _stored(folder: str, name: str, key: str, stamp: tuple) -> layout.Layout | str:
    """A stored layout, or the one-line reason it cannot be used (cached by the files' stamp)."""
    try:
        return layout.load_layout(folder, name, key)
    except layout.LayoutError as e:
        return str(e)


def _stamp(folder: Path, name: str) -> tuple:
    out = []
    for suffix in (".npy", ".json"):
        try:
            s = (folder / f"layout-{name}{suffix}").stat()
            out.append((s.st_size, s.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


@st.cache_data(max_entries=8, show_spinner=False)
def _inline_pca(key: str, _unit: np.ndarray) -> np.ndarray:
    return layout.pca_layout(_unit, 3)


def coordinates(source: MapSource, method: str, dims: int) -> Coordinates:
    """Coordinates (V, dims) for the source by method "pca" or "umap" (see the module docstring)."""
    vectors = source.vectors
    notes = []
    if source.folder is not None:
        names = ["pca"] if method == "pca" else (["umap"] if dims == 2 else ["umap3d"])
        for name in names:
            stamp = _stamp(source.folder, name)
            if stamp == (None, None):
                continue
            got = _stored(str(source.folder), name, source.key, stamp)
            if isinstance(got, str):
                notes.append(got[0].upper() + got[1:])
                continue
            if got.dims >= dims:
                return Coordinates(got.coords[:, :dims], got.placed, "stored", "; ".join(notes) or None)
        if method == "umap":
            notes.append("this set has no stored UMAP coordinates (python -m core prepare SET --layout umap)")
    small = len(vectors) * vectors.dim <= (HOSTED_INLINE_MAX if hosted_mode() else INLINE_MAX)
    if method == "pca" and small:
        coords = _inline_pca(source.key, vectors.unit)
        return Coordinates(coords[:, :dims], len(vectors), "computed", "; ".join(notes) or None)
    if method == "umap" and source.folder is not None and (hosted_mode() or len(vectors) > layout.UMAP_MAX_WORDS):
        method = "pca"  # subtle: a prepared set's UMAP is prepare's job (always when hosted); PCA meanwhile
        notes.append("showing PCA instead")
        if small:
            coords = _inline_pca(source.key, vectors.unit)
            return Coordinates(coords[:, :dims], len(vectors), "computed", "; ".join(notes))
    job = background(source, method, 3 if method == "pca" else dims)
    if job.result is not None:
        got = job.result
        return Coordinates(got.coords[:, :dims], got.placed, "background", "; ".join(notes) or None)
    if job.error:
        notes.append(f"{method.upper()} failed: {job.error}")
        return Coordinates(None, 0, "background", "; ".join(notes))
    n = min(len(vectors), layout.UMAP_MAX_WORDS) if method == "umap" else len(vectors)
    notes.append(f"{method.upper()} of {n:,} words runs in the background: {job.what}")
    return Coordinates(None, 0, "background", "; ".join(notes), progress=job.progress)


# -- what is drawn -------------------------------------------------------------------------------
def visible(coords: np.ndarray, placed: int, box: tuple[float, float, float, float] | None,
            max_points: int = MAP_MAX_POINTS) -> tuple[np.ndarray, bool]:
    """Rows drawn as points: the placed rows (most frequent first), at most max_points of them;
    inside `box` (x0, x1, y0, y1) only the rows in it. Returns (rows, whether rows were left out)."""
    rows = np.arange(placed)
    if box is not None:
        x0, x1, y0, y1 = box
        c = coords[:placed]
        inside = (c[:, 0] >= x0) & (c[:, 0] <= x1) & (c[:, 1] >= y0) & (c[:, 1] <= y1)
        rows = np.flatnonzero(inside)
    cut = rows.size > max_points
    return rows[:max_points], cut


def box_text(box: tuple[float, float, float, float]) -> str:
    """A zoom box (x0, x1, y0, y1) as the URL's `box=` value: four numbers, comma separated."""
    return ",".join(f"{v:.6g}" for v in box)


def box_from_text(text: str | None) -> tuple[float, float, float, float] | None:
    """The zoom box a URL's `box=` names, or None when it is not four finite numbers x0,x1,y0,y1
    with x0 < x1 and y0 < y1 (an edited or truncated link then shows the whole map)."""
    parts = (text or "").split(",")
    if len(parts) != 4:
        return None
    try:
        x0, x1, y0, y1 = (float(p) for p in parts)
    except ValueError:
        return None
    if not all(np.isfinite([x0, x1, y0, y1])) or x0 >= x1 or y0 >= y1:
        return None
    return (x0, x1, y0, y1)


def density(coords: np.ndarray, placed: int, bins: int = DENSITY_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts (ny, nx), x edges, y edges) of all placed rows: the overview's density layer."""
    c = np.asarray(coords[:placed, :2], np.float64)
    (x0, y0), (x1, y1) = c.min(axis=0), c.max(axis=0)
    span = max(x1 - x0, y1 - y0, 1e-9)
    nx = max(2, int(bins * (x1 - x0) / span))
    ny = max(2, int(bins * (y1 - y0) / span))
    counts, xe, ye = np.histogram2d(c[:, 0], c[:, 1], bins=(nx, ny))
    return counts.T, xe, ye


def focus_box(coords: np.ndarray, rows: list[int], placed: int, margin: float = 0.35) -> tuple | None:
    """A view (x0, x1, y0, y1) around `rows` (the searched word and its neighbours), padded, at
    least 4 % of the whole map wide."""
    pts = np.asarray(coords[np.asarray(rows, np.int64)][:, :2], np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return None
    whole = np.asarray(coords[:placed, :2], np.float64)
    full = np.nanmax(whole, axis=0) - np.nanmin(whole, axis=0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    half = np.maximum((hi - lo) * (0.5 + margin), 0.02 * full)
    mid = (lo + hi) / 2
    half[:] = half.max()  # subtle: equal x and y spans, the axes are locked to one scale
    return (float(mid[0] - half[0]), float(mid[0] + half[0]), float(mid[1] - half[1]), float(mid[1] + half[1]))


def shrink(box: tuple[float, float, float, float], by: float = 0.08) -> tuple[float, float, float, float]:
    """`box` (x0, x1, y0, y1) without a margin of `by` of its size on each side (labels there are cut)."""
    x0, x1, y0, y1 = box
    dx, dy = (x1 - x0) * by, (y1 - y0) * by
    return (x0 + dx, x1 - dx, y0 + dy, y1 - dy)


def label_rows(rows: np.ndarray, coords: np.ndarray, n: int = 40, spacing: float = 0.07,
               scan: int = 20_000) -> np.ndarray:
    """The words to label: the most frequent drawn rows (rows are most frequent first), skipping a
    word whose point is closer than `spacing` (a fraction of the view's width and height) to one
    already labelled, so the labels do not cover each other; at most n, from the first `scan` rows."""
    if not rows.size:
        return rows
    cand = rows[:scan]
    c = np.asarray(coords[cand, :2], np.float64)
    ok = np.isfinite(c).all(axis=1)
    cand, c = cand[ok], c[ok]
    if not cand.size:
        return cand
    lo, hi = c.min(axis=0), c.max(axis=0)
    c = (c - lo) / np.maximum(hi - lo, 1e-12)
    picked: list[int] = []
    for j in range(len(cand)):
        if picked:
            d = np.abs(c[picked] - c[j])
            if ((d[:, 0] < spacing) & (d[:, 1] < spacing / 2)).any():  # labels are wider than tall
                continue
        picked.append(j)
        if len(picked) == n:
            break
    return cand[np.asarray(picked, np.int64)]


def colour_values(vectors: Vectors, rows: np.ndarray, mode: str, groups: dict[str, str] | None,
                  word_list: set[str]) -> tuple[np.ndarray, str]:
    """Colour of each drawn row: log10 count (or rank when the set has no counts), an analogy role,
    or membership of a word list."""
    words = vectors.words
    if mode == "analogy role":
        groups = groups or {}
        return np.array([groups.get(words[i].lower(), "other") for i in rows], dtype=object), "role"
    if mode == "word list":
        return np.array(["in the list" if words[i].lower() in word_list else "other" for i in rows],
                        dtype=object), "word list"
    if vectors.counts is not None:
        return np.log10(np.maximum(vectors.counts[rows], 1)).astype(np.float32), "log10 count"
    return np.log10(rows + 1.0).astype(np.float32), "log10 rank (0 = most frequent)"


# -- CSV -----------------------------------------------------------------------------------------
def csv_blocks(words: list[str], coords: np.ndarray, counts: np.ndarray | None,
               block: int = CSV_BLOCK):
    """The CSV text in blocks of rows: header `word,x,y[,z][,count]`, one row per word (rows
    without a position have empty coordinates). Words with a comma, quote or newline are quoted."""
    k = coords.shape[1]
    cols = ["word", *"xyz"[:k]] + (["count"] if counts is not None else [])
    yield ",".join(cols) + "\n"
    for a in range(0, len(words), block):
        b = min(len(words), a + block)
        c = np.asarray(coords[a:b], np.float64)
        lines = []
        for j, w in enumerate(words[a:b]):
            if any(ch in w for ch in ',"\n\r'):
                w = '"' + w.replace('"', '""') + '"'
            xyz = ",".join("" if not np.isfinite(v) else f"{v:.5g}" for v in c[j])
            lines.append(f"{w},{xyz}" + (f",{int(counts[a + j])}" if counts is not None else ""))
        yield "\n".join(lines) + "\n"


def csv_file(words: list[str], coords: np.ndarray, counts: np.ndarray | None) -> Callable[[], object]:
    """A callable for st.download_button: writes the CSV block by block into an unbuffered
    temporary file on disk and returns it rewound (an io.FileIO, which Streamlit accepts).
    subtle: Streamlit reads the whole file into one bytes object to serve it (1,000,000 words x 3
    coordinates ~ 40 MB); what we avoid is the DataFrame and the str copy of it beside those bytes.
    A SpooledTemporaryFile is refused by Streamlit 1.67's deferred download."""
    def build():
        f = tempfile.TemporaryFile(mode="w+b", buffering=0)
        for text in csv_blocks(words, coords, counts):
            f.write(text.encode("utf-8"))
        f.seek(0)
        return f
    return build


def hosted_mode() -> bool:
    return hosted.settings().hosted
