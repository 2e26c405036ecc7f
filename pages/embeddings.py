"""Embeddings page: a map of every word of the vectors in focus (a run, or a loaded set such as a
prepared folder), 2-D (WebGL, 100,000s of points) or 3-D, by PCA or UMAP; a search that centres
on a word and highlights its nearest neighbours; a click on a point does the same; labels on the
most frequent words in view; colour by frequency, analogy role or a word list; a box selection
zooms in with every word inside. Above MAP_MAX_POINTS words the overview is a density layer of
all words plus the most frequent ones as points. The coordinates with their words download as CSV.
For a run: an epoch slider over the training snapshots (Procrustes-aligned) and a "semantic axes"
view whose axes are word differences.

The choice of vectors is one call (`source_in_focus`: the vectors in focus, ui/focus.py); the map
logic takes its Vectors and the stored coordinates of a prepared folder (ui/embedding_map.py).
Every input lives in the URL, so the link shown at the top (ui/links.py) reproduces the view:
?set=NAME&view=projection&method=PCA&dims=2-D&colour=frequency&word=king&box=x0,x1,y0,y1
(colour=word list: &list=king,queen; semantic axes: &x=he,she&y=good,bad&n=1000; a run's
snapshots: &snapshots=true&epoch=after epoch 2).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import plots
from core.vectors import projection
from core.vectors.evaluate import EvalError, read_analogies
from ui import analogy_sets, links
from ui import embedding_map as emap
from ui.widgets import fig_style, kept, need, set_kept, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

SECTION_FILES = tuple(analogy_sets.available().values())  # the sample, then the downloaded Google sets
NEIGHBOUR_CANDIDATES = 10_000  # hover neighbours are searched among this many most frequent words


@st.cache_data(show_spinner=False, max_entries=8)
def section_groups(path: str, mtime: float) -> dict[str, str]:
    """word -> analogy role (e.g. capital / country) from an analogy file (keyed by path + mtime)."""
    try:
        sections = read_analogies(path, strict=False)
    except EvalError:
        return {}
    return projection.word_groups([(s.name, s.questions) for s in sections])


@st.cache_data(show_spinner=False, max_entries=16)
def umap_coords(run_id: int, version: str, rows: tuple[int, ...], dims: int, n_neighbors: int,
                _X: np.ndarray) -> np.ndarray:
    """UMAP of the run's rows, cached by run id + epoch/version + the rows + parameters."""
    return projection.umap_project(_X, dims, n_neighbors=n_neighbors)


@st.cache_data(show_spinner=False, max_entries=8)
def snapshot_coords(run_id: int, n_snaps: int, method: str, dims: int, n_neighbors: int,
                    _snaps: list[np.ndarray]) -> list[np.ndarray]:
    """All snapshots projected into the last one's frame (Procrustes), cached per run and method."""
    return projection.project_snapshots(_snaps, method, dims, **({"n_neighbors": n_neighbors}
                                                                 if method == "umap" else {}))


@st.cache_data(show_spinner=False, max_entries=16)
def hover_neighbours(run_id: int, version: str, rows: tuple[int, ...], _X: np.ndarray,
                     _words: list[str]) -> list[str]:
    idx, sims = projection.nearest_neighbours(_X, np.array(rows, np.int64), k=5, candidates=NEIGHBOUR_CANDIDATES)
    return ["near: " + ", ".join(f"{_words[j]} {s:.2f}" for j, s in zip(r, q, strict=True))
            for r, q in zip(idx.tolist(), sims.tolist(), strict=True)]


def pair(text: str) -> tuple[str, str] | None:
    parts = [p.strip() for p in text.replace("-", ",").split(",") if p.strip()]
    return (parts[0], parts[1]) if len(parts) == 2 else None


st.title("Embeddings")
source = emap.source_in_focus()  # the vectors in focus (ui/focus.py): a run or a loaded set
need("vectors", "see its vectors here")  # nothing in focus: one line, then stop; a loaded set: its provenance
if source is None:  # need() has stopped the page already; this keeps the type checker and readers sure
    st.stop()
