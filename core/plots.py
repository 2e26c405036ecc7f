"""Plots: pure plotly figure builders for the explainer pages (pages and tests both call them).

Does: turn arrays (counts, probabilities, coordinates, a Huffman tree, a training step's rows)
into `plotly.graph_objects.Figure`s with named traces, so a test can check what a figure holds.
Does not: import Streamlit, read session state, compute projections (projection.py) or train.
Figures set no colours that fight a dark theme except for highlights; the app's large-text
toggle restyles them afterwards (ui.widgets.fig_style).

Formulas drawn here (each cited where it is drawn): the noise distribution Pn(w) = U(w)^p / Z
(paper section 2.2), the subsampling drop probability (paper eq. 5 and word2vec.c's variant),
the Huffman path probability (paper eq. 3), the phrase score (paper eq. 6).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .config import SubsampleFormula
from .huffman import Huffman, build_huffman
from .sampling import keep_at_frequency
from .tables import build_tables

HIGHLIGHT = "#d62728"  # path / query words
SECOND = "#ff7f0e"  # answers / neighbours
MUTED = "rgba(128,128,128,0.55)"
GLOW = "0 0 2px white, 0 0 3px white, 0 0 4px white"  # text shadow: labels stay readable over points


def _layout(fig: go.Figure, title: str | None = None, height: int = 420, legend_y: float = 1.02) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=legend_y, x=0))
    # log axes: a label per decade written as a power of ten (no "2, 5" minor labels, no "10µ")
    fig.for_each_xaxis(lambda ax: ax.update(dtick=1, exponentformat="power") if ax.type == "log" else None)
    fig.for_each_yaxis(lambda ax: ax.update(dtick=1, exponentformat="power") if ax.type == "log" else None)
    return fig


def _vline(fig: go.Figure, x: float, text: str, log_x: bool) -> None:
    """A dashed vertical line with a label at the top. subtle: on a log axis plotly places shapes
    in data units but annotations in log10 units, so add_vline's own annotation would land at 10^x."""
    fig.add_vline(x=x, line_dash="dash", line_color=MUTED)
    fig.add_annotation(x=np.log10(x) if log_x else x, y=1, yref="paper", text=text, showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=11))


