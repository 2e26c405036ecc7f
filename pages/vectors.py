"""Vectors [/vectors]: load pre-trained vectors, search nearest neighbours, export the current run.

Does: read word2vec .bin/.txt and our .npz vectors from an upload, from the operator's vectors
folder (W2V_VECTORS_DIR, offered by file name; folders prepared by `python -m core prepare` are
memory-mapped) or, when not hosted, from a local path, through ui/vector_sets.py (core.vector_io
never unpickles; uploads and folder files are loaded once per process and shared read-only
between sessions); keep the chosen sets in the session, answer nearest-neighbour queries on them
or on the selected run (saying whether the exact search or the approximate index answered, and
how long it took), and offer the run's vectors as word2vec binary/text, the Embedding Projector's
TSV pair and the vocabulary counts (files are generated only when a download button is pressed).
Does not: parse files itself or train.

URL: ?word=king&topn=10 (and &set=NAME for a file or prepared set of the server's folder, loaded
on arrival).
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.vectors import vector_io
from core.vectors.keyed import UnknownWordError, Vectors
from ui import hosted, session, vector_sets, widgets

LOADED_KEY = "loaded_vectors"  # dict name -> Vectors (shared read-only objects for uploads and folder files)
HOSTED_KEEP = 3  # sets one session keeps when hosted (the oldest is dropped first)
SOURCES = {"upload": "Upload a file", "folder": "This server's vector sets", "path": "A path on this computer"}
limits = hosted.settings()
loaded_sets: dict[str, Vectors] = st.session_state.setdefault(LOADED_KEY, {})
kept = widgets.kept


def _keep(key: str, vset) -> None:
    """Keep a loaded set in the session under `key` (a hosted session keeps the newest few)."""
    loaded_sets.pop(key, None)
    loaded_sets[key] = vset.vectors
    while limits.hosted and len(loaded_sets) > HOSTED_KEEP:
        loaded_sets.pop(next(iter(loaded_sets)))
    widgets.set_kept("vectors_source", key)


st.title("Vectors")

# -- load ----------------------------------------------------------------------------------------------
# ?set=NAME: a shared link to a file of the server's folder, loaded on arrival (?word= and ?topn= are
# the kept widgets' URL keys below)
name = st.query_params.get("set")
if name and f"folder:{name}" not in loaded_sets and name in vector_sets.folder_files():
    try:
        _keep(f"folder:{name}", vector_sets.load_from_folder(name))
    except vector_sets.VectorSetError as e:
        st.error(f"Could not load the vectors: {e}")

with st.expander("Load pre-trained vectors (word2vec .bin / .txt, .npz, prepared sets)",
                 expanded=not session.runs(), icon=":material/upload_file:"):
    server_files = vector_sets.folder_files()
    ways = ["upload"] + (["folder"] if server_files else []) + ([] if limits.hosted else ["path"])
    if widgets.kept_value("vectors_load_from", ways[0]) not in ways:
        widgets.set_kept("vectors_load_from", ways[0])
    how = ways[0]
    if len(ways) > 1:
        how = kept(st.segmented_control, "Load from", "vectors_load_from", ways[0], options=ways,
                   format_func=SOURCES.get, required=True, label_visibility="collapsed")
    up = None
    if how == "upload":
        mb = hosted.upload_limit_mb(limits)
        up = st.file_uploader(f"Vector file (up to {mb} MB)", type=["bin", "txt", "vec", "npz"],
                              key="vectors_upload", max_upload_size=mb,
                              help="word2vec binary or text (as word2vec.c and gensim write them), or this "
                                   "app's .npz. Files are parsed, never unpickled.")
    elif how == "folder":
        if widgets.kept_value("vectors_folder_file") not in server_files:
            widgets.set_kept("vectors_folder_file", server_files[0])
        folder_file = kept(st.selectbox, "Vector set", "vectors_folder_file", options=server_files,
                           help="Files the operator of this server provides; loaded once and shared by every "
                                "visitor. Folders prepared with `python -m core prepare` open memory-mapped "
                                "in about a second, whatever their size.")
    else:
        path = kept(st.text_input, "Path of a vector file on this computer", "vectors_path", "",
                    placeholder="/data/GoogleNews-vectors-negative300.bin",
                    help="A word2vec .bin/.txt or .npz file, or a folder prepared with `python -m core "
                         "prepare` (memory-mapped: opened whole, the word limit does not apply).")
    limit = 0
    if how != "folder":
        limit = kept(st.number_input, "Read only the first N words (0 = all)", "vectors_limit", 0, min_value=0,
                     max_value=10_000_000, step=10_000,
                     help="Files list the most frequent words first; 200,000 is plenty for exploring.")
    if st.button("Load vectors", key="vectors_load", icon=":material/upload_file:"):
        limit = int(limit) or None
        try:
            if how == "upload":
                if up is None:
                    raise vector_sets.VectorSetError("choose a file to upload")
                vset, key = vector_sets.load_upload(up, limit), f"file:{up.name}"
            elif how == "folder":
                vset = vector_sets.load_from_folder(folder_file)
                key = f"folder:{vset.name}"
            else:
                vset = vector_sets.load_path(path, limit)
                key = f"file:{vset.name}"
        except (vector_sets.VectorSetError, ValueError, OSError) as e:
            st.error(f"Could not load the vectors: {e}")
        else:
            _keep(key, vset)
            vecs = vset.vectors
            st.success(f"Loaded {len(vecs):,} words x {vecs.dim} dimensions from {vset.name} "
                       f"({vset.report.fmt}).")
            for note in vset.report.notes():
                st.warning(note)

# -- choose the vectors to query ----------------------------------------------------------------------
run = session.current_run()
options = (["run"] if run is not None else []) + list(loaded_sets)
if not options:
    st.info("No vectors yet: train a run on **Train**, or load a vector file above.", icon=":material/explore:")
    st.stop()
if widgets.kept_value("vectors_source") not in options:
    widgets.set_kept("vectors_source", options[0])
labels = {"run": f"run #{run.id}: {run.name}" if run is not None else "run"}
labels.update({k: f"server: {k.removeprefix('folder:')}" if k.startswith("folder:") else
               f"file: {k.removeprefix('file:')}" for k in loaded_sets})
source = kept(st.radio, "Vectors to search", "vectors_source", options=options, format_func=labels.get,
              horizontal=True)
if source.startswith("folder:"):  # the set's name in the URL, so the address can be shared
    st.query_params["set"] = source.removeprefix("folder:")
elif "set" in st.query_params:
    del st.query_params["set"]
vecs: Vectors | None = run.vectors if source == "run" and run is not None else loaded_sets.get(source)
if vecs is None:
    st.info("This run has no vectors yet: wait for it to start.")
    st.stop()
st.caption(f"{len(vecs):,} words x {vecs.dim} dimensions"
           + (" — the run is still training: results change as it learns." if source == "run"
              and run is not None and run.running else ""))

# -- nearest neighbours --------------------------------------------------------------------------------
st.subheader("Nearest neighbours (cosine similarity)")
first_word = next((w for w in ("king", "paris", "france", "good") if w in vecs), vecs.words[min(50, len(vecs) - 1)])
if widgets.kept_value("vectors_word") == "":  # an emptied box shows an example again
    widgets.set_kept("vectors_word", first_word)
n1, n2 = st.columns([3, 1])
query = kept(n1.text_input, "Word", "vectors_word", first_word, url="word").strip()
topn = kept(n2.number_input, "How many", "vectors_topn", 10, url="topn", min_value=1, max_value=100, step=1)
approximate = vector_sets.search_mode(vecs)
index_note = vector_sets.index_hint(vecs)
if index_note:
    st.info(index_note, icon=":material/speed:")
if query:
    try:
        word = vecs.words[vecs.id_ci(query)]
        started = time.perf_counter()
        result = vecs.most_similar(word, topn=int(topn), approximate=approximate)
        seconds = time.perf_counter() - started
    except UnknownWordError:
        close = [w for w in vecs.words[:200_000] if w.startswith(query.lower()[:3])][:8]
        hint = f" Similar spellings in the vocabulary: {', '.join(close)}." if close else ""
        st.error(f"“{query}” is not in the vocabulary of these vectors.{hint}")
    else:
        df = pd.DataFrame(result, columns=["word", "cosine"])
        df.insert(0, "rank", range(1, len(df) + 1))
        t1, t2 = st.columns([2, 3], gap="large")
        with t1:
            st.dataframe(df, hide_index=True, key="vectors_nn", column_config={
                "cosine": st.column_config.ProgressColumn("cosine", min_value=-1.0, max_value=1.0, format="%.3f")})
        with t2:
            fig = go.Figure(go.Bar(x=df["cosine"][::-1], y=df["word"][::-1], orientation="h",
                                   marker_color="#1f77b4", hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
            fig.update_layout(title=f"Closest to “{word}”", xaxis_title="cosine similarity")
            widgets.show_figure(fig, height=max(320, 28 * len(df) + 120), key="vectors_nn_fig")
        st.caption(vector_sets.describe_search(vecs, approximate, seconds))

# -- export --------------------------------------------------------------------------------------------
st.subheader("Export the current run")
if widgets.need("vectors", "export them", stop=False) is not None:
    rv = run.vectors
    base = f"w2v-run{run.id}"
    if run.running:
        st.caption("The run is still training: a download holds the vectors as they are at that moment.")
    e = st.columns(5)
    e[0].download_button("word2vec .bin", lambda: vector_io.to_word2vec_bytes(run.vectors, True),
                         file_name=f"{base}.bin", mime="application/octet-stream", key="dl_bin", on_click="ignore",
                         width="stretch", icon=":material/save:",
                         help="Readable by word2vec.c's distance tool and gensim (binary=True).")
    e[1].download_button("word2vec .txt", lambda: vector_io.to_word2vec_bytes(run.vectors, False),
                         file_name=f"{base}.txt", mime="text/plain", key="dl_txt", on_click="ignore", width="stretch",
                         icon=":material/description:")
    e[2].download_button("vectors.tsv", lambda: vector_io.to_projector_tsv(run.vectors)[0],
                         file_name=f"{base}-vectors.tsv", mime="text/tab-separated-values", key="dl_tsv",
                         on_click="ignore", width="stretch", icon=":material/grid_on:")
    e[3].download_button("metadata.tsv", lambda: vector_io.to_projector_tsv(run.vectors)[1],
                         file_name=f"{base}-metadata.tsv", mime="text/tab-separated-values", key="dl_meta",
                         on_click="ignore", width="stretch", icon=":material/label:")
    e[4].download_button("vocab counts", lambda: "".join(
        f"{w} {int(c)}\n" for w, c in zip(run.trainer.vocab.words, run.trainer.vocab.counts, strict=True)),
        file_name=f"{base}-vocab.txt", mime="text/plain", key="dl_vocab", on_click="ignore", width="stretch",
        icon=":material/format_list_numbered:",
        help="`word count` per line, most frequent first (word2vec.c -save-vocab).")
    st.caption(f"{len(rv):,} words x {rv.dim} dimensions. word2vec files: for word2vec.c and gensim. "
               "vectors.tsv + metadata.tsv: for projector.tensorflow.org (*Load*, then upload both). "
               "vocab counts: `word count` lines.")

with widgets.teach("Formats, and how word2vec.c and gensim read them"):
    st.markdown(
        "- **word2vec text**: a `V D` header, then one `word v1 … vD` line per word. **Binary**: the same header, "
        "then each word, a space and D little-endian float32 (word2vec.c adds a newline after each vector; "
        "gensim reads both).\n"
        "- gensim: `KeyedVectors.load_word2vec_format(path, binary=True)`. The C tool: `./distance file.bin`.\n"
        "- Only the input vectors W_in (word2vec.c's `syn0`) are exported, as both tools do.\n"
        "- Cosine similarity compares directions: vectors are normalised to unit length first.")