st.caption(f"The vectors of {source.label}, one point per word. Nearby points are words used in similar contexts.")
link_box = st.container()  # the link to this view, filled once every query key of the page is written
link_shown: list[str] = []  # this run's link, once shown


def show_link() -> None:
    """Fill the link box (once a run): call after the last query key is written, also before an st.stop()."""
    if not link_shown:
        with link_box:
            link_shown.append(links.copy_link())

run = source.run
vectors = source.vectors
words, X, counts = vectors.words, vectors.vectors, vectors.counts
V = len(words)

st.latex(r"\cos(w_1, w_2) = \frac{v_{w_1} \cdot v_{w_2}}{\lVert v_{w_1} \rVert \, \lVert v_{w_2} \rVert}"
         r"\qquad \text{axes: } x = \cos(w, a) - \cos(w, b)")

c = st.columns(4)
view = kept(c[0].radio, "view", "emb_view", "projection", options=["projection", "semantic axes"], url="view")
method = kept(c[1].radio, "method", "emb_method", "PCA", options=["PCA", "UMAP"], url="method",
              disabled=view != "projection", help="PCA is instant; UMAP runs in the background and is cached")
dims = kept(c[2].radio, "dimensions", "emb_dims", "2-D", options=["2-D", "3-D"], disabled=view != "projection",
            url="dims")
colour_by = kept(c[3].radio, "colour", "emb_colour", "frequency", options=["frequency", "analogy role", "word list"],
                 url="colour")
k = 3 if dims == "3-D" and view == "projection" else 2

c1, c2 = st.columns([2, 1])
query = kept(c2.text_input, "find a word", "emb_word", "", url="word").strip()
word_list: set[str] = set()
if colour_by == "word list":
    listed = kept(c1.text_input, "words to colour (comma or space separated)", "emb_list", "king, queen, man, woman",
                  url="list")
    word_list = {w.strip().lower() for w in listed.replace(",", " ").split() if w.strip()}
elif "list" in st.query_params:
    del st.query_params["list"]

q_id = vectors.index.get(query) if query else None
if query and q_id is None:
    st.warning(f"'{query}' is not in the vocabulary.")

snaps = run.snapshots if run is not None else []
use_snaps = False
epoch = None
if run is not None and view == "projection" and len(snaps) >= 2:
    labels = ["before training"] + [f"after epoch {e.epoch + 1}" for e in run.epochs if e.snapshot is not None]
    labels = labels[: len(snaps)]
    use_snaps = kept(st.toggle, "follow training epoch by epoch (snapshots)", "emb_use_snaps", False,
                     help=f"the run kept the top {snaps[0].shape[0]} words after every epoch", url="snapshots")
    if use_snaps:
        chosen = kept(st.select_slider, "epoch", "emb_epoch", labels[-1], options=labels, url="epoch")
        epoch = labels.index(chosen) if chosen in labels else len(labels) - 1
    elif "epoch" in st.query_params:
        del st.query_params["epoch"]
elif run is not None and view == "projection":
    st.caption("Train with snapshot_topn > 0 to follow the projection epoch by epoch.")

groups: dict[str, str] = {}
if colour_by == "analogy role":
    path = next((p for p in SECTION_FILES if p.is_file()), None)
    groups = section_groups(str(path), path.stat().st_mtime) if path else {}
    if path is None:
        st.caption("No analogy file found to read roles from.")


def neighbours_of(word_id: int) -> list[int]:
    return [vectors.index[w] for w, _ in vectors.most_similar(words[word_id], topn=8)]


def small_figure(rows: list[int], coords: np.ndarray, hover: list[str], neigh_ids: list[int], title: str,
                 axis_titles=None) -> None:
    """The snapshot and semantic-axes views: a few thousand words with hover neighbours."""
    pos = {r: i for i, r in enumerate(rows)}
    colour, colour_title = emap.colour_values(vectors, np.asarray(rows), colour_by, groups, word_list)
    if colour_by == "frequency" and counts is None:
        colour = None
    fig = plots.embedding_figure(
        coords, [words[i] for i in rows], color=colour, color_title=colour_title, hover=hover,
        highlight=[pos[q_id]] if q_id is not None and q_id in pos else [],
        neighbours=[pos[i] for i in neigh_ids if i in pos], labels=30 if coords.shape[1] == 3 else 60,
        title=title, axis_titles=axis_titles)
    show_figure(fig)
    emap_download(rows, coords)