# -- negative sampling --------------------------------------------------------------------------
def noise_figure(words: Sequence[str], counts: np.ndarray, exponent: float = 0.75,
                 observed: np.ndarray | None = None, top: int = 20) -> go.Figure:
    """U(w), Pn(w) = U(w)^p / Z and the observed share of noise draws, side by side.

    Left: grouped bars for the `top` most frequent words plus one bar for all the other words
    together (the tail), log y. Right: every word by frequency rank, log-log. counts (V,) sorted
    descending; observed (V,) int64 draws per word (EpochEnd.negatives) or None.
    Trace names: "U(w)", "U(w)^p/Z", "observed" (with " (by rank)" on the right).
    """
    counts = np.asarray(counts, dtype=np.float64)
    v = counts.shape[0]
    top = max(1, min(top, v))
    series = {"U(w)": counts / counts.sum(), "U(w)^p/Z": build_tables(counts, ns_exponent=exponent).noise_probs}
    if observed is not None and np.asarray(observed).sum() > 0:
        obs = np.asarray(observed, dtype=np.float64)
        series["observed"] = obs / obs.sum()
    colours = {"U(w)": "#1f77b4", "U(w)^p/Z": SECOND, "observed": "#2ca02c"}
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.08,
                        subplot_titles=(f"top {top} words + the other {v - top}", "all words by rank (log-log)"))
    labels = list(words[:top]) + ([f"other {v - top}"] if v > top else [])
    ranks = np.arange(1, v + 1)
    for name, p in series.items():
        bars = np.concatenate([p[:top], [p[top:].sum()]]) if v > top else p[:top]
        fig.add_trace(go.Bar(x=labels, y=bars, name=name, marker_color=colours[name], legendgroup=name,
                             hovertemplate="%{x}: %{y:.3g}<extra>" + name + "</extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=ranks, y=np.where(p > 0, p, np.nan), name=name + " (by rank)",
                                 mode="lines" if name != "observed" else "markers",
                                 marker=dict(size=3, opacity=0.5), line=dict(color=colours[name]), legendgroup=name,
                                 showlegend=False, text=list(words),
                                 hovertemplate="%{text} (rank %{x}): %{y:.3g}<extra></extra>"), row=1, col=2)
    fig.update_layout(barmode="group")
    fig.update_yaxes(type="log", title_text="probability", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(type="log", title_text="frequency rank", row=1, col=2)
    fig = _layout(fig, f"noise distribution, p = {exponent:g}", 480, legend_y=1.1)
    fig.update_layout(margin=dict(t=95))
    return fig


def exponent_figure(counts: np.ndarray, exponents: Sequence[float] = (0.0, 0.5, 0.75, 1.0),
                    current: float | None = None) -> go.Figure:
    """Pn(w) = U(w)^p / Z by frequency rank for several p (log-log): 0 is uniform, 1 the unigram.

    One trace per exponent named "p = <value>"; `current` (the slider) is drawn thick.
    """
    counts = np.asarray(counts, dtype=np.float64)
    ranks = np.arange(1, counts.shape[0] + 1)
    fig = go.Figure()
    ps = list(exponents) + ([current] if current is not None and current not in exponents else [])
    for p in ps:
        thick = current is not None and abs(p - current) < 1e-12
        pn = build_tables(counts, ns_exponent=p).noise_probs
        fig.add_trace(go.Scatter(x=ranks, y=pn, mode="lines", name=f"p = {p:g}",
                                 line=dict(width=4 if thick else 1.5, dash=None if thick else "dot")))
    fig.update_xaxes(type="log", title_text="frequency rank")
    fig.update_yaxes(type="log", title_text="Pn(w)")
    return _layout(fig, "how p reshapes the noise distribution", 380)


# -- subsampling --------------------------------------------------------------------------------
def subsampling_figure(words: Sequence[str], counts: np.ndarray, t: float,
                       observed_drop: np.ndarray | None = None, observed_t: float | None = None) -> go.Figure:
    """Drop probability against word frequency f = count / total for both formulas (log x).

    Traces: "paper: 1 - sqrt(t/f)", "word2vec.c: 1 - sqrt(t/f) - t/f" as curves over f, the
    same at each word's frequency as markers, and, when given, "observed (run, t=...)" with the
    per-word drop rate 1 - kept/seen of a run's last epoch (V,) (NaN for unseen words).
    """
    counts = np.asarray(counts, dtype=np.float64)
    f = counts / counts.sum()
    lo = max(f.min() / 2, 1e-12)
    grid = np.logspace(np.log10(lo), 0, 300)
    fig = go.Figure()
    for name, formula, colour in (("paper: 1 - sqrt(t/f)", SubsampleFormula.PAPER, "#1f77b4"),
                                  ("word2vec.c: 1 - sqrt(t/f) - t/f", SubsampleFormula.C, SECOND)):
        # the trainer's own formula and tables (tables.build_tables), not a copy
        drop_words = 1.0 - build_tables(counts, sample=t, subsample_formula=formula).keep_prob
        fig.add_trace(go.Scatter(x=grid, y=1.0 - keep_at_frequency(grid, t, formula), mode="lines", name=name,
                                 line=dict(color=colour)))
        fig.add_trace(go.Scatter(x=f, y=drop_words, mode="markers", name=name + " (words)", showlegend=False,
                                 marker=dict(color=colour, size=5, opacity=0.5), text=list(words),
                                 hovertemplate="%{text}: f=%{x:.2e}, drop %{y:.2f}<extra></extra>"))
    if observed_drop is not None:
        obs = np.asarray(observed_drop, dtype=np.float64)
        label = f"observed (run, t={observed_t:g})" if observed_t is not None else "observed (run)"
        fig.add_trace(go.Scatter(x=f, y=obs, mode="markers", name=label, text=list(words),
                                 marker=dict(color="#2ca02c", size=7, symbol="x"),
                                 hovertemplate="%{text}: f=%{x:.2e}, dropped %{y:.2f}<extra></extra>"))
    if t > 0:
        _vline(fig, t, "f = t", log_x=True)
    fig.update_xaxes(type="log", title_text="word frequency f(w) = count / total")
    fig.update_yaxes(title_text="probability of dropping an occurrence", range=[-0.02, 1.02])
    return _layout(fig, f"subsampling of frequent words, t = {t:g}", 440)


# -- Huffman tree -------------------------------------------------------------------------------
def huffman_layout(tree: Huffman) -> dict[str, np.ndarray]:
    """Positions for drawing a Huffman tree left (root) to right (leaves).

    Leaves get y = -(their order in a depth-first walk taking branch 0 first), inner nodes the
    mean y of their two children; x is the depth. Returns leaf_x, leaf_y (V,), node_x, node_y
    (V-1,) and edges (E, 2) int64 as (parent, child) with inner node n as V + n, leaf w as w,
    and edge_code (E,) the branch bit.
    """
    v = tree.codes.shape[0]
    children = np.full((v - 1, 2), -1, dtype=np.int64)
    for w in range(v):
        n = int(tree.lengths[w])
        for d in range(n):
            node = int(tree.points[w, d])
            child = v + int(tree.points[w, d + 1]) if d + 1 < n else w
            children[node, int(tree.codes[w, d])] = child
    root = v + (v - 2)
    leaf_y = np.zeros(v)
    node_y = np.zeros(v - 1)
    node_x = np.zeros(v - 1)
    leaf_x = tree.lengths.astype(np.float64)
    order = 0
    stack: list[tuple[int, int, bool]] = [(root, 0, False)]
    while stack:  # iterative post-order: children first, then the parent's mean
        node, depth, done = stack.pop()
        if node < v:
            leaf_y[node] = -order
            order += 1
            continue
        i = node - v
        if done:
            node_y[i] = 0.5 * sum(leaf_y[c] if c < v else node_y[c - v] for c in children[i])
            node_x[i] = depth
            continue
        stack.append((node, depth, True))
        stack.append((int(children[i, 1]), depth + 1, False))
        stack.append((int(children[i, 0]), depth + 1, False))
    edges = [(v + i, int(children[i, b])) for i in range(v - 1) for b in (0, 1)]
    codes = [b for _ in range(v - 1) for b in (0, 1)]
    return {"leaf_x": leaf_x, "leaf_y": leaf_y, "node_x": node_x, "node_y": node_y,
            "edges": np.array(edges, dtype=np.int64).reshape(-1, 2), "edge_code": np.array(codes, np.int64)}


def huffman_tree_figure(words: Sequence[str], counts: np.ndarray, highlight: int | None = None) -> go.Figure:
    """The Huffman tree of these words' counts (sorted descending; paper section 2.1).

    Built here with core.huffman.build_huffman over just these words. Traces: "edges", "inner
    nodes", "words" and, with `highlight` (a word index), "path" (the root-to-leaf edges) with
    the 0/1 branch bits written on it. The tree is drawn root left, leaves right, so word labels
    stay readable for a hundred words.
    """
    counts = np.asarray(counts, dtype=np.int64)
    tree = build_huffman(counts)
    lay = huffman_layout(tree)
    v = counts.shape[0]

    def pos(n: int) -> tuple[float, float]:
        return (lay["leaf_x"][n], lay["leaf_y"][n]) if n < v else (lay["node_x"][n - v], lay["node_y"][n - v])

    ex: list[float | None] = []
    ey: list[float | None] = []
    for p, c in lay["edges"]:
        (x0, y0), (x1, y1) = pos(int(p)), pos(int(c))
        ex += [x0, x0, x1, None]  # elbow: vertical then horizontal
        ey += [y0, y1, y1, None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name="edges", line=dict(color=MUTED, width=1),
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=lay["node_x"], y=lay["node_y"], mode="markers", name="inner nodes",
                             marker=dict(size=6, color=MUTED), text=[f"inner node {i}" for i in range(v - 1)],
                             hovertemplate="%{text}<extra></extra>"))
    code_str = ["".join(str(int(b)) for b in tree.codes[w, : tree.lengths[w]]) for w in range(v)]
    fig.add_trace(go.Scatter(
        x=lay["leaf_x"], y=lay["leaf_y"], mode="markers+text", name="words", text=list(words),
        textposition="middle right", marker=dict(size=7, color="#1f77b4"),
        customdata=np.stack([counts, np.array(code_str, dtype=object)], axis=1),
        hovertemplate="%{text}: count %{customdata[0]}, code %{customdata[1]}<extra></extra>"))
    if highlight is not None and 0 <= highlight < v:
        w = int(highlight)
        nodes = [v + int(tree.points[w, d]) for d in range(int(tree.lengths[w]))] + [w]
        px: list[float | None] = []
        py: list[float | None] = []
        for d in range(len(nodes) - 1):
            (x0, y0), (x1, y1) = pos(nodes[d]), pos(nodes[d + 1])
            px += [x0, x0, x1, None]
            py += [y0, y1, y1, None]
            fig.add_annotation(x=(x0 + x1) / 2, y=y1, text=str(int(tree.codes[w, d])), showarrow=False,
                               yshift=8, font=dict(color=HIGHLIGHT))
        fig.add_trace(go.Scatter(x=px, y=py, mode="lines", name="path", line=dict(color=HIGHLIGHT, width=3),
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=[lay["leaf_x"][w]], y=[lay["leaf_y"][w]], mode="markers", showlegend=False,
                                 marker=dict(size=12, color=HIGHLIGHT), name="path word", hoverinfo="skip"))
    fig.update_xaxes(title_text="depth (code length)", dtick=1, range=[-0.5, float(lay["leaf_x"].max()) + 2.5])
    fig.update_yaxes(visible=False)
    return _layout(fig, f"Huffman tree of the top {v} words", max(420, 16 * v))


