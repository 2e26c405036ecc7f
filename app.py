"""word2vec explorer: the frame. Run with `streamlit run app.py`.

Does: page config, warming the Numba kernels once per process (in a background thread), the
session guard that stops this session's training when its tab closes, the shared sidebar, and
`st.navigation` over every page in PAGES (a missing page file is an error, raised before anything
is drawn, not a page silently left out).
Does not: contain page content (pages/), training (ui/runs.py) or figures (ui/figures.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from ui import hosted, session, widgets
from ui.runs import warm_up

ROOT = Path(__file__).resolve().parent

# (file, title, url path, icon), in navigation order; Home is the default page at "/".
PAGES = [
    ("pages/home.py", "Home", "", ":material/home:"),
    ("pages/train.py", "Train", "train", ":material/model_training:"),
    ("pages/negative_sampling.py", "Negative sampling", "negative-sampling", ":material/casino:"),
    ("pages/subsampling.py", "Subsampling", "subsampling", ":material/filter_alt:"),
    ("pages/huffman.py", "Huffman tree", "huffman", ":material/account_tree:"),
    ("pages/embeddings.py", "Embeddings", "embeddings", ":material/scatter_plot:"),
    ("pages/analogies.py", "Analogies", "analogies", ":material/compare_arrows:"),
    ("pages/phrases.py", "Phrases", "phrases", ":material/join_inner:"),
    ("pages/objectives.py", "Objectives", "objectives", ":material/speed:"),
    ("pages/paper.py", "Reproduce the paper", "paper", ":material/science:"),
    ("pages/vectors.py", "Vectors", "vectors", ":material/download:"),
    ("pages/compare.py", "Compare", "compare", ":material/compare:"),
    ("pages/step_by_step.py", "Step by step", "step-by-step", ":material/footprint:"),
]


@st.cache_resource(show_spinner=False)
def warm_kernels() -> threading.Thread:
    """Once per process: compile or load the Numba kernels while the visitor reads Home."""
    thread = threading.Thread(target=warm_up, name="w2v-warm-up", daemon=True)
    thread.start()
    return thread


def pages() -> list[st.Page]:
    """Every page of PAGES; FileNotFoundError naming the first whose file is missing."""
    missing = [file for file, _, _, _ in PAGES if not (ROOT / file).is_file()]
    if missing:
        raise FileNotFoundError(f"app.py lists page files that do not exist: {', '.join(missing)}")
    return [st.Page(file, title=title, url_path=url or None, icon=icon, default=(url == ""))
            for file, title, url, icon in PAGES]


st.set_page_config(page_title="word2vec explorer", page_icon=":material/hub:", layout="wide")
# Less empty space above the title, so a 1280x720 projector shows the figures, not padding.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;}</style>")
warm_kernels()
hosted.show_problems()  # a setting the operator got wrong: one line, once per session, then the defaults
session.session_jobs()  # registers the session-scoped guard (released when the tab closes)
navigation = st.navigation(pages(), expanded=True)  # all 13 listed: the default folds some under "View more"
widgets.sidebar()
navigation.run()
