"""Figure builders for the pages this module's owner wrote (Home, Train, Objectives, Vectors).

Does: pure functions from numbers (or a Run's plain recorded events) to plotly figures, tested
without Streamlit. Colours are fixed per objective so the same loss has the same colour on every
page. Page-level styling (font size for projectors, template) is ui.widgets.fig_style's job.
Does not: import Streamlit, compute anything expensive, or read files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.config import LOSS_LABELS, Loss

from .objectives import RowsMoved, RowsTouched
from .runs import Run

LOSS_COLORS = {Loss.NS: "#1f77b4", Loss.HS: "#ff7f0e", Loss.SOFTMAX: "#d62728", Loss.NCE: "#2ca02c"}
GREY = "#7f7f7f"


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "font": {"size": 16}}])
    return fig


# -- Home ------------------------------------------------------------------------------------------
def zipf_figure(counts: np.ndarray, title: str = "Zipf's law: word count against frequency rank") -> go.Figure:
    """Log-log rank vs count of a vocabulary (counts sorted descending), with a slope -1 guide."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.size == 0:
        return _empty(title, "no words")
    ranks = np.arange(1, counts.size + 1)
    # thin the tail: at most ~2000 points, evenly spaced in log(rank)
    if counts.size > 2000:
        idx = np.unique(np.geomspace(1, counts.size, 2000).astype(np.int64) - 1)
    else:
        idx = np.arange(counts.size)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ranks[idx], y=counts[idx], mode="lines+markers", name="corpus",
                             marker={"size": 4}, line={"width": 2},
                             hovertemplate="rank %{x:,}<br>count %{y:,}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[1, counts.size], y=[counts[0], counts[0] / counts.size], mode="lines",
                             name="slope -1 (Zipf)", line={"dash": "dash", "color": GREY}))
    fig.update_layout(title=title, xaxis_title="rank (1 = most frequent)", yaxis_title="count",
                      legend={"x": 0.99, "xanchor": "right", "y": 0.99})
    fig.update_xaxes(type="log", dtick=1)  # powers of ten only: minor labels clutter a projector
    fig.update_yaxes(type="log", dtick=1)
    return fig


# -- Train -----------------------------------------------------------------------------------------
@dataclass
class LossSeries:
    """One run's loss curve on an 'epochs' x-axis (1.5 = halfway through the second epoch)."""

    name: str
    loss: Loss
    tick_x: list[float] = field(default_factory=list)
    tick_y: list[float] = field(default_factory=list)
    epoch_x: list[float] = field(default_factory=list)
    epoch_y: list[float] = field(default_factory=list)
    alpha_x: list[float] = field(default_factory=list)
    alpha_y: list[float] = field(default_factory=list)


def loss_series(run: Run) -> LossSeries:
    """The recorded progress ticks and epoch ends of a run (safe while it trains)."""
    cfg = run.trainer.config if run.trainer is not None else run.config
    s = LossSeries(name=f"#{run.id} {run.name}", loss=Loss(cfg.loss))
    per_epoch = run.begin.corpus_words if run.begin is not None else 0
    for t in list(run.ticks):
        x = t.words_done / per_epoch if per_epoch else float(t.epoch)
        s.alpha_x.append(x)
        s.alpha_y.append(t.alpha)
        if math.isfinite(t.loss):
            s.tick_x.append(x)
            s.tick_y.append(t.loss)
    for e in list(run.epochs):
        if math.isfinite(e.loss):
            s.epoch_x.append(e.epoch + 1.0)
            s.epoch_y.append(e.loss)
    return s


