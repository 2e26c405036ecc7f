"""Reproduce the paper [/paper]: Table 1 of Mikolov et al. (2013) on the session's corpus, with verdicts.

Does: open a kept Table 1 result at once (the small-world one ships with the app; finished runs
are kept; a JSON from `python -m core replicate table1 -o FILE` can be opened), and run the
seven trainings in the training queue, the table filling in row by row with progress.
Does not: train, score or judge (ui/paper.py, core/replicate.py); the paper's numbers live in
core/replicate.py only.
"""

from __future__ import annotations

import json

import streamlit as st

from core.config import ConfigError
from core.corpus import CorpusError
from core.replicate import FORMULA_NOTE, PAPER, Settings, Table1Result
from core.vectors.evaluate import EvalError
from ui import links, paper, presets, session, widgets

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

JOB_KEY = "paper_job"
SHOWN_KEY = "paper_shown"  # (label, Table1Result) of the result opened last

st.title("Reproduce the paper: Table 1")
st.markdown("Table 1 of *Distributed Representations of Words and Phrases* compares negative sampling (NEG-5, "
            "NEG-15), hierarchical softmax (HS-Huffman) and NCE-5 on the analogy questions, with and without "
            "subsampling at t = 1e-5, and the paper draws claims from it. Here the same seven skip-gram runs train "
            "on your corpus, and each claim gets a verdict.")


def show_result(result: Table1Result, key: str, status: dict[int, str] | None = None) -> None:
    st.dataframe(paper.table_frame(result, status), hide_index=True, key=f"{key}_table")
    s = result.settings
    if s:
        st.caption(f"{s.get('corpus', '?')}: {s.get('words', 0):,} words, vocabulary {s.get('vocabulary', 0):,}; "
                   f"skip-gram D={s.get('size')}, window {s.get('window')}, {s.get('epochs')} epoch(s); "
                   f"analogies among the {s.get('restrict', 0):,} most frequent words. The paper: ~1 billion "
                   "words, vocabulary 692K, D=300. Seconds are training time per row on this machine.")
    widgets.show_figure(paper.table1_figure(result), height=430, key=f"{key}_fig")
    frame = paper.claims_frame(result)
    if len(frame):
        st.dataframe(frame, hide_index=True, key=f"{key}_claims")
    else:
        st.info("No claim can be judged yet: each needs two rows.")


# a finished experiment is kept before the list of kept results is drawn
finished_job: paper.PaperJob | None = st.session_state.get(JOB_KEY)
if finished_job is not None and finished_job.kept is None:
    finished = finished_job.keep_when_done()
    if finished is not None and finished_job.kept is not None:
        st.session_state[SHOWN_KEY] = (finished_job.kept, finished)

# -- 1. a kept result ----------------------------------------------------------------------------------------
st.subheader("1. Open a kept result")
st.markdown("Results open at once, without training: the small-world run ships with the app, finished runs "
            "are kept here, and `python -m core replicate table1 CORPUS --analogies FILE -o result.json` "
            "writes one you can open below.")
