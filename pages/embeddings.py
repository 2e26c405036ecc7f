"""Embeddings page: the run's word vectors projected to 2-D or 3-D (PCA, or UMAP on request),
coloured by frequency or by analogy role, with nearest neighbours on hover, a word search, an
epoch slider over the training snapshots (Procrustes-aligned) and a "semantic axes" view whose
axes are word differences. The coordinates download as CSV.

Works on the vectors in focus (ui/focus.py: a run, or a loaded set); the epoch slider needs a run
with snapshot_topn > 0. URL: ?word=king&x=he,she&y=good,bad
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.vectors import projection
from core.vectors.evaluate import EvalError, read_analogies
from ui import focus
from ui.widgets import kept, need, show_figure, teach

ROOT = Path(__file__).resolve().parents[1]
SECTION_FILES = (ROOT / "sample_corpora" / "small_world_analogies.txt",
                 ROOT.parent / "shared" / "eval" / "questions-words.txt")
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
def umap_coords(run_id: str, version: str, rows: tuple[int, ...], dims: int, n_neighbors: int,
                _X: np.ndarray) -> np.ndarray:
    """UMAP of the run's rows, cached by run id + epoch/version + the rows + parameters."""
    return projection.umap_project(_X, dims, n_neighbors=n_neighbors)


@st.cache_data(show_spinner=False, max_entries=8)
def snapshot_coords(run_id: str, n_snaps: int, method: str, dims: int, n_neighbors: int,
                    _snaps: list[np.ndarray]) -> list[np.ndarray]:
    """All snapshots projected into the last one's frame (Procrustes), cached per run and method."""
    return projection.project_snapshots(_snaps, method, dims, **({"n_neighbors": n_neighbors}
                                                                 if method == "umap" else {}))


@st.cache_data(show_spinner=False, max_entries=16)
def hover_neighbours(run_id: str, version: str, rows: tuple[int, ...], _X: np.ndarray,
                     _words: list[str]) -> list[str]:
    idx, sims = projection.nearest_neighbours(_X, np.array(rows, np.int64), k=5, candidates=NEIGHBOUR_CANDIDATES)
    return ["near: " + ", ".join(f"{_words[j]} {s:.2f}" for j, s in zip(r, q, strict=True))
            for r, q in zip(idx.tolist(), sims.tolist(), strict=True)]


def pair(text: str) -> tuple[str, str] | None:
    parts = [p.strip() for p in text.replace("-", ",").split(",") if p.strip()]
    return (parts[0], parts[1]) if len(parts) == 2 else None


st.title("Embeddings")
st.caption("The input vectors W_in in focus (a run, or a loaded set), one point per word. Nearby points are words used "
           "in similar contexts.")

vectors = need("vectors", "see its vectors here")
in_focus = focus.current()  # a run (with its snapshots) or a loaded set; its token and version key the caches
run, run_key, version = in_focus.run, in_focus.token, in_focus.version
words, X, counts = vectors.words, vectors.vectors, vectors.counts
V = len(words)

st.latex(r"\cos(w_1, w_2) = \frac{v_{w_1} \cdot v_{w_2}}{\lVert v_{w_1} \rVert \, \lVert v_{w_2} \rVert}"
         r"\qquad \text{axes: } x = \cos(w, a) - \cos(w, b)")

c = st.columns(4)
view = kept(c[0].radio, "view", "emb_view", "projection", options=["projection", "semantic axes"])
method = kept(c[1].radio, "method", "emb_method", "PCA", options=["PCA", "UMAP"],
              disabled=view != "projection", help="PCA is instant; UMAP takes seconds and is cached")
dims = kept(c[2].radio, "dimensions", "emb_dims", "2-D", options=["2-D", "3-D"], disabled=view != "projection")
colour_by = kept(c[3].radio, "colour", "emb_colour", "frequency", options=["frequency", "analogy role"])
k = 3 if dims == "3-D" and view == "projection" else 2

c1, c2 = st.columns([2, 1])
if V > 10:
    n_top = kept(c1.slider, "most frequent words shown", "emb_n", min(300, V), min_value=10,
                 max_value=min(3000, V), step=1)
else:  # a slider needs min < max
    n_top = V
query = kept(c2.text_input, "find a word", "emb_word", "", url="word").strip()

snaps = run.snapshots if run is not None else []
use_snaps = False
epoch = None
if view == "projection" and len(snaps) >= 2:
    labels = ["before training"] + [f"after epoch {e.epoch + 1}" for e in run.epochs if e.snapshot is not None]
    labels = labels[: len(snaps)]
    use_snaps = kept(st.toggle, "follow training epoch by epoch (snapshots)", "emb_use_snaps", False,
                     help=f"the run kept the top {snaps[0].shape[0]} words after every epoch")
    if use_snaps:
        chosen = kept(st.select_slider, "epoch", "emb_epoch", labels[-1], options=labels)
        epoch = labels.index(chosen) if chosen in labels else len(labels) - 1
elif view == "projection" and run is not None:
    st.caption("Train with snapshot_topn > 0 to follow the projection epoch by epoch.")

q_id = vectors.index.get(query) if query else None
if query and q_id is None:
    st.warning(f"'{query}' is not in the vocabulary.")

