"""Compare [/compare]: two vector sets side by side: how much each word's neighbourhood changed.

Does: take the vectors in focus (the sidebar) and a second choice of this session (another run, or
a loaded set), compare them over their shared words with core/vectors/compare.py (orthogonal
Procrustes alignment, per-word top-k neighbour overlap and aligned cosine), and show the mean
overlap, the distribution, the words that moved most and, for a searched word, its two neighbour
lists side by side. The cost is bounded: at most `limit` shared words (the first set's most
frequent), capped lower when hosted; results are cached by both sets' versions.
Does not: load sets (Vectors) or train (Train); compute anything over the whole vocabulary except
the searched word's two neighbour lists.

URL: ?set=FIRST&with=SECOND&word=king&k=10&words=5000, shown at the top as a link to copy (ui/links.py).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.vectors import compare
from core.vectors.keyed import UnknownWordError, Vectors
from ui import focus, hosted, links, widgets
from ui.widgets import kept, need, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

HOSTED_LIMIT = 5_000  # shared words one hosted comparison may cover (k-NN costs words^2 x D)
MOST_CHANGED = 25


@st.cache_data(show_spinner="Aligning the two sets and comparing neighbourhoods…", max_entries=8)
def comparison(first: str, first_version: str, second: str, second_version: str, k: int, limit: int,
               _a: Vectors, _b: Vectors) -> compare.Comparison:
    """compare.compare(a, b), cached by both sets' tokens and versions, k and the word limit."""
    return compare.compare(_a, _b, k=k, limit=limit)


def neighbours_of(word: str, a: Vectors, b: Vectors) -> str | None:
    """The spelling of `word` both sets know (as typed, else lower case), or None."""
    for w in (word, word.lower()):
        if w in a and w in b:
            return w
    return None


st.title("Compare two vector sets")
st.caption("Two runs (say subsampling on and off) or a run and a loaded set: after rotating one onto the "
           "other, which words kept their neighbours and which moved?")

link_box = st.container()  # the link to this view, filled once the page has written its query
a = need("vectors", "compare it with another")
first = focus.current()
linked = st.query_params.get("with")
if linked and linked != first.token and widgets.kept_value("cmp_with") is None:
    # a link's second set, on this session's first visit here: loaded from the operator's folder if need be
    if (problem := focus.load_named(linked)) is not None:
        st.warning(problem, icon=":material/link_off:")
        del st.query_params["with"]
others = [t for t in focus.tokens() if t != first.token and focus.resolve(t).vectors is not None]
if not others:
    st.info("Compare needs a second set: train another run on **Train**, or load a set on **Vectors**.",
            icon=":material/compare:")
    st.stop()

c = st.columns([3, 1, 1])
c[0].markdown(f"**First** (the vectors in focus, chosen in the sidebar): {first.label}")
labels = {focus.label(t): t for t in others}  # subtle: label options (no format_func), so AppTest can set them
if widgets.kept_value("cmp_with") not in others:  # a link's ?with=, else the newest other choice
    widgets.set_kept("cmp_with", st.query_params.get("with") if st.query_params.get("with") in others else others[0])
second_label = kept(c[0].selectbox, "Second", "cmp_with", options=list(labels), store=None,
                    convert=labels.get, to_widget=focus.label)
second = focus.resolve(labels[second_label])
st.query_params["with"] = second.token
b = second.vectors
cap = HOSTED_LIMIT if hosted.hosted() else compare.MAX_LIMIT
k = int(kept(c[1].number_input, "neighbours k", "cmp_k", 10, min_value=1, max_value=50, url="k"))
limit = int(kept(c[2].number_input, "words compared", "cmp_words", min(compare.DEFAULT_LIMIT, cap),
                 min_value=100, max_value=cap, step=1000, url="words",
                 help=f"the first set's most frequent shared words (at most {cap:,} here: the cost grows "
                      "with the square)"))