def code_length_figure(words: Sequence[str], counts: np.ndarray, lengths: np.ndarray,
                       highlight: int | None = None) -> go.Figure:
    """Huffman code length against word count for every word (log x), with the entropy bound.

    Words sharing a (count, length) pair are one marker (hover: the first word and how many
    more), so a 70,000-word vocabulary stays a few thousand points. Traces: "words", "-log2 f(w)"
    (the ideal code length, which Huffman codes are within one bit of on average) and "selected".
    """
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    pairs, first, n_same = np.unique(np.stack([counts, lengths], axis=1), axis=0, return_index=True,
                                     return_counts=True)
    hover = [words[i] + (f" (+{n - 1} more)" if n > 1 else "") for i, n in zip(first, n_same, strict=True)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=pairs[:, 0], y=pairs[:, 1], mode="markers", name="words", text=hover,
                             marker=dict(size=np.clip(6 + np.log2(n_same), 6, 16), opacity=0.7),
                             hovertemplate="%{text}: count %{x}, code length %{y}<extra></extra>"))
    uc = np.unique(counts)
    fig.add_trace(go.Scatter(x=uc, y=-np.log2(uc / counts.sum()), mode="lines", name="-log2 f(w)",
                             line=dict(dash="dash", color=SECOND)))
    if highlight is not None and 0 <= highlight < counts.shape[0]:
        fig.add_trace(go.Scatter(x=[counts[highlight]], y=[lengths[highlight]], mode="markers+text",
                                 name="selected", text=[words[highlight]], textposition="top center",
                                 marker=dict(size=12, color=HIGHLIGHT)))
    fig.update_xaxes(type="log", title_text="word count")
    fig.update_yaxes(title_text="code length (inner nodes on the path)")
    return _layout(fig, "frequent words get short codes", 400)


