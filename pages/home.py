"""Home [/]: what word2vec is, the corpus choice, its statistics, and a one-click demo.

Does: offer the sample corpora, an upload (.txt/.gz) and, when not hosted, a local path; show
tokens, vocabulary, sentences and the Zipf plot of the chosen corpus; start the Demo preset and
switch to Train; when not hosted, download text8 (core/download.py) with a progress bar.
Does not: train by itself (ui/presets.py) or read files itself (ui/corpora.py).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import download
from core.config import ConfigError
from core.corpus import CorpusError
from ui import corpora, figures, links, presets, session, widgets

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

TEXT8_DONE_KEY = "home_text8_downloaded"  # path of a download just finished, shown once after the rerun
kept = widgets.kept

st.title("word2vec explorer")
left, right = st.columns([3, 2], gap="large")
with left:
    st.markdown(
        "**word2vec** (Mikolov et al., 2013) learns a vector for every word from plain text.  \n"
        "It slides a window over the text and trains each word to predict its neighbours.  \n"
        "Words that appear in similar contexts end up with similar vectors.  \n"
        "Directions in the space carry meaning: *king − man + woman ≈ queen*.  \n"
        "Here you can train it live and look inside: sampling, the Huffman tree, the loss, the vectors."
    )
with right:
    st.markdown("**New here?** Train on the small-world sample and watch the loss fall.")
    if st.button("Train a small demo", type="primary", icon=":material/play_arrow:", key="home_demo"):
        try:
            with st.spinner("Loading the small-world corpus and starting…"):
                presets.launch("demo")
        except (CorpusError, ConfigError) as e:
            st.error(f"Could not start the demo: {e}")
        else:
            st.switch_page("pages/train.py")
    st.caption(presets.PRESETS["demo"].blurb)

st.subheader("1. Choose a corpus")
sources = ["Sample corpus", "Upload a file"] + ([] if corpora.hosted() else ["File on this computer"])
if widgets.kept_value("home_source", sources[0]) not in sources:
    widgets.set_kept("home_source", sources[0])
source = kept(st.segmented_control, "Source", "home_source", sources[0], options=sources, required=True,
              label_visibility="collapsed")

loaded_now = None
error = None
if source == "Sample corpus":
    samples = corpora.available_samples()
    if not samples:
        st.warning("The sample corpora are missing from sample_corpora/.")
    else:
        keys = [s.key for s in samples]
        if widgets.kept_value("home_sample", "small_world") not in keys:
            widgets.set_kept("home_sample", keys[0])
        c1, c2 = st.columns([2, 3])
        with c1:
            key = kept(st.selectbox, "Sample", "home_sample", "small_world", options=keys,
                       format_func=lambda k: corpora.SAMPLES[k].title)
        with c2:
            st.caption(corpora.SAMPLES[key].blurb + f" Uses min count {corpora.SAMPLES[key].min_count}.")
        if st.button("Load sample", key="home_load_sample", icon=":material/description:"):
            try:
                loaded_now = corpora.load_sample(key)
            except CorpusError as e:
                error = str(e)
elif source == "Upload a file":
    limit_mb = max(1, corpora.upload_limit_mb())  # the widget needs >= 1; the server check is in bytes
    up = st.file_uploader(f"A plain-text corpus (.txt, or gzipped .gz; UTF-8; up to {limit_mb} MB)",
                          type=["txt", "gz"], key="home_upload", max_upload_size=limit_mb)
    mc = kept(st.number_input, "Min count (words rarer than this are dropped)", "home_min_count", 5,
              min_value=1, max_value=10_000, step=1)
    if st.button("Use this file", key="home_load_upload", icon=":material/description:", disabled=up is None):
        try:
            loaded_now = corpora.load_uploaded(up, int(mc))  # checks the declared size before reading
        except (corpora.UploadError, CorpusError) as e:
            error = str(e)
else:
    path = kept(st.text_input, "Path of a .txt or .gz file on this computer", "home_path", "",
                placeholder="/data/text8")
    mc = kept(st.number_input, "Min count (words rarer than this are dropped)", "home_min_count", 5,
              min_value=1, max_value=10_000, step=1)
    if st.button("Read file", key="home_load_path", icon=":material/folder_open:"):
        try:
            loaded_now = corpora.load_path(path, int(mc))
        except CorpusError as e:
            error = str(e)

if error:
    st.error(error)
if loaded_now is not None:
    session.set_corpus(loaded_now)
    if loaded_now.min_count is not None:
        session.train_params()["min_count"] = loaded_now.min_count
    st.rerun()  # so the sidebar shows the new corpus

loaded = session.current_corpus()
st.subheader("2. Look at it")
if loaded is None:
    st.info("No corpus loaded yet: load a sample above, or press *Train a small demo*.", icon=":material/description:")
else:
    stats = corpora.corpus_stats(loaded.corpus)
    st.markdown(f"**{loaded.name}**")
    m = st.columns(4)
    m[0].metric("Words (tokens) kept", f"{stats['tokens']:,}",
                help="In-vocabulary tokens: what one training epoch reads.")
    m[1].metric("Vocabulary", f"{stats['vocabulary']:,}",
                help=f"Distinct words with count >= {loaded.min_count or 'the min count'}.")
    m[2].metric("Sentences", f"{stats['sentences']:,}", help="Lines (long lines are cut every 10,000 words).")
    m[3].metric("Dropped as rare", f"{stats['dropped_tokens']:,}",
                help=f"Tokens of words seen fewer than {loaded.min_count or 'min count'} times.")
    g1, g2 = st.columns([3, 2], gap="large")
    with g1:
        widgets.show_figure(figures.zipf_figure(loaded.corpus.vocab.counts), height=440, key="home_zipf")
    with g2:
        counts = loaded.corpus.vocab.counts
        total = max(1, int(counts.sum()))
        top = pd.DataFrame({"word": loaded.corpus.vocab.words[:15], "count": counts[:15],
                            "share": [f"{100 * c / total:.1f}%" for c in counts[:15]]})
        st.markdown("**Most frequent words**")
        st.dataframe(top, hide_index=True, height=440, key="home_top")
    with widgets.teach("What to notice"):
        st.markdown(
            f"- The 10 most frequent words are **{100 * stats['top_share']:.0f}%** of all tokens: that is why "
            "word2vec subsamples frequent words (see *Subsampling*).\n"
            "- On log-log axes the counts fall close to a straight line of slope about -1: Zipf's law. "
            "Most of the vocabulary is rare, so the noise distribution for negative sampling matters.\n"
            "- Words below the min count never get a vector; raising it shrinks the vocabulary fast.")
    st.page_link("pages/train.py", label="Next: train on this corpus", icon=":material/arrow_forward:")


def download_text8() -> None:
    """Download text8 with a progress bar; one st.error line on failure, a rerun on success."""
    bar = st.progress(0.0, text="Connecting to mattmahoney.net…")
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent != shown[0]:  # one update per percent, not per 64 KB block
            shown[0] = percent
            bar.progress(percent / 100, text=f"Downloading text8: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        path = download.download_text8(progress)
    except download.DownloadError as e:
        bar.empty()
        st.error(f"Could not download text8: {e}")
    else:
        st.session_state[TEXT8_DONE_KEY] = str(path)
        st.rerun()


if TEXT8_DONE_KEY in st.session_state:
    st.success(f"text8 is in `{st.session_state.pop(TEXT8_DONE_KEY)}`: the *text8 full* preset is on Train.",
               icon=":material/check_circle:")
if not corpora.hosted() and corpora.text8_path() is None:
    with st.expander("Want a real corpus? Download text8 (100 MB of Wikipedia)"):
        st.markdown(f"A 31 MB download that unzips to 100 MB in `{download.cache_dir()}`. "
                    "Or run `python -m core download text8` in a terminal and reload this page. "
                    "Either way a *text8 full* preset then appears on Train.")
        if st.button("Download text8 (31 MB)", key="home_download_text8", icon=":material/download:"):
            download_text8()
