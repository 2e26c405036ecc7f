"""Objectives [/objectives]: full softmax vs hierarchical softmax vs negative sampling vs NCE.

Does: show the output rows each objective touches per example (V vs ~log2 V vs k + 1, from the
corpus's own counts and Huffman tree), run the objectives race (the four losses one after
another on the same words) and compare its time per epoch and loss curves live, and apply one
real update to copies of W_in / W_out to show which rows it changed.
Does not: train on the page's thread or compute anything not also computed in tests
(ui/objectives.py, ui/figures.py).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.config import LOSS_LABELS, ConfigError, Loss
from core.corpus import CorpusError
from ui import figures, links, objectives, params, presets, session, widgets

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

st.title("Objectives: what each output layer costs")
st.markdown("The paper's point in one page: the full softmax (eq. 2) must score every word of the vocabulary for "
            "every example; hierarchical softmax scores about log2 V inner nodes, negative sampling k + 1 words.")

widgets.internals_note("output layers or training losses")
loaded = session.current_corpus()
run = session.current_run()

# -- 1. rows touched ------------------------------------------------------------------------------------
st.subheader("1. Output rows touched per example")
if run is not None and run.trainer is not None:
    vocab = run.trainer.vocab
else:
    vocab = loaded.corpus.vocab if loaded else None
if vocab is None:
    widgets.need("corpus", "see the rows each objective touches", stop=False)
elif len(vocab) < 2:
    st.info("The vocabulary has fewer than 2 words: load a larger corpus on Home.")
else:
    k = int(run.trainer.config.negative) if (run is not None and run.trainer is not None) else \
        int(session.train_params()["negative"])
    weights = run.epochs[-1].kept if (run is not None and run.epochs) else None
    rt = objectives.rows_touched(vocab.counts, negative=max(k, 1), target_weights=weights)
    c1, c2 = st.columns([3, 2], gap="large")
    with c1:
        widgets.show_figure(figures.rows_touched_figure(rt), height=420, key="obj_rows")
    with c2:
        st.dataframe(pd.DataFrame({
            "objective": [LOSS_LABELS[loss] for loss in rt.by_loss()],
            "rows": [f"{rt.softmax:,.0f}", f"{rt.hs:.2f}", f"{rt.ns:.0f}", f"{rt.nce:.0f}"],
            "rule": ["V", f"Huffman path ({rt.hs_min}-{rt.hs_max})", "k + 1", "k + 1"],
        }), hide_index=True, key="obj_rows_table")
        st.caption(f"V = {rt.vocab:,}, log2 V = {rt.log2_v:.1f}, k = {max(k, 1)}. The Huffman code length is "
                   "averaged over target words weighted by how often they are targets"
                   + (" (after subsampling, from the run's last epoch)." if weights is not None else
                      " (their corpus counts)."))

# -- 2. the race -------------------------------------------------------------------------------------------
st.subheader("2. The race: same words, four objectives")
running = bool(session.running_runs())
r1, r2 = st.columns([1, 3], vertical_alignment="center")
if r1.button("Run the objectives race", icon=":material/sports_score:", key="obj_race", disabled=running):
    try:
        with st.spinner("Loading 40,000 words of the small-world corpus…"):
            presets.launch("race")
    except (CorpusError, ConfigError) as e:
        st.error(f"Race not started: {e}")
    else:
        st.rerun()
r2.caption(presets.PRESETS["race"].blurb + " Or tick *Race all four objectives* on Train to race your own "
           "parameters.")


def race_panel() -> None:
    selected = session.current_run()
    if selected is None:
        st.info("No runs yet: press **Run the objectives race**.", icon=":material/sports_score:")
        return
    # compare like with like: only the runs on the selected run's corpus
    same = [r for r in session.runs() if r.corpus_name == selected.corpus_name]
    hidden = len(session.runs()) - len(same)
    rows, times, series = [], [], []
    for r in same:
        cfg = r.trainer.config if r.trainer is not None else r.config
        loss = Loss(cfg.loss)
        # subtle: the fastest epoch, not the mean: a short epoch is easily slowed by the page redrawing
        best = min((e.seconds for e in r.epochs), default=math.nan)
        _, text = widgets.progress_text(r)
        rows.append({"run": f"#{r.id}", "objective": LOSS_LABELS[loss], "status": text,
                     "s / epoch (fastest)": None if math.isnan(best) else round(best, 3),
                     "words / s": round(r.result.words_per_sec) if r.result is not None else None,
                     "last epoch loss": round(r.epochs[-1].loss, 4) if r.epochs else None})
        if r.epochs:
            times.append((f"#{r.id} {LOSS_LABELS[loss]}", loss, best))
        series.append(figures.loss_series(r))
    st.caption(f"Runs on **{selected.corpus_name}** (the corpus of the run selected in the sidebar)"
               + (f"; {hidden} run(s) on other corpora are not shown." if hidden else "."))
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="obj_race_table")
    g1, g2 = st.columns(2, gap="medium")
    with g1:
        widgets.show_figure(figures.epoch_time_figure(times, title="Seconds per epoch (fastest epoch, log scale)"),
                            height=420, key="obj_times")
    with g2:
        widgets.show_figure(figures.loss_figure(None, series, title="Loss per example (scales differ by objective)"),
                            height=420, key="obj_losses")


widgets.live(race_panel, every=2.0)  # light polling: the race measures speed

# -- 3. one update -------------------------------------------------------------------------------------------
st.subheader("3. One update changes only the rows of the words involved")
if vocab is None:
    widgets.need("corpus", "try one update", stop=False)
elif len(vocab) >= 2:
    words = vocab.words
    index = {w: i for i, w in enumerate(words)}
    for key, fallback in (("obj_centre", "king" if "king" in index else words[min(10, len(words) - 1)]),
                          ("obj_context", "queen" if "queen" in index else words[min(20, len(words) - 1)])):
        if widgets.kept_value(key) not in index:
            widgets.set_kept(key, fallback)
    u1, u2, u3 = st.columns([1, 1, 1.6])
    centre = widgets.kept(u1.selectbox, "Centre word (the target)", "obj_centre", options=words)
    context = widgets.kept(u2.selectbox, "Context word (the input row)", "obj_context", options=words)
    loss_key = widgets.kept(u3.segmented_control, "Objective", "obj_loss", "ns", options=list(params.LOSSES),
                            format_func=params.LOSS_SHORT.get, required=True,
                            help="NS: negative sampling; HS: hierarchical softmax; softmax: the full softmax; "
                                 "NCE: noise-contrastive estimation.")
    loss = params.LOSSES[loss_key]
    use_run = (run is not None and run.trainer is not None and Loss(run.trainer.config.loss) == loss)
    if use_run:
        W_in, W_out = run.trainer.W_in, run.trainer.W_out
        alpha = float(run.trainer.config.alpha)
        origin = f"the matrices of run #{run.id} ({'training now' if run.running else 'trained'})"
    else:
        W_in, W_out = objectives.demo_matrices(len(words), 32, loss)
        alpha = 0.025
        origin = ("small random matrices (no run with this objective is selected; word2vec.c would start W_out "
                  "at zero, which leaves W_in unchanged in the first update)")
    k = int(session.train_params()["negative"]) or 5
    try:
        moved = objectives.rows_moved(vocab.counts, W_in, W_out, loss, index[centre], index[context],
                                      negative=k, alpha=alpha)
    except ValueError as e:
        st.error(f"Could not apply the update: {e}")
    else:
        m = st.columns(4)
        m[0].metric("W_in rows changed", f"{len(moved.changed_in):,} of {len(words):,}")
        m[1].metric("W_out rows changed", f"{len(moved.changed_out):,} of {moved.delta_out.shape[0]:,}")
        m[2].metric("Loss of this example before", f"{moved.loss_before:.4f}")
        m[3].metric("after", f"{moved.loss_after:.4f}", delta=f"{moved.loss_after - moved.loss_before:+.2e}",
                    delta_color="inverse")
        widgets.show_figure(figures.rows_moved_figure(moved, words), height=430, key="obj_moved")
        st.caption(f"Applied to copies of {origin}; every cell is one row, the most frequent word top-left. "
                   "Skip-gram: the input row is the context word, the target the centre word (word2vec.c).")

with widgets.teach():
    st.markdown("**Full softmax** (paper eq. 2): the probability of a context word needs a sum over the whole "
                "vocabulary, so every example touches all V output rows:")
    st.latex(r"p(w_O \mid w_I) = \frac{\exp\left({v'_{w_O}}^{\top} v_{w_I}\right)}"
             r"{\sum_{w=1}^{W} \exp\left({v'_{w}}^{\top} v_{w_I}\right)}")
    st.markdown("**Hierarchical softmax** (eq. 3): a product of sigmoids along the word's Huffman path, "
                "about log2 V inner nodes:")
    st.latex(r"p(w \mid w_I) = \prod_{j=1}^{L(w)-1} \sigma\left( [\![ n(w,j{+}1) = \mathrm{ch}(n(w,j)) ]\!] "
             r"\cdot {v'_{n(w,j)}}^{\top} v_{w_I} \right)")
    st.markdown("**Negative sampling** (eq. 4): tell the true word from k noise words drawn from Pn(w):")
    st.latex(r"\log \sigma\left({v'_{w_O}}^{\top} v_{w_I}\right) + \sum_{i=1}^{k} "
             r"\mathbb{E}_{w_i \sim P_n(w)} \left[ \log \sigma\left(-{v'_{w_i}}^{\top} v_{w_I}\right) \right]")
    st.markdown(
        "**What to notice**\n"
        "- In the race, full softmax takes hundreds of times longer per epoch: its cost grows with V.\n"
        "- Hierarchical softmax touches ~log2 V rows, fewer for frequent words (short Huffman codes).\n"
        "- One update with NS changes one W_in row and k + 1 W_out rows; with the full softmax every W_out row "
        "moves a little.\n"
        "- NCE and NS touch the same rows; NCE's logits are shifted by log(k Pn(w)), so it estimates real "
        "probabilities while NS only learns good vectors.")
    st.markdown(
        "**word2vec.c, gensim and the paper**\n"
        "- Neither word2vec.c nor gensim implements the full softmax or NCE: they exist here for comparison.\n"
        "- word2vec.c and gensim can combine HS and NS in one run (-hs 1 -negative 5); here one objective is "
        "chosen per run.")