def path_figure(steps: Sequence[dict], word: str) -> go.Figure:
    """The branch probabilities along one word's path (from huffman.word_path with W_out and h).

    One bar per inner node (trace "branch probability"), labelled with the branch taken, and a
    line for the running product (trace "running product"), whose last value is p(word | input).
    """
    ps = np.array([s["p"] for s in steps], dtype=np.float64)
    labels = [f"node {s['node']} ({s['code']})" for s in steps]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=ps, name="branch probability", text=[f"{p:.3f}" for p in ps],
                         textposition="outside"))
    fig.add_trace(go.Scatter(x=labels, y=np.cumprod(ps), mode="lines+markers", name="running product",
                             line=dict(color=HIGHLIGHT)))
    total = float(np.prod(ps)) if ps.size else 1.0
    fig.update_yaxes(range=[0, 1.1], title_text="probability")
    return _layout(fig, f"p({word} | input) = product along the path = {total:.4g}", 380)


# -- embeddings ---------------------------------------------------------------------------------
def embedding_figure(coords: np.ndarray, words: Sequence[str], color: Sequence | np.ndarray | None = None,
                     color_title: str = "", hover: Sequence[str] | None = None,
                     highlight: Sequence[int] = (), neighbours: Sequence[int] = (), labels: int = 40,
                     title: str | None = None, axis_titles: Sequence[str] | None = None) -> go.Figure:
    """Words as points in 2-D or 3-D (coords (N, 2) or (N, 3)).

    `color`: (N,) numbers (continuous colour scale, one trace "words") or strings (one trace per
    category, named by it). `hover`: extra hover text per word (e.g. nearest neighbours).
    `highlight` indices are drawn large and labelled (trace "query"), `neighbours` too (trace
    "neighbours"). The first `labels` words carry a text label.
    """
    coords = np.asarray(coords, dtype=np.float64)
    n, k = coords.shape
    three = k >= 3
    Scatter = go.Scatter3d if three else go.Scatter
    words = list(words)
    hover = list(hover) if hover is not None else [""] * n
    text = [w if i < labels else "" for i, w in enumerate(words)]

    def xyz(idx: np.ndarray) -> dict:
        d = {"x": coords[idx, 0], "y": coords[idx, 1]}
        if three:
            d["z"] = coords[idx, 2]
        return d

    fig = go.Figure()
    size = 3 if three else 7
    if color is not None and len(color) == n and isinstance(np.asarray(color).flat[0] if n else 0.0, str):
        cats = np.asarray(color, dtype=object)
        for cat in dict.fromkeys(cats.tolist()):
            idx = np.flatnonzero(cats == cat)
            fig.add_trace(Scatter(**xyz(idx), mode="markers+text", name=str(cat), text=[text[i] for i in idx],
                                  textposition="top center", marker=dict(size=size), textfont=dict(size=10),
                                  customdata=np.array([[words[i], hover[i]] for i in idx], dtype=object),
                                  hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>"))
    else:
        idx = np.arange(n)
        marker: dict = {"size": size}
        if color is not None and len(color) == n:
            marker.update(color=np.asarray(color, dtype=np.float64), colorscale="Viridis", showscale=True,
                          colorbar=dict(title=color_title))
        custom = np.array([[w, h] for w, h in zip(words, hover, strict=True)], dtype=object).reshape(-1, 2)
        fig.add_trace(Scatter(**xyz(idx), mode="markers+text", name="words", text=text, textposition="top center",
                              marker=marker, textfont=dict(size=10), customdata=custom,
                              hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>"))
    for name, idx, colour in (("neighbours", neighbours, SECOND), ("query", highlight, HIGHLIGHT)):
        idx = np.asarray(list(idx), dtype=np.int64)
        if idx.size:
            fig.add_trace(Scatter(**xyz(idx), mode="markers+text", name=name, text=[words[i] for i in idx],
                                  textposition="top center", textfont=dict(color=colour),
                                  marker=dict(size=size + 6, color=colour, line=dict(width=1, color="white")),
                                  hovertemplate="%{text}<extra>" + name + "</extra>"))
    if axis_titles:
        if three:
            fig.update_layout(scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                                         zaxis_title=axis_titles[2] if len(axis_titles) > 2 else ""))
        else:
            fig.update_xaxes(title_text=axis_titles[0])
            fig.update_yaxes(title_text=axis_titles[1])
    return _layout(fig, title, 620)


MAP_POINT_TRACE = "words"  # `meta` of every trace that holds the map's points (tests and clicks use it)
MAP_OUTLINE_MAX = 5_000  # maps with fewer points outline each one (light points vanished on white)


def map_point_size(n: int, three: bool = False) -> int:
    """Marker size of a map's points: 3 px (2 in 3-D) from ~20,000 words on, growing to 8 for a few
    dozen, so a small set is not a field of specks and a large one not a solid blob."""
    size = int(round(float(np.clip(10 - 1.5 * np.log10(max(n, 1)), 3, 8))))
    return size - 1 if three else size


def map_figure(coords: np.ndarray, words: Sequence[str], ids: np.ndarray | None = None,
               color: Sequence | np.ndarray | None = None, color_title: str = "",
               highlight: Sequence[int] = (), neighbours: Sequence[int] = (), labels: Sequence[int] = (),
               density: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
               focus: tuple[float, float, float, float] | None = None, title: str | None = None,
               height: int = 640, revision: str = "map", colorscale: str = "YlGnBu") -> go.Figure:
    """A map of many words (coords (N, 2) WebGL points, or (N, 3) a 3-D scatter).

    Every point is one marker in WebGL traces (go.Scattergl; 100,000s stay interactive).
    `ids` (N,) int: each point's row in the vector set (default 0..N-1), carried as customdata by
    the highlighted points; a click on a map point maps back through `map_trace_rows`.
    `color`: (N,) numbers (one trace, `colorscale`) or strings (one trace per category, named by it);
    every point trace has meta MAP_POINT_TRACE. `labels`: indices whose word is written beside
    the point (the most frequent ones on screen). `highlight` (trace "query") and `neighbours`
    (trace "neighbours") are drawn large and labelled. `density`: (counts (ny, nx), x edges
    (nx+1,), y edges (ny+1,)) drawn under the points as a heatmap of log counts (the overview of a
    set with more words than points drawn). `focus`: (x0, x1, y0, y1) initial view (a search
    centres there); `revision` keeps the user's zoom across reruns until it changes (uirevision).
    """
    coords = np.asarray(coords, dtype=np.float32)
    n, k = coords.shape
    three = k >= 3
    words = list(words)
    words_arr = np.asarray(words, dtype=object)
    ids = np.arange(n) if ids is None else np.asarray(ids, dtype=np.int64)
    fig = go.Figure()
    if density is not None and not three:
        counts, xe, ye = density
        fig.add_trace(go.Heatmap(z=np.log10(1 + np.asarray(counts, np.float64)), x=(xe[:-1] + xe[1:]) / 2,
                                 y=(ye[:-1] + ye[1:]) / 2, colorscale="Greys", showscale=False, name="density",
                                 hovertemplate="%{z:.1f} = log10(1 + words in cell)<extra>density</extra>",
                                 zsmooth=False, opacity=0.6))

    def points(idx: np.ndarray, marker: dict, name: str) -> go.Scattergl | go.Scatter3d:
        extra = "" if name == MAP_POINT_TRACE else "<br>" + name
        # subtle: text as an object array is validated ~10x faster than a list (1M words: 0.9 s vs 9 s);
        # no customdata: a click's (curve, point index) maps back to the row through trace_ids
        common = dict(mode="markers", name=name, meta=MAP_POINT_TRACE, text=words_arr[idx], marker=marker,
                      hovertemplate="<b>%{text}</b>" + extra + "<extra>click: neighbours</extra>")
        if three:
            return go.Scatter3d(x=coords[idx, 0], y=coords[idx, 1], z=coords[idx, 2], **common)
        return go.Scattergl(x=coords[idx, 0], y=coords[idx, 1], **common)

    size = map_point_size(n, three)
    outline = {"line": {"width": 0.5, "color": "rgba(60, 60, 60, 0.5)"}} if n < MAP_OUTLINE_MAX else {}
    values = None if color is None or len(color) != n else np.asarray(color)
    if values is not None and values.dtype.kind in "OUS":
        for cat in dict.fromkeys(values.tolist()):
            idx = np.flatnonzero(values == cat)
            fig.add_trace(points(idx, {"size": size if cat == "other" else size + 3, **outline}, str(cat)))
        fig.update_layout(legend_title_text=color_title)
    else:
        marker: dict = {"size": size, "opacity": 0.8, **outline}
        if values is not None:
            # subtle: a light-to-dark scale (most words are rare, so the map stays light and the
            # frequent words and the labels stand out); Viridis made the mass of rare words a blob
            marker.update(color=values.astype(np.float32), colorscale=colorscale, showscale=True,
                          colorbar=dict(title=color_title, thickness=12))
        fig.add_trace(points(np.arange(n), marker, MAP_POINT_TRACE))
    lab = np.asarray(list(labels), dtype=np.int64)
    if lab.size and not three:
        fig.add_trace(go.Scatter(x=coords[lab, 0], y=coords[lab, 1], mode="text", name="labels",
                                 text=[words[i] for i in lab], textposition="top center",
                                 textfont=dict(size=12, color="#1a1a1a", shadow=GLOW), hoverinfo="skip",
                                 showlegend=False))
    for name, idx, colour in (("neighbours", neighbours, SECOND), ("query", highlight, HIGHLIGHT)):
        idx = np.asarray(list(idx), dtype=np.int64)
        if not idx.size:
            continue
        # subtle: a contrasting text shadow keeps the labels readable over thousands of points
        style = dict(mode="markers+text", name=name, text=[words[i] for i in idx], textposition="top center",
                     textfont=dict(color=colour, size=14 if name == "query" else 13, shadow=GLOW,
                                   weight="bold" if name == "query" else "normal"), customdata=ids[idx],
                     marker=dict(size=(7 if three else 10) + (5 if name == "query" else 0), color=colour,
                                 line=dict(width=1.5, color="white")),
                     hovertemplate="<b>%{text}</b><extra>" + name + "</extra>")
        fig.add_trace(go.Scatter3d(x=coords[idx, 0], y=coords[idx, 1], z=coords[idx, 2], **style) if three
                      else go.Scatter(x=coords[idx, 0], y=coords[idx, 1], **style))
    fig.update_layout(uirevision=revision, dragmode="pan", hovermode="closest",
                      legend=dict(itemsizing="constant"))
    if focus is not None and not three:
        fig.update_xaxes(range=[focus[0], focus[1]])
        fig.update_yaxes(range=[focus[2], focus[3]])
    if not three:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return _layout(fig, title, height)


def map_trace_rows(color: Sequence | np.ndarray | None, n: int) -> list[np.ndarray]:
    """The point indices (into the map's N points) of each point trace of map_figure, in trace order."""
    values = None if color is None or len(color) != n else np.asarray(color)
    if values is not None and values.dtype.kind in "OUS":
        return [np.flatnonzero(values == cat) for cat in dict.fromkeys(values.tolist())]
    return [np.arange(n)]


def map_points(fig: go.Figure) -> int:
    """How many word points a map_figure holds (every trace named MAP_POINT_TRACE)."""
    return sum(len(tr.x) for tr in fig.data if tr.meta == MAP_POINT_TRACE and tr.x is not None)


def analogy_figure(coords: np.ndarray, words: Sequence[str], arrows: Sequence[tuple[int, int, str]],
                   roles: Sequence[str]) -> go.Figure:
    """Vector arithmetic drawn as arrows between projected points (coords (M, 2)).

    `arrows`: (from index, to index, label); `roles` (M,): "query", "answer", "result" or
    "context", one trace per role present. Arrows are layout annotations (fig.layout.annotations).
    """
    coords = np.asarray(coords, dtype=np.float64)
    roles = np.asarray(list(roles), dtype=object)
    style = {"query": (HIGHLIGHT, 12), "answer": (SECOND, 12), "result": ("#9467bd", 14), "context": (MUTED, 7)}
    # subtle: a label near the left or right edge extends inwards ("a - b + c" is long and was cut off)
    x = coords[:, 0] if coords.size else np.zeros(0)
    third = np.ptp(x) / 3 if x.size else 0.0
    where = np.where(x < x.min() + third, "top right", np.where(x > x.max() - third, "top left", "top center")) \
        if x.size else np.zeros(0, dtype=object)
    fig = go.Figure()
    for role, (colour, size) in style.items():
        idx = np.flatnonzero(roles == role)
        if idx.size:
            fig.add_trace(go.Scatter(x=coords[idx, 0], y=coords[idx, 1], mode="markers+text", name=role,
                                     text=[words[i] for i in idx], textposition=where[idx].tolist(),
                                     marker=dict(size=size, color=colour,
                                                 symbol="star" if role == "result" else "circle"),
                                     hovertemplate="%{text}<extra>" + role + "</extra>"))
    for i, j, label in arrows:
        fig.add_annotation(x=coords[j, 0], y=coords[j, 1], ax=coords[i, 0], ay=coords[i, 1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.3, arrowwidth=2,
                           arrowcolor=HIGHLIGHT if "+" in label or "-" in label else SECOND, text="")
        fig.add_annotation(x=(coords[i, 0] + coords[j, 0]) / 2, y=(coords[i, 1] + coords[j, 1]) / 2,
                           text=label, showarrow=False, font=dict(size=11), bgcolor="rgba(255,255,255,0.6)")
    span = np.ptp(coords, axis=0) if coords.size else np.ones(2)
    pad = 0.2 * np.maximum(span, 1e-6)
    fig.update_xaxes(range=[coords[:, 0].min() - pad[0], coords[:, 0].max() + pad[0]])
    fig.update_yaxes(range=[coords[:, 1].min() - pad[1], coords[:, 1].max() + pad[1]])
    return _layout(fig, "the arithmetic in a 2-D PCA of the words involved", 520)


def section_accuracy_figure(names: Sequence[str], correct: Sequence[int], totals: Sequence[int],
                            syntactic: Sequence[bool]) -> go.Figure:
    """Accuracy per analogy section as horizontal bars, one trace each for "semantic" and
    "syntactic" (Google's `gram*` convention), labelled correct/total."""
    acc = np.array([c / t if t else 0.0 for c, t in zip(correct, totals, strict=True)])
    fig = go.Figure()
    for kind, flag, colour in (("semantic", False, "#1f77b4"), ("syntactic", True, SECOND)):
        idx = [i for i, s in enumerate(syntactic) if bool(s) == flag]
        if idx:
            fig.add_trace(go.Bar(y=[names[i] for i in idx], x=acc[idx], orientation="h", name=kind,
                                 marker_color=colour, text=[f"{correct[i]}/{totals[i]}" for i in idx],
                                 textposition="auto", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text="accuracy (questions with all four words known)")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "analogy accuracy per section", max(300, 40 + 28 * len(names)))


# -- phrases ------------------------------------------------------------------------------------
def phrase_figure(phrases: Sequence[str], scores: Sequence[float], passes: Sequence[int],
                  thresholds: Sequence[float] = ()) -> go.Figure:
    """Top phrases by score (paper eq. 6), one horizontal-bar trace per pass ("pass 1", ...),
    with each pass's threshold as a dashed vertical line."""
    scores = np.asarray(scores, dtype=np.float64)
    passes = np.asarray(passes)
    fig = go.Figure()
    for p in sorted(set(passes.tolist())):
        idx = np.flatnonzero(passes == p)
        fig.add_trace(go.Bar(y=[phrases[i] for i in idx], x=scores[idx], orientation="h", name=f"pass {p}",
                             hovertemplate="%{y}: %{x:.4g}<extra></extra>"))
    for i, t in enumerate(thresholds, 1):
        if t > 0:
            _vline(fig, t, f"threshold {i}", log_x=True)
    order = [phrases[i] for i in np.argsort(-scores, kind="stable")]
    fig.update_xaxes(type="log", title_text="score")
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed", tickfont=dict(size=11),
                     dtick=1)
    return _layout(fig, "top phrases by score", max(320, 90 + 24 * len(phrases)))


# -- step by step -------------------------------------------------------------------------------
def step_heatmap_figure(before: np.ndarray, after: np.ndarray, row_labels: Sequence[str]) -> go.Figure:
    """Rows of W_in / W_out before and after one update and their difference, as heat maps.

    before, after (R, D). Traces (heatmaps) named "before", "after", "change"; the change uses a
    symmetric diverging scale so an untouched row is plainly white.
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    delta = after - before
    lim = float(np.abs(np.concatenate([before.ravel(), after.ravel()])).max()) if before.size else 1.0
    dlim = float(np.abs(delta).max()) if delta.size else 1.0
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.09,
                        subplot_titles=("before", "after", "change (after - before)"))
    labels = list(row_labels)
    cols = [f"d{j}" for j in range(before.shape[1])]
    after_end = fig.layout.xaxis2.domain[1]  # the before/after scale sits between "after" and "change"
    for c, (name, m, zl, scale) in enumerate((("before", before, lim, "RdBu"), ("after", after, lim, "RdBu"),
                                              ("change", delta, dlim or 1.0, "PiYG")), start=1):
        bar = dict(x=after_end + 0.005 if c == 2 else 1.0, xanchor="left", len=1.0, thickness=12,
                   exponentformat="e")
        fig.add_trace(go.Heatmap(z=m, x=cols, y=labels, name=name, colorscale=scale, zmin=-zl, zmax=zl, zmid=0,
                                 showscale=c != 1, colorbar=bar,
                                 hovertemplate="%{y}, %{x}: %{z:.4f}<extra>" + name + "</extra>"), row=1, col=c)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, None, max(220, 60 + 28 * len(labels)))
