"""Analogies page: the a - b + c playground (3CosAdd and 3CosMul) with the arithmetic drawn as
arrows, additive compositionality (neighbours of vec(a) + vec(b)), and the evaluation on an
analogy file (the small-world set, the word2vec release's questions-words.txt and
questions-phrases.txt once downloaded into the cache, or an upload) with per-section accuracy,
semantic vs syntactic, and the wrong answers.

Works on the vectors in focus (ui/focus.py: a run, or a loaded set of any size: above EXACT_MAX
words the playground asks the attached approximate index, and says which search answered).
URL: ?set=NAME&a=king&b=man&c=woman&method=3CosMul&k=5&u=russian&v=river&questions=sample (or
questions-words, questions-phrases, upload)&eval=3CosAdd&candidates=30000, shown at the top as a link
to copy (ui/links.py).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.vectors import projection
from core.vectors.evaluate import ANALOGY_RESTRICT, EvalError, evaluate_analogies
from core.vectors.keyed import UnknownWordError, Vectors
from ui import analogy_sets, focus, hosted, links, vector_sets
from ui.widgets import kept, kept_value, need, set_kept, show_figure, teach

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

METHODS = {"3CosAdd": "add", "3CosMul": "mul"}
EVAL_MAX_HOSTED = 300_000  # candidate words a hosted evaluation may score (every question scans them)


def first_present(options: list[tuple[str, ...]], vectors: Vectors) -> tuple[str, ...]:
    for words in options:
        if all(w in vectors.index for w in words):
            return words
    n = len(options[0])
    return tuple(vectors.words[i % len(vectors)] for i in range(n))


@st.cache_data(show_spinner=False, max_entries=16)
def evaluate(focus_key: str, version: str, file_key: str, path: str, method: str, restrict: int,
             _vectors: Vectors):
    """Cached evaluation, keyed by the focus + vectors version + file identity + method + restrict."""
    return evaluate_analogies(_vectors, path, method=method, restrict_vocab=restrict)


st.title("Analogies")
st.caption("Mikolov et al. found that relations between words are (roughly) constant vector offsets: "
           "vec(king) - vec(man) + vec(woman) lands near vec(queen).")

link_box = st.container()  # filled once the page has written its query
vectors = need("vectors", "try analogies with its vectors")
in_focus = focus.current()  # a run or a loaded set (ui/focus.py)
run, version = in_focus.run, in_focus.version
approximate = vector_sets.search_mode(vectors)  # the attached index above EXACT_MAX words, else the exact scan

st.latex(r"\mathrm{vec}(\text{Berlin}) - \mathrm{vec}(\text{Germany}) + \mathrm{vec}(\text{France}) "
         r"\approx \mathrm{vec}(\text{Paris})")
st.latex(r"\text{3CosAdd: } \arg\max_{d} \cos(d, a - b + c) \qquad "
         r"\text{3CosMul: } \arg\max_{d} \frac{\cos'(d, a)\, \cos'(d, c)}{\cos'(d, b) + \varepsilon},"
         r"\ \cos' = \tfrac{\cos + 1}{2}")

# -- playground ---------------------------------------------------------------------------------
st.subheader("a - b + c = ?")
da, db, dc = first_present([("king", "man", "woman"), ("berlin", "germany", "france"),
                            ("paris", "france", "italy")], vectors)
c = st.columns([2, 2, 2, 2, 1])
a = kept(c[0].text_input, "a", "ana_a", da, url="a").strip()
b = kept(c[1].text_input, "- b", "ana_b", db, url="b").strip()
cc = kept(c[2].text_input, "+ c", "ana_c", dc, url="c").strip()
method_name = kept(c[3].radio, "method", "ana_method", "3CosAdd", options=list(METHODS), horizontal=True,
                   url="method")
topk = kept(c[4].number_input, "top k", "ana_k", 5, min_value=1, max_value=30, url="k")

try:
    # Vectors.analogy(x, y, z) answers y - x + z, so a - b + c is analogy(b, a, c)
    started = time.perf_counter()
    answers = vectors.analogy(b, a, cc, topn=int(topk), method=METHODS[method_name], approximate=approximate)
    seconds = time.perf_counter() - started
except UnknownWordError as e:
    st.warning(f"'{e.word}' is not in the vocabulary.")
    answers = None
if answers is not None:
    left, right = st.columns([1, 2])
    score = "cos(d,a) - cos(d,b) + cos(d,c)" if METHODS[method_name] == "add" else "3CosMul score"
    left.dataframe(pd.DataFrame(answers, columns=["answer", score]), hide_index=True)
    shown = [a, b, cc] + [w for w, _ in answers[:3]]
    U = vectors.unit[[vectors.id(w) for w in shown]].astype(np.float64)
    result = U[0] - U[1] + U[2]
    pts = np.vstack([U, result[None, :]])
    coords = projection.pca(pts, 2)
    names = shown + [f"{a} - {b} + {cc}"]
    roles = ["query"] * 3 + ["answer"] * (len(shown) - 3) + ["result"]
    r = len(names) - 1
    arrows = [(1, 0, f"{a} - {b}"), (2, r, f"+ ({a} - {b})")]
    with right:
        show_figure(plots.analogy_figure(coords, names, arrows, roles))
    st.caption(vector_sets.describe_search(vectors, approximate, seconds)
               + (" (3CosMul reranks the index's 3CosAdd candidates)" if approximate and METHODS[method_name] == "mul"
                  else ""))
    st.caption("Arrows: the offset a - b, and the same offset added to c. The star is a - b + c (unit "
               "vectors); the answer is the nearest word by cosine, query words excluded. A 2-D PCA of "
               "a handful of words keeps only part of the geometry.")

# -- additive compositionality ------------------------------------------------------------------
st.subheader("Adding two words")
du, dv = first_present([("japan", "currency"), ("russian", "river"), ("germany", "capital"), ("king", "woman")],
                       vectors)
c = st.columns(2)
u = kept(c[0].text_input, "word", "ana_u", du, url="u").strip()
v = kept(c[1].text_input, "+ word", "ana_v", dv, url="v").strip()
try:
    near = vectors.most_similar(positive=[u, v], topn=int(topk), approximate=approximate)
    st.dataframe(pd.DataFrame(near, columns=[f"nearest to {u} + {v}", "cosine"]), hide_index=True)
except UnknownWordError as e:
    st.warning(f"'{e.word}' is not in the vocabulary.")
st.caption("Paper section 5: vec('Russian') + vec('river') is close to vec('Volga_River'): a vector sums up "
           "the contexts a word appears in, and the sum's contexts are where both words occur.")

# -- evaluation ---------------------------------------------------------------------------------
st.subheader("Evaluation on an analogy test set")
files = analogy_sets.available()  # the sample, and the Google sets once in the cache
options = list(files) + ["upload a file"]
if kept_value("ana_source", options[0]) not in options:  # a set that is gone from the cache
    set_kept("ana_source", options[0])
if (label := analogy_sets.just_downloaded()) is not None:
    st.success(f"{label} is downloaded: choose it below.", icon=":material/check_circle:")
c = st.columns([3, 1, 1])
url_names = {**analogy_sets.URL_NAMES, "upload a file": "upload"}
source = kept(c[0].radio, "questions", "ana_source", options[0], options=options, horizontal=True, url="questions",
              url_text=lambda label: url_names.get(label, label))
for label, dataset in analogy_sets.missing():
    with c[0]:
        analogy_sets.download_button(label, dataset, key=f"ana_download_{dataset.name}")
eval_method = kept(c[1].radio, "method ", "ana_eval_method", "3CosAdd", options=list(METHODS), url="eval")
restrict = kept(c[2].number_input, "candidate words", "ana_restrict", ANALOGY_RESTRICT, min_value=10,
                max_value=EVAL_MAX_HOSTED if hosted.hosted() else None, step=1000,
                help="only the most frequent words are answers (word2vec.c uses 30,000)", url="candidates")
with link_box:  # every query key of the page is written by now
    links.copy_link()
path: Path | None = None
file_key = ""
if source == "upload a file":
    up = st.file_uploader("analogy questions (questions-words format: ': section' lines, then 'a b c d')",
                          type=["txt"], key="ana_upload", max_upload_size=hosted.upload_limit_mb())
    too_large = hosted.too_large(up.name, up.size) if up is not None else None
    if too_large:  # checked on the declared size, before the bytes are read
        st.error(too_large)
    elif up is not None:
        data = up.getvalue()
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"w2v-analogies-{digest}.txt"
        if not path.exists():
            path.write_bytes(data)
        file_key = f"upload:{digest}"
else:
    path = files[source]
    file_key = f"{path}:{path.stat().st_mtime}"

if path is None:
    st.info("Upload a questions file to evaluate.")
    st.stop()
if run is not None and run.running and not st.button("Evaluate the current vectors (training is still running)"):
    st.info("Training is running; press the button to evaluate the vectors as they are now.")
    st.stop()
try:
    with st.spinner("answering every question..."):
        res = evaluate(in_focus.token, version, file_key, str(path), METHODS[eval_method], int(restrict), vectors)
except EvalError as e:
    st.warning(str(e))
    st.stop()

m = st.columns(4)
m[0].metric("total accuracy", f"{res.total:.1%}", help=f"{res.n_correct:,} of {res.n_evaluated:,} questions")
m[1].metric("semantic", f"{res.semantic:.1%}")
m[2].metric("syntactic", f"{res.syntactic:.1%}")
m[3].metric("coverage", f"{res.coverage:.1%}", help="questions with all four words among the candidate words")
secs = [s for s in res.sections if s.total + s.skipped > 0]
show_figure(plots.section_accuracy_figure([s.name for s in secs], [s.correct for s in secs], [s.total for s in secs],
                                   [s.syntactic for s in secs]))
st.markdown(f"**Wrong answers** ({len(res.wrong):,}): a : b :: c : expected, and what the model said")
st.dataframe(pd.DataFrame([(w.a, w.b, w.c, w.expected, w.predicted) for w in res.wrong],
                          columns=["a", "b", "c", "expected", "model"]), hide_index=True)

with teach():
    st.markdown(
        "**What to notice**\n"
        "- 3CosMul often fixes answers where one large similarity dominates 3CosAdd's sum (Levy & Goldberg "
        "2014); compare the two on the same question.\n"
        "- Semantic sections (capitals, currencies, family) and syntactic ones (plurals, tenses) learn at "
        "different speeds: train more epochs and watch each bar.\n"
        "- Many wrong answers are near misses: a plural for a singular, a neighbouring country, or one of "
        "the query words' close neighbours.\n"
        "- Coverage below 100% means some questions had a word outside the candidate words; they are "
        "skipped, not counted wrong."
    )
    st.markdown("**Where word2vec.c, gensim and the paper differ**")
    st.markdown(
        "- **Query words are excluded** from the answers in word2vec.c's compute-accuracy, gensim and "
        "here; without that, vec(a) - vec(b) + vec(c) is usually nearest to c itself (Linzen 2016).\n"
        "- **Candidates.** word2vec.c only considers the 30,000 most frequent words and skips questions "
        "with a word beyond them; gensim's `evaluate_word_analogies` defaults to 300,000.\n"
        "- **Case.** Both upper-case the questions and vocabulary (case-insensitive); so does this page.\n"
        "- **Unit vectors.** 3CosAdd adds unit-length vectors, as word2vec.c's distance tools normalise "
        "every vector first; the paper writes the raw vectors.\n"
        "- **3CosMul** is Levy & Goldberg's (2014) multiplicative objective; the paper uses 3CosAdd only."
    )