def loss_figure(current: LossSeries | None, others: Sequence[LossSeries] = (),
                title: str = "Training loss (mean per example)") -> go.Figure:
    """The current run's loss per progress tick (line) and per epoch (markers); earlier runs dotted."""
    if current is None and not others:
        return _empty(title, "no run yet")
    fig = go.Figure()
    dim = 0.55 if current is not None else 0.9
    for s in others:
        color = LOSS_COLORS.get(s.loss, GREY)
        if len(s.tick_x) >= 2:  # a curve per progress tick, epoch means as open circles
            fig.add_trace(go.Scatter(x=s.tick_x, y=s.tick_y, mode="lines", name=s.name, opacity=dim,
                                     line={"dash": "dot", "color": color, "width": 2}, legendgroup=s.name))
            fig.add_trace(go.Scatter(x=s.epoch_x, y=s.epoch_y, mode="markers", showlegend=False, opacity=dim,
                                     marker={"color": color, "size": 9, "symbol": "circle-open"},
                                     legendgroup=s.name))
        else:  # epochs shorter than a progress tick: join the epoch means
            fig.add_trace(go.Scatter(x=s.epoch_x, y=s.epoch_y, mode="lines+markers", name=s.name, opacity=dim,
                                     line={"dash": "dot", "color": color, "width": 2},
                                     marker={"color": color, "size": 9}, legendgroup=s.name))
    if current is not None:
        color = LOSS_COLORS.get(current.loss, "#1f77b4")
        fig.add_trace(go.Scatter(x=current.tick_x, y=current.tick_y, mode="lines", name=f"{current.name}",
                                 line={"color": color, "width": 3},
                                 hovertemplate="epoch %{x:.2f}<br>loss %{y:.4f}<extra>running mean</extra>"))
        fig.add_trace(go.Scatter(x=current.epoch_x, y=current.epoch_y, name="epoch mean",
                                 mode="markers" if len(current.tick_x) >= 2 else "lines+markers",
                                 line={"color": color, "width": 3},
                                 marker={"color": color, "size": 11, "line": {"color": "white", "width": 1.5}},
                                 hovertemplate="end of epoch %{x:.0f}<br>loss %{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="epochs", yaxis_title="loss per example", hovermode="closest",
                      showlegend=bool(others), legend={"orientation": "h", "y": -0.25, "x": 0})
    fig.update_xaxes(rangemode="tozero")
    return fig


def lr_figure(alpha0: float, min_alpha: float, epochs: int, observed: LossSeries | None = None,
              title: str = "Learning-rate schedule") -> go.Figure:
    """alpha falls linearly from alpha0 to min_alpha over all epochs (word2vec.c); dots: observed."""
    x = [0.0, float(epochs)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[alpha0, min_alpha], mode="lines", name="schedule",
                             line={"color": GREY, "width": 2, "dash": "dash"}))
    if observed is not None and observed.alpha_x:
        fig.add_trace(go.Scatter(x=observed.alpha_x, y=observed.alpha_y, mode="markers", name="this run",
                                 marker={"color": LOSS_COLORS.get(observed.loss, "#1f77b4"), "size": 6}))
    fig.update_layout(title=title, xaxis_title="epochs", yaxis_title="alpha",
                      legend={"x": 0.99, "xanchor": "right", "y": 0.99, "bgcolor": "rgba(255,255,255,0.7)"})
    fig.update_yaxes(rangemode="tozero")
    return fig


