"""Negative sampling page: the noise distribution Pn(w) = U(w)^p / Z, how p reshapes it, what a
run actually drew, and one training example with its k negatives drawn by the kernels' sampler.

Works from corpus counts alone; a run adds the observed draws and the example's sigmoids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.config import Loss
from core.tables import build_tables
from core.train.step import draw_negatives, logistic_terms
from ui import links
from ui.session import current_run
from ui.widgets import internals_note, kept, need, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

st.title("Negative sampling")
st.caption("Paper section 2.2: instead of a softmax over all V words, each example contrasts the true "
           "word with k noise words drawn from Pn(w).")

internals_note("observed negative draws")
run = current_run()
if run is not None and run.trainer is None:
    run = None
loaded = need("corpus", "see its noise distribution") if run is None else None  # a run has its corpus

corpus = run.trainer.corpus if run is not None else loaded.corpus
vocab = corpus.vocab
counts = vocab.counts
cfg = run.trainer.config if run is not None else None

st.latex(r"\log \sigma\!\left({v'_{w_O}}^{\top} v_{w_I}\right) + \sum_{i=1}^{k} "
         r"\mathbb{E}_{w_i \sim P_n(w)} \left[ \log \sigma\!\left(-{v'_{w_i}}^{\top} v_{w_I}\right) \right]"
         r"\qquad P_n(w) = \frac{U(w)^{3/4}}{Z}")

c1, c2 = st.columns(2)
p = kept(c1.slider, "exponent p in U(w)^p", "ns_p", float(cfg.ns_exponent) if cfg else 0.75,
         min_value=0.0, max_value=1.0, step=0.05, help="0: uniform, 0.75: the paper's choice, 1: unigram")
top = kept(c2.slider, "top words shown", "ns_top", 20, min_value=5, max_value=60, step=5)

observed = None
if run is not None and run.epochs and cfg.loss in (Loss.NS, Loss.NCE):
    observed = run.epochs[-1].negatives
show_figure(plots.noise_figure(vocab.words, counts, p, observed, top))
if observed is not None:
    st.caption(f"observed: the {int(observed.sum()):,} noise draws of the run's last epoch "
               f"(epoch {run.epochs[-1].epoch + 1}), made with p = {cfg.ns_exponent:g}, whatever the slider says.")
elif run is not None and cfg.loss not in (Loss.NS, Loss.NCE):
    st.caption(f"This run uses {cfg.loss.name}, which draws no noise words; train with loss ns to see the "
               "observed draws.")
elif run is not None:
    st.caption("The observed draws appear after the run's first epoch.")

show_figure(plots.exponent_figure(counts, current=p))

# -- one training example -----------------------------------------------------------------------
st.subheader("One training example and its k negatives")
c1, c2 = st.columns([3, 1])
k = kept(c1.slider, "k (negatives per example)", "ns_k", int(cfg.negative) if cfg and cfg.negative else 5,
         min_value=1, max_value=20)
if c2.button("Draw another example"):
    st.session_state["ns_seed"] = st.session_state.get("ns_seed", 0) + 1
seed = st.session_state.get("ns_seed", 0)

rng = np.random.default_rng(seed)
lengths = np.diff(corpus.offsets)
sentences = np.flatnonzero(lengths >= 2)
if sentences.size == 0:
    st.info("The corpus has no sentence of two or more words, so there is no training pair to show.")
else:
    s = int(rng.choice(sentences))
    lo, hi = int(corpus.offsets[s]), int(corpus.offsets[s + 1])
    i = int(rng.integers(lo, hi))
    window = int(cfg.window) if cfg else 5
    ctx = [j for j in range(max(lo, i - window), min(hi, i + window + 1)) if j != i]
    j = int(rng.choice(ctx))
    centre, context = int(corpus.tokens[i]), int(corpus.tokens[j])
    words = vocab.words
    shown = [f"**:red[{words[t]}]**" if q == i else (f"**:blue[{words[t]}]**" if q == j else words[t])
             for q, t in zip(range(lo, hi), corpus.tokens[lo:hi].tolist(), strict=True)]
    st.markdown(" ".join(shown[:60]) + (" ..." if hi - lo > 60 else ""))
    st.caption(f"centre word (the target, red): **{words[centre]}**; context word (the input, blue): "
               f"**{words[context]}**. word2vec.c and gensim feed the context word's vector W_in[context] "
               "and predict the centre word.")

    # the trainer's own tables for this p and k (with a run's p and k: exactly the run's)
    tables = build_tables(counts, cfg, loss=Loss.NS, ns_exponent=p, negative=k)
    pn = tables.noise_probs
    negs, skipped, _ = draw_negatives(tables.kernel, centre, k, rng=seed * 7919 + 1)
    rows = np.concatenate([[centre], negs]).astype(np.int64)
    table = pd.DataFrame({
        "role": ["positive (centre word)"] + ["negative"] * len(negs),
        "word": [words[r] for r in rows],
        "count": counts[rows],
        "Pn(w)": pn[rows],
    })
    if run is not None and cfg.loss in (Loss.NS, Loss.NCE) and run.trainer.W_out.shape[0] == len(vocab):
        labels = np.array([1.0] + [0.0] * len(negs), np.float32)
        zs, sig, loss = logistic_terms(run.trainer.W_in[context], run.trainer.W_out, rows, labels,
                                       np.zeros(len(rows), np.float32))
        table["z = v'_w . v_in"] = zs
        table["sigma(+-z)"] = np.where(labels > 0, sig, 1.0 - sig)
        table["loss term -log sigma(+-z)"] = -np.log(np.where(labels > 0, sig, 1.0 - sig))
        st.caption(f"With the run's trained vectors this example's NEG loss is {loss:.3f} "
                   "(the sum of the last column).")
    st.dataframe(table, hide_index=True)
    if skipped:
        st.caption(f"{skipped} of the {k} draws hit the centre word itself and were skipped, as word2vec.c does.")

with teach():
    st.markdown(
        "**What to notice**\n"
        "- In the left panel the orange bars (p = 0.75) sit below the blue ones for the top words and above "
        "them for the tail bar: the 3/4 power takes probability from frequent words and gives it to rare ones.\n"
        "- Move p: at 0 every word is equally likely (a flat line on the right), at 1 the noise is the unigram "
        "distribution; the paper found 3/4 better than both.\n"
        "- After training, the green observed shares follow the orange curve: the sampler draws from "
        "exactly Pn(w).\n"
        "- In the example, frequent words such as function words are drawn as negatives again and again; "
        "each draw costs one row update, k + 1 rows per example instead of V."
    )
    st.markdown("**Where word2vec.c, gensim and the paper differ**")
    st.markdown(
        "- **Sampler.** word2vec.c fills a table of 10^8 word ids in proportion to count^0.75 and picks a "
        "random slot; gensim binary-searches a cumulative table. We use an alias table (Walker/Vose): one "
        "random number, at most two reads, exact up to float32 rounding.\n"
        "- **A noise word equal to the target** is skipped in word2vec.c and gensim (and here), so an "
        "example occasionally has fewer than k negatives.\n"
        "- **Exponent.** The paper fixes 3/4; gensim exposes it as `ns_exponent` (default 0.75); "
        "word2vec.c hard-codes `power = 0.75`.\n"
        "- **k.** The paper recommends 5-20 for small data and 2-5 for large data; word2vec.c's default is 5.\n"
        "- **NEG vs NCE.** NCE (section 2.2) also needs log(k Pn(w)) inside the sigmoid to approximate the "
        "softmax; NEG drops it because it only wants good vectors, not normalised probabilities.\n"
        "- **Saturation.** word2vec.c clips the logit at ±6 for negative sampling; this trainer clips for "
        "every loss (fastText's choice), so no update is skipped."
    )
