"""Streamlit app for bench_map.py: draws N synthetic points one way, nothing else.

Env: MAP_N (points), MAP_KIND (plotly | pydeck | page-figure). Points are a seeded 2-D Gaussian
mixture with words `w0..`; `page-figure` draws them with core.plots.map_figure (what the
Embeddings page sends). Not part of the app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("MAP_N", "100000"))
KIND = os.environ.get("MAP_KIND", "plotly")


@st.cache_data(show_spinner=False)
def points(n: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (max(1, n // 1000), 2))
    xy = (centres[rng.integers(0, len(centres), n)] + rng.normal(0, 1, (n, 2))).astype(np.float32)
    counts = (1e6 / np.arange(1, n + 1)).astype(np.int64) + 1
    return xy, [f"w{i}" for i in range(n)], counts


xy, words, counts = points(N)
st.write(f"{KIND}: {N:,} points")
if KIND == "none":
    pass
elif KIND == "plotly":
    import plotly.graph_objects as go

    fig = go.Figure(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", text=words,
                                 marker=dict(size=3, color=np.log10(counts), colorscale="Viridis"),
                                 hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=600, margin=dict(l=0, r=0, t=0, b=0))
    st.plotly_chart(fig, key="map")
elif KIND == "page-figure":
    from core import plots

    fig = plots.map_figure(xy, words, color=np.log10(counts), color_title="log10 count",
                           labels=np.arange(min(N, 40)))
    st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box"))
else:
    import pandas as pd
    import pydeck as pdk

    c = np.log10(counts)
    c = ((c - c.min()) / max(np.ptp(c), 1e-9) * 200).astype(np.uint8)
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "word": words, "r": c, "g": 80, "b": 200 - c})
    layer = pdk.Layer("ScatterplotLayer", data=df, get_position=["x", "y"], get_fill_color=["r", "g", "b"],
                      radius_units="pixels", get_radius=1.5, pickable=True)
    view = pdk.View(type="OrthographicView", controller=True)
    deck = pdk.Deck(layers=[layer], views=[view], map_provider=None, map_style=None,
                    initial_view_state=pdk.ViewState(target=[0, 0, 0], zoom=3), tooltip={"text": "{word}"})
    st.pydeck_chart(deck, height=600)