def emap_download(rows, coords) -> None:
    rows = np.asarray(rows, np.int64)
    st.download_button("Download coordinates (CSV)",
                       emap.csv_file([words[i] for i in rows], np.asarray(coords), None if counts is None
                                     else counts[rows]),
                       file_name=f"embedding_{source.name.replace(' ', '_')}_{view.replace(' ', '_')}.csv",
                       mime="text/csv", on_click="ignore")


def on_map_select() -> None:
    """A click on a point searches for its word; a box selection zooms into it (every word inside)."""
    event = st.session_state.get("emb_map")
    sel = (event or {}).get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    points, boxes = sel.get("points", []), sel.get("box", [])
    drawn = st.session_state.get("_emb_drawn")
    if points and isinstance(points[0].get("customdata"), int | float):  # the searched word or a neighbour
        row = int(points[0]["customdata"])
        if 0 <= row < V:
            set_kept("emb_word", words[row])
            return
    if points and drawn is not None:
        p = points[0]
        trace_rows = drawn.get(p.get("curve_number"))
        if trace_rows is not None and p.get("point_index") is not None and p["point_index"] < len(trace_rows):
            set_kept("emb_word", words[int(trace_rows[p["point_index"]])])  # shown by the search box next
            st.session_state["emb_box"] = None
            return
    if boxes:
        b = boxes[0]
        xs, ys = b.get("x", []), b.get("y", [])
        if len(xs) == 2 and len(ys) == 2:
            st.session_state["emb_box"] = (min(xs), max(xs), min(ys), max(ys))


neigh_ids: list[int] = []
if (view != "projection" or use_snaps) and "box" in st.query_params:  # a zoom box belongs to the projection map
    del st.query_params["box"]
if use_snaps:
    n_rows = snaps[0].shape[0]
    rows = list(range(n_rows))
    with st.spinner("UMAP of every snapshot (first time ~10-30 s)..." if method == "UMAP" else "projecting..."):
        all_coords = snapshot_coords(run.id, len(snaps), method.lower(), k, 15, snaps)
    S = snaps[epoch]
    hover = hover_neighbours(run.id, f"snap{epoch}", tuple(rows), S, words[:n_rows])
    if q_id is not None and q_id < n_rows:
        idx, _ = projection.nearest_neighbours(S, np.array([q_id]), k=8)
        neigh_ids = [int(j) for j in idx[0]]
    elif q_id is not None:
        st.caption(f"'{query}' is not among the {n_rows} words kept in the snapshots.")
    small_figure(rows, all_coords[epoch], hover, neigh_ids,
                 f"{method}, {labels[epoch]} (aligned to the last epoch by orthogonal Procrustes)")
elif view == "semantic axes":
    n_top = kept(c1.slider, "most frequent words shown", "emb_n", min(1000, V), min_value=min(10, V),
                 max_value=min(5000, V), step=1, url="n") if V > 10 else V
    rows = list(range(n_top))
    if q_id is not None:
        neigh_ids = neighbours_of(q_id)
        rows += [i for i in [q_id, *neigh_ids] if i >= n_top]
    defaults = {"x": "he, she", "y": "good, bad"}
    if "he" not in vectors.index or "she" not in vectors.index:
        defaults["x"] = "man, woman" if "man" in vectors.index else f"{words[0]}, {words[min(1, V - 1)]}"
    if "good" not in vectors.index or "bad" not in vectors.index:
        fallback = f"{words[min(2, V - 1)]}, {words[min(3, V - 1)]}"
        defaults["y"] = "king, queen" if "king" in vectors.index else fallback
    a1, a2 = st.columns(2)
    xs = kept(a1.text_input, "x axis: a, b (x = cos(w, a) - cos(w, b))", "emb_x", defaults["x"], url="x")
    ys = kept(a2.text_input, "y axis: c, d", "emb_y", defaults["y"], url="y")
    show_link()
    px, py = pair(xs), pair(ys)
    if px is None or py is None:
        st.warning("Give each axis as two words separated by a comma, e.g. 'he, she'.")
        st.stop()
    unknown = [w for w in (*px, *py) if w not in vectors.index]
    if unknown:
        st.warning(f"'{unknown[0]}' is not in the vocabulary.")
        st.stop()
    coords = projection.semantic_axes(np.asarray(X[rows]), [(vectors[px[0]], vectors[px[1]]),
                                                             (vectors[py[0]], vectors[py[1]])])
    hover = hover_neighbours(source.key, "axes", tuple(rows), np.asarray(X[: max(rows) + 1]), words) \
        if V <= NEIGHBOUR_CANDIDATES * 10 else [""] * len(rows)
    small_figure(rows, coords, hover, neigh_ids, f"semantic axes: {px[0]} - {px[1]} against {py[0]} - {py[1]}",
                 [f"cos(w, {px[0]}) - cos(w, {px[1]})", f"cos(w, {py[0]}) - cos(w, {py[1]})"])
