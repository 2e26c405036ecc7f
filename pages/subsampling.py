"""Subsampling page: the probability of dropping an occurrence of a frequent word, for the paper's
formula and word2vec.c's, against what a run actually dropped, and what it does to corpus size.

Works from corpus counts alone; a run adds the observed per-word drop rates of its last epoch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.config import SubsampleFormula
from core.tables import build_tables
from ui import links
from ui.session import current_run
from ui.widgets import internals_note, kept, need, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

T_CHOICES = [0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]

st.title("Subsampling of frequent words")
st.caption("Paper section 2.3: each occurrence of a word w is discarded with a probability that grows "
           "with its frequency f(w), so 'the' and 'of' stop dominating the training pairs.")

internals_note("observed drop rates")
run = current_run()
if run is not None and run.trainer is None:
    run = None
loaded = need("corpus", "see which words subsampling drops") if run is None else None  # a run has its corpus

vocab = run.trainer.vocab if run is not None else loaded.corpus.vocab
cfg = run.trainer.config if run is not None else None
counts = vocab.counts.astype(np.float64)
total = counts.sum()
f = counts / total

st.latex(r"P_{\mathrm{drop}}(w_i) = 1 - \sqrt{\frac{t}{f(w_i)}} \quad \text{(paper, eq. 5)} \qquad\qquad "
         r"P_{\mathrm{keep}}(w_i) = \sqrt{\frac{t}{f(w_i)}} + \frac{t}{f(w_i)} \quad \text{(word2vec.c, gensim)}")

default_t = float(cfg.sample) if cfg is not None else 1e-3
if default_t not in T_CHOICES:
    default_t = min(T_CHOICES, key=lambda x: abs(np.log10(max(x, 1e-9)) - np.log10(max(default_t, 1e-9))))
t = kept(st.select_slider, "threshold t", "sub_t", default_t, options=T_CHOICES,
         format_func=lambda x: "0 (off)" if x == 0 else f"{x:g}",
         help="the paper used 1e-5 on billions of words; word2vec.c and gensim default to 1e-3")

observed_drop = None
last = run.epochs[-1] if run is not None and run.epochs else None
if last is not None:
    seen = last.seen.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed_drop = np.where(seen > 0, 1.0 - last.kept / seen, np.nan)
show_figure(plots.subsampling_figure(vocab.words, counts, t, observed_drop, cfg.sample if cfg else None))
if last is not None:
    formula = "paper" if cfg.subsample_formula == SubsampleFormula.PAPER else "word2vec.c"
    st.caption(f"observed: 1 - kept/seen for every word in epoch {last.epoch + 1} of the run "
               f"(t = {cfg.sample:g}, {formula} formula); the points should lie on that curve.")
elif run is not None:
    st.caption("The run's observed drop rates appear after its first epoch.")

keep_paper = build_tables(vocab.counts, sample=t, subsample_formula=SubsampleFormula.PAPER).keep_prob
keep_c = build_tables(vocab.counts, sample=t, subsample_formula=SubsampleFormula.C).keep_prob
m = st.columns(4)
m[0].metric("corpus tokens (in vocabulary)", f"{int(total):,}")
m[1].metric("expected after, paper", f"{int((counts * keep_paper).sum()):,}",
            f"{(counts * keep_paper).sum() / total - 1:.0%}", delta_color="off")
m[2].metric("expected after, word2vec.c", f"{int((counts * keep_c).sum()):,}",
            f"{(counts * keep_c).sum() / total - 1:.0%}", delta_color="off")
if last is not None:
    m[3].metric(f"observed after (run, t={cfg.sample:g})", f"{int(last.kept.sum()):,}",
                f"{last.kept.sum() / max(1, last.seen.sum()) - 1:.0%}", delta_color="off")

st.subheader("The most dropped words")
n_show = min(25, len(vocab))
table = pd.DataFrame({
    "word": vocab.words[:n_show],
    "count": vocab.counts[:n_show],
    "f(w)": f[:n_show],
    "P_drop paper": 1.0 - keep_paper[:n_show],
    "P_drop word2vec.c": 1.0 - keep_c[:n_show],
})
if observed_drop is not None:
    table[f"observed drop (t={cfg.sample:g})"] = observed_drop[:n_show]
st.dataframe(table, hide_index=True)

with teach():
    st.markdown(
        "**What to notice**\n"
        "- Words rarer than t (left of the dashed line) are never dropped by either formula.\n"
        "- For the most frequent words both curves approach 1: with t = 1e-3 most occurrences of 'the' go, "
        "while a word seen a few times keeps every occurrence.\n"
        "- word2vec.c's curve (orange) lies below the paper's: adding t/f keeps more, and it only starts "
        "dropping at about f = 2.6 t instead of f = t.\n"
        "- The run's observed rates (green crosses) scatter around its curve for rare words and sit on it for "
        "frequent ones: each occurrence is a coin flip, redrawn every epoch."
    )
    st.markdown("**Where word2vec.c, gensim and the paper differ**")
    st.markdown(
        "- **Formula.** The paper's eq. 5 discards with 1 - sqrt(t/f). word2vec.c keeps with "
        "`(sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn`, i.e. sqrt(t/f) + t/f; "
        "gensim copies word2vec.c. The Train page lets you pick either (`subsample_formula`).\n"
        "- **Default t.** The paper reports t = 1e-5 on its 1-billion-word data; word2vec.c and gensim "
        "default to 1e-3, which suits corpora of millions of words.\n"
        "- **When.** word2vec.c and this trainer draw the coin for every occurrence as each epoch reads the "
        "text, so a word's kept occurrences change from epoch to epoch; gensim precomputes a per-word "
        "threshold and draws per occurrence too.\n"
        "- **Windows.** Dropped words are removed before windows are formed, so subsampling also widens the "
        "effective context of the words that remain."
    )