# -- Objectives ------------------------------------------------------------------------------------
def epoch_time_figure(rows: Sequence[tuple[str, Loss, float]],
                      title: str = "Seconds per epoch (log scale)") -> go.Figure:
    """Bars of mean seconds per epoch, one per run: (label, loss, seconds)."""
    if not rows:
        return _empty(title, "no finished epochs yet")
    fig = go.Figure(go.Bar(
        x=[r[0] for r in rows], y=[r[2] for r in rows],
        marker_color=[LOSS_COLORS.get(r[1], GREY) for r in rows],
        text=[f"{r[2]:.2f} s" if r[2] >= 0.1 else f"{1000 * r[2]:.0f} ms" for r in rows], textposition="outside",
        hovertemplate="%{x}<br>%{y:.3f} s per epoch<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="seconds per epoch", showlegend=False)
    fig.update_yaxes(type="log")
    return fig


def rows_touched_figure(rt: RowsTouched, title: str | None = None) -> go.Figure:
    """Output rows read and written per training example, log scale: V vs log2 V vs k + 1."""
    title = title or f"Output rows touched per example (V = {rt.vocab:,})"
    rows = rt.by_loss()
    labels = [LOSS_LABELS[loss].replace(" ", "<br>") for loss in rows]
    values = list(rows.values())
    notes = [f"V = {rt.vocab:,}", f"≈ {rt.hs:.1f}", f"k+1 = {rt.ns:.0f}", f"k+1 = {rt.nce:.0f}"]
    colors = [LOSS_COLORS[loss] for loss in rows]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colors, text=notes, textposition="outside",
                           cliponaxis=False, hovertemplate="%{x}<br>%{y:,.1f} rows<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="rows of W_out per example", showlegend=False,
                      uniformtext={"minsize": 12, "mode": "show"})
    fig.update_yaxes(type="log", dtick=1, range=[0, math.log10(max(values) * 8)])
    fig.update_xaxes(tickangle=0)
    return fig


MAX_CELLS = 4096  # beyond this many rows, one cell stands for a block of consecutive rows


def _grid(delta: np.ndarray, labels: Sequence[str], cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Lay (n,) row changes out as a (rows, cols) grid of cells; a cell holds `block` rows when
    n > MAX_CELLS (its value is the largest change in the block), so big vocabularies stay light."""
    n = delta.shape[0]
    block = max(1, math.ceil(n / MAX_CELLS))
    cells = math.ceil(n / block)
    padded = np.zeros(cells * block)
    padded[:n] = delta
    cell_delta = padded.reshape(cells, block).max(axis=1)
    rows = math.ceil(cells / cols)
    z = np.full(rows * cols, np.nan)
    z[:cells] = 0.0
    mx = float(cell_delta.max()) if cells else 0.0
    moved = cell_delta > 0
    if mx > 0:
        # every moved row visible (>= 0.35), the largest move darkest
        z[:cells][moved] = 0.35 + 0.65 * np.sqrt(cell_delta[moved] / mx)
    text = np.full(rows * cols, "", dtype=object)
    if block == 1:
        text[:cells] = [f"row {i}: {labels[i]}<br>|change| = {delta[i]:.2e}" for i in range(n)]
    else:
        text[:cells] = [f"rows {c * block}-{min(n, (c + 1) * block) - 1} ({labels[c * block]} …)"
                        f"<br>largest |change| = {cell_delta[c]:.2e}" for c in range(cells)]
    return z.reshape(rows, cols), text.reshape(rows, cols)


def rows_moved_figure(moved: RowsMoved, words: Sequence[str],
                      title: str = "Which rows one update changed") -> go.Figure:
    """Every row of W_in and W_out as one cell of a grid (row 0 top-left, most frequent word);
    dark cells are rows whose values changed in the update."""
    v = len(words)
    cols = max(8, math.ceil(math.sqrt(min(MAX_CELLS, max(v, moved.delta_out.shape[0])))))
    out_labels = list(words) if moved.delta_out.shape[0] == v else [f"inner node {i}" for i in
                                                                     range(moved.delta_out.shape[0])]
    n_in, n_out = len(moved.changed_in), len(moved.changed_out)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.06, subplot_titles=(
        f"W_in (syn0): {n_in:,} of {v:,} rows changed",
        f"W_out ({'syn1' if moved.loss == Loss.HS else 'syn1neg'}): {n_out:,} of {moved.delta_out.shape[0]:,} "
        "rows changed"))
    scale = [[0.0, "#f4f4f4"], [0.3499, "#f4f4f4"], [0.35, "#fdae6b"], [1.0, "#7f0000"]]
    for c, (delta, labels) in enumerate(((moved.delta_in, list(words)), (moved.delta_out, out_labels)), start=1):
        z, text = _grid(delta, labels, cols)
        fig.add_trace(go.Heatmap(z=z, text=text, hovertemplate="%{text}<extra></extra>", colorscale=scale,
                                 zmin=0, zmax=1, showscale=False, xgap=1, ygap=1), row=1, col=c)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=c)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                         scaleanchor=f"x{'' if c == 1 else c}", row=1, col=c)
    fig.update_layout(title=title, plot_bgcolor="white")
    return fig
