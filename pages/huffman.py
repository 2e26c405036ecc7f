"""Huffman tree page: the binary tree of hierarchical softmax, a word's path and code, code length
against frequency, and (with a run trained with loss=hs) the product of sigmoids along a path
and the check that p(w | input) sums to 1 over the vocabulary.

Works from corpus counts alone; the path probabilities need an HS run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.huffman import build_huffman, word_path, word_probabilities
from ui import links
from ui.session import current_run
from ui.widgets import internals_note, kept, need, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame


def first_known(candidates: list[str], words: list[str], index: dict[str, int], fallback: int) -> str:
    for w in candidates:
        if w in index:
            return w
    return words[min(fallback, len(words) - 1)]


st.title("Hierarchical softmax: the Huffman tree")
st.caption("Paper section 2.1: the V output words are the leaves of a binary tree; predicting a word "
           "means making the right left/right decision at each of the ~log2 V inner nodes on its path.")

internals_note("a Huffman tree or path probabilities")
run = current_run()
if run is not None and run.trainer is None:
    run = None
loaded = need("corpus", "build its Huffman tree") if run is None else None  # a run has its corpus

vocab = run.trainer.vocab if run is not None else loaded.corpus.vocab
words, counts, index = vocab.words, vocab.counts, vocab.index
if len(vocab) < 2:
    st.info("The vocabulary has fewer than two words; a tree needs at least two leaves.")
    st.stop()
hs_run = run if run is not None and run.trainer.huffman is not None else None
tree = hs_run.trainer.huffman if hs_run is not None else build_huffman(counts)

st.latex(r"p(w \mid w_I) = \prod_{j=1}^{L(w)-1} \sigma\!\left( [\![ n(w, j+1) = \mathrm{ch}(n(w, j)) ]\!] "
         r"\cdot {v'_{n(w,j)}}^{\top} v_{w_I} \right) \quad \text{(paper, eq. 3)}")

c1, c2 = st.columns([1, 2])
if len(vocab) > 3:
    n_top = kept(c1.slider, "words in the drawn tree", "hs_top", min(40, len(vocab)), min_value=3,
                 max_value=min(150, len(vocab)))
else:  # a slider needs min < max
    n_top = len(vocab)
word = kept(c2.text_input, "find a word", "hs_word", words[min(len(words) - 1, 17)]).strip()
w_id = index.get(word) if word else None
if word and w_id is None:
    st.warning(f"'{word}' is not in the vocabulary.")

show_figure(plots.huffman_tree_figure(words[:n_top], counts[:n_top],
                               highlight=w_id if w_id is not None and w_id < n_top else None))
st.caption(f"This is the tree of just the top {n_top} words' counts (built with the same two-cursor "
           f"algorithm); the model's tree over all {len(vocab):,} words has {len(vocab) - 1:,} inner nodes.")

if w_id is not None:
    length = int(tree.lengths[w_id])
    code = "".join(str(int(b)) for b in tree.codes[w_id, :length])
    st.markdown(f"In the full tree, **{word}** (count {int(counts[w_id]):,}) has code `{code}`: "
                f"{length} decisions, i.e. {length} rows of W_out touched per example with this target "
                f"(a full softmax touches all {len(vocab):,}).")
    if w_id >= n_top:
        st.caption(f"'{word}' is not among the top {n_top} words, so it is not highlighted in the drawing.")

show_figure(plots.code_length_figure(words, counts, tree.lengths, w_id))
mean_len = float((tree.lengths * counts).sum() / counts.sum())
st.caption(f"Average code length per token: {mean_len:.2f} decisions (log2 V = {np.log2(len(vocab)):.2f}).")

# -- the path probability with trained vectors ---------------------------------------------------
st.subheader("p(word | input word) as a product of sigmoids")
if hs_run is None:
    st.info("Train a run with loss = hs (hierarchical softmax) to see these probabilities with trained vectors.")
else:
    tr = hs_run.trainer
    default_in = first_known(["king", "man", "france"], words, index, 1)
    c1, c2 = st.columns(2)
    src = kept(c1.text_input, "input word w_I (its vector v_{w_I} = W_in row)", "hs_input", default_in).strip()
    default_out = first_known(["queen", "woman", "paris"], words, index, 2)
    tgt = kept(c2.text_input, "output word w", "hs_target", default_out).strip()
    unknown = [w for w in (src, tgt) if w not in index]
    if unknown:
        st.warning(f"'{unknown[0]}' is not in the vocabulary.")
    else:
        h = tr.W_in[index[src]]
        steps = word_path(tree, index[tgt], tr.W_out, h)
        show_figure(plots.path_figure(steps, tgt))
        st.dataframe(pd.DataFrame(steps).rename(columns={"z": "z = v'_n . v_in", "p": "p(branch)"}),
                     hide_index=True)
        probs = word_probabilities(tree, tr.W_out, h)
        c1, c2 = st.columns(2)
        c1.metric(f"sum over all {len(vocab):,} words of p(w | {src})", f"{probs.sum():.6f}")
        c2.metric(f"p({tgt} | {src})", f"{probs[index[tgt]]:.4g}")
        best = np.argsort(-probs)[:10]
        st.dataframe(pd.DataFrame({"word": [words[i] for i in best], f"p(w | {src})": probs[best]}),
                     hide_index=True)

with teach():
    st.markdown(
        "**What to notice**\n"
        "- Frequent words sit near the root (short codes); the markers follow the -log2 f(w) line, the "
        "length of an ideal code, so the average path is short: fewer W_out rows per example.\n"
        "- A word's code is the list of left (0) / right (1) turns; each inner node on the path has its own "
        "vector in W_out (V - 1 of them), not each word.\n"
        "- The branch probabilities multiply: one bad decision near the root caps the whole word's probability.\n"
        "- The probabilities of all leaves sum to exactly 1 without ever computing a normaliser: at every node "
        "the two branches share sigma(x) + sigma(-x) = 1."
    )
    st.markdown("**Where word2vec.c, gensim and the paper differ**")
    st.markdown(
        "- **Which branch is 'positive'.** The paper's [[n(w, j+1) = ch(n(w, j))]] is +1 for an arbitrary "
        "fixed child. word2vec.c uses the label 1 - code: code 0 pushes sigma(z) up. gensim and this "
        "trainer do the same, so codes and trees match word2vec.c's `CreateBinaryTree` node for node.\n"
        "- **Saturation.** word2vec.c skips the update at a node when |z| >= 6; gensim skips too. This "
        "trainer clips z to [-6, 6] instead (fastText), so every node on the path is updated.\n"
        "- **The tree.** The paper cites Mnih and Hinton's trees and reports Huffman trees as fast and good; "
        "word2vec.c builds the Huffman tree with two cursors over the sorted counts (no heap), as here.\n"
        "- **Which to use.** The original word2vec project page advises hierarchical softmax for infrequent "
        "words and negative sampling for frequent words and low-dimensional vectors; in the paper's "
        "Table 1, NEG beats HS on the analogy task, and HS gains most from subsampling."
    )
