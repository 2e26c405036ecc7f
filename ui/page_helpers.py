"""Small helpers shared by the explainer pages (figures with the app's style, sticky widgets).

Does: draw a plotly figure with the app's style; keep a widget's value when the user leaves the
page (Streamlit drops the state of widgets that are not drawn), optionally seeded from the URL.
Does not: compute anything shown on a page.
"""

from __future__ import annotations

import streamlit as st

from ui.widgets import fig_style


def show(fig) -> None:
    """The app's figure style (template, large-text fonts), keeping the builder's height."""
    st.plotly_chart(fig_style(fig, fig.layout.height), theme=None, config={"displaylogo": False})


def kept(widget, label: str, key: str, default, **kwargs):
    """A widget whose value survives leaving the page (Streamlit drops widget keys of unseen pages)."""
    store = f"_kept_{key}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(store, default)
    value = widget(label, key=key, **kwargs)
    st.session_state[store] = value
    return value


def kept_url(widget, label: str, key: str, default, param: str | None = None, **kwargs):
    """A widget whose value survives leaving the page; seeded from ?param= when the URL has it."""
    store = f"_kept_{key}"
    if key not in st.session_state:
        url = st.query_params.get(param) if param else None
        st.session_state[key] = url if url is not None else st.session_state.get(store, default)
    value = widget(label, key=key, **kwargs)
    st.session_state[store] = value
    return value
