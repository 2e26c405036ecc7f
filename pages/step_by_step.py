"""Step-by-step page: skip-gram on a tiny corpus, one training example at a time.

Each press of "Next example" applies exactly one (centre, context) pair with the real compiled loss
step (core.train.step.one_example) to this page's own copy of W_in and W_out, then shows the dot
products, sigmoids, gradients, the example's loss before and after, exactly which rows changed
(found by comparing copies) and a heat map of those rows before and after.

Needs no run: the page builds its own small model on sample_corpora/tiny.txt; a warm start ("after
N epochs") trains on this thread within the server's limits and a stated cap (ui/step_model.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.config import ConfigError, Loss, TrainConfig
from core.corpus import Corpus, CorpusError
from core.train.step import one_example, skipgram_pairs
from ui import links, step_model, widgets
from ui.widgets import kept, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

STATE = "step_state"
ALPHAS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]


@st.cache_data(show_spinner=False)
def tiny_corpus() -> tuple[Corpus, str]:
    """The tiny teaching text shipped in sample_corpora/ (every word kept)."""
    return step_model.tiny_corpus(), step_model.TINY.name


def build(settings: tuple) -> dict:
    """A fresh model for these settings: W_in, W_out and the loss tables from the real Trainer, warmed
    within this server's limits and the page's cap (ui/step_model.py)."""
    loss, k, dim, window, seed, warm = settings
    corpus, _ = tiny_corpus()
    cfg = TrainConfig(size=dim, loss=Loss[loss], negative=k, window=window, sample=0.0, min_count=1,
                      threads=1, seed=seed, compute_loss=False)
    tr = step_model.warm_trainer(corpus, cfg, warm)
    return {"settings": settings, "W_in": tr.W_in.copy(), "W_out": tr.W_out.copy(), "tables": tr.tables,
            "pairs": skipgram_pairs(corpus.offsets, window), "cursor": 0, "rng": seed + 1, "history": [],
            "report": None}


def step(state: dict, alpha: float) -> None:
    corpus, _ = tiny_corpus()
    pairs = state["pairs"]
    i = state["cursor"] % len(pairs)
    centre, context = (int(corpus.tokens[p]) for p in pairs[i])
    loss, k = state["settings"][0], state["settings"][1]
    rep = one_example(state["W_in"], state["W_out"], state["tables"], Loss[loss], centre, context,
                      rng=state["rng"], k=k, alpha=alpha)
    state.update(rng=rep.rng, cursor=state["cursor"] + 1, report=rep, pair_index=i)
    state["history"].append((rep.loss_before, rep.loss_after))


st.title("Step by step")
st.caption("One skip-gram training example at a time on a tiny text, with the real compiled update: "
           "the context word's input vector predicts the centre word.")
widgets.internals_note("training steps", "this page trains its own tiny model")

try:
    corpus, corpus_name = tiny_corpus()
except (CorpusError, OSError) as e:  # an install without sample_corpora/tiny.txt
    st.error(f"The teaching text could not be read: {e}")
    st.stop()
vocab = corpus.vocab
words = vocab.words

c = st.columns(4)
loss = kept(c[0].radio, "output layer", "step_loss", "NS", options=["NS", "HS"], horizontal=True,
            help="NS: negative sampling; HS: hierarchical softmax")
k = kept(c[1].slider, "k negatives", "step_k", 3, min_value=1, max_value=10, disabled=loss != "NS")
dim = kept(c[2].slider, "dimensions D", "step_dim", 8, min_value=2, max_value=24)
window = kept(c[3].slider, "window", "step_window", 2, min_value=1, max_value=5)
c = st.columns(2)
alpha = kept(c[0].select_slider, "learning rate alpha", "step_alpha", 0.025, options=ALPHAS)
warm_choices = step_model.warm_choices()
if widgets.kept_value("step_warm", 0) not in warm_choices:  # e.g. kept from before a hosted epoch cap
    widgets.set_kept("step_warm", 0)
warm = kept(c[1].segmented_control, "start from", "step_warm", 0, options=warm_choices,
            format_func=lambda e: "initial weights" if e == 0 else f"after {e} epochs",
            help="initial weights: W_in random, W_out zero (word2vec.c); or train that many epochs first")
warm = warm or 0  # a segmented control can be deselected
settings = (loss, int(k), int(dim), int(window), 1, int(warm))

state = st.session_state.get(STATE)
b = st.columns([1, 1, 1, 3])
reset = b[2].button("Reset")
if state is None or state["settings"] != settings or reset:
    try:
        state = build(settings)
    except ConfigError as e:
        st.error(f"Could not build the model: {e}")
        st.stop()
    st.session_state[STATE] = state
    step(state, alpha)
if b[0].button("Next example", type="primary"):
    step(state, alpha)
if b[1].button("Next 10"):
    for _ in range(10):
        step(state, alpha)
rep = state["report"]
b[3].caption(f"{corpus_name}: {len(corpus)} tokens, {len(vocab)} words, {len(state['pairs'])} (centre, context) "
             f"pairs within the window. Example {state['cursor']} done.")

if loss == "NS":
    st.latex(r"z_j = {v'_{j}}^{\top} h, \qquad g_j = \alpha\,(\ell_j - \sigma(z_j)), \qquad "
             r"\ell_j = 1 \text{ for the centre word}, \ 0 \text{ for the } k \text{ negatives}")
    st.latex(r"v'_j \leftarrow v'_j + g_j\, h \qquad h \leftarrow h + \sum_j g_j\, v'_j{}^{\text{(old)}}")
else:
    st.latex(r"z_j = {v'_{n(w,j)}}^{\top} h, \qquad g_j = \alpha\,(1 - \mathrm{code}_j - \sigma(z_j))")
    st.latex(r"v'_{n(w,j)} \leftarrow v'_{n(w,j)} + g_j\, h \qquad h \leftarrow h + \sum_j g_j\, "
             r"v'_{n(w,j)}{}^{\text{(old)}}")
st.caption("h = W_in[context] (word2vec.c's syn0), v'_j = W_out rows (syn1neg for NS, syn1 for HS). "
           "The loss of the example is -sum_j log sigma(+-z_j): + for label 1, - for label 0.")

# -- the example ---------------------------------------------------------------------------------
p_centre, p_context = (int(x) for x in state["pairs"][state["pair_index"]])
s = int(np.searchsorted(corpus.offsets, p_centre, side="right") - 1)
lo, hi = int(corpus.offsets[s]), int(corpus.offsets[s + 1])
tokens = []
for q in range(lo, hi):
    w = words[int(corpus.tokens[q])]
    tokens.append(f"**:red[{w}]**" if q == p_centre else (f"**:blue[{w}]**" if q == p_context else w))
st.markdown("### " + " ".join(tokens))
st.markdown(f"centre word (target): :red[**{words[rep.centre]}**] &nbsp; context word (input h = W_in row): "
            f":blue[**{words[rep.context]}**]" + (f" &nbsp; negatives: {', '.join(words[w] for w in rep.negatives)}"
                                                   if loss == "NS" else ""))

m = st.columns(4)
m[0].metric("loss before", f"{rep.loss_before:.5f}")
m[1].metric("loss after", f"{rep.loss_after:.5f}", f"{rep.loss_after - rep.loss_before:+.2e}", delta_color="inverse")
m[2].metric("output rows scored", len(rep.rows), help="k + 1 for NS, the code length for HS; V for a full softmax")
m[3].metric("rows changed", f"{len(rep.changed_in)} + {len(rep.changed_out)}",
            help=f"W_in + W_out, of {state['W_in'].shape[0]} + {state['W_out'].shape[0]} rows")

if loss == "NS":
    role = ["positive (centre)"] + ["negative"] * (len(rep.rows) - 1)
    names = [words[r] for r in rep.rows]
else:
    role = [f"node {d + 1} of path (code {int(1 - lab)})" for d, lab in enumerate(rep.labels)]
    names = [f"inner node {r}" for r in rep.rows]
y = np.where(rep.labels > 0, 1.0, -1.0)
st.dataframe(pd.DataFrame({
    "role": role, "W_out row": rep.rows, "word / node": names, "label": rep.labels.astype(int),
    "z = v'.h": rep.z, "sigma(z)": rep.sigmoid, "g = alpha(label - sigma)": rep.g,
    "loss term": np.logaddexp(0.0, -y * rep.z),
}), hide_index=True)
if rep.skipped:
    st.caption(f"{rep.skipped} noise draw(s) hit the centre word and were skipped, as in word2vec.c.")

scored = set(rep.rows.tolist())
exact = set(rep.changed_out.tolist()) == scored and set(rep.changed_in.tolist()) <= {rep.context}
in_names = ", ".join(words[i] for i in rep.changed_in) or "none"
out_names = ", ".join((words[i] if loss == "NS" else f"node {i}") for i in rep.changed_out)
st.markdown(f"**Rows whose values changed** (found by comparing every row with a copy): W_in: {in_names}; "
            f"W_out: {out_names}. " + ("Exactly the rows this example scored; every other row is bit-identical."
                                       if exact else "Note: this differs from the rows scored."))
if len(rep.changed_in) == 0:
    st.caption("W_in did not move: its gradient is sum_j g_j W_out[row_j], and those W_out rows are still zero "
               "(word2vec.c initialises W_out to zeros). They stop being zero after this update.")

labels = [f"W_in[{words[i]}]" for i in rep.changed_in]
labels += [f"W_out[{words[i]}]" if loss == "NS" else f"W_out[node {i}]" for i in rep.changed_out]
before = np.vstack([rep.in_before, rep.out_before]) if labels else np.zeros((0, dim))
after = np.vstack([rep.in_after, rep.out_after]) if labels else np.zeros((0, dim))
if labels:
    show_figure(plots.step_heatmap_figure(before, after, labels))

hist = np.array(state["history"])
if len(hist) > 1:
    st.caption("loss of each example before and after its own update (they differ: each example has its own "
               "words; what falls is the after-value relative to the before-value)")
    st.line_chart(pd.DataFrame(hist, columns=["before", "after"]), height=180)

with teach():
    st.markdown(
        "**What to notice**\n"
        "- Only the rows in the table move: one row of W_in and k + 1 rows of W_out (or the path's inner "
        "nodes for HS). This sparsity is what makes word2vec fast.\n"
        "- The centre word's g is positive (pull its output vector toward h), the negatives' g are negative "
        "(push away); a sigmoid already near its label gives a tiny g.\n"
        "- The loss after the update is always a little lower than before for a small alpha; raise alpha to "
        "see bigger steps, and too large a one can overshoot.\n"
        "- W_in's change is a mix of the old W_out rows, so at the very start (W_out = 0) only W_out learns."
    )
    st.markdown("**What this view simplifies, and where implementations differ**")
    st.markdown(
        "- **Window and subsampling.** The trainer draws each position's window in 1..window and drops "
        "frequent words at random; here every pair within the full window is visited in order, and no word "
        "is dropped, so you can follow the text.\n"
        "- **Direction.** word2vec.c and gensim feed the context word and predict the centre word for "
        "skip-gram (the paper describes the centre predicting the context; the pairs are the same).\n"
        "- **Saturation.** The gradient uses sigma of z clipped to [-6, 6] (fastText); word2vec.c skips HS "
        "updates outside that range and clips NS ones; gensim skips.\n"
        "- **Order of updates.** All dot products are taken before any W_out row changes, so a negative drawn "
        "twice sees the same old row both times (word2vec.c would see the once-updated row)."
    )