kept = paper.kept_results()
shown = st.session_state.get(SHOWN_KEY)
options = list(kept) + ([shown[0]] if shown is not None and shown[0] not in kept else [])
choice = st.selectbox("Result", options, key="paper_choice") if options else None
# subtle: Streamlit's default label says the server's cap (200 MB); a result file is capped at 1 MB
upload = st.file_uploader("…or open a result file (JSON, up to 1 MB)", type=["json"], key="paper_upload",
                          max_upload_size=max(1, paper.MAX_RESULT_BYTES // 1_000_000))
try:
    if upload is not None:
        chosen = paper.parse_result(upload.getvalue())
        label = upload.name
    elif choice is not None and choice in kept:
        chosen, label = paper.load_kept(kept[choice]), choice
    elif shown is not None:
        label, chosen = shown
    else:
        chosen = None
except paper.ResultError as e:
    st.error(f"Cannot open it: {e}")
    chosen = None
if chosen is not None:
    show_result(chosen, "paper_kept")
elif not options:
    st.info("No result kept yet: run the experiment below.")

# -- 2. run it --------------------------------------------------------------------------------------------
st.subheader("2. Run Table 1 on your corpus")
job: paper.PaperJob | None = st.session_state.get(JOB_KEY)
loaded = widgets.need("corpus", "run Table 1 on it", stop=False)
if loaded is not None:
    sets = paper.question_sets()
    prefs = st.session_state.setdefault("paper_prefs", {"epochs": 1, "size": 100, "questions": next(iter(sets))})
    if prefs["questions"] not in sets:
        prefs["questions"] = next(iter(sets))
    c = st.columns([1, 1, 2, 1.4], vertical_alignment="bottom")
    with c[0]:
        widgets.kept(st.number_input, "Epochs", "paper_epochs", store=prefs, field="epochs", min_value=1,
                     max_value=50, step=1)
    with c[1]:
        widgets.kept(st.number_input, "Vector size D", "paper_size", store=prefs, field="size", min_value=2,
                     max_value=1000, step=10, help="The paper used 300; smaller trains faster.")
    with c[2]:
        widgets.kept(st.selectbox, "Analogy questions", "paper_questions", store=prefs, field="questions",
                     options=list(sets))
    busy = job is not None and job.running
    # subtle: no st.rerun() after starting: the live panel below sees the new runs in this same script
    # run, and a rerun would wipe the one-line notes about lowered settings
    if c[3].button("Run the seven trainings", icon=":material/science:", key="paper_run", disabled=busy) and not busy:
        notes = presets.clamp_to_limits(prefs)
        for n in notes:
            st.info(n)
        try:
            job = paper.start_table1(loaded, Settings(epochs=int(prefs["epochs"]), size=int(prefs["size"])),
                                     sets[prefs["questions"]], prefs["questions"])
        except (ConfigError, CorpusError, EvalError, ValueError) as e:
            st.error(f"Not started: {e}")
        else:
            for r in job.runs:
                session.add_run(r)
            st.session_state[JOB_KEY] = job
    st.caption(f"On **{loaded.name}**. Subsampling uses {FORMULA_NOTE}. The runs wait their turn in the "
               "training queue and train one after another; a text8-size corpus takes minutes per row.")


def job_panel() -> None:
    job = st.session_state.get(JOB_KEY)
    if job is None:
        return
    result = job.score()
    status = {i: widgets.progress_text(r)[1] for i, r in enumerate(job.runs)}
    st.progress(job.fraction, text=f"{len(result.rows)} of {len(job.plan)} rows done")
    if job.running:
        widgets.stop_button("paper_stop", "Stop the experiment")
    elif job.kept is None and job.keep_when_done() is not None and job.kept is not None:
        st.session_state[SHOWN_KEY] = (job.kept, result)
    show_result(result, "paper_job", status)
    if not job.running and result.rows:
        st.download_button("Download this result (JSON)", json.dumps(result.to_json(), indent=1),
                           file_name="table1.json", mime="application/json", key="paper_download")


widgets.live(job_panel, every=2.0)

with widgets.teach("What differs from the paper, and why the numbers cannot match"):
    st.markdown(
        f"Source: {PAPER}, Table 1 (and Table 3 for phrases, `python -m core replicate phrases`).\n\n"
        "- **Corpus size.** The paper trained on about a billion words of news with a 692K-word vocabulary; "
        "a sample corpus has a million words and a few thousand. Analogy accuracy grows with data, so absolute "
        "numbers are lower (or, on the generated small world, whose sentences state the facts the questions ask, "
        "higher) and the rankings between methods can change.\n"
        "- **Dimensions and epochs.** The paper used D = 300 and does not state its epochs; here you choose.\n"
        "- **Subsampling.** t = 1e-5 with the paper's formula, P(keep) = sqrt(t / f). The threshold was tuned "
        "for a billion words: on a small corpus every word is frequent relative to t, so most of the text is "
        "dropped and the t = 1e-5 rows learn little. That is a real finding about small corpora, not a bug.\n"
        "- **Time.** The paper's minutes are from its machine and corpus; compare the ratios (e.g. the "
        "speed-up from subsampling), not the values.\n"
        "- **Questions.** Only questions whose four words are among the most frequent words count; "
        "the coverage column says how many.")