neigh_ids: list[int] = []
title = None
axis_titles = None
if use_snaps:
    n_rows = snaps[0].shape[0]
    rows = list(range(min(n_top, n_rows)))
    with st.spinner("UMAP of every snapshot (first time ~10-30 s)..." if method == "UMAP" else "projecting..."):
        all_coords = snapshot_coords(run_key, len(snaps), method.lower(), k, 15, snaps)
    S = snaps[epoch]
    coords = all_coords[epoch][rows]
    hover = hover_neighbours(run_key, f"snap{epoch}", tuple(rows), S, words[:n_rows])
    if q_id is not None and q_id < n_rows:
        idx, _ = projection.nearest_neighbours(S, np.array([q_id]), k=8)
        neigh_ids = [int(j) for j in idx[0] if j in set(rows)]
    elif q_id is not None:
        st.caption(f"'{query}' is not among the {n_rows} words kept in the snapshots.")
    title = f"{method}, {labels[epoch]} (aligned to the last epoch by orthogonal Procrustes)"
else:
    rows = list(range(n_top))
    if q_id is not None:
        neigh_ids = [vectors.index[w] for w, _ in vectors.most_similar(query, topn=8)]
        rows += [i for i in [q_id, *neigh_ids] if i >= n_top]
    Xr = X[rows]
    if view == "semantic axes":
        defaults = {"x": "he, she", "y": "good, bad"}
        if "he" not in vectors.index or "she" not in vectors.index:
            defaults["x"] = "man, woman" if "man" in vectors.index else f"{words[0]}, {words[1]}"
        if "good" not in vectors.index or "bad" not in vectors.index:
            fallback = f"{words[min(2, V - 1)]}, {words[min(3, V - 1)]}"
            defaults["y"] = "king, queen" if "king" in vectors.index else fallback
        a1, a2 = st.columns(2)
        xs = kept(a1.text_input, "x axis: a, b (x = cos(w, a) - cos(w, b))", "emb_x", defaults["x"], url="x")
        ys = kept(a2.text_input, "y axis: c, d", "emb_y", defaults["y"], url="y")
        px, py = pair(xs), pair(ys)
        if px is None or py is None:
            st.warning("Give each axis as two words separated by a comma, e.g. 'he, she'.")
            st.stop()
        unknown = [w for w in (*px, *py) if w not in vectors.index]
        if unknown:
            st.warning(f"'{unknown[0]}' is not in the vocabulary.")
            st.stop()
        coords = projection.semantic_axes(Xr, [(vectors[px[0]], vectors[px[1]]), (vectors[py[0]], vectors[py[1]])])
        axis_titles = [f"cos(w, {px[0]}) - cos(w, {px[1]})", f"cos(w, {py[0]}) - cos(w, {py[1]})"]
        title = f"semantic axes: {px[0]} - {px[1]} against {py[0]} - {py[1]}"
    elif method == "UMAP":
        with st.spinner(f"UMAP of {len(rows):,} words (the first time compiles umap-learn, ~10-30 s)..."):
            coords = umap_coords(run_key, version, tuple(rows), k, 15, Xr)
        title = f"UMAP of the top {n_top} words (cosine)"
    else:
        coords = projection.pca(Xr, k)
        title = f"PCA of the top {n_top} words"
    hover = hover_neighbours(run_key, version, tuple(rows), X, words)

shown = [words[i] for i in rows]
pos = {r: i for i, r in enumerate(rows)}
if colour_by == "analogy role":
    path = next((p for p in SECTION_FILES if p.is_file()), None)
    groups = section_groups(str(path), path.stat().st_mtime) if path else {}
    colour = [groups.get(w.lower(), "other") for w in shown]
    colour_title = "role"
    if path is None:
        st.caption("No analogy file found to read roles from.")
else:
    c_vals = counts[rows] if counts is not None else np.arange(len(rows), 0, -1)
    colour = np.log10(np.maximum(c_vals, 1))
    colour_title = "log10 count"

fig = plots.embedding_figure(
    coords, shown, color=colour, color_title=colour_title, hover=hover,
    highlight=[pos[q_id]] if q_id is not None and q_id in pos else [],
    neighbours=[pos[i] for i in neigh_ids if i in pos], labels=30 if k == 3 else 60, title=title,
    axis_titles=axis_titles)
show_figure(fig)

cols = ["x", "y", "z"][: coords.shape[1]]
table = pd.DataFrame(coords, columns=cols)
table.insert(0, "word", shown)
if counts is not None:
    table["count"] = counts[rows]
table["colour"] = colour
st.download_button("Download coordinates (CSV)", table.to_csv(index=False).encode("utf-8"),
                   file_name=f"embedding_{run_key.replace(' ', '_')}_{view.replace(' ', '_')}.csv",
                   mime="text/csv")
if q_id is not None and neigh_ids:
    st.caption(f"nearest to **{query}**: " + ", ".join(words[i] for i in neigh_ids))

with teach():
    st.markdown(
        "**What to notice**\n"
        "- Colour by analogy role: countries and capitals form two clouds, and the offsets from each "
        "country to its capital point roughly the same way (the paper's Figure 2).\n"
        "- Follow the epochs: before training the points are a random ball; structure appears within the "
        "first epoch and then mostly sharpens. Procrustes alignment keeps the camera still, so motion is "
        "the vectors moving, not the projection flipping.\n"
        "- The most frequent words (bright) tend to sit together near the centre: function words share "
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