try:
    result = comparison(first.token, first.version, second.token, second.version, k, limit, a, b)
except compare.CompareError as e:
    st.warning(str(e))
    with link_box:  # the word box below is not drawn: its ?word= stays as the link had it
        links.copy_link()
    st.stop()

m = st.columns(4)
m[0].metric("shared words", f"{result.shared_total:,}", help="words in both vocabularies")
m[1].metric("compared", f"{len(result.words):,}", help="the first set's most frequent shared words")
m[2].metric(f"mean top-{result.k} overlap", f"{result.mean_overlap:.1%}",
            help="share of each word's nearest neighbours both sets agree on (needs no alignment)")
m[3].metric("mean aligned cosine", f"{float(result.cosine.mean()):.3f}",
            help="cosine between a word's two vectors after the best rotation (Procrustes)")

left, right = st.columns([2, 3], gap="large")
with left:
    st.markdown(f"**The {MOST_CHANGED} words that moved most** (lowest overlap first)")
    moved = pd.DataFrame(result.most_changed(MOST_CHANGED), columns=["word", "overlap", "aligned cosine"])
    st.dataframe(moved, hide_index=True, key="cmp_moved", column_config={
        "overlap": st.column_config.ProgressColumn("overlap", min_value=0.0, max_value=1.0, format="%.2f"),
        "aligned cosine": st.column_config.NumberColumn(format="%.3f")})
with right:
    fig = go.Figure(go.Histogram(x=result.overlap, xbins={"start": -0.05, "end": 1.05, "size": 1 / result.k},
                                 marker_color="#1f77b4", hovertemplate="overlap %{x:.2f}: %{y} words<extra></extra>"))
    fig.update_layout(title=f"How many of each word's top-{result.k} neighbours both sets share",
                      xaxis_title="neighbour overlap", yaxis_title="words", bargap=0.05)
    show_figure(fig, height=360, key="cmp_hist")

# -- one word, side by side ----------------------------------------------------------------------------
st.subheader("One word in both sets")
default_word = result.most_changed(1)[0][0] if result.words else ""
kept_word = kept(st.text_input, "word", "cmp_word", default_word, url="word").strip()
with link_box:  # every query key of the page is written by now
    links.copy_link()
if kept_word:
    word = neighbours_of(kept_word, a, b)
    if word is None:
        missing = "the first set" if neighbours_of(kept_word, a, a) is None else "the second set"
        st.warning(f"“{kept_word}” is not in the vocabulary of {missing}.")
    else:
        try:
            near_a, near_b = compare.side_by_side(a, b, word, k=result.k)
        except UnknownWordError as e:  # not expected after neighbours_of; one line all the same
            st.warning(f"“{e.word}” is not in the vocabulary of both sets.")
        else:
            common = {w for w, _ in near_a} & {w for w, _ in near_b}
            l2, r2 = st.columns(2)
            for col, name, near in ((l2, first.label, near_a), (r2, second.label, near_b)):
                df = pd.DataFrame([(w, s, "both" if w in common else "") for w, s in near],
                                  columns=["word", "cosine", "in both"])
                col.markdown(f"**{name}**")
                col.dataframe(df, hide_index=True)
            st.caption(f"{len(common)} of {result.k} neighbours in common (each list searched over its whole set).")

with teach("How the comparison works"):
    st.markdown(
        "- **Neighbour overlap** needs no alignment: for each word, the share of its k nearest neighbours "
        "(among the compared words) that both sets agree on. Trust it first.\n"
        "- **Aligned cosine** rotates the second set onto the first with orthogonal Procrustes (Schönemann "
        "1966; Hamilton et al. 2016 align embeddings of different decades the same way) and takes each "
        "word's cosine between its two vectors. Training from a different seed gives a rotated space; "
        "after the rotation, what remains is real change.\n"
        "- Only the most frequent shared words are compared: the cost grows with the square of their number.")