else:
    if "emb_box" not in st.session_state and (linked := emap.box_from_text(st.query_params.get("box"))):
        st.session_state["emb_box"] = linked  # a link's zoom box (this session has none of its own yet)
        st.session_state["_emb_box_for"] = (source.key, method, k)
    got = emap.coordinates(source, method.lower(), k)
    if got.note:
        st.caption(got.note)
    if got.coords is None:
        show_link()

        @st.fragment(run_every=2.0)
        def wait_for_layout() -> None:
            """Progress of the background projection; the whole page reruns when it is done."""
            now = emap.coordinates(source, method.lower(), k)
            if now.coords is not None:
                st.rerun()
            st.progress(now.progress or 0.0, text=f"{method} in the background; the map appears when it is done")

        wait_for_layout()
        if method == "UMAP":
            st.caption("Meanwhile PCA is ready: switch the method.")
        st.stop()
    coords_all = got.coords
    box = st.session_state.get("emb_box")
    if st.session_state.get("_emb_box_for") != (source.key, method, k):
        box = st.session_state["emb_box"] = None  # a zoom box belongs to one map
    st.session_state["_emb_box_for"] = (source.key, method, k)
    if box is not None and k == 2:
        st.query_params["box"] = emap.box_text(box)
    elif "box" in st.query_params:
        del st.query_params["box"]
    limit = emap.MAP_MAX_3D if k == 3 else emap.MAP_MAX_POINTS
    rows, cut = emap.visible(coords_all, got.placed, box if k == 2 else None, limit)
    if q_id is not None:
        neigh_ids = neighbours_of(q_id)
    focus = emap.focus_box(coords_all, [q_id, *neigh_ids], got.placed) if q_id is not None and k == 2 else box
    over = got.placed > limit and box is None
    # labels go to the most frequent words in view (rows are sorted: most frequent first), not to
    # the searched word and its neighbours (labelled in their own colour), not at the view's edge
    if focus is not None:
        in_view = rows[emap.visible(coords_all[rows], len(rows), emap.shrink(focus), len(rows))[0]]
    else:
        in_view = rows
    in_view = in_view[~np.isin(in_view, [*([q_id] if q_id is not None else []), *neigh_ids])]
    colour, colour_title = emap.colour_values(vectors, rows, colour_by, groups, word_list)
    fig = plots.map_figure(
        coords_all[rows], [words[i] for i in rows] if len(rows) < 50_000 else np.asarray(words, dtype=object)[rows],
        ids=rows, color=colour, color_title=colour_title,
        labels=np.searchsorted(rows, emap.label_rows(in_view, coords_all, 30 if k == 3 else 40)),
        density=emap.density(coords_all, got.placed) if over and k == 2 else None, focus=focus,
        title=f"{method} of {got.placed:,} words" + (f" ({len(rows):,} most frequent drawn)" if cut else ""),
        revision=f"{source.key}:{method}:{k}:{query}:{box}",
        colorscale="YlGnBu_r" if "rank" in colour_title else "YlGnBu")  # frequent words dark either way
    hl = [i for i in [q_id] if i is not None]
    if hl or neigh_ids:  # the searched word and its neighbours: always drawn, even beyond the drawn rows
        extra = np.asarray([*hl, *neigh_ids], np.int64)
        extra = extra[np.isfinite(coords_all[extra, 0])]
        add = plots.map_figure(coords_all[extra], [words[i] for i in extra], ids=extra,
                               highlight=[j for j, i in enumerate(extra) if i in hl],
                               neighbours=[j for j, i in enumerate(extra) if i not in hl])
        fig.add_traces([t for t in add.data if t.name in ("query", "neighbours")])
    trace_rows = plots.map_trace_rows(colour, len(rows))
    point_traces = [i for i, t in enumerate(fig.data) if t.meta == plots.MAP_POINT_TRACE]
    st.session_state["_emb_drawn"] = {ci: rows[r] for ci, r in zip(point_traces, trace_rows, strict=True)}
    if cut and box is None:
        st.caption(f"{got.placed:,} words: the grey layer is the density of all of them, the points the "
                   f"{len(rows):,} most frequent. Draw a box (box select) to show every word inside it; a "
                   "search always shows its word and neighbours.")
    elif cut:
        st.caption(f"More than {limit:,} words in the box: the {len(rows):,} most frequent are drawn; draw a "
                   "smaller box to see every word.")
    elif box is not None:
        st.caption(f"Every word in the box: {len(rows):,}.")
    if got.placed < V:
        st.caption(f"{V - got.placed:,} less frequent words have no {method} position (UMAP of the "
                   f"{got.placed:,} most frequent); PCA places all.")
    st.plotly_chart(fig_style(fig, fig.layout.height), theme=None, key="emb_map", on_select=on_map_select,
                    selection_mode=("points", "box") if k == 2 else ("points",),
                    config={"displaylogo": False, "scrollZoom": True})
    if box is not None and st.button("Back to the whole map"):
        st.session_state["emb_box"] = None
        st.rerun()
    st.download_button(
        f"Download coordinates of all {V:,} words (CSV)",
        emap.csv_file(words, coords_all, counts),
        file_name=f"embedding_{source.name.replace(' ', '_')}_{method.lower()}_{k}d.csv", mime="text/csv",
        on_click="ignore")
    if q_id is not None and neigh_ids:
        st.caption(f"nearest to **{query}**: " + ", ".join(words[i] for i in neigh_ids))
