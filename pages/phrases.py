"""Phrases page: word2phrase on the current corpus's text (delta, threshold, passes), the top
phrases with their scores, sentences before and after, and a button that makes the phrased text
the session's corpus so the Train page trains on it.

Works from a corpus alone (no run needed). Small corpora are processed at once (cached); large
ones on a button press.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core import plots
from core.corpus import CorpusError, iter_sentences, read_corpus
from core.phrases import PhraseConfig, PhraseError, detect_phrases
from ui import links
from ui.corpora import (
    LoadedCorpus,
    load_file,  # cached read, content digest: what Home uses
)
from ui.session import set_corpus
from ui.widgets import kept, need, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

AUTO_TOKENS = 3_000_000  # corpora up to this size are processed without a button press
SAMPLE_SENTENCES = 5_000  # sentences scanned for the before/after examples


def text_source(loaded: LoadedCorpus) -> tuple[str | io.StringIO, str, bool]:
    """(source for detect_phrases, cache key, is_raw_text). A file when the corpus has one; else the
    encoded corpus written back as text (out-of-vocabulary words are then already gone)."""
    path = getattr(loaded, "path", None)
    if path and Path(path).is_file() and not getattr(loaded, "head_words", None):
        return str(path), f"file:{path}:{getattr(loaded, 'digest', '') or Path(path).stat().st_mtime}", True
    c = loaded.corpus
    text = "\n".join(" ".join(c.sentence(s)) for s in range(c.n_sentences))
    return io.StringIO(text), f"text:{loaded.source}:{len(c)}:{hashlib.sha256(text.encode()).hexdigest()[:16]}", False


@st.cache_data(show_spinner=False, max_entries=8)
def detect(key: str, thresholds: tuple[float, ...], delta: float, min_count: int, _source):
    """Run phrase detection once per (source, parameters); returns (model, rewritten file path)."""
    digest = hashlib.sha256(repr((key, thresholds, delta, min_count)).encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"w2v-phrased-{digest}.txt"
    if isinstance(_source, io.StringIO):
        _source.seek(0)
    cfg = PhraseConfig(thresholds=thresholds, delta=delta, min_count=min_count)
    return detect_phrases(_source, out, cfg), str(out)


st.title("Phrases")
st.caption("Paper section 4: find word pairs that occur together far more often than chance "
           "('new york', 'air canada') and make each one token, so it gets its own vector.")

loaded = need("corpus", "detect its phrases")

st.latex(r"\mathrm{score}(w_i, w_j) = \frac{\mathrm{count}(w_i w_j) - \delta}"
         r"{\mathrm{count}(w_i) \times \mathrm{count}(w_j)} \quad \text{(paper, eq. 6)}")
st.caption("word2phrase multiplies the score by the corpus size N, so the threshold compares observed with "
           "chance co-occurrence: N count(ab) / (count(a) count(b)) = P(ab) / (P(a) P(b)).")

c = st.columns(4)
delta = kept(c[0].number_input, "delta (discount)", "ph_delta", 5.0, min_value=0.0, max_value=1000.0, step=1.0)
threshold = kept(c[1].number_input, "threshold (pass 1)", "ph_threshold", 200.0, min_value=0.0, step=10.0,
                 help="later passes use half the previous pass's threshold (word2vec.c's demo: 200, then 100)")
passes = kept(c[2].slider, "passes", "ph_passes", 2, min_value=1, max_value=4)
min_count = kept(c[3].number_input, "min count", "ph_min_count", 5, min_value=1, max_value=1000)
thresholds = tuple(float(threshold) / 2**i for i in range(int(passes)))
st.caption("thresholds per pass: " + ", ".join(f"{t:g}" for t in thresholds))

source, key, raw = text_source(loaded)
big = len(loaded.corpus) > AUTO_TOKENS
if big and not st.button(f"Detect phrases in {len(loaded.corpus):,} tokens"):
    st.info("This corpus is large; press the button to run phrase detection (it streams the file).")
    st.stop()
try:
    with st.spinner("counting unigrams and bigrams..."):
        model, out_path = detect(key, thresholds, float(delta), int(min_count), source)
except PhraseError as e:
    st.warning(str(e))
    st.stop()
if not raw:
    st.caption("This corpus has no file to re-read, so phrases are detected on its encoded text "
               "(words below the corpus min_count are already gone).")

table = model.table()
st.subheader(f"{len(table):,} phrases found")
top = sorted(table, key=lambda p: -p.score)[:30]
show_figure(plots.phrase_figure([p.phrase for p in top], [p.score for p in top], [p.pass_no for p in top], thresholds))
st.dataframe(pd.DataFrame([(p.phrase, p.count, p.score, p.pass_no) for p in table],
                          columns=["phrase", "count", "score", "pass"]), hide_index=True)
st.dataframe(pd.DataFrame([(s.pass_no, s.threshold, s.tokens_in, s.tokens_out, s.eligible, s.phrase_types,
                            s.merges) for s in model.passes],
                          columns=["pass", "threshold", "tokens in", "tokens out", "eligible bigrams",
                                   "phrases", "merges"]), hide_index=True)

st.subheader("Before and after")
if isinstance(source, io.StringIO):
    source.seek(0)
examples = []
for sent in itertools.islice(iter_sentences(source), SAMPLE_SENTENCES):
    after = model.apply(sent)
    if len(after) != len(sent):
        examples.append((" ".join(sent), " ".join(f"**{t}**" if t not in sent else t for t in after)))
        if len(examples) == 8:
            break
if examples:
    for before, after in examples:
        st.markdown(f"- {before}\n\n  &rarr; {after}")
else:
    st.caption(f"None of the first {SAMPLE_SENTENCES:,} sentences contains a detected phrase.")

if st.button("Use the phrased corpus for training", type="primary"):
    try:
        with st.spinner("reading the phrased text..."):
            if not Path(out_path).is_file():
                detect.clear()
                model, out_path = detect(key, thresholds, float(delta), int(min_count), source)
            # the same vocabulary cut as the corpus it came from; when unknown, its smallest count
            # keeps exactly the words it kept
            base_min = getattr(loaded, "min_count", None) or int(loaded.corpus.vocab.counts.min())
            name, source = f"{loaded.name} + phrases", f"phrases:{loaded.source}"
            if load_file is not None:
                new = load_file(out_path, name, source, int(base_min))
            else:
                new = LoadedCorpus(name, read_corpus(out_path, min_count=int(base_min)), source)
        set_corpus(new)
        st.success(f"The current corpus is now '{new.name}' ({len(new.corpus):,} tokens, "
                   f"{len(new.corpus.vocab):,} words, phrases included). Open the Train page to train on it.")
    except CorpusError as e:
        st.warning(str(e))

with teach():
    st.markdown(
        "**What to notice**\n"
        "- The top phrases are names and fixed expressions whose parts rarely occur apart; frequent pairs of "
        "frequent words ('of the') score low because the denominator grows with both counts.\n"
        "- delta keeps rare pairs out: two words seen together once or twice would otherwise score highest.\n"
        "- A second pass with a lower threshold joins phrases with a further word, so longer phrases form "
        "(new_york then new_york_times).\n"
        "- Training on the phrased corpus gives each phrase its own vector, so analogies between phrases "
        "(the paper's Table 2: 'New York' : 'New York Times' :: 'Baltimore' : 'Baltimore Sun') become possible."
    )
    st.markdown("**Where word2phrase, gensim and the paper differ**")
    st.markdown(
        "- **Scaling.** The paper's score has no N; word2phrase.c multiplies by the corpus word count "
        "(`train_words`); gensim's default scorer multiplies by its dictionary size (unigram and bigram "
        "types), so its thresholds are not interchangeable with word2phrase's.\n"
        "- **delta.** word2phrase.c uses its -min-count as the discount; here delta and min count are separate.\n"
        "- **Sentences.** word2phrase.c can pair the last word of a line with the first of the next while "
        "counting; this implementation never pairs across sentences.\n"
        "- **gensim's NPMI scorer** (normalised PMI in [-1, 1]) is available in core.phrases as "
        "scoring='npmi'; this page shows the paper's score."
    )
