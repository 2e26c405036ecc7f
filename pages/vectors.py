"""Vectors [/vectors]: load pre-trained vectors, search nearest neighbours, export the vectors in focus.

Does: read word2vec .bin/.txt and our .npz vectors from an upload, from the operator's vectors
folder (W2V_VECTORS_DIR, offered by file name; folders prepared by `python -m core prepare` are
memory-mapped) or, when not hosted, from a local path, through ui/vector_sets.py (core.vector_io
never unpickles; uploads and folder files are loaded once per process and shared read-only
between sessions); a loaded set is kept in the session and put in focus (ui/focus.py), so every
exploration page works on it; answer nearest-neighbour queries on the vectors in focus (saying
whether the exact search or the approximate index answered, and how long it took), and offer them
as word2vec binary/text, the Embedding Projector's TSV pair and (when known) the vocabulary counts
(files are generated only when a download button is pressed; a hosted server caps the size).
Does not: parse files itself, train, or choose the focus (the sidebar does).

URL: ?set=NAME&word=king&topn=10 (set= is read by the frame: a run's id or a set's name); the page
shows that link to copy (ui/links.py).
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.vectors import vector_io
from core.vectors.keyed import UnknownWordError, Vectors
from ui import focus, hosted, links, vector_sets, widgets

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

LOADED_NOTE_KEY = "vectors_loaded_note"  # the load's message, shown after the rerun that updates the sidebar
EXPORT_MAX_HOSTED = 300_000  # words a hosted visitor may export in one download (each file is built in memory)
SOURCES = {"upload": "Upload a file", "folder": "This server's vector sets", "path": "A path on this computer"}
limits = hosted.settings()
kept = widgets.kept

st.title("Vectors")
link_box = st.container()  # the link to this view, filled once the page has written its query

# -- load ----------------------------------------------------------------------------------------------
# a loaded set comes into focus (ui/focus.py): every exploration page then works on it, and ?set=NAME
# (read by the frame) names it in a shared link
with st.expander("Load pre-trained vectors (word2vec .bin / .txt, .npz, prepared sets)",
                 expanded=focus.current() is None, icon=":material/upload_file:"):
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
                vset = vector_sets.load_upload(up, limit)
            elif how == "folder":
                vset = vector_sets.load_from_folder(folder_file)
            else:
                vset = vector_sets.load_path(path, limit)
        except (vector_sets.VectorSetError, ValueError, OSError) as e:
            st.error(f"Could not load the vectors: {e}")
        else:
            focus.add_set(vset)  # the URL's old set= is ours: the rerun's from_url skips it
            vecs = vset.vectors
            st.session_state[LOADED_NOTE_KEY] = (
                f"Loaded {len(vecs):,} words x {vecs.dim} dimensions from {vset.name} ({vset.report.fmt}); it is "
                "now the set in focus on every page.", vset.notes())
            st.rerun()  # subtle: the sidebar was drawn before this load; the rerun shows the new focus there
# subtle: below the expander, not in it: with a set in focus the rerun draws the expander collapsed,
# which hid this message from the visitor who had just pressed Load
if LOADED_NOTE_KEY in st.session_state:  # what the load before the rerun found
    done, notes = st.session_state.pop(LOADED_NOTE_KEY)
    st.success(done)
    for note in notes:
        st.warning(note)

# -- the vectors in focus ------------------------------------------------------------------------------
vecs: Vectors = widgets.need("vectors", "search its neighbours here")
chosen = focus.current()
run = chosen.run
if run is not None:
    st.caption(f"{chosen.provenance()}" + (" — the run is still training: results change as it learns."
                                           if run.running else ""))

# -- nearest neighbours --------------------------------------------------------------------------------
st.subheader("Nearest neighbours (cosine similarity)")
first_word = next((w for w in ("king", "paris", "france", "good") if w in vecs), vecs.words[min(50, len(vecs) - 1)])
if widgets.kept_value("vectors_word") == "":  # an emptied box shows an example again
    widgets.set_kept("vectors_word", first_word)
n1, n2 = st.columns([3, 1])
query = kept(n1.text_input, "Word", "vectors_word", first_word, url="word").strip()
topn = kept(n2.number_input, "How many", "vectors_topn", 10, url="topn", min_value=1, max_value=100, step=1)
with link_box:  # every query key of the page is written by now
    links.copy_link()
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
st.subheader("Export the vectors in focus")
base = f"w2v-run{run.id}" if run is not None else "w2v-" + "".join(ch if ch.isalnum() else "-" for ch in chosen.token)
if limits.hosted and len(vecs) > EXPORT_MAX_HOSTED:
    st.caption(f"Export is offered here for sets of up to {EXPORT_MAX_HOSTED:,} words (this one has "
               f"{len(vecs):,}): a file that size is better fetched from where the set came from.")
else:
    if run is not None and run.running:
        st.caption("The run is still training: a download holds the vectors as they are at that moment.")
    counts = vecs.counts
    e = st.columns(5 if counts is not None else 4)
    e[0].download_button("word2vec .bin", lambda: vector_io.to_word2vec_bytes(vecs, True),
                         file_name=f"{base}.bin", mime="application/octet-stream", key="dl_bin", on_click="ignore",
                         width="stretch", icon=":material/save:",
                         help="Readable by word2vec.c's distance tool and gensim (binary=True).")
    e[1].download_button("word2vec .txt", lambda: vector_io.to_word2vec_bytes(vecs, False),
                         file_name=f"{base}.txt", mime="text/plain", key="dl_txt", on_click="ignore", width="stretch",
                         icon=":material/description:")
    e[2].download_button("vectors.tsv", lambda: vector_io.to_projector_tsv(vecs)[0],
                         file_name=f"{base}-vectors.tsv", mime="text/tab-separated-values", key="dl_tsv",
                         on_click="ignore", width="stretch", icon=":material/grid_on:")
    e[3].download_button("metadata.tsv", lambda: vector_io.to_projector_tsv(vecs)[1],
                         file_name=f"{base}-metadata.tsv", mime="text/tab-separated-values", key="dl_meta",
                         on_click="ignore", width="stretch", icon=":material/label:")
    if counts is not None:
        e[4].download_button("vocab counts", lambda: "".join(
            f"{w} {int(c)}\n" for w, c in zip(vecs.words, counts, strict=True)),
            file_name=f"{base}-vocab.txt", mime="text/plain", key="dl_vocab", on_click="ignore", width="stretch",
            icon=":material/format_list_numbered:",
            help="`word count` per line, most frequent first (word2vec.c -save-vocab).")
    st.caption(f"{len(vecs):,} words x {vecs.dim} dimensions. word2vec files: for word2vec.c and gensim. "
               "vectors.tsv + metadata.tsv: for projector.tensorflow.org (*Load*, then upload both)"
               + (". vocab counts: `word count` lines." if counts is not None else "."))

with widgets.teach("Formats, and how word2vec.c and gensim read them"):
    st.markdown(
        "- **word2vec text**: a `V D` header, then one `word v1 … vD` line per word. **Binary**: the same header, "
        "then each word, a space and D little-endian float32 (word2vec.c adds a newline after each vector; "
        "gensim reads both).\n"
        "- gensim: `KeyedVectors.load_word2vec_format(path, binary=True)`. The C tool: `./distance file.bin`.\n"
        "- Only the input vectors W_in (word2vec.c's `syn0`) are exported, as both tools do.\n"
        "- Cosine similarity compares directions: vectors are normalised to unit length first.")