show_link()

with teach():
    st.markdown(
        "**What to notice**\n"
        "- Colour by analogy role: countries and capitals form two clouds, and the offsets from each "
        "country to its capital point roughly the same way (the paper's Figure 2).\n"
        "- Follow the epochs: before training the points are a random ball; structure appears within the "
        "first epoch and then mostly sharpens. Procrustes alignment keeps the camera still, so motion is "
        "the vectors moving, not the projection flipping.\n"
        "- The most frequent words (dark) tend to sit together: function words share "
        "contexts with everything.\n"
        "- Semantic axes put meaning on the axes: words for women fall on one side of he - she, and how far "
        "each word sits along it is how much the corpus ties it to gender."
    )
    st.markdown("**Projections, and where tools differ**")
    st.markdown(
        "- **PCA** keeps the two or three directions of largest variance: faithful to global geometry, "
        "but most of a 100-dimensional space is hidden. **UMAP** (cosine distance) keeps local "
        "neighbourhoods and may distort distances between clusters. Neither is what the model uses: "
        "the hover neighbours are computed in the full space.\n"
        "- **Which vectors.** These are the input vectors W_in (word2vec.c's `syn0`), what word2vec.c "
        "saves and gensim's `wv` holds. The output vectors (`syn1neg`) are discarded by both.\n"
        "- **Snapshots** copy the top words' vectors after each epoch; the Procrustes rotation is computed "
        "in the full dimension (Hamilton et al. 2016 align diachronic embeddings the same way), then one "
        "PCA basis (the last epoch's) projects all of them.\n"
        "- **Custom axes** follow the TensorFlow Embedding Projector's custom projection, with cosines."
    )
